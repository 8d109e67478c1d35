#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "read/line_reader.hpp"
#include "temp_file.hpp"

using namespace pgconn;
using pgconn_test::TempFile;

namespace {

// A pipe whose ends are closed when it goes out of scope.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { REQUIRE(pipe(fds) == 0); }
  ~Pipe() {
    close_write();
    if (fds[0] >= 0) close(fds[0]);
  }
  int r() const { return fds[0]; }
  void write_all(std::string_view s) {
    REQUIRE(::write(fds[1], s.data(), s.size()) == static_cast<ssize_t>(s.size()));
  }
  void close_write() {
    if (fds[1] >= 0) close(fds[1]);
    fds[1] = -1;
  }
};

// Reads to the end; every non-empty lines() block is one chunk.
std::vector<std::string> read_chunks(LineReader* reader) {
  std::vector<std::string> chunks;
  for (int guard = 0; guard < 100000; ++guard) {
    LineReader::Status s = reader->fill(-1);
    REQUIRE((s == LineReader::Status::kData || s == LineReader::Status::kEof));
    if (!reader->lines().empty()) chunks.emplace_back(reader->lines());
    reader->consume();
    if (s == LineReader::Status::kEof) return chunks;
  }
  FAIL("no end of input");
  return chunks;
}

std::string join(const std::vector<std::string>& chunks) {
  std::string all;
  for (const std::string& c : chunks) all += c;
  return all;
}

}  // namespace

TEST_CASE("LineReader hands out complete lines from a pipe", "[line_reader]") {
  Pipe p;
  LineReader reader(p.r());
  p.write_all("first\nsecond\n");
  REQUIRE(reader.fill(-1) == LineReader::Status::kData);
  CHECK(reader.lines() == "first\nsecond\n");
  reader.consume();
  CHECK(reader.lines().empty());
  p.close_write();
  CHECK(reader.fill(-1) == LineReader::Status::kEof);
  CHECK(reader.lines().empty());
  CHECK(reader.truncated() == 0);
  CHECK(reader.error() == 0);
}

TEST_CASE("LineReader keeps a partial line until its newline comes", "[line_reader]") {
  Pipe p;
  LineReader reader(p.r());
  p.write_all("a\nbc");
  REQUIRE(reader.fill(-1) == LineReader::Status::kData);
  CHECK(reader.lines() == "a\n");
  reader.consume();
  p.write_all("d");
  REQUIRE(reader.fill(-1) == LineReader::Status::kData);
  CHECK(reader.lines().empty());
  p.write_all("e\nf\n");
  REQUIRE(reader.fill(-1) == LineReader::Status::kData);
  CHECK(reader.lines() == "bcde\nf\n");
}

TEST_CASE("LineReader keeps a partial last line at EOF", "[line_reader]") {
  Pipe p;
  LineReader reader(p.r());
  p.write_all("a\nlast without newline");
  p.close_write();
  std::vector<std::string> chunks = read_chunks(&reader);
  CHECK(join(chunks) == "a\nlast without newline");
  REQUIRE_FALSE(chunks.empty());
  CHECK(chunks.back() == "last without newline");
  CHECK(reader.fill(-1) == LineReader::Status::kEof);
  CHECK(reader.fill(0) == LineReader::Status::kEof);
}

TEST_CASE("LineReader keeps lines not consumed for the next look", "[line_reader]") {
  Pipe p;
  LineReader reader(p.r());
  p.write_all("a\n");
  REQUIRE(reader.fill(-1) == LineReader::Status::kData);
  p.write_all("b\n");
  REQUIRE(reader.fill(-1) == LineReader::Status::kData);
  CHECK(reader.lines() == "a\nb\n");
}

TEST_CASE("LineReader reads an empty input as EOF at once", "[line_reader]") {
  Pipe p;
  p.close_write();
  LineReader reader(p.r());
  CHECK(reader.fill(-1) == LineReader::Status::kEof);
  CHECK(reader.lines().empty());
}

TEST_CASE("LineReader returns kTimeout on an empty pipe", "[line_reader]") {
  Pipe p;
  LineReader reader(p.r());
  CHECK(reader.fill(0) == LineReader::Status::kTimeout);
  CHECK(reader.fill(20) == LineReader::Status::kTimeout);
  CHECK(reader.lines().empty());
  p.write_all("x\n");
  CHECK(reader.fill(1000) == LineReader::Status::kData);
  CHECK(reader.lines() == "x\n");
  reader.consume();
  CHECK(reader.fill(0) == LineReader::Status::kTimeout);
}

TEST_CASE("LineReader returns kTimeout when a non-blocking read would block", "[line_reader]") {
  // fill(-1) always waits in ppoll (signals are let in only there), so a
  // non-blocking descriptor waits like any other; fill(0) does not wait.
  Pipe p;
  REQUIRE(fcntl(p.r(), F_SETFL, O_NONBLOCK) == 0);
  LineReader reader(p.r());
  CHECK(reader.fill(0) == LineReader::Status::kTimeout);
}

TEST_CASE("LineReader reports a read error with its errno", "[line_reader]") {
  LineReader reader(-1);
  CHECK(reader.fill(-1) == LineReader::Status::kError);
  CHECK(reader.error() == EBADF);
}

TEST_CASE("LineReader passes NUL bytes, CR and invalid UTF-8 through", "[line_reader]") {
  Pipe p;
  LineReader reader(p.r());
  const std::string data("a\0b\r\n\xff\xfe\0\n\0\n", 11);
  p.write_all(data);
  p.close_write();
  CHECK(join(read_chunks(&reader)) == data);
}

TEST_CASE("LineReader keeps a line longer than its first buffer whole", "[line_reader]") {
  const std::string big(200000, 'y');
  TempFile f("head\n" + big + "\ntail\n");
  LineReader reader(f.fd);
  CHECK(join(read_chunks(&reader)) == "head\n" + big + "\ntail\n");
  CHECK(reader.truncated() == 0);
}

TEST_CASE("LineReader cuts a line longer than kMaxLine, counts it, and reads the next intact",
          "[line_reader]") {
  const std::string head(LineReader::kMaxLine, 'x');
  TempFile f("first\n" + head + std::string(3 * LineReader::kBufferSize + 17, 'z') + "\nnext\n");
  LineReader reader(f.fd);
  std::vector<std::string> chunks = read_chunks(&reader);
  CHECK(reader.truncated() == 1);
  CHECK(join(chunks) == "first\n" + head + "next\n");
  bool head_alone = false;
  for (const std::string& c : chunks) head_alone |= c == head;
  CHECK(head_alone);
  REQUIRE_FALSE(chunks.empty());
  CHECK(chunks.back().size() >= 5);
  CHECK(chunks.back().substr(chunks.back().size() - 5) == "next\n");
}

TEST_CASE("LineReader cuts a long line whose rest is longer than the buffer", "[line_reader]") {
  const std::string head(LineReader::kMaxLine, 'x');
  // The rest to skip is larger than the whole buffer.
  TempFile f(head + std::string(LineReader::kMaxLine + 12345, 'z') + "\nnext\n");
  LineReader reader(f.fd);
  std::vector<std::string> chunks = read_chunks(&reader);
  CHECK(reader.truncated() == 1);
  CHECK(join(chunks) == head + "next\n");
}

TEST_CASE("LineReader cuts two long lines in a row", "[line_reader]") {
  const std::string head(LineReader::kMaxLine, 'x');
  const std::string rest(1000, 'z');
  TempFile f(head + rest + "\n" + head + rest + "\nend\n");
  LineReader reader(f.fd);
  std::vector<std::string> chunks = read_chunks(&reader);
  CHECK(reader.truncated() == 2);
  CHECK(join(chunks) == head + head + "end\n");
}

TEST_CASE("LineReader cuts a long last line without newline", "[line_reader]") {
  const std::string head(LineReader::kMaxLine, 'x');
  TempFile f("a\n" + head + std::string(500, 'z'));
  LineReader reader(f.fd);
  std::vector<std::string> chunks = read_chunks(&reader);
  CHECK(reader.truncated() == 1);
  CHECK(join(chunks) == "a\n" + head);
}

TEST_CASE("LineReader hands out a line of exactly kMaxLine bytes whole", "[line_reader]") {
  const std::string line(LineReader::kMaxLine, 'x');
  TempFile f(line + "\nnext\n");
  LineReader reader(f.fd);
  std::vector<std::string> chunks = read_chunks(&reader);
  std::string all = join(chunks);
  REQUIRE(all.size() >= LineReader::kMaxLine);
  CHECK(all.substr(0, LineReader::kMaxLine) == line);
  CHECK(all.substr(all.size() - 5) == "next\n");
  CHECK(all.find('z') == std::string::npos);
}

TEST_CASE("LineReader reads many lines across buffer boundaries", "[line_reader]") {
  std::string content;
  for (int i = 0; i < 50000; ++i) content += "line " + std::to_string(i) + "\n";
  TempFile f(content);
  LineReader reader(f.fd);
  std::vector<std::string> chunks = read_chunks(&reader);
  CHECK(chunks.size() > 1);
  for (const std::string& c : chunks) {
    REQUIRE_FALSE(c.empty());
    CHECK(c.back() == '\n');  // every block ends with a whole line
  }
  CHECK(join(chunks) == content);
}
