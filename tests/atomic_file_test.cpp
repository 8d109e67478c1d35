// atomic_file: replacing a file so that a reader never sees a partial one
// (atomic_file.hpp; pgconn-agg --prom-file).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "render/atomic_file.hpp"

using namespace pgconn;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/pgconn-atomic-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("write_atomically puts the content in place, mode 0644 whatever the umask", "[atomic_file]") {
  TempDir d;
  const std::string path = d.path + "/pgconn.prom";
  mode_t old = umask(077);
  auto r = write_atomically(path, "a 1\n");
  umask(old);
  REQUIRE(r.ok());
  CHECK(slurp(path) == "a 1\n");
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  REQUIRE(write_atomically(path, "b 2\n").ok());
  CHECK(slurp(path) == "b 2\n");
  CHECK(access(atomic_temp_name(path).c_str(), F_OK) != 0);  // no temporary file left
}

TEST_CASE("the temporary name is in the same directory and does not end in .prom", "[atomic_file]") {
  const std::string tmp = atomic_temp_name("/var/lib/x/pgconn.prom");
  CHECK(tmp.rfind("/var/lib/x/pgconn.prom.", 0) == 0);
  CHECK(tmp.size() > 4);
  CHECK(tmp.substr(tmp.size() - 4) == ".tmp");
}

TEST_CASE("a failed write leaves the old file as it was", "[atomic_file]") {
  TempDir d;
  const std::string path = d.path + "/pgconn.prom";
  REQUIRE(write_atomically(path, "old 1\n").ok());
  // The temporary name taken by a directory: open(2) fails (even for root).
  REQUIRE(mkdir(atomic_temp_name(path).c_str(), 0755) == 0);
  auto r = write_atomically(path, "new 2\n");
  REQUIRE(!r.ok());
  CHECK(r.error() == "cannot write \"" + path + "\": Is a directory");
  CHECK(slurp(path) == "old 1\n");
}

TEST_CASE("check_writable says why a path cannot be written", "[atomic_file]") {
  TempDir d;
  CHECK(check_writable(d.path + "/pgconn.prom").ok());
  auto missing = check_writable(d.path + "/nope/pgconn.prom");
  REQUIRE(!missing.ok());
  CHECK(missing.error() == "cannot write \"" + d.path + "/nope/pgconn.prom\": directory \"" + d.path +
                               "/nope\": No such file or directory");
  auto dir = check_writable(d.path);
  REQUIRE(!dir.ok());
  CHECK(dir.error() == "cannot write \"" + d.path + "\": it is a directory");
  REQUIRE(write_atomically(d.path + "/file", "x").ok());
  auto not_dir = check_writable(d.path + "/file/pgconn.prom");
  REQUIRE(!not_dir.ok());
  CHECK(not_dir.error() == "cannot write \"" + d.path + "/file/pgconn.prom\": \"" + d.path + "/file\" is not a directory");
  CHECK(check_writable("pgconn-relative-test.prom").ok());  // the current directory
}

TEST_CASE("a reader never sees a partial file during thousands of writes", "[atomic_file]") {
  TempDir d;
  const std::string path = d.path + "/pgconn.prom";
  // Two contents of different sizes, big enough to take several write(2)s
  // into the page cache; each ends with a line that says which it is.
  const std::string a = std::string(300000, 'a') + "\nend a\n";
  const std::string b = std::string(100000, 'b') + "\nend b\n";
  REQUIRE(write_atomically(path, a).ok());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i)
      if (!write_atomically(path, i % 2 ? a : b).ok()) ++failures;
    done = true;
  });
  int reads = 0, partial = 0, seen_a = 0, seen_b = 0;
  while (!done) {
    const std::string got = slurp(path);
    ++reads;
    if (got == a) ++seen_a;
    else if (got == b) ++seen_b;
    else ++partial;
  }
  writer.join();
  CHECK(failures == 0);
  CHECK(partial == 0);
  CHECK(reads > 10);
  CHECK(seen_a > 0);
  CHECK(seen_b > 0);
}
