// ScanAhead: the same lines as a LineReader on the same file, in blocks,
// with their scans when asked for.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "read/line_reader.hpp"
#include "pipeline/scan_ahead.hpp"
#include "temp_file.hpp"

using namespace pgconn;
using pgconn_test::TempFile;

namespace {

// The lines as LineReader hands them on: each with its '\n' if it had one.
std::vector<std::string> split(std::string_view block) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t nl = block.find('\n', pos);
    size_t end = nl == std::string_view::npos ? block.size() : nl + 1;
    out.emplace_back(block.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::vector<std::string> line_reader_lines(int fd, uint64_t* truncated) {
  LineReader reader(fd);
  std::vector<std::string> out;
  while (true) {
    LineReader::Status st = reader.fill(-1);
    for (std::string& l : split(reader.lines())) out.push_back(std::move(l));
    reader.consume();
    if (st == LineReader::Status::kEof || st == LineReader::Status::kError) break;
  }
  *truncated = reader.truncated();
  return out;
}

std::vector<std::string> scan_ahead_lines(int fd, uint64_t* truncated, bool want_scan) {
  auto a = ScanAhead::start(fd);
  REQUIRE(a.ok());
  (*a)->want_scan(want_scan);
  std::vector<std::string> out;
  while (true) {
    const ScanAhead::Block* b = nullptr;
    ScanAhead::Status st = (*a)->next(1000, &b);
    if (st == ScanAhead::Status::kEnd) break;
    if (st == ScanAhead::Status::kTimeout) continue;
    REQUIRE(!b->text().empty());
    // A block is whole lines: only a cut line or the file's end lacks '\n'.
    std::vector<std::string> lines = split(b->text());
    for (size_t i = 0; i + 1 < lines.size(); ++i) CHECK(lines[i].back() == '\n');
    // want_scan() counts for the blocks read after it: the first ones may
    // have been read before it.
    if (!want_scan) CHECK_FALSE(b->scanned);
    if (b->scanned) {
      BlockScan fresh;
      scan_block(b->text(), &fresh);
      CHECK(b->scan.newlines == fresh.newlines);
      CHECK(b->scan.candidates.size() == fresh.candidates.size());
    }
    for (std::string& l : lines) out.push_back(std::move(l));
  }
  CHECK((*a)->error() == 0);
  *truncated = (*a)->truncated();
  return out;
}

void same_as_line_reader(const std::string& content) {
  TempFile f1(content), f2(content), f3(content);
  uint64_t t1 = 0, t2 = 0, t3 = 0;
  std::vector<std::string> want = line_reader_lines(f1.fd, &t1);
  CHECK(scan_ahead_lines(f2.fd, &t2, true) == want);
  CHECK(scan_ahead_lines(f3.fd, &t3, false) == want);
  CHECK(t2 == t1);
  CHECK(t3 == t1);
}

}  // namespace

TEST_CASE("ScanAhead gives a LineReader's lines, in blocks", "[scan_ahead]") {
  same_as_line_reader("");
  same_as_line_reader("one line\n");
  same_as_line_reader("no newline at the end");
  same_as_line_reader("a\r\nb connection\r\n\nlast FATAL");
  std::string many;
  for (int i = 0; i < 100000; ++i)
    many += "2024-05-01 10:00:00.100 UTC [" + std::to_string(i) + "] LOG:  " +
            (i % 10 == 0 ? "connection received: host=[local]" : "statement: SELECT 1") + "\n";
  same_as_line_reader(many);
  same_as_line_reader(many + "tail without newline");
}

TEST_CASE("ScanAhead cuts long lines where LineReader cuts them", "[scan_ahead]") {
  const size_t max = LineReader::kMaxLine;
  for (size_t len : {max - 1, max, max + 1, 3 * max}) {
    INFO(len);
    same_as_line_reader("before\n" + std::string(len, 'x') + "\nafter connection\n");
    same_as_line_reader(std::string(len, 'y'));
  }
  std::string block_edge(ScanAhead::kBlockBytes - 5, 'z');
  same_as_line_reader(block_edge + "\n" + std::string(max + 10, 'w') + "\nFATAL\n");
  // A long line that ends inside a read among short lines, two long lines
  // in a row, a long line first, one that ends the file without '\n'.
  std::string shorts;
  for (int i = 0; i < 5000; ++i) shorts += "short connection line " + std::to_string(i) + "\n";
  same_as_line_reader(std::string(900 * 1024, 'a') + "\n" + shorts + std::string(max + 300 * 1024, 'b') +
                      "\n" + shorts);
  same_as_line_reader(shorts + std::string(max - 100, 'c') + std::string(200, 'd') + "\n" +
                      std::string(max, 'e') + "\n" + std::string(2 * max + 7, 'f') + "\n" + shorts);
  same_as_line_reader(std::string(max + 1, 'g') + "\n" + shorts + std::string(max + 2, 'h'));
  same_as_line_reader(shorts + std::string(max - 1, 'i') + "\n" + std::string(max - 1, 'j'));
}

TEST_CASE("ScanAhead stops early when destroyed before the end", "[scan_ahead]") {
  std::string big;
  for (int i = 0; i < 200000; ++i) big += "line of some length connection\n";
  TempFile f(big);
  auto a = ScanAhead::start(f.fd);
  REQUIRE(a.ok());
  const ScanAhead::Block* b = nullptr;
  while ((*a)->next(1000, &b) == ScanAhead::Status::kTimeout) {}
  CHECK(!b->text().empty());
  a->reset();  // joins without reading the rest
}

TEST_CASE("ScanAhead reads a block's PgBouncer lines when asked", "[scan_ahead]") {
  std::string big;
  for (int i = 0; i < 20000; ++i) {
    big += "2026-12-04 04:10:00.456 UTC [6505] LOG C-0x55d8f18f9e30: appdb/app@127.0.0.1:60544 "
           "closing because: client close request (age=0s)\n";
    big += "\tnot PgBouncer's\n";
  }
  TempFile f(big);
  auto a = ScanAhead::start(f.fd);
  REQUIRE(a.ok());
  (*a)->want_pooler(true);
  size_t lines = 0, records = 0, pooled_blocks = 0;
  while (true) {
    const ScanAhead::Block* b = nullptr;
    ScanAhead::Status st = (*a)->next(1000, &b);
    if (st == ScanAhead::Status::kEnd) break;
    if (st == ScanAhead::Status::kTimeout) continue;
    CHECK_FALSE(b->scanned);
    if (!b->pooled) continue;  // read before want_pooler()
    ++pooled_blocks;
    const size_t n = split(b->text()).size();
    REQUIRE(b->pooler.lines.size() == n);
    for (size_t i = 0; i < n; ++i) {
      const PooledLine& l = b->pooler.lines[i];
      const bool bouncer = b->text()[l.begin] != '\t';
      CHECK((l.record >= 0) == bouncer);
      if (bouncer) CHECK(b->pooler.records[l.record].record.port == 60544);
    }
    lines += n;
    records += b->pooler.records.size();
  }
  CHECK(pooled_blocks > 0);
  CHECK(records * 2 == lines);
}

TEST_CASE("ScanAhead reads a block's candidates while the caller is busy, and leaves the rest "
          "to it when it waits", "[scan_ahead][stderr_ahead]") {
  std::string big;
  for (int i = 0; i < 60000; ++i)
    big += "2024-05-01 10:00:00.100 UTC [" + std::to_string(1000 + i) + "] LOG:  " +
           (i % 10 == 0 ? "connection received: host=[local]" : "statement: SELECT 1") + "\n";
  TempFile f(big);
  auto a = ScanAhead::start(f.fd);
  REQUIRE(a.ok());
  (*a)->want_scan(true);
  (*a)->read_with("%m [%p] ");
  size_t blocks = 0;
  bool slept = false;
  while (true) {
    const ScanAhead::Block* b = nullptr;
    ScanAhead::Status st = (*a)->next(1000, &b);
    if (st == ScanAhead::Status::kEnd) break;
    if (st == ScanAhead::Status::kTimeout) continue;
    ++blocks;
    if (!b->scanned || b->read.prefix.empty()) continue;  // read before want_scan(), read_with()
    const std::vector<Candidate>& c = b->scan.candidates;
    const std::vector<LineAhead>& read = b->read.lines;
    // The first candidates, each read; the others are the caller's.
    REQUIRE(read.size() <= c.size());
    for (size_t i = 0; i < read.size(); ++i) {
      std::string_view text = b->text().substr(c[i].begin, c[i].end - c[i].begin);
      CHECK(read[i].matched);
      CHECK(read[i].message.kind == MsgKind::kReceived);
      CHECK(std::to_string(read[i].record.pid) == text.substr(29, text.find(']') - 29));
    }
    // A caller busy for a while: the block read meanwhile is read whole.
    if (slept) CHECK(read.size() == c.size());
    slept = blocks % 4 == 1;
    if (slept) usleep(100 * 1000);
  }
  CHECK(blocks > 4);
}
