#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "envelopes/gcp_format.hpp"

using namespace pgconn;

namespace {

struct Rec {
  std::string time, user, db, severity, message, server;
  int64_t pid, line_num;
  bool report;
};

class Collect : public RecordSink {
 public:
  bool on_record(const LogRecord& r) override { return add(r, true); }
  bool on_secondary(const LogRecord& r) override { return add(r, false); }
  bool add(const LogRecord& r, bool report) {
    Rec c{"", std::string(r.user), std::string(r.db), std::string(r.severity),
          std::string(r.message), std::string(r.server), r.pid, r.line_num, report};
    if (r.time.valid()) append_rfc3339(r.time, &c.time);
    records.push_back(c);
    return go_on;
  }
  std::vector<Rec> records;
  bool go_on = true;
};

std::string entry(std::string_view payload, std::string_view ts = "2020-05-02T13:00:20.38403Z") {
  return std::string(R"({"insertId":"x","logName":"projects/P/logs/cloudsql.googleapis.com%2Fpostgres.log","receiveTimestamp":"2020-05-02T13:00:22.45390538Z","resource":{"labels":{"database_id":"P:INSTANCE","project_id":"P","region":"europe-west1"},"type":"cloudsql_database"},"severity":"INFO","textPayload":")") +
         std::string(payload) + R"(","timestamp":")" + std::string(ts) + R"("})";
}

}  // namespace

TEST_CASE("GcpFormat reads the example of pg-log-formats.md §11", "[gcp_format]") {
  GcpFormat f;
  Collect out;
  REQUIRE(f.feed(entry("[24667]: [2-1] db=cloudsqladmin,user=cloudsqladmin LOG:  connection authorized: user=cloudsqladmin database=cloudsqladmin"), &out));
  REQUIRE(out.records.size() == 1);
  const Rec& r = out.records[0];
  CHECK(r.report);
  CHECK(r.time == "2020-05-02T13:00:20.384Z");
  CHECK(r.pid == 24667);
  CHECK(r.line_num == 2);
  CHECK(r.user == "cloudsqladmin");
  CHECK(r.db == "cloudsqladmin");
  CHECK(r.severity == "LOG");
  CHECK(r.message == "connection authorized: user=cloudsqladmin database=cloudsqladmin");
  CHECK(r.server == "P:INSTANCE");
}

TEST_CASE("GcpFormat: DETAIL lines are secondary, continuations skipped", "[gcp_format]") {
  GcpFormat f;
  Collect out;
  f.feed(entry("[1]: [12-1] db=,user= LOG:  database system is ready to accept connections"), &out);
  f.feed(entry("[24690]: [3-1] db=shop,user=app DETAIL:  Connection matched pg_hba.conf line 12"), &out);
  f.feed(entry("\\t  FROM orders"), &out);
  f.feed(entry("[24690]: [4-2] db=shop,user=app LOG:  the rest of a split message"), &out);
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[0].user.empty());
  CHECK(out.records[0].pid == 1);
  CHECK(out.records[0].line_num == 12);
  CHECK_FALSE(out.records[1].report);
  CHECK(out.records[1].severity == "DETAIL");
  CHECK(out.records[1].line_num == 3);
}

TEST_CASE("GcpFormat: another payload prefix, and --prefix", "[gcp_format]") {
  Collect out;
  GcpFormat f;
  f.feed(entry("[77]: [1-1] user=app,db=shop LOG:  connection received: host=10.0.0.1 port=5"), &out);
  REQUIRE(out.records.size() == 1);  // read by StderrFormat's known prefixes (generic)
  CHECK(out.records[0].message == "connection received: host=10.0.0.1 port=5");
  CHECK(out.records[0].pid == 77);

  GcpFormat g(std::move(*PrefixMatcher::compile("user=%u,db=%d ")));
  g.feed(entry("[77]: [1-1] user=app,db=shop LOG:  connection received: host=10.0.0.1 port=5"), &out);
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[1].user == "app");
  CHECK(out.records[1].db == "shop");
}

TEST_CASE("GcpFormat skips entries that are not PostgreSQL lines", "[gcp_format]") {
  GcpFormat f;
  Collect out;
  for (std::string line : {std::string(R"({"logName":"projects/P/logs/cloudaudit.googleapis.com%2Factivity","protoPayload":{},"resource":{}})"),
                           entry("not a postgres line"), entry("[x]: [1-1] db=,user= LOG:  y"),
                           std::string("garbage"), std::string("{")}) {
    REQUIRE(f.feed(line, &out));
  }
  CHECK(out.records.empty());
}

TEST_CASE("GcpFormat::looks_like", "[gcp_format]") {
  CHECK(GcpFormat::looks_like(entry("[1]: [1-1] db=,user= LOG:  x")));
  CHECK(GcpFormat::looks_like(R"({"logName":"x","resource":{"type":"cloudsql_database"},"protoPayload":{}})"));
  CHECK_FALSE(GcpFormat::looks_like(R"({"timestamp":"2026-11-22 23:19:25.204 UTC","message":"x"})"));
  CHECK_FALSE(GcpFormat::looks_like("[1]: [1-1] db=,user= LOG:  x"));
}
