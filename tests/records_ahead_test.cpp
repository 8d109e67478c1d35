// RecordsAhead: frame_csv() frames as a naive line-by-line count of '"'
// does, from any line start; read_records_ahead() chains those records.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "formats/csvlog_format.hpp"
#include "formats/records_ahead.hpp"

using namespace pgconn;

namespace {

// The record at `begin` framed line by line: memchr for the end, then
// odd_quotes() of the line (the framing frame_csv() does in one pass).
RecordAhead naive_csv(std::string_view block, size_t begin) {
  auto line_end = [&](size_t pos) {
    size_t nl = block.find('\n', pos);
    return nl == std::string_view::npos ? block.size() : nl;
  };
  RecordAhead r;
  r.begin = begin;
  size_t end = line_end(begin);
  bool in_quotes = odd_quotes(block.substr(begin, end - begin));
  r.foreign = in_quotes && !CsvlogFormat::looks_like(block.substr(begin, end - begin));
  if (!r.foreign) {
    while (in_quotes && end < block.size()) {
      size_t next = line_end(end + 1);
      in_quotes ^= odd_quotes(block.substr(end + 1, next - end - 1));
      end = next;
      ++r.lines;
    }
    r.cut = in_quotes;
  }
  r.end = end;
  return r;
}

}  // namespace

TEST_CASE("frame_csv frames as the line-by-line count of quotes", "[records_ahead]") {
  std::mt19937 rng(15);
  const std::string head = "2024-03-01 10:00:00.100 UTC,\"app\",";  // looks like csvlog
  for (int round = 0; round < 200; ++round) {
    std::string block;
    const int lines = 1 + static_cast<int>(rng() % 40);
    for (int l = 0; l < lines; ++l) {
      if (rng() % 2) block += head;
      const size_t len = rng() % 90;  // short and long lines, both sides of 32 bytes
      for (size_t i = 0; i < len; ++i) block += "\"a,x\"b"[rng() % 6];
      block += '\n';
    }
    if (rng() % 2) block.pop_back();  // a last line without '\n'
    RecordsAhead out;
    read_records_ahead(AheadFormat::kCsv, 26, block, &out);
    size_t pos = 0;
    for (const RecordAhead& got : out.records) {
      INFO(round << " at " << pos);
      RecordAhead want = naive_csv(block, pos);
      CHECK(got.begin == want.begin);
      CHECK(got.end == want.end);
      CHECK(got.lines == want.lines);
      CHECK(got.foreign == want.foreign);
      CHECK(got.cut == want.cut);
      pos = want.end + 1;
    }
    CHECK(pos >= block.size());
    // From any line start, as LogParser frames after a record left open.
    for (size_t at = 0; at < block.size(); at = block.find('\n', at) + 1) {
      RecordAhead got;
      frame_csv(block, at, &got);
      RecordAhead want = naive_csv(block, at);
      CHECK(got.end == want.end);
      CHECK(got.lines == want.lines);
      CHECK(got.cut == want.cut);
      if (block.find('\n', at) == std::string::npos) break;
    }
  }
}
