#include <catch2/catch.hpp>

#include <string>

#include "got_record.hpp"
#include "formats/jsonlog_format.hpp"

using namespace pgconn;
using pgconn_test::rfc;

namespace {

// The real PostgreSQL 15 line of pg-log-formats.md §8.
const std::string kPg15 =
    R"({"timestamp":"2026-11-22 23:19:25.204 UTC","user":"postgres","dbname":"postgres",)"
    R"("pid":22775,"remote_host":"[local]","session_id":"6b03787d.58f7","line_num":2,)"
    R"("ps":"authentication","session_start":"2026-11-22 23:19:25 UTC","vxid":"3/1","txid":0,)"
    R"("error_severity":"LOG","message":"connection authorized: user=postgres database=postgres )"
    R"(application_name=psql","backend_type":"client backend","query_id":0})";

}  // namespace

TEST_CASE("JsonlogFormat reads the real PostgreSQL 15 line", "[jsonlog_format]") {
  JsonlogFormat f;
  LogRecord r;
  REQUIRE(f.parse(kPg15, &r));
  CHECK(rfc(r.time) == "2026-11-22T23:19:25.204Z");
  CHECK(r.user == "postgres");
  CHECK(r.db == "postgres");
  CHECK(r.pid == 22775);
  CHECK(r.host == "[local]");
  CHECK(r.port == -1);
  CHECK(r.session_id == "6b03787d.58f7");
  CHECK(r.line_num == 2);
  CHECK(r.severity == "LOG");
  CHECK(r.message == "connection authorized: user=postgres database=postgres application_name=psql");
  CHECK(r.app.empty());
  CHECK(r.backend_type == "client backend");
  CHECK(r.server.empty());
}

TEST_CASE("JsonlogFormat reads remote_port and application_name", "[jsonlog_format]") {
  JsonlogFormat f;
  LogRecord r;
  REQUIRE(f.parse(
      R"({"timestamp":"2024-05-01 10:01:02.450 UTC","user":"app","dbname":"shop","pid":812,)"
      R"("remote_host":"10.0.0.5","remote_port":51234,"session_id":"6632134f.32c","line_num":9,)"
      R"("error_severity":"LOG","message":"disconnection: session time: 0:01:02.345 user=app )"
      R"(database=shop host=10.0.0.5 port=51234","application_name":"pgAdmin 4 - DB:shop",)"
      R"("backend_type":"client backend","query_id":0})",
      &r));
  CHECK(r.host == "10.0.0.5");
  CHECK(r.port == 51234);
  CHECK(r.app == "pgAdmin 4 - DB:shop");
  CHECK(r.line_num == 9);
}

TEST_CASE("JsonlogFormat decodes escapes in names and messages", "[jsonlog_format]") {
  JsonlogFormat f;
  LogRecord r;
  REQUIRE(f.parse(
      R"({"timestamp":"2024-05-01 10:00:00.106 UTC","user":"o\"brien","dbname":"caf\u00e9",)"
      R"("pid":812,"error_severity":"FATAL","state_code":"28P01","message":"password )"
      R"(authentication failed for user \"o\\\"brien\"","application_name":"\u001b[31mevil"})",
      &r));
  CHECK(r.user == "o\"brien");
  CHECK(r.db == "caf\xC3\xA9");
  CHECK(r.severity == "FATAL");
  CHECK(r.message == "password authentication failed for user \"o\\\"brien\"");
  CHECK(r.app == "\x1b[31mevil");
}

TEST_CASE("JsonlogFormat reads [unknown] names as empty", "[jsonlog_format]") {
  JsonlogFormat f;
  LogRecord r;
  REQUIRE(f.parse(
      R"({"timestamp":"2024-05-01 10:00:00.100 UTC","user":"[unknown]","dbname":"[unknown]",)"
      R"("pid":812,"remote_host":"[unknown]","error_severity":"LOG","message":"x",)"
      R"("application_name":"[unknown]"})",
      &r));
  CHECK(r.user.empty());
  CHECK(r.db.empty());
  CHECK(r.host.empty());
  CHECK(r.app.empty());
}

TEST_CASE("JsonlogFormat reads a postmaster line with few keys", "[jsonlog_format]") {
  JsonlogFormat f;
  LogRecord r;
  REQUIRE(f.parse(
      R"({"timestamp":"2024-05-01 10:00:00.000 CEST","pid":800,"session_id":"6632134e.320",)"
      R"("line_num":6,"session_start":"2024-05-01 09:59:59 CEST","txid":0,)"
      R"("error_severity":"LOG","message":"database system is ready to accept connections",)"
      R"("backend_type":"postmaster","query_id":0})",
      &r));
  CHECK(rfc(r.time) == "2024-05-01T10:00:00.000");
  CHECK(r.time.zone == Timestamp::Zone::kAbbrev);
  CHECK(r.pid == 800);
  CHECK(r.user.empty());
  CHECK(r.host.empty());
  CHECK(r.port == -1);
  CHECK(r.backend_type == "postmaster");
}

TEST_CASE("JsonlogFormat resets the record for every line", "[jsonlog_format]") {
  JsonlogFormat f;
  LogRecord r;
  REQUIRE(f.parse(kPg15, &r));
  REQUIRE(f.parse(
      R"({"timestamp":"2024-05-01 10:00:00.000 UTC","error_severity":"LOG","message":"y"})", &r));
  CHECK(r.user.empty());
  CHECK(r.pid == -1);
  CHECK(r.line_num == -1);
  CHECK(r.session_id.empty());
  CHECK(r.message == "y");
}

TEST_CASE("JsonlogFormat rejects lines without a time or a report severity", "[jsonlog_format]") {
  JsonlogFormat f;
  LogRecord r;
  CHECK_FALSE(f.parse(R"({"error_severity":"LOG","message":"x"})", &r));
  CHECK_FALSE(f.parse(R"({"timestamp":"yesterday","error_severity":"LOG","message":"x"})", &r));
  CHECK_FALSE(f.parse(R"({"timestamp":12345,"error_severity":"LOG","message":"x"})", &r));
  CHECK_FALSE(f.parse(R"({"timestamp":"2024-05-01 10:00:00.000 UTC","message":"x"})", &r));
  CHECK_FALSE(f.parse(
      R"({"timestamp":"2024-05-01 10:00:00.000 UTC","error_severity":"DETAIL","message":"x"})", &r));
  CHECK_FALSE(f.parse(
      R"({"timestamp":"2024-05-01 10:00:00.000 UTC","error_severity":"log","message":"x"})", &r));
}

TEST_CASE("JsonlogFormat rejects malformed and non-JSON lines", "[jsonlog_format]") {
  JsonlogFormat f;
  LogRecord r;
  for (const std::string& line : {
           std::string(),
           std::string("2024-05-01 10:00:00.100 UTC [4242] LOG:  connection received: host=[local]"),
           kPg15.substr(0, kPg15.size() - 1),
           kPg15.substr(0, 40),
           kPg15 + "x",
           std::string("[") + kPg15 + "]",
           std::string("\xff\xfe\xfd\x00\x01", 5),
       }) {
    INFO(line);
    CHECK_FALSE(f.parse(line, &r));
  }
}

TEST_CASE("JsonlogFormat takes an out-of-range port as unknown", "[jsonlog_format]") {
  JsonlogFormat f;
  LogRecord r;
  REQUIRE(f.parse(
      R"({"timestamp":"2024-05-01 10:00:00.000 UTC","remote_host":"h","remote_port":70000,)"
      R"("error_severity":"LOG","message":"x"})",
      &r));
  CHECK(r.port == -1);
  REQUIRE(f.parse(
      R"({"timestamp":"2024-05-01 10:00:00.000 UTC","remote_host":"h","remote_port":-3,)"
      R"("error_severity":"LOG","message":"x"})",
      &r));
  CHECK(r.port == -1);
}

TEST_CASE("JsonlogFormat::looks_like recognises jsonlog lines", "[jsonlog_format]") {
  CHECK(JsonlogFormat::looks_like(kPg15));
  CHECK(JsonlogFormat::looks_like("{\"timestamp\":\"2024"));
  CHECK_FALSE(JsonlogFormat::looks_like(""));
  CHECK_FALSE(JsonlogFormat::looks_like("{\"timestamp\":12"));
  CHECK_FALSE(JsonlogFormat::looks_like("{\"level\":\"info\",\"timestamp\":\"x\"}"));
  CHECK_FALSE(JsonlogFormat::looks_like("2024-05-01 10:00:00.100 UTC [4242] LOG:  x"));
  CHECK_FALSE(JsonlogFormat::looks_like("{\"timestamp\""));
}

TEST_CASE("issue_15 JsonlogFormat::probe reads pid and application name as parse() does",
          "[jsonlog_format]") {
  int64_t pid = -1;
  std::string_view app;
  REQUIRE(JsonlogFormat::probe(kPg15, &pid, &app));  // no application_name key
  CHECK(pid == 22775);
  CHECK(app.empty());
  // Keys and marker words inside strings do not count.
  const std::string line =
      R"({"timestamp":"2026-11-22 23:19:25.204 UTC","user":"u \"pid\":1,","dbname":"d","pid":31,)"
      R"("session_id":"6b03787d.1f","line_num":9,"error_severity":"LOG","message":"statement: )"
      R"(select '\",\"application_name\":\"x', 'connection received: host=y\n'","application_name":)"
      R"("my app","backend_type":"client backend","query_id":0})";
  JsonlogFormat f;
  LogRecord r;
  REQUIRE(f.parse(line, &r));
  REQUIRE(JsonlogFormat::probe(line, &pid, &app));
  CHECK(pid == r.pid);
  CHECK(app == r.app);
  CHECK(app == "my app");
  std::string unknown = line;
  unknown.replace(unknown.find("\"my app\""), 8, "\"[unknown]\"");
  REQUIRE(JsonlogFormat::probe(unknown, &pid, &app));
  CHECK(app.empty());
  // An escaped name, no pid, not a jsonlog line: cannot tell.
  std::string escaped = line;
  escaped.replace(escaped.find("\"my app\""), 8, R"("my \"app\"")");
  CHECK_FALSE(JsonlogFormat::probe(escaped, &pid, &app));
  std::string no_pid = line;
  no_pid.replace(no_pid.find(R"("pid":31,)"), 9, "");
  CHECK_FALSE(JsonlogFormat::probe(no_pid, &pid, &app));
  CHECK_FALSE(JsonlogFormat::probe(R"({"a":1})", &pid, &app));
}
