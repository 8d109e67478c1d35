// CsvlogFormat: reads csvlog (log_destination = csvlog): RFC 4180 records
// whose quoted fields may span lines, columns by position
// (pg-log-formats.md §7: 23 columns in 9.6-12, 24 in 13, 26 in 14+; extra
// columns tolerated). A record longer than kMaxRecord keeps its first
// kMaxRecord bytes (the columns that matter come first).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/log_record.hpp"

namespace pgconn {

// The csvlog columns of pg-log-formats.md §7 in order, as CloudNativePG
// names them in its JSON records.
inline constexpr std::string_view kCsvlogColumns[] = {
    "log_time", "user_name", "database_name", "process_id", "connection_from",
    "session_id", "session_line_num", "command_tag", "session_start_time",
    "virtual_transaction_id", "transaction_id", "error_severity", "sql_state_code",
    "message", "detail", "hint", "internal_query", "internal_query_pos", "context",
    "query", "query_pos", "location", "application_name", "backend_type", "leader_pid",
    "query_id"};
inline constexpr size_t kCsvlogColumnCount = sizeof kCsvlogColumns / sizeof kCsvlogColumns[0];

// Reads the unquoted columns of one csvlog record, by position (at least
// 14; missing later ones are empty), into *r. Returns false when it is not
// a report (no readable log_time, too few columns, a severity that is not
// one of a report). Views in *r point into the columns.
bool csvlog_record(const std::string_view* columns, size_t count, LogRecord* r);

// True when `s` holds an odd number of '"' (a line that opens or closes a
// quoted field spanning lines).
bool odd_quotes(std::string_view s);

class CsvlogFormat {
 public:
  static constexpr size_t kMaxRecord = 1 << 20;

  // Feeds one line (no newline). Hands each completed record to `out`.
  // Returns false when `out` said stop.
  bool feed(std::string_view line, RecordSink* out);

  // End of input: a record still open (unbalanced quote) is dropped; true
  // when there was one, so the caller can report it.
  bool finish();

  // True when `line` starts like a csvlog record (time, user, db, pid).
  static bool looks_like(std::string_view line);

  // True while a record is open (a quoted field spans lines).
  bool in_record() const { return in_quotes_; }

  // Columns of the last record read (0 before the first).
  size_t columns() const { return columns_; }

  // Reads only the pid and application name of one whole record (its lines
  // joined by '\n', as in the file) that has `columns` columns, as feed()
  // would give them: for the marker-first scan, which reads a record in
  // full only when it can move a session's application (LogParser). The
  // name is found from the end (it is column 22, and 0-3 columns follow
  // it). False when it cannot tell (fewer than 23 columns, an escaped "" in
  // the name, a record that does not parse so); `app` points into `record`.
  static bool probe(std::string_view record, size_t columns, int64_t* pid, std::string_view* app);

 private:
  bool emit(std::string_view record, RecordSink* out);

  std::string pending_;     // an open record's lines so far
  bool in_quotes_ = false;  // pending_ ends inside a quoted field
  std::vector<std::string_view> fields_;
  std::string unquoted_;    // field texts with "" unescaped
  size_t columns_ = 0;
};

}  // namespace pgconn
