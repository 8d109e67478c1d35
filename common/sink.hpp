// The interfaces that join the stages of a pipeline (ripgrep's Sink,
// LevelDB's Reporter): a stage hands what it produced to the next one.
#pragma once

#include <cstdint>
#include <string_view>

#include "event.hpp"

namespace pgconn {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Receives one event; the reference is valid only during the call.
  // Returns false to stop the run (e.g. the output was closed).
  virtual bool on_event(const Event& e) = 0;
  // The same event with its strings referenced (a pooler client's, from
  // the tracker). By default made into an Event for on_event(); a sink
  // that encodes overrides it to skip that copy. Same return.
  virtual bool on_event_ref(const EventRef& e) {
    assign_ref(e, &scratch_);
    return on_event(scratch_);
  }

 private:
  Event scratch_;  // on_event_ref()'s, reused
};

// Hears about input that could not be used. Counting and rate-limiting are
// the receiver's business; the sender reports every occurrence.
class Reporter {
 public:
  virtual ~Reporter() = default;
  // `line_no` is 1-based within the current input; `what` is a short
  // lower-case description ("malformed connection line").
  virtual void on_malformed(uint64_t line_no, std::string_view what) = 0;
};

// Receives text a block of whole lines at a time (pgconn-tail's output).
class LineSink {
 public:
  virtual ~LineSink() = default;
  // One or more lines, each ending with '\n'; valid only during the call.
  // Returns false to stop the run (e.g. the output was closed).
  virtual bool on_lines(std::string_view block) = 0;
};

}  // namespace pgconn
