#include "records_ahead.hpp"

#include <algorithm>
#include <cstring>

#include "csvlog_format.hpp"
#include "jsonlog_format.hpp"
#include "scanner.hpp"

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

// As CsvlogFormat::feed() frames: a record starts on a line outside quotes
// and goes on while the count of '"' is odd. A line with an odd count that
// does not start like a csvlog record is foreign (it may be a record of
// another format, whose quotes do not count).
void frame_csv(std::string_view block, size_t begin, RecordAhead* r) {
  size_t end = line_end(block, begin);
  bool in_quotes = odd_quotes(block.substr(begin, end - begin));
  r->begin = begin;
  r->lines = 1;
  r->cut = false;
  r->foreign = in_quotes && !CsvlogFormat::looks_like(without_cr(block.substr(begin, end - begin)));
  if (!r->foreign) {
    while (in_quotes && end < block.size()) {
      const size_t next = line_end(block, end + 1);
      in_quotes ^= odd_quotes(block.substr(end + 1, next - end - 1));
      end = next;
      ++r->lines;
    }
    r->cut = in_quotes;
  }
  r->end = end;
}

void frame_json(std::string_view block, size_t begin, RecordAhead* r) {
  r->begin = begin;
  r->end = line_end(block, begin);
  r->lines = 1;
  r->foreign = false;
  r->cut = false;
}

void probe_csv(std::string_view block, size_t columns, RecordAhead* r) {
  r->probed = false;
  if (r->foreign || r->cut) return;
  r->probed = CsvlogFormat::probe(without_cr(block.substr(r->begin, r->end - r->begin)), columns,
                                  &r->pid, &r->app);
}

void probe_json(std::string_view block, RecordAhead* r) {
  r->probed = JsonlogFormat::probe(without_cr(block.substr(r->begin, r->end - r->begin)), &r->pid,
                                   &r->app);
}

bool MarkerCursor::in(size_t begin, size_t end) {
  if (!valid_ || hit_ < begin) {
    hit_ = find_marker(block_, std::min(begin, block_.size()));
    valid_ = true;
  }
  return hit_ < end;
}

void read_records_ahead(AheadFormat format, size_t columns, std::string_view block,
                        RecordsAhead* out) {
  out->format = format;
  out->columns = columns;
  out->records.clear();
  if (format == AheadFormat::kNone) return;
  MarkerCursor markers(block);
  for (size_t pos = 0; pos < block.size();) {
    RecordAhead& r = out->records.emplace_back();
    if (format == AheadFormat::kCsv) {
      frame_csv(block, pos, &r);
    } else {
      frame_json(block, pos, &r);
    }
    r.marker = markers.in(r.begin, r.end);
    if (!r.marker) {
      if (format == AheadFormat::kCsv) {
        probe_csv(block, columns, &r);
      } else {
        probe_json(block, &r);
      }
    }
    pos = r.end + 1;
  }
}

}  // namespace pgconn
