#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tail/backlog.hpp"
#include "tail/log_locator.hpp"

using namespace pgconn;

TEST_CASE("parse_log_format takes the destinations' names", "[log_locator]") {
  CHECK(*parse_log_format("stderr") == LogFormat::kStderr);
  CHECK(*parse_log_format("csvlog") == LogFormat::kCsvlog);
  CHECK(*parse_log_format("jsonlog") == LogFormat::kJsonlog);
  auto bad = parse_log_format("csv");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "bad --format \"csv\": expected stderr, csvlog or jsonlog");
}

TEST_CASE("format_of_name looks through rotation and compression suffixes", "[log_locator]") {
  CHECK(format_of_name("postgresql-2024-05-01_100000.log") == LogFormat::kStderr);
  CHECK(format_of_name("postgresql-Mon.csv") == LogFormat::kCsvlog);
  CHECK(format_of_name("postgresql.json") == LogFormat::kJsonlog);
  CHECK(format_of_name("postgresql.csv.1") == LogFormat::kCsvlog);
  CHECK(format_of_name("postgresql.json.2.gz") == LogFormat::kJsonlog);
  CHECK(format_of_name("postgresql.csv-20240501.zst") == LogFormat::kCsvlog);
  CHECK(format_of_name("postgresql-16-main.log.3.gz") == LogFormat::kStderr);
  CHECK(is_compressed_name("a.log.2.gz"));
  CHECK(is_compressed_name("a.log.xz"));
  CHECK_FALSE(is_compressed_name("a.log.1"));
}

TEST_CASE("first_line_time finds PostgreSQL's time in any log format", "[backlog]") {
  auto t = first_line_time("2024-05-01 10:00:00.123 UTC [42] LOG:  x\n2024-05-02 00:00:00 UTC");
  REQUIRE(t.has_value());
  CHECK(*t == 1714557600123);
  CHECK(*first_line_time("2024-05-01 10:00:00 UTC,\"app\",...") == 1714557600000);
  CHECK(*first_line_time("{\"timestamp\":\"2024-05-01 10:00:01.5 UTC\",\"user\":\"x\"}") ==
        1714557601500);
  CHECK(*first_line_time("<134>May  1 host postgres[1]: 2024-05-01T10:00:00Z x") == 1714557600000);
  CHECK_FALSE(first_line_time("no time here\n2024-05-01 10:00:00 UTC").has_value());
  CHECK_FALSE(first_line_time("").has_value());
}

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/pgconn_locator_XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { REQUIRE(std::system(("rm -rf '" + path + "'").c_str()) == 0); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
  }
};
}  // namespace

TEST_CASE("LogLocator: a data directory's current_logfiles, by --format", "[log_locator]") {
  TempDir d;
  d.write("PG_VERSION", "15\n");
  d.write("current_logfiles", "stderr log/a.log\ncsvlog log/a.csv\n");
  LogLocator any(d.path, LogFormat::kAny);
  Location loc = any.locate(true);
  CHECK(loc.kind == PathKind::kDataDir);
  CHECK(loc.live == d.path + "/log/a.log");
  CHECK(any.format() == LogFormat::kStderr);
  LogLocator csv(d.path, LogFormat::kCsvlog);
  CHECK(csv.locate(true).live == d.path + "/log/a.csv");
  LogLocator json(d.path, LogFormat::kJsonlog);
  loc = json.locate(true);
  CHECK(loc.live.empty());
  CHECK(loc.problem == d.path + ": current_logfiles lists no jsonlog log; waiting for it");
}

TEST_CASE("LogLocator: a log directory's newest file, then only new ones", "[log_locator]") {
  TempDir d;
  d.write("b.log", "old\n");
  d.write("a.log", "newer\n");
  d.write("z.log.1.gz", "compressed is never live\n");
  struct timespec times[2] = {{1000, 0}, {1000, 0}};
  REQUIRE(utimensat(AT_FDCWD, (d.path + "/b.log").c_str(), times, 0) == 0);
  LogLocator loc(d.path, LogFormat::kAny);
  CHECK(loc.locate(true).live == d.path + "/a.log");
  d.write("b.log", "written again: not new, no switch\n");
  CHECK(loc.locate(true).live == d.path + "/a.log");
  d.write("c.log", "a new file\n");
  CHECK(loc.locate(true).live == d.path + "/c.log");
}
