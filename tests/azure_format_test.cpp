#include <catch2/catch.hpp>

#include <string>

#include "envelopes/azure_format.hpp"
#include "collect_records.hpp"

using namespace pgconn;
using pgconn_test::Collect;

namespace {
// The real record of cloud-envelopes.md §2 (one line of a PT1H.json blob).
constexpr std::string_view kRecord =
    R"({ "AppType": "PostgreSQL", "category": "PostgreSQLLogs", "location": "southeastasia", "operationName": "LogEvent", "properties": {"timestamp": "2026-07-02 03:00:09.437 UTC","processId": 1381383,"errorLevel": "LOG","sqlerrcode": "00000","backend_type": "not initialized","message": "2026-07-02 03:00:09 UTC-6a45d439.151407-LOG:  connection received: host=127.0.0.1 port=35066"}, "resourceId": "/SUBSCRIPTIONS/C2BB0575-5B29-4925-8910-BDC3513BD370/RESOURCEGROUPS/HSOSTARUATSEA/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/HSOSTARUATSEA", "time": "2026-07-02T03:00:09.438Z", "ServerType": "PostgreSQL", "LogicalServerName": "hsostaruatsea"})";
}  // namespace

TEST_CASE("AzureFormat: a flexible server record", "[azure_format]") {
  AzureFormat f{StderrFormat()};
  Collect out;
  REQUIRE(f.feed(kRecord, &out));
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].message == "connection received: host=127.0.0.1 port=35066");
  CHECK(out.records[0].pid == 1381383);
  CHECK(out.records[0].time == "2026-07-02T03:00:09.437Z");  // properties.timestamp: ms
  CHECK(out.records[0].server == "hsostaruatsea");
  CHECK(out.records[0].session == "6a45d439.151407");
}

TEST_CASE("AzureFormat: Event Hub batch, server from resourceId, other categories", "[azure_format]") {
  AzureFormat f{StderrFormat()};
  Collect out;
  std::string rec(kRecord);
  rec.erase(rec.find(R"(, "LogicalServerName": "hsostaruatsea")"));
  rec += "}";
  std::string batch = R"({"records": [)" + rec +
                      R"(, {"category":"PostgreSQLFlexPGBouncer","log":"2026-07-14 04:52:24.930 UTC [1] LOG C-0x55fdcb116670: appdb/app@10.0.0.7:5012 login attempt: db=appdb user=app tls=no","resourceId":"/X/PG1"},)" +
                      R"( {"category":"PostgreSQLFlexSessions","properties":{"message":"2026-07-02 03:00:09 UTC-1.1-LOG:  connection received: host=1 port=2"},"resourceId":"/X"}]})";
  REQUIRE(f.feed(batch, &out));
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[0].server == "hsostaruatsea");  // lower-cased
  // The built-in PgBouncer's line, read as PgBouncer's log.
  CHECK(out.records[1].via == "pgbouncer");
  CHECK(out.records[1].server == "pg1");
  CHECK(out.records[1].user == "app");
  CHECK(out.records[1].port == 5012);
  CHECK(f.pgbouncer_records() == 1);
}

TEST_CASE("AzureFormat: pretty-printed records over lines", "[azure_format]") {
  AzureFormat f{StderrFormat()};
  Collect out;
  for (std::string_view l : {"{", R"(  "category": "PostgreSQLLogs", "resourceId": "/A/B/SRV1",)",
                             R"(  "properties": {"processId": 7, "message": "2024-01-01 00:00:00 UTC-1.7-LOG:  x"})", "}"})
    f.feed(l, &out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].server == "srv1");
  CHECK(out.records[0].time == "2024-01-01T00:00:00Z");  // no properties.timestamp: the line's
}

TEST_CASE("AzureFormat: a single server's record is rebuilt and its edits undone", "[azure_format]") {
  AzureFormat f{StderrFormat()};
  Collect out;
  f.feed(R"({"category":"PostgreSQLLogs","resourceId":"/X/SERVERS/S","LogicalServerName":"s","properties":{"prefix":"2023-02-27 23:21:40 UTC-63fd3b04.cf0-","errorLevel":"LOG","message":"connection received: host=10.0.1.4 port=38850 pid=3312","processId":3312}})", &out);
  f.feed(R"J({"category":"PostgreSQLLogs","resourceId":"/X/SERVERS/S","LogicalServerName":"s","properties":{"prefix":"2023-02-27 23:21:40 UTC-63fd3b04.cf0-","errorLevel":"LOG","message":"connection authorized: user=postgresdatabase=postgres SSL enabled (protocol=TLSv1.2)","processId":3312}})J", &out);
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[0].message == "connection received: host=10.0.1.4 port=38850");
  CHECK(out.records[1].message == "connection authorized: user=postgres database=postgres SSL enabled (protocol=TLSv1.2)");
}

TEST_CASE("AzureFormat: damaged records are skipped", "[azure_format]") {
  AzureFormat f{StderrFormat()};
  Collect out;
  for (std::string_view l : {R"({"category":"PostgreSQLLogs","properties":"x"})", R"({"records":{"a":1}})",
                             R"({"records":[1,"x",null]})", "not json", R"({"category":"PostgreSQLLogs","properties":{"message":7}})"})
    REQUIRE(f.feed(l, &out));
  CHECK(out.records.empty());
}

TEST_CASE("AzureFormat::claims", "[azure_format]") {
  JsonReader j;
  REQUIRE(j.parse(kRecord));
  CHECK(AzureFormat::claims(j));
  REQUIRE(j.parse(R"({"records":[]})"));
  CHECK(AzureFormat::claims(j));
  REQUIRE(j.parse(R"({"category":"PostgreSQLLogs"})"));  // no resourceId
  CHECK_FALSE(AzureFormat::claims(j));
}
