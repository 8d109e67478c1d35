#include <catch2/catch.hpp>

#include <string>

#include "collect_records.hpp"
#include "envelopes/rfc5424_format.hpp"

using namespace pgconn;
using pgconn_test::Collect;

namespace {
Rfc5424Format make() { return Rfc5424Format(StderrFormat(), 2024); }

std::string counted(std::string frame, bool lf = true) {
  if (lf) frame += "\n";
  return std::to_string(frame.size()) + " " + frame;
}
}  // namespace

TEST_CASE("Rfc5424Format: Neon's frame, server from endpoint_id", "[rfc5424_format]") {
  Rfc5424Format f = make();
  Collect out;
  REQUIRE(f.feed(R"(<134>1 2026-07-20T18:43:00.018369+00:00 vm-compute-x postgres 2468 - [neon project_id="p" endpoint_id="ep-1"]  [7-1] 2026-07-20 18:43:00.018 GMT ttid=abc/def sqlstate=[00000] user=[pganalyze] backend=[client backend] app=[pganalyze_collector] [2468] LOG:  connection authorized: user=pganalyze database=neondb)",
                 &out));
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == 2468);
  CHECK(out.records[0].server == "ep-1");
  CHECK(out.records[0].message == "connection authorized: user=pganalyze database=neondb");
  CHECK(out.records[0].time == "2026-07-20T18:43:00.018Z");
}

TEST_CASE("Rfc5424Format: PROCID and header time when the prefix has none", "[rfc5424_format]") {
  Rfc5424Format f = make();
  Collect out;
  f.feed("<134>1 2024-05-01T10:00:00.105+00:00 db1 postgres 812 - - [3-1] LOG:  connection received: host=[local]", &out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == 812);
  CHECK(out.records[0].time == "2024-05-01T10:00:00.105Z");
  CHECK(out.records[0].server == "db1");
}

TEST_CASE("Rfc5424Format: header milliseconds beat %t's seconds, not %m", "[rfc5424_format]") {
  Rfc5424Format f = make();
  Collect out;
  f.feed("<134>1 2024-05-01T10:00:00.105+00:00 db1 postgres 812 - - [3-1] 2024-05-01 10:00:00 UTC [812] LOG:  a", &out);
  f.feed("<134>1 2024-05-01T10:00:00.999+00:00 db1 postgres 812 - - [4-1] 2024-05-01 10:00:00.107 UTC [812] LOG:  b", &out);
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[0].time == "2024-05-01T10:00:00.105Z");
  CHECK(out.records[1].time == "2024-05-01T10:00:00.107Z");
}

TEST_CASE("Rfc5424Format: octet-counted frames, back to back and split pieces joined", "[rfc5424_format]") {
  Rfc5424Format f = make();
  Collect out;
  std::string long_msg(800, 'x');
  // A sender may join frames with no LF between them (then no LF counts).
  std::string a = counted("<134>1 2024-05-01T10:00:00.105Z db1 postgres 812 - - [3-1] 2024-05-01 10:00:00.105 UTC [812] LOG:  " + long_msg, false);
  std::string b = counted("<134>1 2024-05-01T10:00:00.105Z db1 postgres 812 - - [3-2] yz");
  std::string c = counted("<134>1 2024-05-01T10:00:00.106Z db1 postgres 813 - - [1-1] 2024-05-01 10:00:00.106 UTC [813] LOG:  next");
  REQUIRE(f.feed(a + b.substr(0, b.size() - 1), &out));  // the line reader takes the LF
  REQUIRE(f.feed(c.substr(0, c.size() - 1), &out));
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[0].message == long_msg + "yz");
  CHECK(out.records[1].message == "next");
}

TEST_CASE("Rfc5424Format: a count running past the line skips the lines it covers", "[rfc5424_format]") {
  Rfc5424Format f = make();
  Collect out;
  std::string frame = "<134>1 2024-05-01T10:00:00Z db1 postgres 9 - - [1-1] LOG:  first\nsecond line\n";
  std::string first = std::to_string(frame.size()) + " " + frame.substr(0, frame.find('\n'));
  f.feed(first, &out);
  f.feed("second line", &out);
  f.feed("<134>1 2024-05-01T10:00:01Z db1 postgres 9 - - [2-1] LOG:  after", &out);
  f.flush(&out);
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[0].message == "first");
  CHECK(out.records[1].message == "after");
}

TEST_CASE("pid_from_procid", "[rfc5424_format]") {
  CHECK(pid_from_procid("2468") == 2468);
  CHECK(pid_from_procid("postgres.1105947") == 1105947);
  CHECK(pid_from_procid("heroku-postgres") == -1);
  CHECK(pid_from_procid("") == -1);
}
