#include <catch2/catch.hpp>

#include <string>

#include "envelopes/cloudwatch_format.hpp"
#include "collect_records.hpp"

using namespace pgconn;
using pgconn_test::Collect;

namespace {
constexpr std::string_view kRds =
    "2021-01-02 03:04:05 UTC:10.0.0.5(51234):app@shop:[5306]:LOG:  connection authorized: user=app database=shop";
}  // namespace

TEST_CASE("CloudwatchFormat: aws logs tail, detailed and short", "[cloudwatch_format]") {
  CloudwatchFormat f{StderrFormat()};
  Collect out;
  f.feed("2021-01-02T03:04:05.123000+00:00 datadog.0 " + std::string(kRds), &out);
  f.feed("2021-01-02T03:04:05 " + std::string(kRds), &out);
  f.feed("2021-01-02T03:04:05.124Z " + std::string(kRds), &out);  // an S3 export
  REQUIRE(out.records.size() == 3);
  CHECK(out.records[0].server == "datadog.0");
  CHECK(out.records[0].time == "2021-01-02T03:04:05.123Z");
  CHECK(out.records[0].pid == 5306);
  CHECK(out.records[0].user == "app");
  CHECK(out.records[1].server.empty());
  CHECK(out.records[1].time == "2021-01-02T03:04:05Z");
  CHECK(out.records[2].time == "2021-01-02T03:04:05.124Z");
}

TEST_CASE("CloudwatchFormat: a subscription payload (the Datadog forwarder's test event)", "[cloudwatch_format]") {
  CloudwatchFormat f{StderrFormat()};
  Collect out;
  f.feed(R"({"messageType":"DATA_MESSAGE","owner":"1","logGroup": "/aws/rds/instance/datadog/postgresql", "logStream": "datadog.0", "logEvents": [ { "id": "31953106606966983378809025079804211143289615424298221568", "timestamp": 1609556645000, "message": "2021-01-02 03:04:05 UTC::@:[5306]:LOG:  database system is ready to accept connections" } ]})", &out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].server == "datadog.0");
  CHECK(out.records[0].pid == 5306);
  CHECK(out.records[0].time == "2021-01-02T03:04:05.000Z");  // the event's ms beat %t
  CHECK(out.records[0].message == "database system is ready to accept connections");
}

TEST_CASE("CloudwatchFormat: filter-log-events, pretty-printed; control messages", "[cloudwatch_format]") {
  CloudwatchFormat f{StderrFormat()};
  Collect out;
  for (std::string_view l : {"{", R"(    "events": [)", "        {", R"(            "logStreamName": "db-a.0",)",
                             R"(            "timestamp": 1609556645007,)",
                             R"(            "message": "2021-01-02 03:04:05 UTC:10.0.0.5(51234):app@shop:[5306]:LOG:  connection authorized: user=app database=shop\n",)",
                             R"(            "ingestionTime": 1609556645300, "eventId": "1")", "        }", "    ],",
                             R"(    "searchedLogStreams": [])", "}"})
    f.feed(l, &out);
  f.feed(R"({"messageType":"CONTROL_MESSAGE","logGroup":"","logStream":"","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]})", &out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].server == "db-a.0");
  CHECK(out.records[0].time == "2021-01-02T03:04:05.007Z");
}

TEST_CASE("CloudwatchFormat: one event a line", "[cloudwatch_format]") {
  CloudwatchFormat f{StderrFormat()};
  Collect out;
  f.feed(R"({"id":"1","timestamp":1609556645000,"message":"2021-01-02 03:04:05 UTC::@:[5306]:LOG:  x"})", &out);
  REQUIRE(out.records.size() == 1);
  JsonReader j;
  REQUIRE(j.parse(R"({"id":"1","timestamp":1,"message":"m"})"));
  CHECK(CloudwatchFormat::claims(j));
  REQUIRE(j.parse(R"({"timestamp":1,"message":"m","level":"info"})"));
  CHECK_FALSE(CloudwatchFormat::claims(j));
}

TEST_CASE("CloudwatchFormat::split_text: not the CLI's shapes", "[cloudwatch_format]") {
  Timestamp t;
  std::string_view s, m;
  CHECK_FALSE(CloudwatchFormat::split_text("2021-01-02 03:04:05 UTC [1] LOG:  x", &t, &s, &m));
  CHECK_FALSE(CloudwatchFormat::split_text("2021-01-02T03:04:05+00:00", &t, &s, &m));
  CHECK_FALSE(CloudwatchFormat::split_text("x", &t, &s, &m));
}
