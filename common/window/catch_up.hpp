// CatchUp: when an input replayed from its start (`tail -n +1 -F LOG`
// after a restart) has caught up with the present, so that pgconn-agg
// --prom-file writes its first file only then: a file written halfway
// through the replay would show Prometheus counters lower than the last
// process wrote, a counter reset that is none (../shared/metrics.md §4).
//
// Caught up at the first of:
//   - a live input without data for options.idle (a replay through
//     pgconn-parse leaves gaps of milliseconds, not of 250 ms);
//   - an event within options.current_ms of the wall clock, in a zone that
//     gives its UTC time (a busy log may never be idle that long, and its
//     events are current);
//   - options.give_up after the start, whatever the input does (a busy log
//     with local, unresolved times).
// Once caught up it stays so. Pure: the clocks are passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "timestamp.hpp"

namespace pgconn {

class CatchUp {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds idle{250};
    int64_t current_ms = 5000;
    std::chrono::milliseconds give_up{150000};
  };

  CatchUp(Options options, Clock::time_point start) : options_(options), start_(start) {}

  // Data came from the input.
  void on_data() { idle_since_.reset(); }
  // The next read of the input would block (the first such moment starts
  // the idle time).
  void on_would_block(Clock::time_point now) {
    if (!idle_since_) idle_since_ = now;
  }

  // Whether it has caught up now. `live`: the input is a pipe or terminal
  // (a regular file is done at its end); `newest`: the newest event's time;
  // `wall_ms`: the wall clock, Unix milliseconds.
  bool check(Clock::time_point now, bool live, const Timestamp& newest, int64_t wall_ms);
  bool done() const { return done_; }

  // Milliseconds until check() turns true by idleness if no data comes, or
  // -1 when it cannot (caught up already, not live, or not idle).
  int64_t wait_ms(Clock::time_point now, bool live) const;

 private:
  Options options_;
  Clock::time_point start_;
  std::optional<Clock::time_point> idle_since_;
  bool done_ = false;
};

}  // namespace pgconn
