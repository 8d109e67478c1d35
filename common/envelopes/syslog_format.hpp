// SyslogFormat: reads PostgreSQL's syslog output as a syslog daemon writes
// it to a file (pg-log-formats.md §9):
//   May  1 10:00:00 db1 postgres[812]: [3-1] <log_line_prefix>LOG:  …
//   2024-05-01T10:00:00.105+00:00 db1 postgres[812]: [3-1] …
//   2024-05-01T10:00:00+00:00 db1 postgres: 2024-05-01 10:00:00.105 UTC [812] LOG:  …
// (the last: a tag without a pid, as rsyslog's imfile sends a log file's
// lines; the prefix must then carry the pid). A tag without its ':' (an
// RFC 5424 message written by rsyslog's traditional templates) is read too.
// PgBouncer's lines (tag "pgbouncer[pid]: ", or any tag starting with
// "pgbouncer": syslog_ident) are read as PgBouncer's (pgbouncer_format.hpp),
// with the header's time and pid.
// The host becomes LogRecord::server, the header's pid and time are used
// when the prefix has none. A message split into pieces ([N-1], [N-2] …,
// syslog_split_messages) is joined before it is read; pieces that start
// with a tab (rsyslog: "#011") are continuation lines and are skipped.
#pragma once

#include <string>
#include <string_view>

#include "formats/log_record.hpp"
#include "formats/stderr_format.hpp"

namespace pgconn {

// Reads syslog's "[N-M] " sequence numbers (N counts messages, M the pieces
// of one) from the start of *text and removes them; false (and *text left
// alone) when it does not start with them.
bool parse_sequence(std::string_view* text, int64_t* n, int64_t* m);

class SyslogFormat {
 public:
  // `year`: the year of RFC 3164 headers, which have none.
  SyslogFormat(StderrFormat inner, int year);

  // Feeds one line. Returns false when `out` said stop.
  bool feed(std::string_view line, RecordSink* out);

  // The same for a message whose header came apart (a journal entry):
  // `message` is what follows "postgres[pid]: ", with or without "[N-M] ".
  // `pid` -1 when unknown; `ident` the program's name (SYSLOG_IDENTIFIER),
  // empty when unknown. Views need live only during the call.
  bool feed_message(const Timestamp& time, std::string_view host, int64_t pid,
                    std::string_view message, RecordSink* out, std::string_view ident = {});

  // Hands on a message held for a continuation piece (idle, end of input).
  bool flush(RecordSink* out);

  static bool looks_like(std::string_view line);

  // Envelope readers (RFC 5424, Heroku): the header's time also replaces a
  // prefix time that has whole seconds only (%t), when the header has
  // milliseconds. Off by default (a syslog daemon's clock is its own).
  void set_finer_header_time(bool on) { finer_header_time_ = on; }

  // True while a message is held for a continuation piece.
  bool holding() const { return held_; }

 private:
  struct Header {
    Timestamp time;
    std::string_view host;
    int64_t pid = -1;
    int64_t seq = -1;  // N of [N-M], -1 without sequence numbers
    int64_t piece = 1; // M
    std::string_view body;
    std::string_view tag;  // the program's name, without "[pid]:"
  };
  static bool parse_header(std::string_view line, int year, Header* h);
  bool emit(const Timestamp& time, std::string_view host, int64_t pid, std::string_view body,
            RecordSink* out);
  static bool is_pgbouncer(std::string_view tag) { return tag.substr(0, 9) == "pgbouncer"; }

  StderrFormat inner_;
  int year_;
  bool finer_header_time_ = false;
  bool held_ = false;  // a first piece that may go on in [N-2]
  Timestamp held_time_;
  std::string held_host_;
  int64_t held_pid_ = -1, held_seq_ = -1, held_piece_ = 0;
  std::string held_body_;
};

}  // namespace pgconn
