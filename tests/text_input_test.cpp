#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "compressed.hpp"
#include "read/text_input.hpp"

using namespace pgconn;
using namespace pgconn_test;
using namespace std::string_literals;

namespace {

std::string log_text(int lines) {
  std::string t;
  for (int i = 0; i < lines; ++i)
    t += "2024-03-01 10:00:00.123 UTC [" + std::to_string(4000 + i) + "] LOG:  line " +
         std::to_string(i) + "\n";
  return t;
}

// A temporary file holding `content`; removed at the end.
struct TempPath {
  std::string path;
  explicit TempPath(const std::string& content) {
    char name[] = "/tmp/pgconn_text_input_XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    close(fd);
    path = name;
  }
  ~TempPath() { unlink(path.c_str()); }
};

// A writer thread feeding a pipe, so that big inputs do not block the test.
struct Feeder {
  int fds[2] = {-1, -1};
  std::thread t;
  explicit Feeder(std::string data, bool keep_open = false) {
    REQUIRE(pipe(fds) == 0);
    t = std::thread([this, data = std::move(data), keep_open] {
      size_t off = 0;
      while (off < data.size()) {
        ssize_t n = ::write(fds[1], data.data() + off, std::min<size_t>(data.size() - off, 1000));
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      if (!keep_open) close_write();
    });
  }
  ~Feeder() {
    t.join();
    close_write();
    close(fds[0]);
  }
  void close_write() {
    if (fds[1] >= 0) close(fds[1]);
    fds[1] = -1;
  }
  int r() const { return fds[0]; }
};

struct ReadAll {
  std::string text, error;
};
ReadAll read_all(TextInput* in, size_t chunk = 4096) {
  ReadAll r;
  std::string buf(chunk, '\0');
  while (true) {
    Result<size_t> n = in->read(buf.data(), buf.size());
    if (!n.ok()) {
      r.error = n.error();
      Result<size_t> after = in->read(buf.data(), buf.size());
      CHECK(after.ok());
      if (after.ok()) CHECK(*after == 0);
      return r;
    }
    if (*n == 0) return r;
    r.text.append(buf.data(), *n);
  }
}

}  // namespace

TEST_CASE("TextInput reads a gzip file and a plain one", "[text_input]") {
  std::string text = log_text(20000);
  TempPath gz(gzip(text)), plain(text);
  auto a = TextInput::open(gz.path);
  REQUIRE(a.ok());
  CHECK((*a)->compression() == Compression::kGzip);
  ReadAll got = read_all(a->get());
  CHECK(got.error == "");
  CHECK(got.text == text);
  auto b = TextInput::open(plain.path);
  REQUIRE(b.ok());
  CHECK((*b)->compression() == Compression::kNone);
  CHECK(read_all(b->get(), 7).text == text);
}

TEST_CASE("TextInput on a pipe keeps the bytes it read to tell the format", "[text_input]") {
  SECTION("plain text that starts like bzip2") {
    std::string text = "BZh91AY&SXY is not bzip2\nsecond line\n";
    Feeder f(text);
    auto in = TextInput::from_fd(f.r());
    REQUIRE(in.ok());
    CHECK((*in)->compression() == Compression::kNone);
    CHECK(read_all(in->get(), 3).text == text);
  }
  SECTION("a short text ended inside a magic") {
    Feeder f("BZh");
    auto in = TextInput::from_fd(f.r());
    REQUIRE(in.ok());
    CHECK(read_all(in->get()).text == "BZh");
  }
  SECTION("gzip, bytes trickling in") {
    std::string text = log_text(5000);
    Feeder f(gzip(text) + gzip("last\n"));
    auto in = TextInput::from_fd(f.r());
    REQUIRE(in.ok());
    CHECK((*in)->compression() == Compression::kGzip);
    ReadAll got = read_all(in->get());
    CHECK(got.error == "");
    CHECK(got.text == text + "last\n");
  }
}

TEST_CASE("TextInput: a truncated or damaged file gives its text, then one error",
          "[text_input]") {
  std::string text = log_text(20000);
  std::string data = gzip(text);
  TempPath cut(data.substr(0, data.size() / 2));
  auto in = TextInput::open(cut.path);
  REQUIRE(in.ok());
  ReadAll got = read_all(in->get());
  CHECK(got.error == "gzip data is truncated");
  CHECK(got.text.size() > 1000);
  CHECK(text.compare(0, got.text.size(), got.text) == 0);

  std::string bad = data;
  bad[bad.size() - 6] ^= 1;  // the CRC
  TempPath damaged(bad);
  auto in2 = TextInput::open(damaged.path);
  REQUIRE(in2.ok());
  got = read_all(in2->get());
  CHECK(got.error == "gzip data is damaged: incorrect data check");
  CHECK(got.text == text);
}

TEST_CASE("TextInput::open fails with the system's words", "[text_input]") {
  auto in = TextInput::open("/nonexistent/pgconn.log.gz");
  REQUIRE(!in.ok());
  CHECK(in.error() == "No such file or directory");
}

TEST_CASE("TextInput reads a regular file from its current offset", "[text_input]") {
  std::string text = log_text(100);
  TempPath p("skip this\n" + gzip(text));
  int fd = open(p.path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(lseek(fd, 10, SEEK_SET) == 10);
  {
    auto in = TextInput::from_fd(fd);
    REQUIRE(in.ok());
    CHECK((*in)->compression() == Compression::kGzip);
    CHECK(read_all(in->get()).text == text);
  }
  close(fd);
}

TEST_CASE("BackgroundDecoder stops when its reader goes, even on a quiet pipe",
          "[text_input]") {
  // The producer keeps its end open and sends nothing more: the thread
  // waits for input and must still end when the TextInput is destroyed.
  std::string data = gzip(log_text(10));
  Feeder f(data.substr(0, data.size() / 2), /*keep_open=*/true);
  std::atomic<bool> done{false};
  std::thread t([&] {
    auto in = TextInput::from_fd(f.r());
    REQUIRE(in.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // it waits now
    in->reset();
    done = true;
  });
  for (int i = 0; i < 500 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(done);
  if (!done) f.close_write();  // unblock it, to end the test
  t.join();
  f.close_write();
}
