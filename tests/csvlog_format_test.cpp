#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "formats/csvlog_format.hpp"

using namespace pgconn;

namespace {

struct Rec {
  std::string user, db, app, host, session_id, backend_type, severity, message, time;
  int32_t port;
  int64_t pid, line_num;
};

class Collect : public RecordSink {
 public:
  bool on_record(const LogRecord& r) override {
    Rec c{std::string(r.user), std::string(r.db), std::string(r.app), std::string(r.host),
          std::string(r.session_id), std::string(r.backend_type), std::string(r.severity),
          std::string(r.message), "", r.port, r.pid, r.line_num};
    if (r.time.valid()) append_rfc3339(r.time, &c.time);
    records.push_back(c);
    return go_on;
  }
  std::vector<Rec> records;
  bool go_on = true;
};

// The real PostgreSQL 15 record of pg-log-formats.md §7 (26 columns).
const std::string kPg15 =
    "2026-11-22 23:19:25.204 UTC,\"postgres\",\"postgres\",22775,\"[local]\",6b03787d.58f7,2,"
    "\"authentication\",2026-11-22 23:19:25 UTC,3/1,0,LOG,00000,\"connection authorized: "
    "user=postgres database=postgres application_name=psql\",,,,,,,,,\"\",\"client backend\",,0";

// 9.6-12: 23 columns, application_name last.
const std::string kPg12 =
    "2024-05-01 10:01:02.450 UTC,\"app\",\"shop\",4242,\"10.0.0.5:51234\",6632134f.1092,7,"
    "\"idle\",2024-05-01 10:00:00 UTC,,0,LOG,00000,\"disconnection: session time: 0:01:02.345 "
    "user=app database=shop host=10.0.0.5 port=51234\",,,,,,,,,\"psql\"";

// 13: 24 columns, backend_type last.
const std::string kPg13 =
    "2024-05-01 10:00:00.105 UTC,\"app\",\"shop\",4242,\"10.0.0.5:51234\",6632134f.1092,2,"
    "\"authentication\",2024-05-01 10:00:00 UTC,3/1,0,LOG,00000,\"connection authorized: "
    "user=app database=shop application_name=psql\",,,,,,,,,\"psql\",\"client backend\"";

std::vector<Rec> feed_all(const std::vector<std::string>& lines) {
  CsvlogFormat f;
  Collect c;
  for (const std::string& l : lines) REQUIRE(f.feed(l, &c));
  CHECK_FALSE(f.finish());
  return c.records;
}

}  // namespace

TEST_CASE("CsvlogFormat reads the real 26-column record of PostgreSQL 15", "[csvlog_format]") {
  auto recs = feed_all({kPg15});
  REQUIRE(recs.size() == 1);
  const Rec& r = recs[0];
  CHECK(r.time == "2026-11-22T23:19:25.204Z");
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
}

TEST_CASE("CsvlogFormat reads a 23-column record of 9.6-12 with host:port", "[csvlog_format]") {
  auto recs = feed_all({kPg12});
  REQUIRE(recs.size() == 1);
  const Rec& r = recs[0];
  CHECK(r.host == "10.0.0.5");
  CHECK(r.port == 51234);
  CHECK(r.app == "psql");
  CHECK(r.backend_type.empty());
  CHECK(r.line_num == 7);
  CHECK(r.message ==
        "disconnection: session time: 0:01:02.345 user=app database=shop host=10.0.0.5 port=51234");
}

TEST_CASE("CsvlogFormat reads a 24-column record of 13", "[csvlog_format]") {
  auto recs = feed_all({kPg13});
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].app == "psql");
  CHECK(recs[0].backend_type == "client backend");
  CHECK(recs[0].port == 51234);
}

TEST_CASE("CsvlogFormat tolerates extra columns", "[csvlog_format]") {
  auto recs = feed_all({kPg15 + ",\"rds extra\",42,", kPg12 + ",x,y,z"});
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].message ==
        "connection authorized: user=postgres database=postgres application_name=psql");
  CHECK(recs[0].backend_type == "client backend");
  CHECK(recs[1].app == "psql");
  CHECK(recs[1].backend_type == "x");
}

TEST_CASE("CsvlogFormat reads IPv6 host:port and an empty connection_from", "[csvlog_format]") {
  auto recs = feed_all({
      "2024-05-01 10:00:00.100 UTC,,,4242,\"::1:40112\",6632134f.1092,1,\"\",2024-05-01 "
      "10:00:00 UTC,,0,LOG,00000,\"connection received: host=::1 port=40112\",,,,,,,,,\"\"",
      "2024-05-01 10:00:00.100 UTC,,,4240,,6632134e.1090,1,,2024-05-01 09:00:00 UTC,,0,LOG,00000,"
      "\"database system is ready to accept connections\",,,,,,,,,\"\"",
  });
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].host == "::1");
  CHECK(recs[0].port == 40112);
  CHECK(recs[0].user.empty());
  CHECK(recs[0].db.empty());
  CHECK(recs[1].host.empty());
  CHECK(recs[1].port == -1);
  CHECK(recs[1].pid == 4240);
}

TEST_CASE("CsvlogFormat unescapes doubled quotes", "[csvlog_format]") {
  auto recs = feed_all({
      "2024-05-01 10:00:00.100 UTC,\"o\"\"brien, jr\",\"my \"\"db\"\"\",4242,\"10.0.0.5:5000\","
      "6632134f.1092,3,\"authentication\",2024-05-01 10:00:00 UTC,3/1,0,FATAL,28P01,\"password "
      "authentication failed for user \"\"o\"\"brien, jr\"\"\",\"Password does not match for user "
      "\"\"o\"\"brien, jr\"\".\",,,,,,,,\"\"",
  });
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].user == "o\"brien, jr");
  CHECK(recs[0].db == "my \"db\"");
  CHECK(recs[0].severity == "FATAL");
  CHECK(recs[0].message == "password authentication failed for user \"o\"brien, jr\"");
}

TEST_CASE("CsvlogFormat joins a record whose quoted field spans lines", "[csvlog_format]") {
  CsvlogFormat f;
  Collect c;
  REQUIRE(f.feed("2024-05-01 10:00:00.100 UTC,\"app\",\"shop\",4242,\"[local]\",6632134f.1092,4,"
                 "\"SELECT\",2024-05-01 10:00:00 UTC,3/7,0,LOG,00000,\"statement: SELECT 1,",
                 &c));
  CHECK(c.records.empty());
  REQUIRE(f.feed("  \"\"quoted\"\" AS q", &c));
  CHECK(c.records.empty());
  REQUIRE(f.feed("2024-05-01 10:00:00.100 UTC,\"\"looks\"\",\"\"like\"\",1,a record", &c));
  CHECK(c.records.empty());
  REQUIRE(f.feed("FROM t\",,,,,,,,,\"psql\"", &c));
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].message ==
        "statement: SELECT 1,\n  \"quoted\" AS q\n2024-05-01 10:00:00.100 UTC,\"looks\",\"like\",1,a "
        "record\nFROM t");
  CHECK(c.records[0].app == "psql");
  CHECK(c.records[0].pid == 4242);
  CHECK_FALSE(f.finish());
  // The next record is read on its own.
  REQUIRE(f.feed(kPg15, &c));
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[1].pid == 22775);
}

TEST_CASE("CsvlogFormat joins an empty line inside a quoted field", "[csvlog_format]") {
  auto recs = feed_all({
      "2024-05-01 10:00:00.100 UTC,\"app\",\"shop\",4242,\"[local]\",6632134f.1092,4,\"SELECT\","
      "2024-05-01 10:00:00 UTC,3/7,0,LOG,00000,\"statement: SELECT 1",
      "",
      "\",,,,,,,,,\"psql\"",
  });
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].message == "statement: SELECT 1\n\n");
}

TEST_CASE("CsvlogFormat drops CR of CRLF line endings", "[csvlog_format]") {
  auto recs = feed_all({kPg12 + "\r", kPg15 + "\r"});
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].app == "psql");
  CHECK(recs[1].message ==
        "connection authorized: user=postgres database=postgres application_name=psql");
}

TEST_CASE("CsvlogFormat drops the CR at the end of a CRLF record that spans lines",
          "[csvlog_format]") {
  // A 9.6-12 record (application_name last, empty: unquoted) whose message
  // spans lines, from a file with CRLF line endings.
  // Regression (was a bug): feed() only strips the '\r' of a line that starts outside quotes;
  // the last line of a multi-line record starts inside them, so its '\r'
  // stays and the unquoted last field reads "\r": app == "\r".
  auto recs = feed_all({
      "2024-05-01 10:00:00.100 UTC,\"app\",\"shop\",4242,\"[local]\",6632134f.1092,4,\"SELECT\","
      "2024-05-01 10:00:00 UTC,3/7,0,LOG,00000,\"statement: SELECT 1\r",
      "FROM t\",,,,,,,,,\r",
  });
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].app.empty());
  CHECK(recs[0].severity == "LOG");
}

TEST_CASE("CsvlogFormat reads [unknown] names as empty", "[csvlog_format]") {
  auto recs = feed_all({
      "2024-05-01 10:00:00.100 UTC,\"[unknown]\",\"[unknown]\",4242,\"[local]\",6632134f.1092,1,"
      "\"\",2024-05-01 10:00:00 UTC,,0,LOG,00000,\"connection received: host=[local]\",,,,,,,,,"
      "\"[unknown]\"",
  });
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].user.empty());
  CHECK(recs[0].db.empty());
  CHECK(recs[0].app.empty());
}

TEST_CASE("CsvlogFormat skips records that are not reports or not csvlog", "[csvlog_format]") {
  auto recs = feed_all({
      "",
      "garbage",
      "a,b,c",
      "2024-05-01 10:00:00.100 UTC [4242] LOG:  connection received: host=[local]",
      // 13 columns only
      "2024-05-01 10:00:00.100 UTC,\"app\",\"shop\",4242,\"[local]\",6632134f.1092,1,\"\",x,,0,LOG,00000",
      // a bad time
      "2024-13-01 10:00:00.100 UTC,\"app\",\"shop\",4242,\"[local]\",6632134f.1092,1,\"\",x,,0,LOG,"
      "00000,\"connection received: host=[local]\",,,,,,,,,\"\"",
      // not a report severity
      "2024-05-01 10:00:00.100 UTC,\"app\",\"shop\",4242,\"[local]\",6632134f.1092,1,\"\",x,,0,"
      "DETAIL,00000,\"connection received: host=[local]\",,,,,,,,,\"\"",
      "\xff\xfe\xfd\x01,\x02,\x03",
  });
  CHECK(recs.empty());
}

TEST_CASE("CsvlogFormat reads a bad pid as -1", "[csvlog_format]") {
  auto recs = feed_all({
      "2024-05-01 10:00:00.100 UTC,\"app\",\"shop\",x42,\"[local]\",6632134f.1092,y,\"\",x,,0,LOG,"
      "00000,\"connection received: host=[local]\",,,,,,,,,\"\"",
  });
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].pid == -1);
  CHECK(recs[0].line_num == -1);
}

TEST_CASE("CsvlogFormat::finish drops an unterminated record and says so", "[csvlog_format]") {
  CsvlogFormat f;
  Collect c;
  REQUIRE(f.feed("2024-05-01 10:00:00.100 UTC,\"app\",\"shop\",4242,\"[local]\",6632134f.1092,4,"
                 "\"SELECT\",2024-05-01 10:00:00 UTC,3/7,0,LOG,00000,\"statement: SELECT 1",
                 &c));
  REQUIRE(f.feed("FROM t", &c));
  CHECK(f.finish());
  CHECK(c.records.empty());
  CHECK_FALSE(f.finish());
  // A new input starts clean.
  REQUIRE(f.feed(kPg15, &c));
  CHECK(c.records.size() == 1);
}

TEST_CASE("CsvlogFormat::feed returns false when the sink says stop", "[csvlog_format]") {
  CsvlogFormat f;
  Collect c;
  c.go_on = false;
  CHECK_FALSE(f.feed(kPg15, &c));
  CHECK(c.records.size() == 1);
}

TEST_CASE("CsvlogFormat keeps the head of a record longer than kMaxRecord", "[csvlog_format]") {
  CsvlogFormat f;
  Collect c;
  REQUIRE(f.feed("2024-05-01 10:00:00.100 UTC,\"app\",\"shop\",4242,\"[local]\",6632134f.1092,4,"
                 "\"SELECT\",2024-05-01 10:00:00 UTC,3/7,0,LOG,00000,\"statement: SELECT",
                 &c));
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 40; ++i) REQUIRE(f.feed(chunk, &c));  // 2.5 MiB in all
  REQUIRE(f.feed("\",,,,,,,,,\"psql\"", &c));
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].pid == 4242);
  CHECK(c.records[0].message.rfind("statement: SELECT\nxxx", 0) == 0);
  CHECK(c.records[0].message.size() < CsvlogFormat::kMaxRecord);
  CHECK(c.records[0].message.size() > CsvlogFormat::kMaxRecord - 1000);
  REQUIRE(f.feed(kPg15, &c));
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[1].pid == 22775);
}

TEST_CASE("CsvlogFormat::looks_like recognises csvlog records", "[csvlog_format]") {
  CHECK(CsvlogFormat::looks_like(kPg15));
  CHECK(CsvlogFormat::looks_like(kPg12));
  CHECK(CsvlogFormat::looks_like("2024-05-01 10:00:00.100 UTC,,,4240,,6632134e.1090,1,,x"));
  CHECK(CsvlogFormat::looks_like("2024-05-01 10:00:00.100 CEST,\"a,\"\"b\",\"c\",1,"));
}

TEST_CASE("CsvlogFormat::looks_like rejects other lines", "[csvlog_format]") {
  for (const char* line : {
           "",
           ",",
           "2024-05-01 10:00:00.100 UTC [4242] LOG:  connection received: host=[local]",
           "{\"timestamp\":\"2024-05-01 10:00:00.100 UTC\"}",
           "May  1 10:00:00 db1 postgres[812]: [3-1] LOG:  x",
           "2024-05-01 10:00:00.100 UTC,postgres,postgres,22775,",
           "2024-05-01 10:00:00.100 UTC,\"postgres\",\"postgres\",,",
           "2024-05-01 10:00:00.100 UTC,\"postgres\",\"postgres\",22775",
           "2024-05-01 10:00:00.100 UTC,\"postgres",
           "not a time,\"a\",\"b\",1,",
           "\xff\xfe,\x01",
       }) {
    INFO(line);
    CHECK_FALSE(CsvlogFormat::looks_like(line));
  }
}

TEST_CASE("csvlog_record maps columns by position, missing ones empty", "[csvlog_format]") {
  std::string_view cols[kCsvlogColumnCount];
  cols[0] = "2022-11-27 18:58:02.093 UTC";
  cols[3] = "600";
  cols[4] = "10.0.0.5:5000";
  cols[5] = "6383b33a.258";
  cols[6] = "3";
  cols[11] = "LOG";
  cols[13] = "connection received: host=10.0.0.5 port=5000";
  LogRecord r;
  REQUIRE(csvlog_record(cols, kCsvlogColumnCount, &r));
  CHECK(r.pid == 600);
  CHECK(r.line_num == 3);
  CHECK(r.port == 5000);
  CHECK(r.app.empty());
  CHECK(kCsvlogColumns[6] == "session_line_num");
  cols[11] = "DETAIL";
  CHECK_FALSE(csvlog_record(cols, kCsvlogColumnCount, &r));
  CHECK_FALSE(csvlog_record(cols, 13, &r));
}

TEST_CASE("issue_15 CsvlogFormat::probe reads pid and application name as feed() does",
          "[csvlog_format]") {
  int64_t pid = -1;
  std::string_view app;
  // 26 columns, an empty name; 24 and 23 columns with "psql".
  REQUIRE(CsvlogFormat::probe(kPg15, 26, &pid, &app));
  CHECK(pid == 22775);
  CHECK(app.empty());
  REQUIRE(CsvlogFormat::probe(kPg13, 24, &pid, &app));
  CHECK(pid == 4242);
  CHECK(app == "psql");
  REQUIRE(CsvlogFormat::probe(kPg12, 23, &pid, &app));
  CHECK(app == "psql");
  // A record over lines, with quotes, commas and marker words in its message.
  const std::string multi =
      "2024-05-01 10:00:01.000 UTC,\"a \"\"b\"\", c\",\"shop\",4243,\"10.0.0.5:51235\",6632134f.1093,3,"
      "\"SELECT\",2024-05-01 10:00:00 UTC,3/2,0,LOG,00000,\"statement: SELECT '\"\",\nconnection "
      "received: host=x\",\"\n2024-05-01 10:00:01.000 UTC,\"\"u\"\",\"\"d\"\",1,\"\"\"\"\n\",,,,,"
      "\"\"\"\"\"\",,,\"my app\",\"client backend\",,0";
  CsvlogFormat f;
  struct One : RecordSink {
    LogRecord r;
    std::string app;
    bool on_record(const LogRecord& rec) override {
      app = std::string(rec.app);
      r = rec;
      return true;
    }
  } one;
  size_t at = 0;
  while (at <= multi.size()) {
    size_t nl = multi.find('\n', at);
    if (nl == std::string::npos) nl = multi.size();
    REQUIRE(f.feed(std::string_view(multi).substr(at, nl - at), &one));
    at = nl + 1;
  }
  CHECK(f.columns() == 26);
  REQUIRE(CsvlogFormat::probe(multi, 26, &pid, &app));
  CHECK(pid == 4243);
  CHECK(app == one.app);
  CHECK(app == "my app");
  // "[unknown]" is no name; a name with "" in it, too few columns, and a
  // line that is no record: cannot tell.
  std::string unknown = kPg13;
  unknown.replace(unknown.rfind("\"psql\""), 6, "\"[unknown]\"");
  REQUIRE(CsvlogFormat::probe(unknown, 24, &pid, &app));
  CHECK(app.empty());
  std::string quoted = kPg13;
  quoted.replace(quoted.rfind("\"psql\""), 6, "\"ps\"\"ql\"");
  CHECK_FALSE(CsvlogFormat::probe(quoted, 24, &pid, &app));
  CHECK_FALSE(CsvlogFormat::probe(kPg15, 14, &pid, &app));
  CHECK_FALSE(CsvlogFormat::probe("2024-05-01 10:00:00 UTC [12] LOG:  x", 26, &pid, &app));
}

TEST_CASE("issue_15 odd_quotes counts every '\"' at every length and offset", "[csvlog_format]") {
  for (size_t n = 0; n < 100; ++n) {
    for (size_t at = 0; at < n; at += 7) {
      std::string s(n, 'x');
      s[at] = '"';
      if (at + 3 < n) s[at + 3] = '"';
      const bool odd = at + 3 >= n;
      INFO("length " << n << ", quote at " << at);
      CHECK(odd_quotes(s) == odd);
      CHECK(odd_quotes(std::string_view(s).substr(at)) == odd);
    }
  }
  CHECK_FALSE(odd_quotes(""));
  CHECK(odd_quotes(std::string(99, '"')));
}
