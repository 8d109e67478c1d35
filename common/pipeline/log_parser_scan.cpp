// LogParser's marker-first reading of jsonlog and csvlog (log_parser.hpp).
//
// The block is searched for the lifecycle markers (scanner.hpp) once; each
// record is then either read in full (LogParser::line, the line-by-line
// path, so what it does is what the reference does) or skipped. A record is
// read when it holds a marker, or when its pid and application name,
// probed without parsing the record, would move an open session or settle
// a held connection (Tracker::app_moved), or cannot be probed. The lines are still counted one by one: csvlog needs them to
// frame its records, and every record needs its own probe. The framing,
// the marker search and the probe need no state: the thread that reads the
// file does them ahead when it can (records_ahead.hpp), and only the
// tracker's look-up and the records read are left here. While the
// reorderer holds lines, every line is read (line_by_line()): its window
// runs on every line's time, and the tracker does not see the held lines
// yet, so a probe could not tell.
#include <cstring>

#include "pipeline/log_parser.hpp"
#include "formats/records_ahead.hpp"
#include "formats/scanner.hpp"

namespace pgconn {

namespace {

// The end of the line at `pos` (its '\n', or the block's end).
size_t line_end(std::string_view block, size_t pos) {
  const void* nl = std::memchr(block.data() + pos, '\n', block.size() - pos);
  return nl == nullptr ? block.size() : static_cast<const char*>(nl) - block.data();
}

}  // namespace

bool LogParser::may_move(bool probed, int64_t pid, std::string_view app) {
  return !probed || tracker_->app_moved(pid, app);
}

// The record framed ahead that starts at `begin` (records_ahead.hpp), if
// one does; *next walks the records as `begin` rises.
const RecordAhead* LogParser::framed_ahead(const RecordsAhead* ahead, size_t begin, size_t* next) {
  if (ahead == nullptr) return nullptr;
  const std::vector<RecordAhead>& recs = ahead->records;
  while (*next < recs.size() && recs[*next].begin < begin) ++*next;
  return *next < recs.size() && recs[*next].begin == begin ? &recs[*next] : nullptr;
}

bool LogParser::scan_json(std::string_view block, size_t* pos, const RecordsAhead* ahead) {
  if (ahead != nullptr && ahead->format != AheadFormat::kJson) ahead = nullptr;
  MarkerCursor markers(block);
  size_t next = 0;
  while (*pos < block.size() && !line_by_line() && current_ == InputFormat::kJson) {
    RecordAhead own;
    const RecordAhead* r = framed_ahead(ahead, *pos, &next);
    if (r == nullptr) {
      frame_json(block, *pos, &own);
      own.marker = markers.in(own.begin, own.end);
      if (!own.marker) probe_json(block, &own);
      r = &own;
    }
    ++line_no_;
    *pos = r->end + 1;
    if ((r->marker || may_move(r->probed, r->pid, r->app)) &&
        !line(block.substr(r->begin, r->end - r->begin)))
      return false;
  }
  return true;
}

// Records are framed as CsvlogFormat::feed() frames them (frame_csv()). A
// foreign line goes to line(), and so does every line of a record still
// open (one cut by the block's end, or begun by a foreign line). A line
// with an even count is one record whichever format it is.
bool LogParser::scan_csv(std::string_view block, size_t* pos, const RecordsAhead* ahead) {
  if (ahead != nullptr && (ahead->format != AheadFormat::kCsv || ahead->columns != csv_->columns()))
    ahead = nullptr;
  MarkerCursor markers(block);
  size_t next = 0;
  while (*pos < block.size() && !line_by_line() && current_ == InputFormat::kCsv) {
    const size_t start = *pos;
    if ((csv_ && csv_->in_record()) || (foreign_csv_ && foreign_csv_->in_record())) {
      const size_t end = line_end(block, start);
      ++line_no_;
      *pos = end + 1;
      if (!line(block.substr(start, end - start))) return false;
      continue;
    }
    RecordAhead own;
    const RecordAhead* r = framed_ahead(ahead, start, &next);
    if (r == nullptr) {
      frame_csv(block, start, &own);
      own.marker = markers.in(own.begin, own.end);
      if (!own.marker) probe_csv(block, csv_->columns(), &own);
      r = &own;
    }
    if (r->foreign) {
      ++line_no_;
      *pos = r->end + 1;
      if (!line(block.substr(start, r->end - start))) return false;
      continue;
    }
    const bool read = r->cut || r->marker || may_move(r->probed, r->pid, r->app);
    *pos = std::min(r->end + 1, block.size());
    if (!read) {
      line_no_ += r->lines;
      continue;
    }
    if (r->lines == 1) {  // its end is its line's
      ++line_no_;
      if (!line(block.substr(start, r->end - start))) return false;
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
