// PgbouncerAhead: the part of the work on a PgBouncer log line that needs
// no state of the tracker, done ahead on the thread that reads the file
// (scan_ahead.hpp): each line of a block found (its '\n'), read
// (PgbouncerFormat::parse) and its message classified (classify_pgbouncer).
// LogParser::feed takes the results while the input's format is PgBouncer's
// and hands them to the tracker in order on its own thread; a line not
// read here it reads itself, as LogParser::line does (malformed lines).
//
// The records are those the parser's own PgbouncerFormat gives: parse()
// gives the very record parse_pgbouncer_line() gives, whatever line came
// before, so a second reader with a model of its own changes nothing.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "formats/log_record.hpp"
#include "formats/pgbouncer_format.hpp"
#include "lifecycle/pgbouncer_message.hpp"

namespace pgconn {

// A PgBouncer line of a block read ahead. `record` and `message` view the
// block's text and live as long as it.
struct PooledRecord {
  LogRecord record;
  BouncerMessage message;
};

// One line of a block.
struct PooledLine {
  uint32_t begin = 0, end = 0;  // the line in the block, without its '\n'
  int32_t record = -1;          // its PooledRecord (a final '\r' left out); -1: none
};

// Every line of a block, and the records of those that are PgBouncer's.
// Memory stays flat whatever the lines: 8 bytes a line, and a record
// (a few hundred bytes) only for a PgBouncer line, at least 30 bytes long.
struct PooledLines {
  std::vector<PooledLine> lines;
  std::vector<PooledRecord> records;
};

// Owned by one thread.
class PgbouncerAhead {
 public:
  // Every line of `block` (whole lines; the last may lack '\n'), in order.
  // Replaces what *out held.
  void read(std::string_view block, PooledLines* out);

 private:
  PgbouncerFormat format_;
};

}  // namespace pgconn
