// LogRecord: one PostgreSQL report (a log line with its prefix, a csvlog
// record, a jsonlog object, a syslog message), reduced to the fields that
// matter for connections. Every input format produces these; the session
// tracker consumes them and knows nothing of formats.
//
// Views point into the input format's buffers and are valid until that
// format parses its next record. A session-only field PostgreSQL printed as
// "[unknown]" or left empty is empty here.
#pragma once

#include <cstdint>
#include <string_view>

#include "timestamp.hpp"

namespace pgconn {

struct LogRecord {
  Timestamp time;                 // !time.valid() when the format has none
  int64_t pid = -1;               // -1: not logged (empty prefix)
  int64_t line_num = -1;          // %l / session_line_num, -1 when absent
  std::string_view session_id;    // %c / session_id
  std::string_view user, db, app;
  std::string_view host;          // %h, %r, connection_from; "[local]"
  int32_t port = -1;
  std::string_view backend_type;  // %b / backend_type
  std::string_view severity;      // "LOG", "FATAL", ...
  std::string_view message;       // SQLSTATE prefix of verbose logs removed
  std::string_view server;        // syslog host or envelope's instance
  // A connection pooler's line (pgbouncer_format.hpp): the pooler's name
  // ("pgbouncer"), and its socket ("C-0x55d8f18f9e30", "S-0x…", empty for
  // a process line). Then pid is the pooler's process, user/db/host/port
  // come from the socket prefix, and severity is empty when the transport
  // (syslog) dropped it. Empty for PostgreSQL's own lines.
  std::string_view via;
  std::string_view socket;
};

// Receives the records an input format reads.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // `r` and its views are valid only during the call. Returns false to stop.
  virtual bool on_record(const LogRecord& r) = 0;
  // A later line of a report that carries a prefix of its own (`DETAIL:  `,
  // `HINT:  `…): no event comes of it, but it has its own %l line number,
  // which the sink needs to put lines back in order. `r` has the prefix
  // fields and the field name as its severity. Returns false to stop.
  virtual bool on_secondary(const LogRecord& r) { return true; }
};

// True for severities that start a report (LOG, FATAL, ...), false for the
// secondary fields (DETAIL, HINT, STATEMENT, ...) and anything else.
bool is_report_severity(std::string_view s);

// Removes a verbose log's "28P01: " SQLSTATE from the start of a message.
std::string_view strip_sqlstate(std::string_view message);

// Splits "10.0.0.5(51234)" (%r), "10.0.0.5:51234" (csvlog connection_from)
// or "[local]" into host and port; port stays -1 when there is none.
void split_host_port(std::string_view text, std::string_view* host, int32_t* port);

// The pid inside a session id "6632134f.1092" (hex after the dot), -1
// when it is not of that form.
int64_t pid_from_session_id(std::string_view session_id);

// A run of decimal digits as a number no larger than `max`; -1 when `s` is
// empty, has any other byte, or is larger. (Every parser's pids, ports,
// line and sequence numbers.)
int64_t parse_decimal(std::string_view s, int64_t max = int64_t{1} << 40);

// "[unknown]" -> "", anything else unchanged.
std::string_view known(std::string_view field);

}  // namespace pgconn
