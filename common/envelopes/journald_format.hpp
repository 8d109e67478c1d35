// JournaldFormat: reads the systemd journal's view of a PostgreSQL server
// (pg-log-formats.md §11):
//   - `journalctl -o json`: one JSON object per entry with MESSAGE (a string,
//     or an array of byte values when it is not UTF-8), _PID, _HOSTNAME,
//     _TRANSPORT and __REALTIME_TIMESTAMP (microseconds since the epoch, a
//     string). MESSAGE is a stderr line with its log_line_prefix (PostgreSQL
//     writing to stderr under systemd, _TRANSPORT "stdout") or syslog's
//     "[N-M] prefix SEVERITY:  …" (log_destination = syslog);
//   - `journalctl -o short-iso` (and other syslog-shaped text): the lines of
//     a syslog file, "2024-03-01T10:00:03+0000 host postgres[1234]: [5-1] …".
// Both are read by SyslogFormat (pieces of split messages joined, the
// prefix's time and pid before the journal's). _HOSTNAME, or the host of a
// text line, becomes LogRecord::server. Journal lines of other programs
// and journalctl's "-- Boot … --" lines are skipped.
#pragma once

#include <string>
#include <string_view>

#include "json_reader.hpp"
#include "formats/log_record.hpp"
#include "formats/stderr_format.hpp"
#include "envelopes/syslog_format.hpp"

namespace pgconn {

class JournaldFormat {
 public:
  // `inner` reads MESSAGE after any "[N-M] "; `year` is for text lines with
  // RFC 3164 times (`-o short`).
  JournaldFormat(StderrFormat inner, int year);

  // Reads one line (a JSON entry or a text line). Returns false when `out`
  // said stop.
  bool feed(std::string_view line, RecordSink* out);

  // Hands on a syslog message held for a continuation piece.
  bool flush(RecordSink* out) { return syslog_.flush(out); }
  bool holding() const { return syslog_.holding(); }

  // True when `line` is a journal entry in JSON.
  static bool looks_like(std::string_view line);

 private:
  JsonReader json_;
  SyslogFormat syslog_;
  std::string bytes_;  // MESSAGE given as an array of bytes
};

}  // namespace pgconn
