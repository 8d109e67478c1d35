#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "envelopes/syslog_format.hpp"

using namespace pgconn;

namespace {

struct Rec {
  std::string user, db, app, host, server, severity, message, time;
  int32_t port;
  int64_t pid;
};

class Collect : public RecordSink {
 public:
  bool on_record(const LogRecord& r) override {
    Rec c{std::string(r.user),     std::string(r.db),       std::string(r.app),
          std::string(r.host),     std::string(r.server),   std::string(r.severity),
          std::string(r.message),  "",                      r.port,
          r.pid};
    if (r.time.valid()) append_rfc3339(r.time, &c.time);
    records.push_back(c);
    return go_on;
  }
  std::vector<Rec> records;
  bool go_on = true;
};

SyslogFormat make(int year = 2024) { return SyslogFormat(StderrFormat(), year); }

// A piece body of exactly `n` bytes: "LOG:  statement: SELECT 'xxx…".
std::string long_body(size_t n) {
  std::string s = "LOG:  statement: SELECT '";
  s.append(n - s.size(), 'x');
  return s;
}

}  // namespace

TEST_CASE("SyslogFormat reads an RFC 3164 line with PostgreSQL's default prefix", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [3-1] 2024-05-01 10:00:00.105 UTC [812] LOG:  "
                 "connection authorized: user=app database=shop",
                 &c));
  REQUIRE(c.records.size() == 1);
  const Rec& r = c.records[0];
  CHECK(r.server == "db1");
  CHECK(r.pid == 812);
  CHECK(r.time == "2024-05-01T10:00:00.105Z");  // the prefix time, not the daemon's
  CHECK(r.severity == "LOG");
  CHECK(r.message == "connection authorized: user=app database=shop");
  CHECK_FALSE(f.holding());
}

TEST_CASE("SyslogFormat reads an ISO header and uses its pid and time when the prefix has none",
          "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("2024-05-01T10:00:00.105+00:00 db1 postgres[812]: [3-1] user=app,db=shop LOG:  "
                 "connection authorized: user=app database=shop application_name=psql",
                 &c));
  REQUIRE(c.records.size() == 1);
  const Rec& r = c.records[0];
  CHECK(r.server == "db1");
  CHECK(r.pid == 812);
  CHECK(r.time == "2024-05-01T10:00:00.105Z");
  CHECK(r.message == "connection authorized: user=app database=shop application_name=psql");

  REQUIRE(f.feed("2024-05-01T12:00:00+02:00 db2 postgres[900]: [4-1] LOG:  connection received: "
                 "host=[local]",
                 &c));
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[1].time == "2024-05-01T12:00:00+02:00");
  CHECK(c.records[1].pid == 900);
  CHECK(c.records[1].server == "db2");
}

TEST_CASE("SyslogFormat dates RFC 3164 headers in the given year, without a zone",
          "[syslog_format]") {
  SyslogFormat f = make(2023);
  Collect c;
  REQUIRE(f.feed("Dec 31 23:59:59 db1 postgres[812]: [3-1] LOG:  connection received: host=[local]", &c));
  REQUIRE(f.feed("Feb  9 01:02:03 db1 postgres[813]: [4-1] LOG:  connection received: host=[local]", &c));
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].time == "2023-12-31T23:59:59");
  CHECK(c.records[0].pid == 812);
  CHECK(c.records[1].time == "2023-02-09T01:02:03");
}

TEST_CASE("SyslogFormat prefers the prefix's pid to the header's", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[900]: [3-1] 2024-05-01 10:00:00.105 UTC [812] LOG:  x", &c));
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].pid == 812);
}

TEST_CASE("SyslogFormat skips a <PRI> some daemons keep", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("<134>May  1 10:00:00 db1 postgres[812]: [3-1] LOG:  connection received: host=[local]", &c));
  REQUIRE(f.feed("<0>2024-05-01T10:00:00Z db1 postgres[813]: [4-1] LOG:  y", &c));
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].pid == 812);
  CHECK(c.records[0].message == "connection received: host=[local]");
  CHECK(c.records[1].time == "2024-05-01T10:00:00Z");
  CHECK_FALSE(SyslogFormat::looks_like("<13345>May  1 10:00:00 db1 postgres[812]: LOG:  x"));
  CHECK_FALSE(SyslogFormat::looks_like("<134 May  1 10:00:00 db1 postgres[812]: LOG:  x"));
}

TEST_CASE("SyslogFormat reads lines without sequence numbers and other idents", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("May 10 10:00:00 db1 postgres[812]: LOG:  connection received: host=[local]", &c));
  REQUIRE(f.feed("May 10 10:00:01 db1 postgres-16[813]: [9-1] LOG:  y", &c));
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].message == "connection received: host=[local]");
  CHECK(c.records[0].time == "2024-05-10T10:00:00");
  CHECK(c.records[1].pid == 813);
}

TEST_CASE("SyslogFormat joins a message split into [N-1] and [N-2]", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  std::string first = long_body(880);
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [5-1] " + first, &c));
  CHECK(c.records.empty());
  CHECK(f.holding());
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [5-2]  FROM t'", &c));
  REQUIRE(c.records.size() == 1);
  CHECK_FALSE(f.holding());
  CHECK(c.records[0].message == first.substr(6) + " FROM t'");
  CHECK(c.records[0].pid == 812);
}

TEST_CASE("SyslogFormat joins three pieces", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  std::string first = long_body(900);
  std::string second = " " + std::string(899, 'y');
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [5-1] " + first, &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [5-2] " + second, &c));
  CHECK(c.records.empty());
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [5-3]  end'", &c));
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].message == first.substr(6) + second + " end'");
}

TEST_CASE("SyslogFormat skips continuation pieces that start with a tab", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [6-1] LOG:  statement: SELECT 1", &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [6-2] #011FROM t", &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [6-3] \tWHERE 'connection received: host=x'", &c));
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].message == "statement: SELECT 1");

  // A long first piece is handed on alone when a tab piece follows.
  std::string first = long_body(850);
  REQUIRE(f.feed("May  1 10:00:01 db1 postgres[812]: [7-1] " + first, &c));
  CHECK(f.holding());
  REQUIRE(f.feed("May  1 10:00:01 db1 postgres[812]: [7-2] #011FROM t", &c));
  CHECK_FALSE(f.holding());
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[1].message == first.substr(6));
  REQUIRE(f.feed("May  1 10:00:01 db1 postgres[812]: [7-3] #011WHERE x", &c));
  CHECK(c.records.size() == 2);
}

TEST_CASE("SyslogFormat hands on a held message when another one starts", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  std::string first = long_body(800);
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [8-1] " + first, &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[813]: [9-1] LOG:  connection received: host=[local]", &c));
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].message == first.substr(6));
  CHECK(c.records[0].pid == 812);
  CHECK(c.records[1].message == "connection received: host=[local]");
  CHECK(c.records[1].pid == 813);
}

TEST_CASE("SyslogFormat does not join pieces of another process, host or message",
          "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  std::string first = long_body(800);
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [8-1] " + first, &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[999]: [8-2]  other pid", &c));
  REQUIRE(f.feed("May  1 10:00:00 db2 postgres[812]: [8-2]  other host", &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [7-2]  other message", &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [8-3]  a piece missing", &c));
  CHECK(c.records.empty());
  CHECK(f.holding());
  REQUIRE(f.flush(&c));
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].message == first.substr(6));
}

TEST_CASE("SyslogFormat drops an orphan [N-2] piece", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [8-2] LOG:  connection received: host=[local]", &c));
  CHECK(c.records.empty());
  CHECK_FALSE(f.holding());
}

TEST_CASE("SyslogFormat::flush hands on a held message once", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.flush(&c));
  CHECK(c.records.empty());
  std::string first = long_body(800);
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [8-1] " + first, &c));
  REQUIRE(f.flush(&c));
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].server == "db1");
  CHECK(c.records[0].time == "2024-05-01T10:00:00");
  REQUIRE(f.flush(&c));
  CHECK(c.records.size() == 1);
  // A later [8-2] no longer joins.
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [8-2]  tail", &c));
  CHECK(c.records.size() == 1);
}

TEST_CASE("SyslogFormat does not hold a long line without sequence numbers", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: " + long_body(1000), &c));
  CHECK_FALSE(f.holding());
  CHECK(c.records.size() == 1);
}

TEST_CASE("SyslogFormat hands on a held message when a non-syslog line comes", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [8-1] " + long_body(800), &c));
  REQUIRE(f.feed("-- MARK --", &c));
  CHECK(c.records.size() == 1);
  CHECK_FALSE(f.holding());
}

TEST_CASE("SyslogFormat drops CR of CRLF lines", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [3-1] LOG:  connection received: host=[local]\r", &c));
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].message == "connection received: host=[local]");
}

TEST_CASE("SyslogFormat ignores pieces that are not PostgreSQL reports", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [3-1] just some text", &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [3-1] ", &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [3-1] \tLOG:  x", &c));
  CHECK(c.records.empty());
}

TEST_CASE("SyslogFormat::feed returns false when the sink says stop", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  c.go_on = false;
  CHECK_FALSE(f.feed("May  1 10:00:00 db1 postgres[812]: [3-1] LOG:  x", &c));
  REQUIRE(f.feed("May  1 10:00:00 db1 postgres[812]: [4-1] " + long_body(800), &c));
  CHECK_FALSE(f.flush(&c));
}

TEST_CASE("SyslogFormat reads a tag without a pid (rsyslog imfile), the pid from the prefix",
          "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  REQUIRE(f.feed("2024-05-01T10:00:01+00:00 db2 postgres: 2024-05-01 10:00:00.105 UTC [812] LOG:  "
                 "connection authorized: user=app database=shop",
                 &c));
  REQUIRE(f.feed("2024-05-01T10:00:01+00:00 db2 postgres: #011DETAIL:  x", &c));
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].server == "db2");
  CHECK(c.records[0].pid == 812);
  CHECK(c.records[0].time == "2024-05-01T10:00:00.105Z");
  CHECK(c.records[0].message == "connection authorized: user=app database=shop");
}

TEST_CASE("SyslogFormat::looks_like recognises both header forms", "[syslog_format]") {
  CHECK(SyslogFormat::looks_like("2024-05-01T10:00:01+00:00 db2 postgres: 2024-05-01 10:00:00.105 UTC "
                                 "[812] LOG:  connection received: host=[local]"));
  CHECK(SyslogFormat::looks_like("May  1 10:00:00 db1 postgres[812]: [3-1] LOG:  x"));
  CHECK(SyslogFormat::looks_like("Nov 22 23:19:46 db1 postgres[27153]: [1-1] x"));
  CHECK(SyslogFormat::looks_like("2024-05-01T10:00:00.105+00:00 db1 postgres[812]: [3-1] x"));
  CHECK(SyslogFormat::looks_like("2024-05-01T10:00:00Z db-1.example.com postgres[812]: x"));
  CHECK(SyslogFormat::looks_like("<134>May  1 10:00:00 db1 postgres[812]: x"));
}

TEST_CASE("SyslogFormat::looks_like rejects other lines and broken headers", "[syslog_format]") {
  for (const char* line : {
           "",
           "2024-05-01 10:00:00.105 UTC [812] LOG:  connection received: host=[local]",
           "LOG:  connection received: host=[local]",
           "{\"timestamp\":\"2024-05-01 10:00:00.105 UTC\"}",
           "2024-05-01 10:00:00.100 UTC,\"app\",\"shop\",4242,\"[local]\",x",
           "Foo  1 10:00:00 db1 postgres[812]: x",
           "May 32 10:00:00 db1 postgres[812]: x",
           "May  1 24:00:00 db1 postgres[812]: x",
           "May  1 10:00 db1 postgres[812]: x",
           "May  1 10:00:00 db1 postgres: x",
           "May  1 10:00:00 db1 post[gres: LOG:  x",
           "May  1 10:00:00 db1 postgres[]: x",
           "May  1 10:00:00 db1 postgres[abc]: x",
           "May  1 10:00:00 db1 [812]: x",
           "May  1 10:00:00 db1 my postgres[812]: x",
           "May  1 10:00:00 db1",
           "May  1 10:00:00  postgres[812]: x",
           "2024-05-01T10:00:00.105+00:00",
           "2024-05-01T10:00:00.105+00:00 db1",
           "\xff\xfe\xfd garbage \x01",
       }) {
    INFO(line);
    CHECK_FALSE(SyslogFormat::looks_like(line));
  }
}

TEST_CASE("SyslogFormat skips garbage and truncated headers without a record", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  std::string full = "May  1 10:00:00 db1 postgres[812]: [3-1] LOG:  connection received: host=[local]";
  for (size_t n = 0; n < 41; ++n) REQUIRE(f.feed(full.substr(0, n), &c));
  REQUIRE(f.feed(std::string(5000, '\xff'), &c));
  CHECK(c.records.empty());
}

TEST_CASE("parse_sequence reads and removes [N-M]", "[syslog_format]") {
  std::string_view t = "[12-3] LOG:  x";
  int64_t n = -1, m = -1;
  REQUIRE(parse_sequence(&t, &n, &m));
  CHECK(n == 12);
  CHECK(m == 3);
  CHECK(t == "LOG:  x");
  for (std::string_view bad : {"[12] LOG:  x", "[a-1] x", "[1-0] x", "LOG:  [1-1] x", "[1-1]"}) {
    std::string_view b = bad;
    CHECK_FALSE(parse_sequence(&b, &n, &m));
    CHECK(b == bad);
  }
}

TEST_CASE("SyslogFormat::feed_message takes a header that came apart", "[syslog_format]") {
  SyslogFormat f = make();
  Collect out;
  Timestamp t;
  REQUIRE(parse_iso_time("2024-03-01T10:00:01.105Z", &t));
  REQUIRE(f.feed_message(t, "db1", 900, "[2-1] LOG:  connection authorized: user=app database=shop", &out));
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].pid == 900);
  CHECK(out.records[0].server == "db1");
  CHECK(out.records[0].time == "2024-03-01T10:00:01.105Z");
  f.feed_message(t, "db1", -1, "2024-03-01 10:00:02.000 UTC [901] LOG:  connection received: host=[local]", &out);
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[1].pid == 901);
}

TEST_CASE("SyslogFormat hands DETAIL lines with a prefix to on_secondary", "[syslog_format]") {
  struct Secondary : RecordSink {
    bool on_record(const LogRecord&) override { return true; }
    bool on_secondary(const LogRecord& r) override {
      lines.push_back(r.line_num);
      return true;
    }
    std::vector<int64_t> lines;
  } out;
  SyslogFormat f(StderrFormat(std::move(*PrefixMatcher::compile("[%l-1] "))), 2024);
  f.feed("May  1 10:00:00 db1 postgres[812]: [3-1] [4-1] DETAIL:  Role \"x\" does not exist.", &out);
  f.feed("May  1 10:00:00 db1 postgres[812]: [4-2] #011more", &out);
  REQUIRE(out.lines == std::vector<int64_t>{4});
}

TEST_CASE("issue_19: a tag without its ':' (RFC 5424 written with a traditional template)", "[syslog_format]") {
  SyslogFormat f = make();
  Collect c;
  f.feed("2026-12-04T05:42:50.850461+00:00 db2 postgres 2026-12-04 05:42:48.632 UTC [11116] LOG:  "
         "connection received: host=[local]",
         &c);
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].server == "db2");
  CHECK(c.records[0].pid == 11116);
  CHECK_FALSE(SyslogFormat::looks_like(
      "2024-05-01T10:00:00.123000+00:00 mydb.0 2024-05-01 10:00:00 UTC:10.0.0.5(1):a@b:[1]:LOG:  x"));
  CHECK_FALSE(SyslogFormat::looks_like("2024-05-01T10:00:00+00:00 db2 some words here"));
  // `heroku logs`: "app[web.1]:" is a tag, not a host before a tag.
  CHECK_FALSE(SyslogFormat::looks_like("2024-05-01T10:00:00+00:00 app[web.1]: Started GET:  /"));
}
