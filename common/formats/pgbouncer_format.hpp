// PgbouncerFormat: reads PgBouncer's own log (its `logfile` or stderr) into
// LogRecords, one per line (pgbouncer.md §2):
//   2026-12-04 04:10:00.456 UTC [6505] LOG C-0x55d8f18f9e30: appdb/app@127.0.0.1:60544 login attempt: …
//   2018-09-12 16:09:05.313 3394 LOG C-0x13e4860: db/user@10.0.0.5:40022 closing because: … (age=0)
// i.e. time with milliseconds, an optional zone (an abbreviation or "+05"),
// the pid bare (before 1.11) or in brackets, a level (LOG, WARNING, ERROR,
// FATAL, DEBUG, NOISE) and the message. A message about one connection
// starts with its socket prefix "C-0x…: DB/USER@ADDR:PORT " (C: a client,
// S: PgBouncer's own connection to PostgreSQL); IPv6 addresses are in
// brackets, a Unix socket is "unix(PEERPID)" or "unix" with the listen port.
//
// Records have via "pgbouncer", socket "C-0x…" (empty for process lines),
// db and user as printed ("(nodb)", "(nouser)" kept), host the address as
// printed (brackets removed) and port. PgBouncer's syslog lines are read by
// SyslogFormat, which hands their message to parse_pgbouncer_message().
// No I/O.
#pragma once

#include <string>
#include <string_view>

#include "formats/log_record.hpp"

namespace pgconn {

// The value of LogRecord::via for PgBouncer's lines.
inline constexpr std::string_view kPgbouncerVia = "pgbouncer";

// Reads a message after PgBouncer's line prefix (or a syslog message of
// PgBouncer's): sets via, and socket, db, user, host, port when it starts
// with a socket prefix; message is the rest. Never fails: a message without
// a socket prefix is a process line.
void parse_pgbouncer_message(std::string_view text, LogRecord* r);

// Reads one line of PgBouncer's log file. Returns false when it is not one
// (a continuation line starts with a tab; another program's line).
bool parse_pgbouncer_line(std::string_view line, LogRecord* r);

class PgbouncerFormat {
 public:
  // Feeds one line; lines that are not PgBouncer's are skipped. Returns
  // false when `out` said stop.
  bool feed(std::string_view line, RecordSink* out);

  // parse_pgbouncer_line() with a fast path for the common shape: a line
  // whose minute ("YYYY-MM-DD HH:MM"), zone, pid and level are those of the
  // line read before it (on a busy pooler, nearly every line) reads only
  // its seconds and milliseconds, then its message. Any other line goes to
  // parse_pgbouncer_line(), which sets the next line's model. Gives the
  // very record parse_pgbouncer_line() gives (PGCONN_PARSE_REFERENCE=1
  // reads with that one).
  bool parse(std::string_view line, LogRecord* r);

  // True when `line` is a line of PgBouncer's log file (detection).
  static bool looks_like(std::string_view line);

 private:
  // The model: the bytes of the last line read in full, before the
  // seconds and from the zone to the message, and what they gave.
  char minute_[16] = {};
  std::string head_;        // " UTC [6505] LOG " (empty: no model yet)
  Timestamp minute_time_;   // the time at hh:mm:00.000
  int64_t pid_ = -1;
  size_t level_at_ = 0;     // offset of the level in head_
  size_t level_len_ = 0;
};

}  // namespace pgconn
