#include <catch2/catch.hpp>

#include <string>

#include "collect_records.hpp"
#include "envelopes/heroku_format.hpp"

using namespace pgconn;
using pgconn_test::Collect;

namespace {
HerokuFormat make() { return HerokuFormat(StderrFormat(HerokuFormat::prefixes()), 2024); }
}  // namespace

TEST_CASE("HerokuFormat: heroku logs text, the old prefix", "[heroku_format]") {
  HerokuFormat f = make();
  Collect out;
  f.feed("2019-03-14T00:22:56+00:00 app[postgres.4882]: [GREEN] [15-1]  sql_error_code = 00000 LOG:  process 4882 still waiting for ShareLock on transaction 259635360 after 1000.119 ms", &out);
  f.feed("2019-03-14T00:23:00+00:00 app[postgres.4849]: [GREEN] [19-3] \tProcess 4821 waits for ShareLock on transaction 259635221; blocked by process 4796.", &out);
  f.feed("2019-03-14T00:23:01+00:00 heroku[router]: at=info method=GET", &out);
  f.flush(&out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == 4882);  // postgres.N, not [15-1]
  CHECK(out.records[0].server == "GREEN");
  CHECK(out.records[0].time == "2019-03-14T00:22:56Z");
  CHECK(out.records[0].severity == "LOG");
}

TEST_CASE("HerokuFormat: a syslog drain receiver's line", "[heroku_format]") {
  HerokuFormat f = make();
  Collect out;
  f.feed("2021-09-07T04:01:27+00:00 d.af28b93f-a129-45a1-87be-3f8a0cb710be app[postgres.5925] [AQUA] [921320-1]  sql_error_code = 00000 LOG:  duration: 85756.273 ms  execute <unnamed>: UPDATE x", &out);
  f.flush(&out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == 5925);
  CHECK(out.records[0].server == "AQUA");
}

TEST_CASE("HerokuFormat: HTTPS drain frames, the 2022 prefix, metrics skipped", "[heroku_format]") {
  HerokuFormat f = make();
  Collect out;
  f.feed("688 <134>1 2023-06-05T19:27:18+00:00 host app heroku-postgres - source=HEROKU_POSTGRESQL_YELLOW sample#active-connections=11", &out);
  f.feed(R"J(451 <134>1 2023-06-05T19:33:14+00:00 host app postgres.1105947 - [YELLOW] [12-1]  sql_error_code = 00000 time_ms = "2023-06-05 19:33:14.793 UTC" pid="1991397" proc_start_time="2023-06-05 19:33:12 UTC" session_id="647e3878.1e62e5" vtid="2/0" tid="0" log_line="3" database="databasedataba" connection_source="11.222.333.444(12345)" user="useruseruserus" application_name="pganalyze_test_run" LOG:  duration: 2405.887 ms  statement: WITH naptime(value) AS ()J", &out);
  f.feed("85 <134>1 2023-06-05T19:33:14+00:00 host app postgres.1105947 - [YELLOW] [12-2] \tSELECT", &out);
  f.flush(&out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == 1991397);  // pid="…" beats postgres.N
  CHECK(out.records[0].time == "2023-06-05T19:33:14.793Z");  // time_ms
  CHECK(out.records[0].server == "YELLOW");
  CHECK(out.records[0].line_num == 3);
  CHECK(out.records[0].user == "useruseruserus");
  CHECK(out.records[0].app == "pganalyze_test_run");
  CHECK(f.metrics_skipped() == 1);
}

TEST_CASE("HerokuFormat::looks_like", "[heroku_format]") {
  CHECK(HerokuFormat::looks_like("2019-03-14T00:22:56+00:00 app[postgres.4882]: [GREEN] [15-1]  sql_error_code = 00000 LOG:  x"));
  CHECK(HerokuFormat::looks_like("408 <134>1 2023-06-05T19:35:51+00:00 host app heroku-postgres - source=X"));
  CHECK_FALSE(HerokuFormat::looks_like("408 <134>1 2023-06-05T19:35:51+00:00 host app heroku-redis - source=X"));
  CHECK_FALSE(HerokuFormat::looks_like("2019-03-14T00:22:56+00:00 app[web.1]: GET /"));
  CHECK_FALSE(HerokuFormat::looks_like("2024-05-01T10:00:00+00:00 db1 postgres[812]: [3-1] LOG:  x"));
}
