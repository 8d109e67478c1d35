#include <catch2/catch.hpp>

#include <string>

#include "got_record.hpp"
#include "formats/prefix.hpp"

using namespace pgconn;
using pgconn_test::Got;
using pgconn_test::got;
using pgconn_test::rfc;

namespace {

PrefixMatcher compiled(std::string_view prefix) {
  auto m = PrefixMatcher::compile(prefix);
  INFO(prefix);
  REQUIRE(m.ok());
  return std::move(*m);
}

Got read(const PrefixMatcher& m, std::string_view line) {
  LogRecord r;
  const bool ok = m.match(line, &r);
  return got(ok, r);
}

Got read(std::string_view prefix, std::string_view line) { return read(compiled(prefix), line); }

// read() of a line the prefix must match; a failure names the line.
Got read_ok(std::string_view prefix, std::string_view line) {
  INFO(line);
  Got g = read(prefix, line);
  REQUIRE(g.ok);
  return g;
}

Got read_ok(const PrefixMatcher& m, std::string_view line) {
  INFO(line);
  Got g = read(m, line);
  REQUIRE(g.ok);
  return g;
}

}  // namespace

// ------------------------------------------------------------ known prefixes

TEST_CASE("PrefixMatcher reads PostgreSQL's default prefix", "[prefix]") {
  Got g = read_ok("%m [%p] ",
                  "2024-05-01 10:00:00.123 UTC [4242] LOG:  connection authorized: user=app database=shop");
  CHECK(rfc(g.time) == "2024-05-01T10:00:00.123Z");
  CHECK(g.pid == 4242);
  CHECK(g.severity == "LOG");
  CHECK(g.message == "connection authorized: user=app database=shop");
  CHECK(g.user.empty());
  CHECK(g.db.empty());
}

TEST_CASE("PrefixMatcher reads the empty prefix of PostgreSQL before 10", "[prefix]") {
  PrefixMatcher m = compiled("");
  Got g = read_ok(m, "LOG:  connection received: host=[local]");
  CHECK(g.severity == "LOG");
  CHECK(g.message == "connection received: host=[local]");
  CHECK(g.pid == -1);
  CHECK_FALSE(g.time.valid());
  CHECK_FALSE(m.has_pid());
  CHECK_FALSE(read(m, "2024-05-01 10:00:00.123 UTC [4242] LOG:  x").ok);
}

TEST_CASE("PrefixMatcher reads the Debian prefix on a backend line", "[prefix]") {
  Got g = read_ok("%m [%p] %q%u@%d ",
                  "2024-05-01 10:00:00.123 UTC [4242] app@shop LOG:  connection authorized: "
                  "user=app database=shop");
  CHECK(g.pid == 4242);
  CHECK(g.user == "app");
  CHECK(g.db == "shop");
  CHECK(g.message == "connection authorized: user=app database=shop");
}

TEST_CASE("PrefixMatcher reads a %q prefix on a postmaster line that stops at %q", "[prefix]") {
  Got g = read_ok("%m [%p] %q%u@%d ",
                  "2024-05-01 10:00:00.123 UTC [4240] LOG:  database system is ready to accept connections");
  CHECK(g.pid == 4240);
  CHECK(g.user.empty());
  CHECK(g.db.empty());
  CHECK(g.severity == "LOG");
  CHECK(g.message == "database system is ready to accept connections");
}

TEST_CASE("PrefixMatcher reads the real PostgreSQL 15 example lines of §2", "[prefix]") {
  Got debian = read_ok("%m [%p] %q%u@%d ",
                       "2026-11-22 23:19:46.522 UTC [27153] [unknown]@[unknown] LOG:  connection "
                       "received: host=[local]");
  CHECK(rfc(debian.time) == "2026-11-22T23:19:46.522Z");
  CHECK(debian.pid == 27153);
  CHECK(debian.user.empty());
  CHECK(debian.db.empty());
  CHECK(debian.message == "connection received: host=[local]");

  Got pgbadger = read_ok("%t [%p]: user=%u,db=%d,app=%a,client=%h ",
                         "2026-11-22 23:20:06 UTC [27647]: user=postgres,db=postgres,app=[unknown],"
                         "client=[local] LOG:  connection authorized: user=postgres database=postgres "
                         "application_name=psql");
  CHECK(rfc(pgbadger.time) == "2026-11-22T23:20:06Z");
  CHECK(pgbadger.pid == 27647);
  CHECK(pgbadger.user == "postgres");
  CHECK(pgbadger.db == "postgres");
  CHECK(pgbadger.app.empty());
  CHECK(pgbadger.host == "[local]");
  CHECK(pgbadger.message ==
        "connection authorized: user=postgres database=postgres application_name=psql");

  Got rds = read_ok("%t:%r:%u@%d:[%p]:",
                    "2026-11-22 23:20:26 UTC:[local]:[unknown]@[unknown]:[28609]:LOG:  connection "
                    "received: host=[local]");
  CHECK(rfc(rds.time) == "2026-11-22T23:20:26Z");
  CHECK(rds.host == "[local]");
  CHECK(rds.port == -1);
  CHECK(rds.user.empty());
  CHECK(rds.db.empty());
  CHECK(rds.pid == 28609);
  CHECK(rds.message == "connection received: host=[local]");

  Got postmaster = read_ok("%t [%p]: user=%u,db=%d,app=%a,client=%h ",
                           "2026-11-22 23:20:06 UTC [27637]: user=,db=,app=,client= LOG:  database "
                           "system is ready to accept connections");
  CHECK(postmaster.pid == 27637);
  CHECK(postmaster.user.empty());
  CHECK(postmaster.db.empty());
  CHECK(postmaster.app.empty());
  CHECK(postmaster.host.empty());
  CHECK(postmaster.message == "database system is ready to accept connections");
}

TEST_CASE("PrefixMatcher reads the example starts of every prefix seen in the wild", "[prefix]") {
  Got rds = read_ok("%t:%r:%u@%d:[%p]:",
                    "2024-05-01 10:00:00 UTC:10.0.0.5(51234):app@shop:[4242]:LOG:  x");
  CHECK(rds.host == "10.0.0.5");
  CHECK(rds.port == 51234);
  CHECK(rds.user == "app");
  CHECK(rds.db == "shop");
  CHECK(rds.pid == 4242);
  CHECK(rds.message == "x");

  Got rds_pm = read_ok("%t:%r:%u@%d:[%p]:",
                       "2024-05-01 10:00:00 UTC::@:[4240]:LOG:  database system is shut down");
  CHECK(rds_pm.host.empty());
  CHECK(rds_pm.port == -1);
  CHECK(rds_pm.pid == 4240);

  Got badger = read_ok("%t [%p]: user=%u,db=%d,app=%a,client=%h ",
                       "2024-05-01 10:00:00 UTC [4242]: user=app,db=shop,app=psql,client=10.0.0.5 LOG:  x");
  CHECK(badger.user == "app");
  CHECK(badger.db == "shop");
  CHECK(badger.app == "psql");
  CHECK(badger.host == "10.0.0.5");
  CHECK(badger.port == -1);

  Got older = read_ok("%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
                      "2024-05-01 10:00:00 UTC [4242]: [3-1] user=app,db=shop,app=psql,client=10.0.0.5 LOG:  x");
  CHECK(older.line_num == 3);
  CHECK(older.pid == 4242);
  CHECK(older.app == "psql");

  Got azure = read_ok("%t-%c-", "2024-05-01 10:00:00 UTC-6632134f.1092-LOG:  x");
  CHECK(azure.session_id == "6632134f.1092");
  CHECK(rfc(azure.time) == "2024-05-01T10:00:00Z");
  CHECK(azure.message == "x");

  Got suse = read_ok("%m %d %u [%p]", "2024-05-01 10:00:00.123 UTC shop app [4242]LOG:  x");
  CHECK(suse.db == "shop");
  CHECK(suse.user == "app");
  CHECK(suse.pid == 4242);

  Got session = read_ok("%m [%p] %c ", "2024-05-01 10:00:00.123 UTC [4242] 6632134f.1092 LOG:  x");
  CHECK(session.session_id == "6632134f.1092");
  CHECK(session.pid == 4242);

  Got line = read_ok("%m [%p-%l] ", "2024-05-01 10:00:00.123 UTC [4242-17] LOG:  x");
  CHECK(line.pid == 4242);
  CHECK(line.line_num == 17);
}

// ------------------------------------------------------------- every escape

TEST_CASE("PrefixMatcher reads %a, %u and %d with spaces, '@', ':', ',' and '='", "[prefix]") {
  Got g = read_ok("%t [%p]: user=%u,db=%d,app=%a,client=%h ",
                  "2024-05-01 10:00:00 UTC [4242]: user=etl job,db=my db,app=pgAdmin 4 - DB:shop,"
                  "client=10.0.0.5 LOG:  connection authorized: user=etl job database=my db");
  CHECK(g.user == "etl job");
  CHECK(g.db == "my db");
  CHECK(g.app == "pgAdmin 4 - DB:shop");
  CHECK(g.host == "10.0.0.5");

  Got eq = read_ok("%m [%p] app=%a ",
                   "2024-05-01 10:00:00.123 UTC [4242] app=a=b, c@d:[x] LOG:  x");
  CHECK(eq.app == "a=b, c@d:[x]");

  Got rds = read_ok("%t:%r:%u@%d:[%p]:",
                    "2024-05-01 10:00:00 UTC:10.0.0.5(51234):etl job@my db:[4242]:LOG:  x");
  CHECK(rds.user == "etl job");
  CHECK(rds.db == "my db");
}

TEST_CASE("PrefixMatcher reads empty %u@%d as empty fields", "[prefix]") {
  Got g = read_ok("%m [%p] %q%u@%d ", "2024-05-01 10:00:00.123 UTC [4242] @ LOG:  x");
  CHECK(g.user.empty());
  CHECK(g.db.empty());
  CHECK(g.message == "x");
}

TEST_CASE("PrefixMatcher turns [unknown] into empty for every name field", "[prefix]") {
  Got g = read_ok("%m [%p] u=%u d=%d a=%a h=%h ",
                  "2024-05-01 10:00:00.123 UTC [4242] u=[unknown] d=[unknown] a=[unknown] h=[unknown] LOG:  x");
  CHECK(g.user.empty());
  CHECK(g.db.empty());
  CHECK(g.app.empty());
  CHECK(g.host.empty());
  Got r = read_ok("%m [%p] %r ", "2024-05-01 10:00:00.123 UTC [4242] [unknown] LOG:  x");
  CHECK(r.host.empty());
  CHECK(r.port == -1);
}

TEST_CASE("PrefixMatcher reads %r as host and port, or [local]", "[prefix]") {
  Got tcp = read_ok("[%p] %r ", "[4242] 10.0.0.5(51234) LOG:  x");
  CHECK(tcp.host == "10.0.0.5");
  CHECK(tcp.port == 51234);
  Got v6 = read_ok("[%p] %r ", "[4242] 2001:db8::5(40112) LOG:  x");
  CHECK(v6.host == "2001:db8::5");
  CHECK(v6.port == 40112);
  Got local = read_ok("[%p] %r ", "[4242] [local] LOG:  x");
  CHECK(local.host == "[local]");
  CHECK(local.port == -1);
  Got none = read_ok("[%p] %r ", "[4242]  LOG:  x");
  CHECK(none.host.empty());
}

TEST_CASE("PrefixMatcher reads %h", "[prefix]") {
  Got g = read_ok("%h [%p] ", "10.0.0.5 [4242] LOG:  x");
  CHECK(g.host == "10.0.0.5");
  CHECK(g.port == -1);
  Got local = read_ok("%h [%p] ", "[local] [4242] LOG:  x");
  CHECK(local.host == "[local]");
}

TEST_CASE("PrefixMatcher skips %L (18)", "[prefix]") {
  Got g = read_ok("%L %r [%p] ", "10.0.0.1 10.0.0.5(51234) [4242] LOG:  x");
  CHECK(g.host == "10.0.0.5");
  CHECK(g.port == 51234);
  CHECK(g.pid == 4242);
}

TEST_CASE("PrefixMatcher reads %b, backend types with spaces included", "[prefix]") {
  Got g = read_ok("%m [%p] %b ", "2024-05-01 10:00:00.123 UTC [4242] client backend LOG:  x");
  CHECK(g.backend_type == "client backend");
  Got n = read_ok("%m [%p] %b ", "2024-05-01 10:00:00.123 UTC [4242] not initialized LOG:  x");
  CHECK(n.backend_type == "not initialized");
  Got w = read_ok("%m [%p] %b ",
                  "2024-05-01 10:00:00.123 UTC [4242] background worker \"logical replication "
                  "launcher\" LOG:  x");
  CHECK(w.backend_type == "background worker \"logical replication launcher\"");
}

TEST_CASE("PrefixMatcher reads %p and skips %P with or without a leader", "[prefix]") {
  PrefixMatcher m = compiled("[%p:%P] ");
  CHECK(m.has_pid());
  Got lead = read_ok(m, "[4242:4240] LOG:  x");
  CHECK(lead.pid == 4242);
  Got none = read_ok(m, "[4242:] LOG:  x");
  CHECK(none.pid == 4242);
  CHECK_FALSE(read(m, "[abc:] LOG:  x").ok);
}

TEST_CASE("PrefixMatcher reads %t and %m with abbreviations and numeric zones", "[prefix]") {
  Got cest = read_ok("%m [%p] ", "2024-05-01 10:00:00.123 CEST [4242] LOG:  x");
  CHECK(cest.time.zone == Timestamp::Zone::kAbbrev);
  CHECK(rfc(cest.time) == "2024-05-01T10:00:00.123");
  Got plus = read_ok("%m [%p] ", "2024-05-01 10:00:00.123 +03 [4242] LOG:  x");
  CHECK(rfc(plus.time) == "2024-05-01T10:00:00.123+03:00");
  Got minus = read_ok("%t [%p] ", "2024-05-01 10:00:00 -0330 [4242] LOG:  x");
  CHECK(rfc(minus.time) == "2024-05-01T10:00:00-03:30");
  Got secs = read_ok("%t [%p] ", "2024-05-01 10:00:00 UTC [4242] LOG:  x");
  CHECK_FALSE(secs.time.has_ms);
  CHECK_FALSE(read("%m [%p] ", "2024-05-01 10:00:00 UTC [4242] LOG:  x").ok);
  CHECK_FALSE(read("%t [%p] ", "2024-05-01 10:00:00.123 UTC [4242] LOG:  x").ok);
}

TEST_CASE("PrefixMatcher reads %n as epoch milliseconds", "[prefix]") {
  Got g = read_ok("%n [%p] ", "1714557600.123 [4242] LOG:  x");
  CHECK(rfc(g.time) == "2024-05-01T10:00:00.123Z");
  CHECK(g.pid == 4242);
}

TEST_CASE("PrefixMatcher skips %i, %e, %v, %x and %Q", "[prefix]") {
  Got i = read_ok("%m [%p] %i: ", "2024-05-01 10:00:00.123 UTC [4242] idle in transaction: LOG:  x");
  CHECK(i.message == "x");
  Got auth = read_ok("%m [%p] %i: ", "2024-05-01 10:00:00.123 UTC [4242] authentication: LOG:  x");

  Got e = read_ok("%m [%p] %e ",
                  "2024-05-01 10:00:00.123 UTC [4242] 28P01 FATAL:  password authentication failed "
                  "for user \"x\"");
  CHECK(e.severity == "FATAL");
  CHECK(e.message == "password authentication failed for user \"x\"");

  PrefixMatcher v = compiled("[%p] [%v] ");
  CHECK(read(v, "[4242] [3/12] LOG:  x").ok);
  CHECK(read(v, "[4242] [] LOG:  x").ok);

  Got x = read_ok("[%p] %x ", "[4242] 0 LOG:  x");
  CHECK(x.message == "x");
  Got q = read_ok("[%p] %Q ", "[4242] -6124862163364491214 LOG:  x");
  Got q0 = read_ok("[%p] %Q ", "[4242] 0 LOG:  x");
}

TEST_CASE("PrefixMatcher reads %c and %l", "[prefix]") {
  Got g = read_ok("%m %c %l ", "2024-05-01 10:00:00.123 UTC 6632134f.1092 3 LOG:  x");
  CHECK(g.session_id == "6632134f.1092");
  CHECK(g.line_num == 3);
  CHECK_FALSE(compiled("%m %c %l ").has_pid());
}

TEST_CASE("PrefixMatcher reads %s but does not take it for the line's time", "[prefix]") {
  Got g = read_ok("%s [%p] ", "2024-05-01 09:59:58 UTC [4242] LOG:  x");
  CHECK(g.pid == 4242);
  CHECK_FALSE(g.time.valid());
  Got both = read_ok("%m %s [%p] ", "2024-05-01 10:00:00.123 UTC 2024-05-01 09:59:58 UTC [4242] LOG:  x");
  CHECK(rfc(both.time) == "2024-05-01T10:00:00.123Z");
}

TEST_CASE("PrefixMatcher reads %% as a percent sign", "[prefix]") {
  Got g = read_ok("%% [%p] 100%% ", "% [4242] 100% LOG:  x");
  CHECK(g.pid == 4242);
  CHECK_FALSE(read("%% [%p] ", "%% [4242] LOG:  x").ok);
}

TEST_CASE("PrefixMatcher treats an unknown escape and a final lone % as printing nothing",
          "[prefix]") {
  Got g = read_ok("%Z[%p] %y", "[4242] LOG:  x");
  CHECK(g.pid == 4242);
  Got lone = read_ok("[%p] %", "[4242] LOG:  x");
  CHECK(lone.pid == 4242);
}

TEST_CASE("PrefixMatcher escapes regular-expression characters of the prefix", "[prefix]") {
  PrefixMatcher m = compiled("(%p)*.+?^$|{1}\\ ");
  Got g = read_ok(m, "(4242)*.+?^$|{1}\\ LOG:  x");
  CHECK(g.pid == 4242);
  CHECK_FALSE(read(m, "(4242)xxxxx^$|{1}\\ LOG:  x").ok);
}

// ------------------------------------------------------------------ padding

TEST_CASE("PrefixMatcher reads left-aligned %-10u and right-aligned %10d", "[prefix]") {
  PrefixMatcher m = compiled("%-10u|%10d|%b|[%p]: ");
  Got g = read_ok(m, "app       |      shop|client backend|[4242]: LOG:  x");
  CHECK(g.user == "app");
  CHECK(g.db == "shop");
  CHECK(g.backend_type == "client backend");
  CHECK(g.pid == 4242);

  Got longer = read_ok(m, "a_very_long_user|a_long_database|client backend|[4242]: LOG:  x");
  CHECK(longer.user == "a_very_long_user");
  CHECK(longer.db == "a_long_database");

  Got empty = read_ok(m, "          |          |postmaster|[4240]: LOG:  x");
  CHECK(empty.user.empty());
  CHECK(empty.db.empty());
}

TEST_CASE("PrefixMatcher reads the e2e exotic prefix with padding", "[prefix]") {
  PrefixMatcher m = compiled("%-12u|%10d|%b|%e|%x|%v|%i|[%p]: ");
  Got g = read_ok(m,
                  "postgres    |  postgres|client backend|00000|0|3/1|authentication|[27153]: LOG:  "
                  "connection authorized: user=postgres database=postgres");
  CHECK(g.user == "postgres");
  CHECK(g.db == "postgres");
  CHECK(g.pid == 27153);
  CHECK(g.message == "connection authorized: user=postgres database=postgres");
  Got pm = read_ok(m, "            |          |postmaster|00000|0|||[27100]: LOG:  database system is shut down");
  CHECK(pm.pid == 27100);
  CHECK(pm.backend_type == "postmaster");
}

TEST_CASE("PrefixMatcher reads padded numbers and times", "[prefix]") {
  Got p = read_ok("[%6p] ", "[  4242] LOG:  x");
  CHECK(p.pid == 4242);
  Got lp = read_ok("[%-6p] ", "[4242  ] LOG:  x");
  CHECK(lp.pid == 4242);
  Got t = read_ok("%30m [%p] ", "   2024-05-01 10:00:00.123 UTC [4242] LOG:  x");
  CHECK(rfc(t.time) == "2024-05-01T10:00:00.123Z");
}

// -------------------------------------------------- severity and message

TEST_CASE("PrefixMatcher reads every severity and secondary field", "[prefix]") {
  PrefixMatcher m = compiled("[%p] ");
  for (const char* sev : {"DEBUG1", "DEBUG5", "INFO", "NOTICE", "WARNING", "ERROR", "LOG", "FATAL",
                          "PANIC", "DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION"}) {
    INFO(sev);
    Got g = read_ok(m, std::string("[4242] ") + sev + ":  text");
    CHECK(g.severity == sev);
    CHECK(g.message == "text");
  }
  CHECK_FALSE(read(m, "[4242] DEBUG6:  text").ok);
  CHECK_FALSE(read(m, "[4242] VERBOSE:  text").ok);
}

TEST_CASE("PrefixMatcher needs exactly two spaces after the severity", "[prefix]") {
  PrefixMatcher m = compiled("[%p] ");
  CHECK_FALSE(read(m, "[4242] LOG: x").ok);
  CHECK_FALSE(read(m, "[4242] LOG:x").ok);
  Got three = read_ok(m, "[4242] LOG:   x");
  CHECK(three.message == " x");
}

TEST_CASE("PrefixMatcher removes a verbose log's SQLSTATE from the message", "[prefix]") {
  Got g = read_ok("%m [%p] ",
                  "2024-05-01 10:00:00.123 UTC [4242] FATAL:  28P01: password authentication failed "
                  "for user \"x\"");
  CHECK(g.message == "password authentication failed for user \"x\"");
  Got l = read("%m [%p] ",
               "2024-05-01 10:00:00.123 UTC [4242] LOG:  00000: connection authorized: user=a database=b");
  CHECK(l.message == "connection authorized: user=a database=b");
}

TEST_CASE("PrefixMatcher keeps severity-like text inside the message", "[prefix]") {
  Got g = read_ok("%m [%p] ",
                  "2024-05-01 10:00:00.123 UTC [4242] LOG:  statement: SELECT 'FATAL:  x', 'LOG:  y'");
  CHECK(g.severity == "LOG");
  CHECK(g.message == "statement: SELECT 'FATAL:  x', 'LOG:  y'");
}

TEST_CASE("PrefixMatcher reads an empty message", "[prefix]") {
  Got g = read_ok("[%p] ", "[4242] LOG:  ");
  CHECK(g.message.empty());
}

TEST_CASE("PrefixMatcher leaves fields it has no escape for untouched", "[prefix]") {
  PrefixMatcher m = compiled("[%p] ");
  LogRecord r;
  r.user = "kept";
  r.server = "db1";
  r.port = 7;
  REQUIRE(m.match("[4242] LOG:  x", &r));
  CHECK(r.user == "kept");
  CHECK(r.server == "db1");
  CHECK(r.port == 7);
  CHECK(r.pid == 4242);
}

TEST_CASE("PrefixMatcher overwrites the time of a record read before", "[prefix]") {
  // Regression (was a bug): match() sets the time only `if (!r->time.valid())`, so a record
  // that already holds a time (a reused LogRecord) keeps the old one,
  // although the header says match() fills the prefix fields.
  PrefixMatcher m = compiled("%m [%p] ");
  LogRecord r;
  REQUIRE(m.match("2024-05-01 10:00:00.123 UTC [4242] LOG:  first", &r));
  REQUIRE(m.match("2024-05-01 11:30:00.456 UTC [4243] LOG:  second", &r));
  CHECK(r.pid == 4243);
  CHECK(r.message == "second");
  CHECK(rfc(r.time) == "2024-05-01T11:30:00.456Z");
}

TEST_CASE("PrefixMatcher reads Amazon RDS lines from IPv6 clients", "[prefix]") {
  Got g = read_ok("%t:%r:%u@%d:[%p]:",
                  "2024-05-01 10:00:00 UTC:::1(40112):app@shop:[4242]:LOG:  x");
  CHECK(g.host == "::1");
  CHECK(g.port == 40112);
  CHECK(g.user == "app");
  Got v6 = read_ok("%t:%r:%u@%d:[%p]:",
                   "2024-05-01 10:00:00 UTC:2001:db8::5(5000):app@shop:[4242]:LOG:  x");
  CHECK(v6.host == "2001:db8::5");
  CHECK(v6.port == 5000);
}

TEST_CASE("PrefixMatcher returns views into the line", "[prefix]") {
  PrefixMatcher m = compiled("%m [%p] %q%u@%d ");
  std::string line = "2024-05-01 10:00:00.123 UTC [4242] app@shop LOG:  hello";
  LogRecord r;
  REQUIRE(m.match(line, &r));
  CHECK(r.user.data() == line.data() + 35);
  CHECK(r.message.data() == line.data() + line.size() - 5);
}

// --------------------------------------------------------------- bad input

TEST_CASE("PrefixMatcher does not read lines of another shape", "[prefix]") {
  PrefixMatcher m = compiled("%m [%p] ");
  for (const char* line : {
           "",
           "\tcontinuation of a statement",
           "2024-05-01 10:00:00.123 UTC [4242]",
           "2024-05-01 10:00:00.123 UTC [4242] LOG:",
           "2024-05-01 10:00:00.123 UTC [4242] LOG",
           "2024-05-01 10:00:00.123 UTC [] LOG:  x",
           "2024-05-01 10:00:00.123 UTC [abc] LOG:  x",
           "2024-05-01 10:00:00.12 UTC [4242] LOG:  x",
           "2024-05-01 10:00:00.123 UTC [4242] app@shop LOG:  x",
           " 2024-05-01 10:00:00.123 UTC [4242] LOG:  x",
           "LOG:  x",
           "\xff\xfe\xfd\x00garbage",
       }) {
    INFO(line);
    CHECK_FALSE(read(m, line).ok);
  }
}

TEST_CASE("PrefixMatcher reads nothing out of a line cut inside the prefix", "[prefix]") {
  PrefixMatcher m = compiled("%t [%p]: user=%u,db=%d,app=%a,client=%h ");
  std::string full = "2024-05-01 10:00:00 UTC [4242]: user=app,db=shop,app=psql,client=10.0.0.5 LOG:  x";
  for (size_t n = 0; n + 6 < full.size(); ++n) {
    INFO(n);
    CHECK_FALSE(read(m, full.substr(0, n)).ok);
  }
}

TEST_CASE("PrefixMatcher reads a hostile 1 MiB line quickly without matching", "[prefix]") {
  PrefixMatcher m = compiled("%m [%p] %q%u@%d ");
  std::string line = "2024-05-01 10:00:00.123 UTC [4242] ";
  for (int i = 0; i < 1 << 17; ++i) line += "a@b c@d ";
  LogRecord r;
  CHECK_FALSE(m.match(line, &r));
}

TEST_CASE("PrefixMatcher::compile fails on a prefix it cannot build, quoting it", "[prefix]") {
  std::string prefix;
  for (int i = 0; i < 300; ++i) prefix += "%q";
  auto m = PrefixMatcher::compile(prefix);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().rfind("bad log_line_prefix \"" + prefix + "\": ", 0) == 0);
  CHECK(m.error().find("too deeply nested") != std::string::npos);
}

TEST_CASE("PrefixMatcher::compile keeps the prefix it was built from", "[prefix]") {
  CHECK(compiled("%m [%p] ").source() == "%m [%p] ");
  CHECK(compiled("").source() == "");
  CHECK(compiled("%m [%p] ").has_pid());
  CHECK_FALSE(compiled("%m ").has_pid());
}

// ----------------------------------------------------------------- generic

TEST_CASE("PrefixMatcher::generic reads any prefix before a severity", "[prefix]") {
  PrefixMatcher g = PrefixMatcher::generic();
  CHECK(g.source() == "(generic)");
  CHECK_FALSE(g.has_pid());
  Got a = read_ok(g, "<db1 pid=4242> LOG:  connection received: host=[local]");
  CHECK(a.severity == "LOG");
  CHECK(a.message == "connection received: host=[local]");
  CHECK(a.pid == -1);
  CHECK_FALSE(a.time.valid());

  Got bare = read_ok(g, "FATAL:  sorry, too many clients already");
  CHECK(bare.severity == "FATAL");
  CHECK(bare.message == "sorry, too many clients already");
}

TEST_CASE("PrefixMatcher::generic picks time, pid and session id by their shape", "[prefix]") {
  PrefixMatcher g = PrefixMatcher::generic();
  Got a = read_ok(g, "2024-05-01 10:00:00.123 UTC [4242] some custom text LOG:  x");
  CHECK(rfc(a.time) == "2024-05-01T10:00:00.123Z");
  CHECK(a.pid == 4242);

  Got b = read_ok(g, "2024-05-01 10:00:00 CEST host=db1 [4242-7] 6632134f.1092 LOG:  x");
  CHECK(rfc(b.time) == "2024-05-01T10:00:00");
  CHECK(b.time.zone == Timestamp::Zone::kAbbrev);
  CHECK(b.pid == 4242);
  CHECK(b.session_id == "6632134f.1092");

  Got c = read_ok(g, "2024-05-01 10:00:00.123 +03 [unknown]@[unknown] [812] LOG:  x");
  CHECK(rfc(c.time) == "2024-05-01T10:00:00.123+03:00");
  CHECK(c.pid == 812);

  Got d = read_ok(g, "2024-05-01 10:00:00.123 [812] LOG:  x");
  CHECK(rfc(d.time) == "2024-05-01T10:00:00.123");
  CHECK(d.pid == 812);
}

TEST_CASE("PrefixMatcher::generic does not take an IP address or a time for a session id",
          "[prefix]") {
  PrefixMatcher g = PrefixMatcher::generic();
  Got a = read_ok(g, "2024-05-01 10:00:00.123 UTC 10.0.0.5 [4242] LOG:  x");
  CHECK(a.session_id.empty());
}

TEST_CASE("PrefixMatcher::generic keeps the zone when a separator other than a space follows it",
          "[prefix]") {
  // A custom log_line_prefix such as '%t:%p:' (no brackets, so no pid by
  // shape): the time is still "2024-05-01 10:00:00 UTC".
  // Regression (was a bug): read_generic() scans the zone with ':' allowed (for "+05:30") and so
  // reads "UTC:4242:" as the zone; that fails, and its fallback parses the
  // time without any zone: kNone instead of kUtc, and the event's ts loses
  // its "Z".
  PrefixMatcher g = PrefixMatcher::generic();
  Got a = read_ok(g, "2024-05-01 10:00:00 UTC:4242:LOG:  x");
  CHECK(a.time.zone == Timestamp::Zone::kUtc);
  CHECK(rfc(a.time) == "2024-05-01T10:00:00Z");
}

TEST_CASE("PrefixMatcher::generic needs a word boundary and two spaces", "[prefix]") {
  PrefixMatcher g = PrefixMatcher::generic();
  CHECK_FALSE(read(g, "xLOG:  x").ok);
  CHECK_FALSE(read(g, "LOG: x").ok);
  CHECK_FALSE(read(g, "").ok);
  CHECK_FALSE(read(g, "\tcontinuation").ok);
  CHECK_FALSE(read(g, "just some text").ok);
  CHECK_FALSE(read(g, std::string(100000, '\xff')).ok);
}

TEST_CASE("issue_13 PrefixMatcher reads whatever the server printed for %r and %h", "[prefix]") {
  // A real Amazon RDS line: the client's address unknown.
  Got rds = read_ok("%t:%r:%u@%d:[%p]:",
                    "2024-12-04 12:00:00 UTC:\?\?\?(\?\?\?):postgres@rdsadmin:[29657]:FATAL:  "
                    "pg_hba.conf rejects connection for host \"\?\?\?\", user \"postgres\", "
                    "database \"rdsadmin\", no encryption");
  CHECK(rds.host == "\?\?\?");
  CHECK(rds.port == -1);
  CHECK(rds.user == "postgres");
  CHECK(rds.db == "rdsadmin");
  CHECK(rds.pid == 29657);
  CHECK(rds.severity == "FATAL");
  Got h = read_ok("%m [%p] %h ", "2024-12-04 12:00:00.000 UTC [29657] \?\?\? FATAL:  x");
  CHECK(h.host == "\?\?\?");
  CHECK(h.pid == 29657);
}
