#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "envelopes/journald_format.hpp"

using namespace pgconn;

namespace {

struct Rec {
  std::string time, user, db, app, severity, message, server;
  int64_t pid;
};

class Collect : public RecordSink {
 public:
  bool on_record(const LogRecord& r) override {
    Rec c{"", std::string(r.user), std::string(r.db), std::string(r.app), std::string(r.severity),
          std::string(r.message), std::string(r.server), r.pid};
    if (r.time.valid()) append_rfc3339(r.time, &c.time);
    records.push_back(c);
    return true;
  }
  std::vector<Rec> records;
};

JournaldFormat make() { return JournaldFormat(StderrFormat(), 2024); }

std::string entry(std::string_view message_json, std::string_view transport = "stdout",
                  std::string_view pid = "811") {
  return std::string(R"({"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1709287201105123","_TRANSPORT":")") +
         std::string(transport) + R"(","_PID":")" + std::string(pid) +
         R"(","_HOSTNAME":"db1","SYSLOG_IDENTIFIER":"postgres","MESSAGE":)" + std::string(message_json) + "}";
}

}  // namespace

TEST_CASE("JournaldFormat: a stderr line from the stdout transport", "[journald_format]") {
  JournaldFormat f = make();
  Collect out;
  REQUIRE(f.feed(entry(R"("2024-03-01 10:00:01.105 UTC [900] LOG:  connection authorized: user=app database=shop")"), &out));
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == 900);  // the prefix's, not the stream's _PID
  CHECK(out.records[0].time == "2024-03-01T10:00:01.105Z");
  CHECK(out.records[0].server == "db1");
  CHECK(out.records[0].message == "connection authorized: user=app database=shop");
}

TEST_CASE("JournaldFormat: no %p on the stdout transport leaves the pid unknown", "[journald_format]") {
  JournaldFormat f = make();
  Collect out;
  f.feed(entry(R"("LOG:  connection received: host=[local]")"), &out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == -1);
  CHECK(out.records[0].time == "2024-03-01T10:00:01.105Z");  // __REALTIME_TIMESTAMP
}

TEST_CASE("JournaldFormat: a syslog message with [N-M] and pieces", "[journald_format]") {
  JournaldFormat f = make();
  Collect out;
  f.feed(entry(R"("[2-1] LOG:  connection authorized: user=app database=shop")", "syslog", "900"), &out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == 900);
  CHECK(out.records[0].message == "connection authorized: user=app database=shop");
  std::string piece = "[3-1] LOG:  statement: SELECT '" + std::string(800, 'x');
  f.feed(entry("\"" + piece + "\"", "syslog", "900"), &out);
  CHECK(f.holding());
  f.feed(entry(R"("[3-2] xx'")", "syslog", "900"), &out);
  REQUIRE(f.flush(&out));
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[1].message.size() == piece.size() - 6 - 6 + 3);
}

TEST_CASE("JournaldFormat: MESSAGE as an array of bytes", "[journald_format]") {
  JournaldFormat f = make();
  Collect out;
  std::string text = "2024-03-01 10:00:02.004 UTC [901] LOG:  connection authorized: user=a database=b application_name=caf\xe9";
  std::string bytes = "[";
  for (unsigned char c : text) bytes += std::to_string(c) + ",";
  bytes.back() = ']';
  f.feed(entry(bytes), &out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].message == "connection authorized: user=a database=b application_name=caf\xe9");
  f.feed(entry("[1,2,300]"), &out);
  f.feed(entry("[1,2"), &out);
  CHECK(out.records.size() == 1);
}

TEST_CASE("JournaldFormat: short-iso text lines", "[journald_format]") {
  JournaldFormat f = make();
  Collect out;
  f.feed("-- Boot 3f2a5e6b1c2d4e5f8a9b0c1d2e3f4a5b --", &out);
  f.feed("2024-03-01T10:00:01+0000 db1 systemd[1]: Started PostgreSQL.", &out);
  f.feed("2024-03-01T10:00:03+0000 db1 postgres[902]: [2-1] FATAL:  password authentication failed for user \"app\"", &out);
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == 902);
  CHECK(out.records[0].server == "db1");
  CHECK(out.records[0].time == "2024-03-01T10:00:03Z");
}

TEST_CASE("JournaldFormat::looks_like", "[journald_format]") {
  CHECK(JournaldFormat::looks_like(entry(R"("x")")));
  CHECK_FALSE(JournaldFormat::looks_like(R"({"MESSAGE":"x"})"));
  CHECK_FALSE(JournaldFormat::looks_like("2024-03-01T10:00:03+0000 db1 postgres[902]: x"));
}
