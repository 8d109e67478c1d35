// An unlinked temporary file holding some content, open for reading from
// its start: for the tests of the readers that take a file descriptor
// (line_reader, scan_ahead).
#pragma once

#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>
#include <unistd.h>

namespace pgconn_test {

struct TempFile {
  int fd = -1;
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/pgconn_test_XXXXXX";
    fd = mkstemp(name);
    REQUIRE(fd >= 0);
    unlink(name);
    size_t off = 0;
    while (off < content.size()) {
      ssize_t n = ::write(fd, content.data() + off, content.size() - off);
      REQUIRE(n > 0);
      off += static_cast<size_t>(n);
    }
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
  }
  ~TempFile() {
    if (fd >= 0) close(fd);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
};

}  // namespace pgconn_test
