#include <catch2/catch.hpp>

#include <string>

#include "got_record.hpp"
#include "formats/stderr_format.hpp"

using namespace pgconn;
using pgconn_test::Got;
using pgconn_test::got;
using pgconn_test::rfc;

namespace {

Got parse(StderrFormat* f, std::string_view line) {
  LogRecord r;
  if (!f->parse(line, &r)) return Got();
  return got(true, r);
}

// A fresh StderrFormat reads `line` and detects `prefix` from it.
Got detect(std::string_view prefix, std::string_view line) {
  INFO(line);
  StderrFormat f;
  Got g = parse(&f, line);
  REQUIRE(g.ok);
  CHECK(f.detected() == prefix);
  return g;
}

}  // namespace

TEST_CASE("known_prefixes has the prefixes auto-detection must know", "[stderr_format]") {
  const auto& known = known_prefixes();
  auto has = [&](std::string_view p) {
    for (std::string_view k : known)
      if (k == p) return true;
    return false;
  };
  CHECK(has("%m [%p] "));
  CHECK(has(""));
  CHECK(has("%m [%p] %q%u@%d "));
  CHECK(has("%t:%r:%u@%d:[%p]:"));
  CHECK(has("%t [%p]: user=%u,db=%d,app=%a,client=%h "));
  CHECK(has("%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "));
  CHECK(has("%t-%c-"));
  CHECK(has("%m %d %u [%p]"));
  CHECK(has("%m [%p] %c "));
  CHECK(has("%m [%p-%l] "));
  CHECK(known.size() < 64);  // one bit each in StderrFormat::alive_
  for (std::string_view p : known) {
    INFO(p);
    CHECK(PrefixMatcher::compile(p).ok());
  }
}

TEST_CASE("StderrFormat has detected nothing before the first report line", "[stderr_format]") {
  StderrFormat f;
  CHECK(f.detected().empty());
  CHECK_FALSE(parse(&f, "\tcontinuation").ok);
  CHECK_FALSE(parse(&f, "").ok);
  CHECK(f.detected().empty());
}

TEST_CASE("StderrFormat detects the Debian prefix from a postmaster line and a backend line",
          "[stderr_format]") {
  StderrFormat f;
  Got pm = parse(&f, "2024-05-01 10:00:00.100 UTC [800] LOG:  database system is ready to accept connections");
  REQUIRE(pm.ok);
  CHECK(pm.pid == 800);
  CHECK(pm.message == "database system is ready to accept connections");
  Got rec = parse(&f, "2024-05-01 10:00:01.000 UTC [812] [unknown]@[unknown] LOG:  connection received: host=[local]");
  REQUIRE(rec.ok);
  CHECK(rec.pid == 812);
  CHECK(rec.user.empty());
  CHECK(rec.db.empty());
  CHECK(rec.message == "connection received: host=[local]");
  Got auth = parse(&f, "2024-05-01 10:00:01.005 UTC [812] app@shop LOG:  connection authorized: user=app database=shop");
  REQUIRE(auth.ok);
  CHECK(auth.user == "app");
  CHECK(auth.db == "shop");
  CHECK(f.detected() == "%m [%p] %q%u@%d ");
}

TEST_CASE("StderrFormat reads a default-prefix log line by line", "[stderr_format]") {
  StderrFormat f;
  Got a = parse(&f, "2024-05-01 10:00:00.100 UTC [812] LOG:  connection received: host=172.18.0.5 port=51234");
  REQUIRE(a.ok);
  CHECK(rfc(a.time) == "2024-05-01T10:00:00.100Z");
  CHECK(a.pid == 812);
  CHECK(a.message == "connection received: host=172.18.0.5 port=51234");
  CHECK(a.user.empty());
  Got b = parse(&f, "2024-05-01 10:01:02.450 UTC [812] LOG:  disconnection: session time: 0:01:02.345 user=app database=shop host=172.18.0.5 port=51234");
  REQUIRE(b.ok);
  CHECK(b.message ==
        "disconnection: session time: 0:01:02.345 user=app database=shop host=172.18.0.5 port=51234");
  CHECK(b.user.empty());
  CHECK(b.db.empty());
}

TEST_CASE("StderrFormat does not let a statement in a default-prefix log fake a FATAL",
          "[stderr_format]") {
  // The default prefix "%m [%p] " has no user@db, but the Debian prefix
  // "%m [%p] %q%u@%d " also reads every default-prefix line (its %q part is
  // optional) and is tried first, so it is never dropped. A client's text
  // then decides the severity: with log_min_error_statement = error (the
  // default) the STATEMENT line of any failed query is logged, and with
  // log_statement the statement itself.
  // The %q part is matched lazily: the shortest prefix that fits wins.
  StderrFormat f;
  REQUIRE(parse(&f, "2024-05-01 10:00:00.100 UTC [812] LOG:  connection received: host=[local]").ok);
  Got s = parse(&f, "2024-05-01 10:00:00.200 UTC [812] LOG:  statement: SELECT 1 -- a@b FATAL:  sorry, too many clients already");
  REQUIRE(s.ok);
  CHECK(s.severity == "LOG");
  CHECK(s.message == "statement: SELECT 1 -- a@b FATAL:  sorry, too many clients already");
  CHECK(s.user.empty());
  Got e = parse(&f, "2024-05-01 10:00:00.300 UTC [812] STATEMENT:  SELECT 1/0 -- x@y FATAL:  too many connections for role \"app\"");
  CHECK_FALSE(e.ok);  // a secondary line is not a report, whatever it contains
}

TEST_CASE("StderrFormat narrows: a prefix dropped once is not tried again", "[stderr_format]") {
  StderrFormat f;
  // Only the Debian prefix (and the ones after it) read this line; the
  // pgBadger prefixes before it are dropped.
  REQUIRE(parse(&f, "2024-05-01 10:00:00.100 UTC [812] app@shop LOG:  x").ok);
  CHECK(f.detected() == "%m [%p] %q%u@%d ");
  // A pgBadger-shaped line is now read only by the generic fallback.
  Got g = parse(&f, "2024-05-01 10:00:00 UTC [4242]: user=app,db=shop,app=psql,client=10.0.0.5 LOG:  y");
  REQUIRE(g.ok);
  CHECK(f.detected() == "(generic)");
  CHECK(g.message == "y");
  CHECK(g.user.empty());  // the generic reader does not know the fields
  CHECK(g.pid == 4242);
  // Back to a Debian line: the Debian prefix still reads it.
  Got d = parse(&f, "2024-05-01 10:00:01.100 UTC [813] ann@crm LOG:  z");
  REQUIRE(d.ok);
  CHECK(d.user == "ann");
  CHECK(f.detected() == "%m [%p] %q%u@%d ");
}

TEST_CASE("StderrFormat detects pgBadger's prefix with names that contain separators",
          "[stderr_format]") {
  Got g = detect("%t [%p]: user=%u,db=%d,app=%a,client=%h ",
                 "2024-05-01 10:00:00 UTC [4242]: user=etl job,db=shop,app=pgAdmin 4 - DB:shop,client=10.0.0.5 LOG:  connection authorized: user=etl job database=shop application_name=pgAdmin 4 - DB:shop");
  CHECK(g.user == "etl job");
  CHECK(g.db == "shop");
  CHECK(g.app == "pgAdmin 4 - DB:shop");
  CHECK(g.host == "10.0.0.5");
  CHECK(g.pid == 4242);
}

TEST_CASE("StderrFormat detects the older pgBadger prefix with %l", "[stderr_format]") {
  Got g = detect("%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
                 "2024-05-01 10:00:00 UTC [4242]: [3-1] user=app,db=shop,app=psql,client=[local] LOG:  x");
  CHECK(g.line_num == 3);
  CHECK(g.host == "[local]");
}

TEST_CASE("StderrFormat detects Amazon RDS", "[stderr_format]") {
  Got g = detect("%t:%r:%u@%d:[%p]:",
                 "2024-05-01 10:00:00 UTC:10.0.0.5(51234):app@shop:[4242]:LOG:  connection authorized: user=app database=shop");
  CHECK(g.host == "10.0.0.5");
  CHECK(g.port == 51234);
  CHECK(g.user == "app");
  CHECK(g.db == "shop");
  CHECK(g.pid == 4242);
}

TEST_CASE("StderrFormat detects Azure's %t-%c-", "[stderr_format]") {
  Got g = detect("%t-%c-",
                 "2024-05-01 10:00:00 UTC-6632134f.1092-LOG:  connection received: host=10.0.0.5 port=5000");
  CHECK(g.session_id == "6632134f.1092");
  CHECK(g.message == "connection received: host=10.0.0.5 port=5000");
}

TEST_CASE("StderrFormat detects SUSE's %m %d %u [%p]", "[stderr_format]") {
  Got g = detect("%m %d %u [%p]",
                 "2024-05-01 10:00:00.123 UTC shop app [4242]LOG:  x");
  CHECK(g.db == "shop");
  CHECK(g.user == "app");
  CHECK(g.pid == 4242);
}

TEST_CASE("StderrFormat detects prefixes with a session id or a line number", "[stderr_format]") {
  Got g = detect("%m [%p] %c ",
                 "2024-05-01 10:00:00.123 UTC [4242] 6632134f.1092 LOG:  x");
  CHECK(g.session_id == "6632134f.1092");

  // Debian's prefix with %l reads these too: what follows %q is optional
  // (the postmaster's own lines stop there), so a log without %u@%d reads
  // the same through it.
  StderrFormat l;
  Got h = parse(&l, "2024-05-01 10:00:00.123 UTC [4242-5] LOG:  x");
  REQUIRE(h.ok);
  CHECK(l.detected() == "%m [%p-%l] %q%u@%d ");
  CHECK(h.line_num == 5);
  CHECK(h.pid == 4242);
  h = parse(&l, "2024-05-01 10:00:00.124 UTC [4243-2] LOG:  connection authorized: user=a database=b");
  REQUIRE(h.ok);
  CHECK(h.user.empty());
  CHECK(h.line_num == 2);
  CHECK(h.message == "connection authorized: user=a database=b");

  StderrFormat t;
  Got i = parse(&t, "2024-05-01 10:00:00 UTC [4242-5] LOG:  x");
  REQUIRE(i.ok);
  CHECK(t.detected() == "%t [%p-%l] %q%u@%d ");
  i = parse(&t, "2024-05-01 10:00:01 UTC [4243-2] LOG:  connection authorized: user=a database=b");
  REQUIRE(i.ok);
  CHECK(i.line_num == 2);

  // Debian's prefix with %l (issue 15's bench: FATALs kept their user@db
  // only once this was known).
  Got j = detect("%m [%p-%l] %q%u@%d ",
                 "2024-05-01 10:00:01.001 UTC [83275-2] api@production FATAL:  sorry, too many clients already");
  CHECK(j.user == "api");
  CHECK(j.db == "production");
}

TEST_CASE("StderrFormat detects the empty prefix of 9.6", "[stderr_format]") {
  StderrFormat f;
  Got g = parse(&f, "LOG:  connection received: host=[local]");
  REQUIRE(g.ok);
  CHECK(f.detected() == "");
  CHECK(g.pid == -1);
  CHECK_FALSE(g.time.valid());
  CHECK(g.message == "connection received: host=[local]");
  Got h = parse(&f, "FATAL:  role \"ghost\" does not exist");
  REQUIRE(h.ok);
  CHECK(h.severity == "FATAL");
}

TEST_CASE("StderrFormat falls back to the generic reader for an unknown prefix",
          "[stderr_format]") {
  StderrFormat f;
  Got g = parse(&f, "db1 pid=[4242] app=psql LOG:  connection received: host=[local]");
  REQUIRE(g.ok);
  CHECK(f.detected() == "(generic)");
  CHECK(g.pid == 4242);
  CHECK(g.severity == "LOG");
  CHECK(g.message == "connection received: host=[local]");
  Got h = parse(&f, "2024-05-01 10:00:00.123 UTC <4242> LOG:  x");
  REQUIRE(h.ok);
  CHECK(rfc(h.time) == "2024-05-01T10:00:00.123Z");
}

TEST_CASE("StderrFormat does not take continuation lines starting with TAB for reports",
          "[stderr_format]") {
  StderrFormat f;
  REQUIRE(parse(&f, "2024-05-01 10:00:00.100 UTC [812] LOG:  statement: SELECT 1").ok);
  CHECK_FALSE(parse(&f, "\tFROM t WHERE x = 'LOG:  connection received: host=[local]'").ok);
  CHECK_FALSE(parse(&f, "\t2024-05-01 10:00:00.100 UTC [812] FATAL:  sorry, too many clients already").ok);
  CHECK_FALSE(parse(&f, "\t").ok);
  CHECK(f.detected() == "%m [%p] %q%u@%d ");
}

TEST_CASE("StderrFormat does not take a secondary field for the first line of a report",
          "[stderr_format]") {
  // Regression (was a bug): the header says parse() returns false for a line that is not the
  // first line of a report, but DETAIL/HINT/STATEMENT/LOCATION lines come
  // back as records (severity "DETAIL" ...), unlike csvlog and jsonlog,
  // which drop non-report severities.
  StderrFormat f;
  REQUIRE(parse(&f, "2024-05-01 10:00:00.100 UTC [812] FATAL:  password authentication failed for user \"x\"").ok);
  CHECK_FALSE(parse(&f, "2024-05-01 10:00:00.100 UTC [812] DETAIL:  Connection matched pg_hba.conf line 98: \"host all all 0.0.0.0/0 scram-sha-256\"").ok);
  CHECK_FALSE(parse(&f, "2024-05-01 10:00:00.100 UTC [812] LOCATION:  auth_failed, auth.c:323").ok);
}

TEST_CASE("StderrFormat does not take other programs' output for reports", "[stderr_format]") {
  StderrFormat f;
  for (const char* line : {"", "pg_ctl: server is running", "waiting for server to start.... done",
                           "\xff\xfe\xfd garbage \x01\x02", "LOG: one space only",
                           "connection received: host=[local]"}) {
    INFO(line);
    CHECK_FALSE(parse(&f, line).ok);
  }
  CHECK(f.detected().empty());
}

TEST_CASE("StderrFormat with a fixed prefix reads only lines of that prefix", "[stderr_format]") {
  auto m = PrefixMatcher::compile("%m [%p] %c ");
  REQUIRE(m.ok());
  StderrFormat f(std::move(*m));
  Got g = parse(&f, "2024-05-01 10:00:00.123 UTC [4242] 6632134f.1092 LOG:  x");
  REQUIRE(g.ok);
  CHECK(g.session_id == "6632134f.1092");
  CHECK(f.detected() == "%m [%p] %c ");
  CHECK_FALSE(parse(&f, "2024-05-01 10:00:00.123 UTC [4242] LOG:  x").ok);
  CHECK_FALSE(parse(&f, "LOG:  x").ok);
  CHECK_FALSE(parse(&f, "\tcontinuation").ok);
  CHECK(f.detected() == "%m [%p] %c ");
}

TEST_CASE("StderrFormat with a fixed prefix reads padded custom prefixes", "[stderr_format]") {
  auto m = PrefixMatcher::compile("%-12u|%10d|%b|%e|%x|%v|%i|[%p]: ");
  REQUIRE(m.ok());
  StderrFormat f(std::move(*m));
  Got g = parse(&f, "etl job     |     my db|client backend|00000|0|3/1|idle|[812]: LOG:  x");
  REQUIRE(g.ok);
  CHECK(g.user == "etl job");
  CHECK(g.db == "my db");
  CHECK(g.pid == 812);
}

TEST_CASE("StderrFormat resets the record for every line", "[stderr_format]") {
  StderrFormat f;
  LogRecord r;
  REQUIRE(f.parse("2024-05-01 10:00:00.100 UTC [812] app@shop LOG:  x", &r));
  CHECK(r.user == "app");
  REQUIRE(f.parse("2024-05-01 10:00:00 UTC [900] LOG:  y", &r));  // %t, no user@db
  CHECK(r.user.empty());
  CHECK(r.pid == 900);
  CHECK(r.message == "y");
}

TEST_CASE("StderrFormat with a fixed prefix resets the record for every line",
          "[stderr_format]") {
  // Regression (was a bug): in fixed-prefix mode parse() hands the caller's record straight to
  // PrefixMatcher::match() without resetting it (auto mode does reset it),
  // so a postmaster line keeps the user and database of the backend line
  // read before it, and its time (match() sets a time only when the record
  // has none).
  auto m = PrefixMatcher::compile("%m [%p] %q%u@%d ");
  REQUIRE(m.ok());
  StderrFormat f(std::move(*m));
  LogRecord r;
  REQUIRE(f.parse("2024-05-01 10:00:00.100 UTC [812] app@shop LOG:  x", &r));
  CHECK(r.user == "app");
  REQUIRE(f.parse("2024-05-01 10:00:05.000 UTC [800] LOG:  received fast shutdown request", &r));
  CHECK(r.pid == 800);
  CHECK(r.user.empty());
  CHECK(r.db.empty());
  CHECK(rfc(r.time) == "2024-05-01T10:00:05.000Z");
}

TEST_CASE("StderrFormat moves with its state", "[stderr_format]") {
  StderrFormat f;
  REQUIRE(parse(&f, "2024-05-01 10:00:00 UTC:10.0.0.5(51234):app@shop:[4242]:LOG:  x").ok);
  StderrFormat g(std::move(f));
  CHECK(g.detected() == "%t:%r:%u@%d:[%p]:");
  Got h = parse(&g, "2024-05-01 10:00:01 UTC:[local]:ann@crm:[4243]:FATAL:  y");
  REQUIRE(h.ok);
  CHECK(h.user == "ann");
  CHECK(h.host == "[local]");
}

TEST_CASE("StderrFormat::restart forgets what was detected", "[stderr_format]") {
  const std::string_view detail = "2024-03-01 10:00:00 UTC [77] DETAIL:  not a report";
  const std::string_view line = "2024-03-01 10:00:00.123 UTC [78] LOG:  connection received: host=x";
  StderrFormat f;
  LogRecord r;
  CHECK_FALSE(f.parse(detail, &r));  // no report, but it drops the prefixes before its own
  CHECK(f.detected() == "%t [%p] %q%u@%d ");
  REQUIRE(f.parse(line, &r));
  CHECK(f.detected() == "%m [%p] ");
  f.restart();
  CHECK(f.detected().empty());
  CHECK(f.first_prefix().empty());
  REQUIRE(f.parse(line, &r));  // as a new StderrFormat reads it
  CHECK(f.detected() == "%m [%p] %q%u@%d ");
  CHECK(r.pid == 78);
}
