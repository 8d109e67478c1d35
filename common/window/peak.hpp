// PeakTracker: the exact peak of concurrently open sessions in event time,
// for pgconn-agg's summary ("Peak: 72 at 10:00:03").
//
// A session is open from its connect's time up to, not including, the time
// of its end: one that ends at the same instant another starts is gone
// first. The peak is the largest count at any moment and the first moment
// it was reached.
//
// The event stream is nearly, not exactly, in time order: pgconn-parse
// writes a connect when it is settled, after lines up to a second newer,
// and two merged streams interleave. So the changes of the last `horizon`
// of event time (5 s by default, at most max_pending of them) wait in a
// buffer kept in time order, and only older ones are counted for good.
// peak() also sweeps the buffer, so it is exact over every change given.
//
// A session rejected right after `connection authorized` (a late `reject`
// naming a connect already given) never counts: retract() takes its opening
// back. A change that comes later than the horizon (older than a change
// already counted for good) cannot be placed exactly: it is counted at the
// time of the newest change counted for good (a moment the count is then
// right for), and counted in late(). A retraction that late lowers the
// count from then on, but a peak already reached with that session stays
// (it may be one too high; pgconn-parse never writes a connect and a
// reject for the same session, SPEC.md §2, so only a hand-made or merged
// stream can).
//
// Memory: max_pending changes. Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "timestamp.hpp"

namespace pgconn {

struct PeakOptions {
  int64_t horizon_ms = 5000;
  size_t max_pending = 65536;
};

class PeakTracker {
 public:
  struct Peak {
    int64_t active = 0;  // 0: no session was ever open
    Timestamp at;        // the first moment of the peak (invalid when active is 0)
  };

  explicit PeakTracker(PeakOptions options = {}) : options_(options) {}

  // A session opened at `t` (its connect's time; REQUIRES t.valid()). `id`
  // names it for retract().
  void open(const Timestamp& t, uint64_t id);
  // `n` sessions ended at `t`.
  void close(const Timestamp& t, int64_t n = 1);
  // The session `id` never counts (rejected right after its connect). `t`:
  // the reject's time, used only when the opening was already counted.
  void retract(uint64_t id, const Timestamp& t);

  // The peak over every change given so far.
  Peak peak() const;
  // Open sessions after the newest change (all counted).
  int64_t current() const;
  // Changes that came later than the horizon (see above).
  uint64_t late() const { return late_; }

  void clear();
  // Forgets every change and starts again with `n` sessions open at `t`
  // (pgconn-agg's SIGHUP): the peak is then n at t (none when n is 0), and
  // a change older than t counts as late. REQUIRES t.valid() when n > 0.
  void restart(const Timestamp& t, int64_t n);

 private:
  struct Change {
    int64_t ms;        // Timestamp::sort_ms()
    int64_t delta;     // +1 opened, -n closed
    uint64_t id;       // of an opening
    Timestamp t;
  };
  // Order: time, then ends before starts.
  static bool before(const Change& a, const Change& b) {
    return a.ms != b.ms ? a.ms < b.ms : a.delta < b.delta;
  }
  void add(Change c);
  void count(const Change& c);  // for good
  void release();

  PeakOptions options_;
  std::deque<Change> pending_;  // in order (before())
  int64_t count_ = 0;           // after the changes counted for good
  Peak peak_;
  bool counted_any_ = false;
  Change last_counted_{};       // the newest change counted for good
  int64_t newest_ms_ = INT64_MIN;  // of every change given
  uint64_t late_ = 0;
};

}  // namespace pgconn
