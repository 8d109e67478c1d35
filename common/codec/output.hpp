// The only writer to stdout. Output is queued in a 256 KiB buffer of our own
// and written with write(2) when it fills, by a thread of its own from the
// first full buffer on (output.cpp: the main thread goes on filling the
// next); the tools flush just before a call that may block, and a flush
// returns once everything queued is written, so a live stream shows each
// event at once while a file is still written in large blocks. (stdio is
// not used for stdout: the event encoders write straight into this buffer.)
//
// A closed reader (EPIPE) is not an error: writes then report false and the
// tool stops quietly. Any other write error is kept for the exit status.
#pragma once

#include <string>
#include <string_view>

#include "event.hpp"
#include "sink.hpp"

namespace pgconn {

// Call once at start-up, before any output: SIGPIPE ignored, and a pipe on
// stdout enlarged to 1 MiB where the system allows it.
void output_init();

// Queues `s`. Returns false once stdout is closed or failed.
bool output_write(std::string_view s);

// Room for `n` more bytes at the end of the queue (written out first when
// it is full): write at most n bytes there, then call output_commit() with
// the end of what was written. Returns nullptr when n is larger than the
// buffer (use output_write) or once stdout is closed or failed.
char* output_reserve(size_t n);
void output_commit(char* end);

// Writes out what is queued. Returns false once stdout is closed or failed.
bool output_flush();

// 0, or the errno of the first write error other than EPIPE.
int output_error();

// True once a write met EPIPE (the reader went away).
bool output_closed();

// Encodes events (NDJSON or TSV) to stdout.
class EventWriter : public EventSink {
 public:
  enum class Format { kJson, kTsv };
  explicit EventWriter(Format f) : format_(f) {}
  bool on_event(const Event& e) override;
  // NDJSON straight from the references (no Event built); TSV through
  // on_event().
  bool on_event_ref(const EventRef& e) override;

 private:
  Format format_;
  std::string line_;  // an event too large for the buffer's room
  Event event_;       // on_event_ref()'s when it cannot encode directly
};

}  // namespace pgconn
