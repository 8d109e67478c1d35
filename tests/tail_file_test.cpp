#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "tail/tail_file.hpp"

using namespace pgconn;

namespace {

// A temporary file, removed when it goes out of scope.
struct TempFile {
  std::string path;
  TempFile() {
    char name[] = "/tmp/pgconn_tail_file_XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = name;
  }
  ~TempFile() { unlink(path.c_str()); }
  void append(std::string_view s) const {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    REQUIRE(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
    close(fd);
  }
  void replace(std::string_view s) const {
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
    REQUIRE(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
    close(fd);
  }
};

struct Collect : LineSink {
  std::string text;
  int blocks = 0;
  bool on_lines(std::string_view block) override {
    REQUIRE(!block.empty());
    REQUIRE(block.back() == '\n');
    text.append(block);
    ++blocks;
    return true;
  }
};

std::unique_ptr<TailFile> open_file(const TempFile& f) {
  int err = 0;
  auto t = TailFile::open(f.path, &err);
  REQUIRE(t != nullptr);
  return t;
}

}  // namespace

TEST_CASE("TailFile writes whole lines and holds a partial last line", "[tail_file]") {
  TempFile f;
  f.append("one\ntw");
  auto t = open_file(f);
  Collect out;
  CHECK(t->read_to_end(&out) == TailFile::Read::kGrew);
  CHECK(out.text == "one\n");
  CHECK(t->read_to_end(&out) == TailFile::Read::kQuiet);
  f.append("o\nthree\n");
  CHECK(t->read_to_end(&out) == TailFile::Read::kGrew);
  CHECK(out.text == "one\ntwo\nthree\n");
}

TEST_CASE("TailFile starts N lines back as tail -n counts", "[tail_file]") {
  TempFile f;
  f.append("a\nb\nc\nd\npart");
  auto t = open_file(f);
  Collect out;
  SECTION("n = 2") {
    t->start_lines_back(2);
    t->read_to_end(&out);
    CHECK(out.text == "c\nd\n");
    f.append("ial\n");
    t->read_to_end(&out);
    CHECK(out.text == "c\nd\npartial\n");
  }
  SECTION("n = 0: the end, the partial line read whole") {
    t->start_lines_back(0);
    f.append("ial\n");
    t->read_to_end(&out);
    CHECK(out.text == "partial\n");
  }
  SECTION("more lines than the file has: from the start") {
    t->start_lines_back(100);
    t->read_to_end(&out);
    CHECK(out.text == "a\nb\nc\nd\n");
  }
}

TEST_CASE("TailFile sees a file truncated, or rewritten past its offset", "[tail_file]") {
  TempFile f;
  f.append("first line of week one\n");
  auto t = open_file(f);
  Collect out;
  t->read_to_end(&out);
  CHECK_FALSE(t->rewritten());
  f.append("more\n");
  CHECK_FALSE(t->rewritten());
  t->read_to_end(&out);
  SECTION("shorter") {
    f.replace("x\n");
    CHECK(t->rewritten());
  }
  SECTION("longer, other bytes") {
    f.replace("first line of week two, longer than before\n");
    CHECK(t->rewritten());
    t->restart();
    out.text.clear();
    t->read_to_end(&out);
    CHECK(out.text == "first line of week two, longer than before\n");
  }
}

TEST_CASE("TailFile reads on in copytruncate's copy, keeping its partial line", "[tail_file]") {
  TempFile f, copy;
  f.append("one\ntw");
  auto t = open_file(f);
  Collect out;
  t->read_to_end(&out);
  copy.append("one\ntwo\nthree\n");  // the copy made later
  f.replace("");
  auto c = open_file(copy);
  CHECK(t->continues_in(c->fd()));
  TempFile other;
  other.append("xxx\nyyyyyyyyyy\n");
  CHECK_FALSE(t->continues_in(open_file(other)->fd()));
  t->adopt(std::move(c));
  t->read_to_end(&out);
  CHECK(out.text == "one\ntwo\nthree\n");
}

TEST_CASE("TailFile cuts a line longer than kMaxLine", "[tail_file]") {
  TempFile f;
  f.append(std::string(TailFile::kMaxLine + 10, 'x') + "\nnext\n");
  auto t = open_file(f);
  Collect out;
  t->read_to_end(&out);
  CHECK(out.text == std::string(TailFile::kMaxLine, 'x') + "\nnext\n");
  CHECK(t->truncated() == 1);
}

TEST_CASE("TailFile ends a partial line for good with a newline", "[tail_file]") {
  TempFile f;
  f.append("done\nhalf");
  auto t = open_file(f);
  Collect out;
  t->read_to_end(&out);
  CHECK(t->flush_partial(&out));
  CHECK(out.text == "done\nhalf\n");
}
