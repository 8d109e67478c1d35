// LogParser's marker-first reading of jsonlog and csvlog (log_parser.hpp).
//
// The block is searched for the lifecycle markers (scanner.hpp) once; each
// record is then either read in full (LogParser::line, the line-by-line
// path, so what it does is what the reference does) or skipped. A record is
// read when it holds a marker, or when its pid and application name,
// probed without parsing the record, would move an open session or settle
// a held connection (Tracker::app_moved), or cannot be probed. The lines are still counted one by one: csvlog needs them to
// frame its records, and every record needs its own probe. While the
// reorderer holds lines, every line is read (line_by_line()): its window
// runs on every line's time, and the tracker does not see the held lines
// yet, so a probe could not tell.
#include <cstring>

#include "pipeline/log_parser.hpp"
#include "formats/scanner.hpp"

namespace pgconn {

namespace {

// The end of the line at `pos` (its '\n', or the block's end).
size_t line_end(std::string_view block, size_t pos) {
  const void* nl = std::memchr(block.data() + pos, '\n', block.size() - pos);
  return nl == nullptr ? block.size() : static_cast<const char*>(nl) - block.data();
}

std::string_view without_cr(std::string_view l) {
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return l;
}

}  // namespace

bool LogParser::may_move(bool probed, int64_t pid, std::string_view app) {
  return !probed || tracker_->app_moved(pid, app);
}

bool LogParser::scan_json(std::string_view block, size_t* pos) {
  size_t hit = find_marker(block, *pos);
  while (*pos < block.size() && !line_by_line() && current_ == InputFormat::kJson) {
    const size_t end = line_end(block, *pos);
    std::string_view l = block.substr(*pos, end - *pos);
    ++line_no_;
    bool read = hit < end;
    if (read) {
      hit = find_marker(block, std::min(end + 1, block.size()));
    } else {
      int64_t pid = -1;
      std::string_view app;
      const bool probed = JsonlogFormat::probe(without_cr(l), &pid, &app);
      read = may_move(probed, pid, app);
    }
    *pos = end + 1;
    if (read && !line(l)) return false;
  }
  return true;
}

// Records are framed as CsvlogFormat::feed() frames them: a record starts
// on a line outside quotes and goes on while the count of '"' is odd. A
// line with an odd count that does not start like a csvlog record goes to
// line() (it may be a record of another format, whose quotes do not
// count), and so does every line of a record still open (one cut by the
// block's end). A line with an even count is one record whichever format
// it is.
bool LogParser::scan_csv(std::string_view block, size_t* pos) {
  size_t hit = find_marker(block, *pos);
  while (*pos < block.size() && !line_by_line() && current_ == InputFormat::kCsv) {
    const size_t start = *pos;
    size_t end = line_end(block, start);
    std::string_view first = block.substr(start, end - start);
    const bool open = (csv_ && csv_->in_record()) || (foreign_csv_ && foreign_csv_->in_record());
    bool in_quotes = !open && odd_quotes(first);
    if (open || (in_quotes && !CsvlogFormat::looks_like(without_cr(first)))) {
      ++line_no_;
      *pos = end + 1;
      if (hit <= end) hit = find_marker(block, std::min(end + 1, block.size()));
      if (!line(first)) return false;
      continue;
    }
    // The record's lines: on while the quotes are unbalanced.
    uint64_t lines = 1;
    while (in_quotes && end < block.size()) {
      const size_t next = line_end(block, end + 1);
      in_quotes ^= odd_quotes(block.substr(end + 1, next - end - 1));
      end = next;
      ++lines;
    }
    bool read = in_quotes || hit < end;  // cut at the block's end, or a marker
    if (!read) {
      int64_t pid = -1;
      std::string_view app;
      const bool probed =
          CsvlogFormat::probe(without_cr(block.substr(start, end - start)), csv_->columns(), &pid, &app);
      read = may_move(probed, pid, app);
    }
    if (hit <= end) hit = find_marker(block, std::min(end + 1, block.size()));
    *pos = std::min(end + 1, block.size());
    if (!read) {
      line_no_ += lines;
      continue;
    }
    for (size_t at = start; at < *pos;) {
      const size_t e = line_end(block, at);
      ++line_no_;
      if (!line(block.substr(at, e - at))) return false;
      at = e + 1;
    }
  }
  return true;
}

}  // namespace pgconn
