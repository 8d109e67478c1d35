// output.hpp: what is queued reaches stdout whole and in order, through
// the thread that writes full buffers, across flushes and writes larger
// than a buffer (issue 17: writes moved off the main thread).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "codec/output.hpp"

using namespace pgconn;

namespace {

// Runs `write` with stdout sent to a temporary file; returns the file's bytes.
template <typename F>
std::string captured(F write) {
  char path[] = "/tmp/pgconn-output-test-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  REQUIRE(dup2(fd, STDOUT_FILENO) == STDOUT_FILENO);
  write();
  REQUIRE(output_flush());
  dup2(saved, STDOUT_FILENO);
  close(saved);
  close(fd);
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  unlink(path);
  return s.str();
}

}  // namespace

TEST_CASE("output: 60 MB of lines in order through full buffers, flushes and large writes", "[output][issue_17]") {
  output_init();
  std::mt19937 rng(17);
  std::string want;
  const std::string got = captured([&] {
    std::string line;
    for (int i = 0; i < 400000; ++i) {
      line = "line " + std::to_string(i) + " " + std::string(rng() % 180, 'x') + "\n";
      want += line;
      switch (rng() % 5000) {
        case 0: {  // larger than a buffer: written after what is queued
          std::string big(300 * 1024 + rng() % 1000, 'b');
          big += "\n";
          want += big;
          REQUIRE(output_write(line));
          REQUIRE(output_write(big));
          continue;
        }
        case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10:
          REQUIRE(output_write(line));
          REQUIRE(output_flush());
          continue;
        default:
          break;
      }
      if (rng() % 2 == 0) {
        REQUIRE(output_write(line));
      } else {
        char* p = output_reserve(line.size());
        REQUIRE(p != nullptr);
        line.copy(p, line.size());
        output_commit(p + line.size());
      }
    }
  });
  REQUIRE(got.size() == want.size());
  CHECK(got == want);
  CHECK(output_error() == 0);
  CHECK_FALSE(output_closed());
}
