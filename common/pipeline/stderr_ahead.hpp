// StderrAhead: the part of the fast stderr scan's work on a line that
// needs no state, done ahead on the thread that reads and scans the file
// (scan_ahead.hpp): each candidate line of a block read with the
// log_line_prefix in use (PrefixMatcher::match) and its message classified
// (classify_message). LogParser::feed takes the results when the prefix is
// still the one in use, and does the rest (the prefix detection's state,
// sessions, events) in order on its own thread; a line the prefix did not
// read, or that was not read ahead (the reading stops early while that
// thread waits for the block), it reads itself, as before.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/log_record.hpp"
#include "lifecycle/message.hpp"
#include "formats/prefix.hpp"
#include "formats/scanner.hpp"

namespace pgconn {

// One candidate line read ahead. `record` and `message` view the block's
// text and live as long as it.
struct LineAhead {
  bool matched = false;  // the prefix read it; then record and message are set
  LogRecord record;
  Message message;
};

// The candidate lines of a block read ahead: lines[i] is the i-th of its
// BlockScan's candidates, read with `prefix` (empty: none was read). Only
// the first lines.size() candidates were read when the reading stopped
// early (StderrAhead::read's `hurry`); the rest are left to whoever takes
// the block (LogParser::feed reads them itself).
struct LinesAhead {
  std::string prefix;
  std::vector<LineAhead> lines;
};

// Owned by one thread (PrefixMatcher::match may not run on two at once).
class StderrAhead {
 public:
  // Reads each candidate line of `block` (scan: scan_block(block)) as
  // StderrFormat::parse() would with `prefix` in first place: a line that
  // is empty or starts with '\t' is not read, a final '\r' is left out.
  // An empty prefix, or one that does not compile, reads nothing
  // (out->prefix empty). Replaces what *out held.
  // `hurry` (nullptr: never): looked at between lines; once it is set the
  // reading stops, and out->lines holds the candidates read so far (the
  // caller's thread waits for the block: it reads the rest itself, which
  // shares the work between the two threads when this one is the slower).
  void read(std::string_view prefix, std::string_view block, const BlockScan& scan,
            LinesAhead* out, const std::atomic<bool>* hurry = nullptr);

 private:
  std::optional<PrefixMatcher> matcher_;  // compiled from source_
  std::string source_;
};

}  // namespace pgconn
