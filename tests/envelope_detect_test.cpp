#include <catch2/catch.hpp>

#include <string>

#include "envelopes/envelope_detect.hpp"

using namespace pgconn;
using Kind = EnvelopeDetector::Kind;

TEST_CASE("EnvelopeDetector: the platforms' first lines", "[envelope_detect]") {
  EnvelopeDetector d;
  CHECK(d.look(R"({"category":"PostgreSQLLogs","resourceId":"/X","properties":{}})") == Kind::kAzure);
  CHECK(d.look(R"({"records":[]})") == Kind::kAzure);
  CHECK(d.look(R"({"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[]})") == Kind::kCloudwatch);
  CHECK(d.look("2019-03-14T00:22:56+00:00 app[postgres.4882]: [GREEN] [15-1]  sql_error_code = 00000 LOG:  x") == Kind::kHeroku);
  CHECK(d.look("451 <134>1 2023-06-05T19:33:14+00:00 host app postgres.1 - [YELLOW] [12-1]  x") == Kind::kHeroku);
  CHECK(d.look("<134>1 2026-07-20T18:43:00.018369+00:00 h postgres 2468 - - [7-1] LOG:  x") == Kind::kRfc5424);
  CHECK(d.cloudwatch_text("2024-05-01T10:00:00.123000+00:00 mydb.0 2024-05-01 10:00:00 UTC::@:[355]:LOG:  checkpoint starting: time"));
  CHECK_FALSE(d.cloudwatch_text("2024-05-01T10:00:00.123000+00:00 db1 some other program: hello"));
}

TEST_CASE("EnvelopeDetector: plain logs are not envelopes", "[envelope_detect]") {
  EnvelopeDetector d;
  CHECK(d.look("2024-05-01 10:00:00.105 UTC [812] LOG:  x") == Kind::kNone);
  CHECK(d.look("[812] LOG:  connection received: host=[local]") == Kind::kNone);      // prefix "[%p] "
  CHECK(d.look("[812-1] LOG:  connection received: host=[local]") == Kind::kNone);    // "[%p-%l] "
  CHECK(d.look("[812-1] app@shop LOG:  connection authorized: user=app") == Kind::kNone);  // "[%p-%l] %q%u@%d "
  CHECK(d.look("[812-3] [app] LOG:  x") == Kind::kNone);
  CHECK(d.look("812 <app> LOG:  x") == Kind::kNone);  // prefix "%p <%a> "
  CHECK(d.look("May  1 10:00:00 db1 postgres[812]: [3-1] LOG:  x") == Kind::kNone);
  CHECK(d.look("<134>May  1 10:00:00 db1 postgres[812]: [3-1] LOG:  x") == Kind::kNone);  // RFC 3164
}

TEST_CASE("EnvelopeDetector: wrappers no reader takes", "[envelope_detect]") {
  EnvelopeDetector d;
  CHECK(d.look(R"({"event_message":"connection authorized: user=x","timestamp":1743826150236000})") == Kind::kUnclaimed);
  CHECK(d.what().find("Supabase") != std::string::npos);
  CHECK(d.look(R"({"level":"info","msg":"hello","count":3})") == Kind::kUnclaimed);
  CHECK(d.what() == R"(a JSON object with keys "level", "msg", "count")");
  CHECK(d.look(R"([{"a":1}])") == Kind::kUnclaimed);
  CHECK(d.look("[pg-user-test-1]2023-01-11T23:58:46.010530[postgresql-14][14-1] pid=625,user=postgres LOG: x") == Kind::kUnclaimed);
  CHECK(d.look("[14-1] [1592908][client backend][27/2][0] [user=a,db=b,app=c] [34.214.158.144] ERROR: x") == Kind::kUnclaimed);
  CHECK(d.look("<134>1 not-a-time h a 1 - - x") == Kind::kUnclaimed);
  CHECK(d.look("[7-1] 2026-07-20 18:43:00.018 GMT ttid=abc/def sqlstate=[00000] user=[u] backend=[client backend] app=[a] [2468] LOG:  x") == Kind::kUnclaimed);
}

TEST_CASE("EnvelopeDetector: a pretty-printed document is held, then handed back", "[envelope_detect]") {
  EnvelopeDetector d;
  CHECK(d.look("{") == Kind::kPending);
  CHECK(d.look(R"(  "events": [{"logStreamName": "a", "timestamp": 1, "message": "m", "ingestionTime": 2}])") == Kind::kPending);
  CHECK(d.look("}") == Kind::kCloudwatch);
  auto held = d.take_held();
  REQUIRE(held.size() == 3);
  CHECK(held[2] == "}");
  CHECK(d.take_held().empty());
}
