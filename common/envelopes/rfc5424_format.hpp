// Rfc5424Format: reads PostgreSQL's log as RFC 5424 syslog frames, one a
// line, with or without RFC 6587 octet counts (rfc5424.hpp):
//   <134>1 2026-07-20T18:43:00.018369+00:00 vm-compute-x postgres 2468 - [neon project_id="p" endpoint_id="e"]  [7-1] 2026-07-20 18:43:00.018 GMT … [2468] LOG:  connection authorized: …
// The message goes to SyslogFormat (its "[N-M]" pieces joined, TAB pieces
// skipped). The pid comes from the prefix, else from a numeric PROCID (or
// "postgres.N"); the time from the prefix, else (or when the prefix has
// whole seconds only) from the header; the server is the SD parameter
// `endpoint_id` (Neon) when present, else HOSTNAME.
// A frame whose octet count runs past its line (a message with newlines)
// takes the following lines as its rest: they are skipped.
#pragma once

#include <string>
#include <string_view>

#include "formats/log_record.hpp"
#include "envelopes/rfc5424.hpp"
#include "formats/stderr_format.hpp"
#include "envelopes/syslog_format.hpp"

namespace pgconn {

// "2468" or "postgres.2468" -> 2468; -1 otherwise.
int64_t pid_from_procid(std::string_view procid);

// Calls f(frame) for each frame of one line: the line itself, or, with
// octet counts, each counted frame in it (frames sent back to back). A
// count that runs past the line leaves *skip_bytes for the lines after it
// (each line's newline counts one), unless such a line is a counted
// frame itself. REQUIRES: *skip_bytes == 0 or the line
// is skipped, which this does.
template <typename F>
bool for_each_rfc5424_frame(std::string_view line, int64_t* skip_bytes, F&& f) {
  // A line that is itself a counted frame ends the skip: a count that ran
  // past its frame was wrong (senders miscount), not a message with newlines.
  if (*skip_bytes > 0 && looks_like_rfc5424(line) && line[0] != '<') *skip_bytes = 0;
  if (*skip_bytes > 0) {
    int64_t take = static_cast<int64_t>(line.size()) + 1;
    if (take <= *skip_bytes) {
      *skip_bytes -= take;
      return true;
    }
    line.remove_prefix(static_cast<size_t>(*skip_bytes));
    *skip_bytes = 0;
  }
  for (;;) {
    std::string_view rest = line;
    int64_t n = strip_octet_count(&rest);
    if (n < 0) return f(line);
    if (static_cast<uint64_t>(n) > rest.size()) {
      *skip_bytes = n - static_cast<int64_t>(rest.size()) - 1;  // the LF ending this line
      if (*skip_bytes < 0) *skip_bytes = 0;
      return f(rest);
    }
    std::string_view frame = rest.substr(0, static_cast<size_t>(n));
    while (!frame.empty() && (frame.back() == '\n' || frame.back() == '\r')) frame.remove_suffix(1);
    if (!f(frame)) return false;
    line = rest.substr(static_cast<size_t>(n));
    if (line.empty()) return true;
  }
}

class Rfc5424Format {
 public:
  // `inner` reads the message's log_line_prefix; `year` as SyslogFormat's.
  Rfc5424Format(StderrFormat inner, int year);

  // Feeds one line. Returns false when `out` said stop.
  bool feed(std::string_view line, RecordSink* out);

  // Hands on a message held for a continuation piece.
  bool flush(RecordSink* out) { return syslog_.flush(out); }
  bool holding() const { return syslog_.holding(); }

  // True when `line` is a frame (optionally octet-counted).
  static bool looks_like(std::string_view line) { return looks_like_rfc5424(line); }

 private:
  bool frame(std::string_view text, RecordSink* out);

  SyslogFormat syslog_;
  int64_t skip_bytes_ = 0;
  std::string server_;
};

}  // namespace pgconn
