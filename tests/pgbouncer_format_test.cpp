// PgBouncer's log (pgbouncer_format, pgbouncer_message) and the tracker's
// pooler half (tracker_pooler.cpp): lines of every prefix form in, records
// and events out. Lines are copied from pgbouncer.md and the corpus files.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "codec/event_codec.hpp"
#include "line_sink.hpp"
#include "pipeline/log_parser.hpp"
#include "formats/pgbouncer_format.hpp"
#include "lifecycle/pgbouncer_message.hpp"
#include "lifecycle/tracker.hpp"

using namespace pgconn;

namespace {

using Sink = pgconn_test::LineSink;

struct NoReports : Reporter {
  int n = 0;
  void on_malformed(uint64_t, std::string_view) override { ++n; }
};

// The events of a whole log read as one file (end of input settles).
std::vector<std::string> events_of(const std::string& log, InputFormat f = InputFormat::kAuto,
                                   std::string label = "") {
  Sink sink;
  TrackerOptions o;
  o.label = label;
  Tracker tracker(&sink, o);
  NoReports reports;
  ParserOptions po;
  po.format = f;
  po.year = 2026;
  auto p = LogParser::create(po, &tracker, &reports);
  REQUIRE(p.ok());
  (*p)->feed(log);
  (*p)->end_input();
  (*p)->idle();
  return sink.lines;
}

}  // namespace

TEST_CASE("PgBouncer line prefixes of 1.7 to 1.25", "[pgbouncer_format]") {
  LogRecord r;
  SECTION("zone and bracketed pid (1.11+)") {
    REQUIRE(parse_pgbouncer_line("2026-12-04 04:10:00.456 UTC [6505] LOG C-0x55d8f18f9e30: appdb/app@127.0.0.1:60544 login attempt: db=appdb user=app tls=no", &r));
    CHECK(r.pid == 6505);
    CHECK(r.severity == "LOG");
    CHECK(r.socket == "C-0x55d8f18f9e30");
    CHECK(r.db == "appdb");
    CHECK(r.user == "app");
    CHECK(r.host == "127.0.0.1");
    CHECK(r.port == 60544);
    CHECK(r.message == "login attempt: db=appdb user=app tls=no");
    CHECK(r.via == "pgbouncer");
    CHECK(r.time.has_ms);
    CHECK(r.time.zone == Timestamp::Zone::kUtc);
  }
  SECTION("bare pid, no zone (<= 1.10)") {
    REQUIRE(parse_pgbouncer_line("2018-09-12 16:09:05.313 3394 LOG C-0x13e4860: db/user@10.0.0.5:40022 closing because: client close request (age=0)", &r));
    CHECK(r.pid == 3394);
    CHECK(r.socket == "C-0x13e4860");
    CHECK(r.time.zone == Timestamp::Zone::kNone);
  }
  SECTION("numeric zone, abbreviation") {
    REQUIRE(parse_pgbouncer_line("2021-01-02 22:07:55.143 +05 [77020] LOG process up: PgBouncer 1.14.0", &r));
    CHECK(r.time.zone == Timestamp::Zone::kOffset);
    CHECK(r.time.offset_min == 300);
    CHECK(r.socket.empty());
    CHECK(r.message == "process up: PgBouncer 1.14.0");
    REQUIRE(parse_pgbouncer_line("2025-10-09 15:41:06.130 KST [13210] LOG C-0xb81448010: connect/connect@127.0.0.1:55061 login attempt: db=connect user=connect tls=no replication=no", &r));
    CHECK(r.time.zone == Timestamp::Zone::kAbbrev);
    CHECK(r.socket == "C-0xb81448010");
  }
  SECTION("IPv6, Unix socket, user with @, (nodb)") {
    REQUIRE(parse_pgbouncer_line("2026-12-04 04:06:41.119 UTC [26196] LOG C-0x55ba30f86c10: appdb/app@[::1]:45506 login attempt: db=appdb user=app tls=no", &r));
    CHECK(r.host == "::1");
    CHECK(r.port == 45506);
    REQUIRE(parse_pgbouncer_line("2026-12-04 04:06:41.522 UTC [26196] LOG C-0x55ba30f86c10: appdb/app@unix(26341):56432 login attempt: db=appdb user=app tls=no", &r));
    CHECK(r.host == "unix(26341)");
    CHECK(r.port == 56432);
    REQUIRE(parse_pgbouncer_line("2026-12-04 04:06:41.522 UTC [26196] LOG C-0x55ba30f86c10: appdb/bob@srv1@10.1.2.3:5000 login attempt: db=appdb user=bob@srv1 tls=no", &r));
    CHECK(r.user == "bob@srv1");
    CHECK(r.host == "10.1.2.3");
    REQUIRE(parse_pgbouncer_line("2026-12-04 04:06:42.385 UTC [26196] LOG C-0x55ba30f86c10: (nodb)/(nouser)@127.0.0.1:40596 no such user: ghost", &r));
    CHECK(r.db == "(nodb)");
    CHECK(r.message == "no such user: ghost");
  }
  SECTION("not PgBouncer's") {
    CHECK_FALSE(parse_pgbouncer_line("2026-12-04 04:06:42.385 UTC [26196] LOG:  connection received: host=::1 port=1", &r));
    CHECK_FALSE(parse_pgbouncer_line("\tcontinued", &r));
    CHECK_FALSE(parse_pgbouncer_line("2026-12-04 04:06:42.385 UTC [x] LOG text", &r));
    CHECK_FALSE(parse_pgbouncer_line("", &r));
    CHECK_FALSE(PgbouncerFormat::looks_like("May  1 10:00:00 db1 postgres[812]: [3-1] LOG:  x"));
  }
}

TEST_CASE("PgBouncer close reasons map to reasons", "[pgbouncer_format]") {
  struct C { const char* text; bool reject; const char* reason; };
  const C cases[] = {
      {"client close request", false, ""},
      {"client unexpected eof", false, "client_lost"},
      {"client_idle_timeout", false, "idle_timeout"},
      {"query_wait_timeout", false, "query_wait_timeout"},
      {"server shutting down", false, "shutdown"},
      {"admin forced disconnect", false, "terminated"},
      {"no more connections allowed (max_client_conn)", true, "too_many_clients"},
      {"client connections exceeded (max_db_client_connections)", true, "db_limit"},
      {"SASL authentication failed", true, "auth_failed"},
      {"password authentication failed", true, "auth_failed"},
      {"no such database: nosuchdb", true, "no_database"},
      {"No such database: dev", true, "no_database"},
      {"No such user: dev", true, "no_role"},
      {"not allowed", true, "login_not_allowed"},
      {"client_login_timeout", true, "auth_timeout"},
      {"client_login_timeout (server down)", true, "server_unavailable"},
      {"server login has been failing, try again later (server_login_retry)", true, "server_unavailable"},
      {"password authentication failed for user \"app\"", true, "auth_failed"},
      {"Unsupported startup parameter: search_path", true, "other"},
      {"something new", false, "terminated"},
  };
  for (const C& c : cases) {
    BouncerMessage m;
    classify_close_reason(c.text, &m);
    INFO(c.text);
    CHECK(m.reject == c.reject);
    CHECK(m.reason == c.reason);
    CHECK_FALSE(m.cancel);
  }
  BouncerMessage m = classify_pgbouncer("LOG", "C-0x1", "closing because: successfully sent cancel request (age=0s)");
  CHECK(m.kind == BouncerKind::kClose);
  CHECK(m.cancel);
  m = classify_pgbouncer("LOG", "C-0x1", "closing because: no more connections allowed (max_client_conn) (age=12s)");
  CHECK(m.age_s == 12);
  CHECK(m.text == "no more connections allowed (max_client_conn)");
  m = classify_pgbouncer("LOG", "C-0x1", "closing because: client close request (age=3)");
  CHECK(m.age_s == 3);
  m = classify_pgbouncer("LOG", "C-0x1", "login attempt: db=a user=b tls=no replication=database");
  CHECK(m.kind == BouncerKind::kLogin);
  CHECK(m.db == "a");
  CHECK(m.user == "b");
  CHECK(m.replication);
  CHECK(classify_pgbouncer("LOG", "", "got SIGTERM, fast exit").kind == BouncerKind::kExit);
  CHECK(classify_pgbouncer("LOG", "", "SHUTDOWN command issued").kind == BouncerKind::kExit);
  CHECK(classify_pgbouncer("LOG", "", "server connections dropped, exiting").kind == BouncerKind::kExit);
  CHECK(classify_pgbouncer("FATAL", "", "@src/objects.c:123 in function f(): boom").kind == BouncerKind::kCrash);
  CHECK(classify_pgbouncer("LOG", "", "stats: 0 xacts/s, 0 queries/s").kind == BouncerKind::kNone);
  CHECK(classify_pgbouncer("LOG", "S-0x2", "closing because: server idle timeout (age=60s)").kind == BouncerKind::kNone);
  CHECK(classify_pgbouncer("DEBUG", "C-0x2", "login attempt: db=a user=b").kind == BouncerKind::kNone);
}

TEST_CASE("PgBouncer clients become sessions", "[pgbouncer_format]") {
  const std::string p = "2026-12-04 04:06:40.230 UTC [26196] LOG ";
  SECTION("login and close: connect and disconnect with the duration of the timestamps") {
    auto ev = events_of(
        "2026-12-04 04:06:39.075 UTC [26196] LOG process up: PgBouncer 1.18.0\n"
        "2026-12-04 04:06:40.230 UTC [26196] LOG C-0x55ba30f86c10: appdb/app@127.0.0.1:40574 login attempt: db=appdb user=app tls=no\n"
        "2026-12-04 04:06:40.244 UTC [26196] LOG S-0x55ba30f8e3e0: appdb/app@127.0.0.1:55432 new connection to server (from 127.0.0.1:59456)\n"
        "2026-12-04 04:06:40.281 UTC [26196] LOG C-0x55ba30f86c10: appdb/app@127.0.0.1:40574 closing because: client close request (age=0s)\n",
        InputFormat::kAuto, "pool1");
    REQUIRE(ev.size() == 3);
    CHECK(ev[0] == R"({"type":"server","ts":"2026-12-04T04:06:39.075Z","pid":26196,"state":"ready","server":"pool1","via":"pgbouncer"})");
    CHECK(ev[1] == R"({"type":"connect","ts":"2026-12-04T04:06:40.230Z","session":"26196-1","user":"app","db":"appdb","host":"127.0.0.1","port":40574,"server":"pool1","via":"pgbouncer"})");
    CHECK(ev[2] == R"({"type":"disconnect","ts":"2026-12-04T04:06:40.281Z","session":"26196-1","user":"app","db":"appdb","host":"127.0.0.1","port":40574,"duration_ms":51,"matched":true,"server":"pool1","via":"pgbouncer"})");
  }
  SECTION("a wrong password: a reject, never a connect") {
    auto ev = events_of(
        p + "C-0x1: appdb/app@127.0.0.1:40592 login attempt: db=appdb user=app tls=no\n" +
        p + "C-0x1: appdb/app@127.0.0.1:40592 password authentication failed\n" +
        p + "C-0x1: appdb/app@127.0.0.1:40592 closing because: SASL authentication failed (age=0s)\n" +
        p + "C-0x1: appdb/app@127.0.0.1:40592 pooler error: SASL authentication failed\n");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0] == R"({"type":"reject","ts":"2026-12-04T04:06:40.230Z","session":"26196-1","user":"app","db":"appdb","host":"127.0.0.1","port":40592,"reason":"auth_failed","message":"SASL authentication failed","matched":true,"via":"pgbouncer"})");
  }
  SECTION("an unknown user (1.15+ mock authentication): no_role") {
    auto ev = events_of(
        p + "C-0x1: (nodb)/(nouser)@127.0.0.1:40596 no such user: ghost\n" +
        p + "C-0x1: (nodb)/ghost@127.0.0.1:40596 login attempt: db=appdb user=ghost tls=no\n" +
        p + "C-0x1: (nodb)/ghost@127.0.0.1:40596 password authentication failed\n" +
        p + "C-0x1: (nodb)/ghost@127.0.0.1:40596 closing because: SASL authentication failed (age=0s)\n");
    REQUIRE(ev.size() == 1);
    CHECK_THAT(ev[0], Catch::Contains(R"("type":"reject")"));
    CHECK_THAT(ev[0], Catch::Contains(R"("user":"ghost","db":"appdb")"));
    CHECK_THAT(ev[0], Catch::Contains(R"("reason":"no_role")"));
  }
  SECTION("max_client_conn: a reject with no login") {
    auto ev = events_of(p + "C-0x1: (nodb)/(nouser)@127.0.0.1:40630 closing because: no more connections allowed (max_client_conn) (age=0s)\n");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0] == R"x({"type":"reject","ts":"2026-12-04T04:06:40.230Z","session":"26196-1","host":"127.0.0.1","port":40630,"reason":"too_many_clients","message":"no more connections allowed (max_client_conn)","via":"pgbouncer"})x");
  }
  SECTION("a close without its login: unmatched, duration from age") {
    auto ev = events_of(p + "C-0x1: db/u@10.0.0.1:5000 closing because: client unexpected eof (age=42s)\n");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0] == R"({"type":"disconnect","ts":"2026-12-04T04:06:40.230Z","session":"26196-1","user":"u","db":"db","host":"10.0.0.1","port":5000,"duration_ms":42000,"reason":"client_lost","matched":false,"via":"pgbouncer"})");
  }
  SECTION("cancel requests and server sockets are no sessions") {
    auto ev = events_of(
        p + "C-0x2: shop/(nouser)@127.0.0.1:37234 closing because: successfully sent cancel request (age=0s)\n" +
        p + "S-0x3: shop/app@127.0.0.1:5432 closing because: successfully sent cancel request (age=0s)\n" +
        p + "S-0x3: shop/app@127.0.0.1:5432 closing because: server idle timeout (age=600s)\n" +
        p + "stats: 0 xacts/s, 0 queries/s, in 0 B/s, out 0 B/s, xact 0 us, query 0 us, wait 0 us\n");
    CHECK(ev.empty());
  }
  SECTION("verbose: the application name of a DEBUG line; DEBUG lines of authentication settle nothing") {
    auto ev = events_of(
        p.substr(0, p.size() - 4) + "DEBUG C-0x1: (nodb)/(nouser)@127.0.0.1:60928 using application_name: billing-worker\n" +
        p.substr(0, p.size() - 4) + "DEBUG C-0x1: (nodb)/(nouser)@127.0.0.1:60928 other debug\n" +
        p + "C-0x1: appdb/app@127.0.0.1:60928 login attempt: db=appdb user=app tls=no\n" +
        p.substr(0, p.size() - 4) + "DEBUG C-0x1: appdb/app@127.0.0.1:60928 scram_client_first: got cb_flag\n" +
        p + "C-0x1: appdb/app@127.0.0.1:60928 closing because: SASL authentication failed (age=0s)\n" +
        p + "C-0x1: appdb/app@127.0.0.1:60929 login attempt: db=appdb user=app tls=no\n" +
        p + "C-0x1: appdb/app@127.0.0.1:60929 closing because: client close request (age=0s)\n");
    REQUIRE(ev.size() == 3);
    CHECK_THAT(ev[0], Catch::Contains(R"("type":"reject","ts":"2026-12-04T04:06:40.230Z","session":"26196-1","user":"app","db":"appdb","app":"billing-worker")"));
    CHECK_THAT(ev[1], Catch::Contains(R"("type":"connect")"));
    CHECK_THAT(ev[1], !Catch::Contains("app\":"));
  }
  SECTION("a Unix socket client is [local], no port") {
    auto ev = events_of(p + "C-0x1: appdb/app@unix(26341):56432 login attempt: db=appdb user=app tls=no\n");
    REQUIRE(ev.size() == 1);
    CHECK_THAT(ev[0], Catch::Contains(R"("host":"[local]","via")"));
  }
  SECTION("a Unix socket's clients are told apart by the address as logged, not by [local]") {
    for (InputFormat f : {InputFormat::kAuto, InputFormat::kPgbouncer}) {
      auto ev = events_of(
          "2026-12-04 04:06:40.000 UTC [9] LOG C-0x1: a/u@unix(26341):6432 login attempt: db=a user=u tls=no\n"
          "2026-12-04 04:06:41.500 UTC [9] LOG C-0x1: a/u@unix(26341):6432 closing because: client close request (age=1s)\n"
          "2026-12-04 04:06:42.000 UTC [9] LOG C-0x1: a/u@unix(26341):6432 login attempt: db=a user=u tls=no\n"
          "2026-12-04 04:06:44.000 UTC [9] LOG C-0x1: a/u@unix(26342):6432 login attempt: db=a user=u tls=no\n"
          "2026-12-04 04:06:44.100 UTC [9] LOG C-0x1: a/u@unix(26342):6432 closing because: client close request (age=0s)\n",
          f);
      REQUIRE(ev.size() == 6);
      CHECK_THAT(ev[1], Catch::Contains(R"("type":"disconnect","ts":"2026-12-04T04:06:41.500Z","session":"9-1")"));
      CHECK_THAT(ev[1], Catch::Contains(R"("host":"[local]","duration_ms":1500)"));
      CHECK_THAT(ev[3], Catch::Contains(R"("type":"disconnect","ts":"2026-12-04T04:06:44.000Z","session":"9-2")"));
      CHECK_THAT(ev[3], Catch::Contains(R"("reason":"lost")"));
      CHECK_THAT(ev[5], Catch::Contains(R"("type":"disconnect","ts":"2026-12-04T04:06:44.100Z","session":"9-3")"));
    }
  }
  SECTION("a new login on an open socket ends the earlier session: lost") {
    auto ev = events_of(
        "2026-12-04 04:06:40.000 UTC [9] LOG C-0x1: a/u@127.0.0.1:1000 login attempt: db=a user=u tls=no\n"
        "2026-12-04 04:06:42.000 UTC [9] LOG C-0x1: a/u@127.0.0.1:1001 login attempt: db=a user=u tls=no\n");
    REQUIRE(ev.size() == 3);
    CHECK_THAT(ev[0], Catch::Contains(R"("type":"connect")"));
    CHECK_THAT(ev[1], Catch::Contains(R"("type":"disconnect")"));
    CHECK_THAT(ev[1], Catch::Contains(R"("port":1000,"reason":"lost")"));
    CHECK_THAT(ev[2], Catch::Contains(R"("port":1001)"));
  }
  SECTION("a login left within its settle time (psql asking for a password): nothing") {
    auto ev = events_of(
        "2026-12-04 04:06:40.000 UTC [9] LOG C-0x1: a/u@127.0.0.1:1000 login attempt: db=a user=u tls=no\n"
        "2026-12-04 04:06:40.001 UTC [9] LOG C-0x1: a/u@127.0.0.1:1001 login attempt: db=a user=u tls=no\n");
    REQUIRE(ev.size() == 1);
    CHECK_THAT(ev[0], Catch::Contains(R"("port":1001)"));
  }
  SECTION("same pointer in two processes: two clients") {
    auto ev = events_of(
        "2026-12-04 04:06:40.000 UTC [9] LOG C-0x1: a/u@127.0.0.1:1000 login attempt: db=a user=u tls=no\n"
        "2026-12-04 04:06:40.100 UTC [10] LOG C-0x1: a/u@127.0.0.1:1001 login attempt: db=a user=u tls=no\n"
        "2026-12-04 04:06:40.200 UTC [9] LOG C-0x1: a/u@127.0.0.1:1000 closing because: client close request (age=0s)\n");
    REQUIRE(ev.size() == 3);
    CHECK_THAT(ev[2], Catch::Contains(R"("port":1000,"duration_ms":200,"matched":true)"));
  }
  SECTION("a fast exit ends every client; a restart is ready") {
    auto ev = events_of(
        "2026-12-04 04:06:40.000 UTC [9] LOG C-0x1: a/u@127.0.0.1:1000 login attempt: db=a user=u tls=no\n"
        "2026-12-04 04:06:41.500 UTC [9] LOG got SIGTERM, fast exit\n"
        "2026-12-04 04:06:42.000 UTC [11] LOG process up: PgBouncer 1.18.0\n");
    REQUIRE(ev.size() == 3);
    CHECK(ev[1] == R"({"type":"server","ts":"2026-12-04T04:06:41.500Z","pid":9,"state":"shutdown","via":"pgbouncer"})");
    CHECK_THAT(ev[2], Catch::Contains(R"("state":"ready")"));
  }
  SECTION("an exit, clients of a start not in the log, an exit again") {
    auto ev = events_of(
        "2026-12-04 04:06:41.500 UTC [9] LOG got SIGTERM, fast exit\n"
        "2026-12-04 04:06:42.000 UTC [11] LOG C-0x1: a/u@127.0.0.1:1000 login attempt: db=a user=u tls=no\n"
        "2026-12-04 04:06:45.000 UTC [11] LOG got SIGTERM, fast exit\n");
    REQUIRE(ev.size() == 3);
    CHECK_THAT(ev[2], Catch::Contains(R"("pid":11,"state":"shutdown")"));
  }
  SECTION("a restart without an exit line ends the old process's clients") {
    auto ev = events_of(
        "2026-12-04 04:06:40.000 UTC [9] LOG C-0x1: a/u@127.0.0.1:1000 login attempt: db=a user=u tls=no\n"
        "2026-12-04 04:06:42.000 UTC [11] LOG process up: PgBouncer 1.18.0\n");
    REQUIRE(ev.size() == 3);
    CHECK_THAT(ev[1], Catch::Contains(R"("state":"shutdown")"));
    CHECK_THAT(ev[2], Catch::Contains(R"("state":"ready")"));
  }
  SECTION("client_login_timeout after the login settled: a late reject of that session") {
    auto ev = events_of(
        "2026-12-04 04:06:40.000 UTC [9] LOG C-0x1: a/u@127.0.0.1:1000 login attempt: db=a user=u tls=no\n"
        "2026-12-04 04:07:40.000 UTC [9] LOG C-0x1: a/u@127.0.0.1:1000 closing because: client_login_timeout (server down) (age=60s)\n");
    REQUIRE(ev.size() == 2);
    CHECK_THAT(ev[1], Catch::Contains(R"("type":"reject")"));
    CHECK_THAT(ev[1], Catch::Contains(R"("session":"9-1")"));
    CHECK_THAT(ev[1], Catch::Contains(R"("reason":"server_unavailable")"));
  }
  SECTION("PgBouncer and PostgreSQL in one syslog stream stay apart") {
    auto ev = events_of(
        "Dec  4 04:08:26 db1 pgbouncer[31586]: C-0x55ec44cecee0: appdb/app@127.0.0.1:52038 login attempt: db=appdb user=app tls=no\n"
        "Dec  4 04:08:27 db1 postgres[812]: [3-1] LOG:  connection received: host=127.0.0.1 port=59456\n"
        "Dec  4 04:08:27 db1 postgres[812]: [4-1] LOG:  connection authorized: user=app database=appdb\n"
        "Dec  4 04:08:29 db1 pgbouncer[31586]: got SIGTERM, fast exit\n"
        "Dec  4 04:08:30 db1 postgres[812]: [5-1] LOG:  disconnection: session time: 0:00:03.000 user=app database=appdb host=127.0.0.1 port=59456\n");
    REQUIRE(ev.size() == 4);
    CHECK(ev[0] == R"({"type":"connect","ts":"2026-12-04T04:08:26","session":"31586-1","user":"app","db":"appdb","host":"127.0.0.1","port":52038,"server":"db1","via":"pgbouncer"})");
    CHECK_THAT(ev[1], Catch::Contains(R"("type":"connect")"));
    CHECK_THAT(ev[1], !Catch::Contains("via"));
    CHECK(ev[2] == R"({"type":"server","ts":"2026-12-04T04:08:29","pid":31586,"state":"shutdown","server":"db1","via":"pgbouncer"})");
    CHECK_THAT(ev[3], Catch::Contains(R"("type":"disconnect")"));
    CHECK_THAT(ev[3], Catch::Contains(R"("matched":true)"));
  }
}

TEST_CASE("PgBouncer clients at the table cap: the oldest is forgotten, its slot reused", "[pgbouncer_format]") {
  // Pooler clients have a table of their own (tracker.hpp, pooler_slots_):
  // the cap counts them, eviction takes the oldest, a freed slot serves the
  // next client, and a restart ends those still open.
  Sink sink;
  TrackerOptions o;
  o.max_backends = 2;
  Tracker tracker(&sink, o);
  NoReports reports;
  auto p = LogParser::create(ParserOptions{}, &tracker, &reports);
  REQUIRE(p.ok());
  const std::string t = "2026-12-04 04:06:40.";
  auto line = [&](const char* ms, const char* sock, int port, const char* what) {
    return t + ms + " UTC [26196] LOG C-0x" + sock + ": appdb/app@10.0.0.1:" +
           std::to_string(port) + " " + what + "\n";
  };
  const char* login = "login attempt: db=appdb user=app tls=no";
  const char* close = "closing because: client close request (age=0s)";
  (*p)->feed(line("100", "a1", 5001, login) + line("200", "a2", 5002, login) +
             line("300", "a3", 5003, login) +  // a1 forgotten
             line("400", "a1", 5001, close) +  // unmatched
             line("500", "a3", 5003, close) +  // matched
             line("600", "a4", 5004, login) +  // in a3's slot
             line("700", "a4", 5004, close) +
             "2026-12-04 04:06:41.000 UTC [26196] LOG process up: PgBouncer 1.18.0\n" +
             line("900", "a2", 5002, close));  // a2 ended by the restart: unmatched
  (*p)->end_input();
  (*p)->idle();
  CHECK(tracker.stats().evicted == 1);
  const std::vector<std::string>& ev = sink.lines;
  REQUIRE(ev.size() == 10);
  CHECK_THAT(ev[0], Catch::Contains(R"("type":"connect")") && Catch::Contains(R"("session":"26196-1")"));
  CHECK_THAT(ev[1], Catch::Contains(R"("type":"connect")") && Catch::Contains(R"("session":"26196-2")"));
  CHECK_THAT(ev[2], Catch::Contains(R"("type":"connect")") && Catch::Contains(R"("session":"26196-3")"));
  CHECK_THAT(ev[3], Catch::Contains(R"("type":"disconnect")") && Catch::Contains(R"("port":5001)") &&
                        Catch::Contains(R"("matched":false)"));
  CHECK_THAT(ev[4], Catch::Contains(R"("session":"26196-3")") && Catch::Contains(R"("duration_ms":200,"matched":true)"));
  CHECK_THAT(ev[5], Catch::Contains(R"("type":"connect")") && Catch::Contains(R"("session":"26196-5")"));
  CHECK_THAT(ev[6], Catch::Contains(R"("session":"26196-5")") && Catch::Contains(R"("duration_ms":100,"matched":true)"));
  CHECK_THAT(ev[7], Catch::Contains(R"("type":"server")") && Catch::Contains(R"("state":"shutdown")"));
  CHECK_THAT(ev[8], Catch::Contains(R"("type":"server")") && Catch::Contains(R"("state":"ready")"));
  CHECK_THAT(ev[9], Catch::Contains(R"("type":"disconnect")") && Catch::Contains(R"("port":5002)") &&
                        Catch::Contains(R"("matched":false)"));
}

TEST_CASE("--input=pgbouncer and detection", "[pgbouncer_format]") {
  CHECK(parse_input_format("pgbouncer").ok());
  CHECK(input_format_name(InputFormat::kPgbouncer) == "pgbouncer");
  const std::string log =
      "2018-09-12 16:09:05.313 3394 LOG C-0x13e4860: db/user@10.0.0.5:40022 login attempt: db=db user=user\n";
  CHECK(events_of(log, InputFormat::kPgbouncer).size() == 1);
  CHECK(events_of(log, InputFormat::kAuto).size() == 1);
  CHECK(events_of(log, InputFormat::kStderr).empty());
}

TEST_CASE("PgBouncer lines cut at every byte, and with bytes changed, break nothing", "[pgbouncer_format]") {
  const std::string lines[] = {
      "2026-12-04 04:06:41.119 UTC [26196] LOG C-0x55ba30f86c10: appdb/app@[::1]:45506 login attempt: db=appdb user=app tls=no replication=yes",
      "2018-09-12 16:09:05.313 3394 LOG C-0x13e4860: db/user@10.0.0.5:40022 closing because: client close request (age=0)",
      "2026-12-04 04:06:42.385 +05 [26196] LOG C-0x1: (nodb)/(nouser)@unix(77):6432 closing because: no more connections allowed (max_client_conn) (age=12s)",
      "2026-12-04 04:06:42.385 UTC [26196] DEBUG C-0x1: (nodb)/(nouser)@127.0.0.1:1 using application_name: x",
      "2026-12-04 04:06:42.385 UTC [26196] FATAL @src/objects.c:1 in function f(): x",
  };
  size_t events = 0;
  for (const std::string& l : lines) {
    for (size_t n = 0; n <= l.size(); ++n) {
      std::string cut = l.substr(0, n) + "\n" + l + "\n";
      events += events_of(cut, InputFormat::kPgbouncer).size();
      std::string changed = l;
      if (n < l.size()) changed[n] = n % 3 == 0 ? ']' : n % 3 == 1 ? '@' : '\x01';
      events += events_of(changed + "\n" + changed + "\n", InputFormat::kAuto).size();
      LogRecord r;
      parse_pgbouncer_line(l.substr(n), &r);
      parse_pgbouncer_message(l.substr(n), &r);
    }
  }
  CHECK(events > 0);
}

namespace {
// Every field of a record, for comparing two parses.
std::string describe(bool ok, const LogRecord& r) {
  if (!ok) return "no";
  const Timestamp& t = r.time;
  return std::to_string(t.wall_ms) + "|" + std::to_string(t.offset_min) + "|" +
         std::to_string(static_cast<int>(t.zone)) + "|" + std::to_string(t.has_ms) + "|" +
         t.abbrev + "|" + std::to_string(r.pid) + "|" + std::to_string(r.line_num) + "|" +
         std::string(r.session_id) + "|" + std::string(r.user) + "|" + std::string(r.db) + "|" +
         std::string(r.app) + "|" + std::string(r.host) + "|" + std::to_string(r.port) + "|" +
         std::string(r.backend_type) + "|" + std::string(r.severity) + "|" +
         std::string(r.message) + "|" + std::string(r.server) + "|" + std::string(r.via) + "|" +
         std::string(r.socket);
}
}  // namespace

// PgbouncerFormat::parse reads a line like the line before it from a model
// of that line; every change of shape must fall back to the full reader and
// give what it gives: a new minute, second 60 and 61, other zone, pid or
// level, fewer or more fraction digits, no space after the level, a cut or
// damaged line, and the lines of the corpus examples above.
TEST_CASE("PgbouncerFormat::parse gives parse_pgbouncer_line's records", "[pgbouncer_format]") {
  const std::vector<std::string> lines = {
      "2026-12-04 04:10:00.456 UTC [6505] LOG C-0x55d8f18f9e30: appdb/app@127.0.0.1:60544 login attempt: db=appdb user=app tls=no",
      "2026-12-04 04:10:00.457 UTC [6505] LOG C-0x55d8f18f9e30: appdb/app@127.0.0.1:60544 closing because: client close request (age=0s)",
      "2026-12-04 04:10:59.999 UTC [6505] LOG C-0x1: a/b@10.0.0.1:1 login attempt: db=a user=b tls=no",
      "2026-12-04 04:10:60.000 UTC [6505] LOG C-0x1: a/b@10.0.0.1:1 closing because: client close request (age=0s)",
      "2026-12-04 04:10:61.000 UTC [6505] LOG C-0x1: a/b@10.0.0.1:1 closing because: client close request (age=0s)",
      "2026-12-04 04:11:00.001 UTC [6505] LOG C-0x2: a/b@10.0.0.1:2 login attempt: db=a user=b tls=no",
      "2026-12-04 04:11:00.001 UTC [6505] WARNING C-0x2: a/b@10.0.0.1:2 pooler error: x",
      "2026-12-04 04:11:00.002 UTC [6505] LOG C-0x2: a/b@10.0.0.1:2 closing because: client close request (age=0s)",
      "2026-12-04 04:11:00.002 CET [6505] LOG C-0x2: a/b@10.0.0.1:2 closing because: client close request (age=0s)",
      "2026-12-04 04:11:00.003 CET [6506] LOG C-0x2: a/b@10.0.0.1:2 closing because: client close request (age=0s)",
      "2026-12-04 04:11:00.003 CET [6506] LOG",
      "2026-12-04 04:11:00.003 CET [6506] LOG ",
      "2026-12-04 04:11:00.003 CET [6506] LOGX x",
      "2026-12-04 04:11:00.03 CET [6506] LOG x",
      "2026-12-04 04:11:00.0034 CET [6506] LOG x",
      "2026-12-04 04:11:00.0x3 CET [6506] LOG x",
      "2026-12-04 04:11:0x.003 CET [6506] LOG x",
      "2026-12-04 04:11:00.003 CET [6506] LOG x",
      "2026-12-04 04:11:00.004 +05 [6506] LOG process up: PgBouncer 1.14.0",
      "2026-12-04 04:11:00.005 +05 [6506] LOG C-0x3: a/b@[::1]:3 login attempt: db=a user=b tls=no",
      "2026-12-05 04:11:00.005 +05 [6506] LOG C-0x3: a/b@[::1]:3 login attempt: db=a user=b tls=no",
      "2018-09-12 16:09:05.313 3394 LOG C-0x13e4860: db/user@10.0.0.5:40022 closing because: client close request (age=0)",
      "2018-09-12 16:09:05.314 3394 LOG C-0x13e4860: db/user@10.0.0.5:40022 login attempt: db=db user=user",
      "2018-09-12 16:09:05.314 3394 LOG C-0x13e4860: ",
      "2018-09-12 16:09:05.314 3394 LOG",
      "2018-09-12 16:09:05",
      "",
      "\tcontinued",
  };
  PgbouncerFormat f;
  for (int pass = 0; pass < 2; ++pass) {  // the second pass starts from the last line's model
    for (const std::string& l : lines) {
      LogRecord want, got;
      const bool want_ok = parse_pgbouncer_line(l, &want);
      const bool got_ok = f.parse(l, &got);
      CAPTURE(l);
      CHECK(describe(got_ok, got) == describe(want_ok, want));
    }
  }
}

// The socket prefix ends at the first ": " within 40 characters (a longer
// one is no socket: the line is a message); the address token ends at the
// first space, names at the first '/'.
TEST_CASE("PgBouncer socket prefixes up to 40 characters", "[pgbouncer_format]") {
  const std::string tail = "a/b@10.0.0.1:5 closing because: client close request";
  for (size_t len = 5; len <= 42; ++len) {
    std::string socket = "C-0x" + std::string(len - 4, 'f');
    const std::string line = socket + ": " + tail;  // the record's views point into it
    LogRecord r;
    parse_pgbouncer_message(line, &r);
    if (len <= 40) {
      CHECK(r.socket == socket);
      CHECK(r.host == "10.0.0.1");
      CHECK(r.message == "closing because: client close request");
    } else {
      CHECK(r.socket.empty());
      CHECK(r.message == line);
    }
  }
  LogRecord r;
  parse_pgbouncer_message("C-0x1:x: a/b/c@h:1", &r);  // ':' not before a space
  CHECK(r.socket == "C-0x1:x");
  CHECK(r.db == "a");
  CHECK(r.user == "b/c");
  CHECK(r.host == "h");
  CHECK(r.message.empty());
  parse_pgbouncer_message("C-0x1: peer-2@h:1 x", &r);  // no '/': a peering socket
  CHECK(r.socket == "C-0x1");
  CHECK(r.message == "x");
}

TEST_CASE("socket_id reads a client socket's pointer; other prefixes are hashed", "[pgbouncer_format]") {
  const SocketId a = socket_id("C-0x55d8f18f9e30");
  CHECK(a.pointer == 0x55d8f18f9e30u);
  CHECK(a.digits == 12);
  CHECK(socket_id("C-0xf").pointer == socket_id("C-0x0f").pointer);
  CHECK(socket_id("C-0xf").digits != socket_id("C-0x0f").digits);  // two sockets
  CHECK(socket_id("C-0xffffffffffffffff").digits == 16);
  for (const char* other : {"C-0x", "C-0xF", "C-0x12g", "C-0x12345678901234567", "C-0:x", "C-0x1:x"}) {
    INFO(other);
    CHECK(socket_id(other).digits == 255);
  }
  CHECK(socket_id("C-0x1:x").pointer != socket_id("C-0x1:y").pointer);
  // classify_pgbouncer() fills it in for a client's line only.
  CHECK(classify_pgbouncer("LOG", "C-0xab", "login attempt: db=a user=b").socket.pointer == 0xab);
  CHECK(classify_pgbouncer("LOG", "S-0xab", "new connection to server").socket.digits == 0);
}

TEST_CASE("PgBouncer client events held behind a login keep their client's names", "[pgbouncer_format]") {
  // A client's connect and disconnect wait in the queue as references to
  // its slot (tracker.hpp, Queued::slot): a client that ends while an
  // earlier login is held leaves its slot to no one until they are written.
  const std::string t = "2026-12-04 04:06:40.";
  auto line = [&](const char* ms, const char* sock, int port, const char* user, const char* what) {
    return t + ms + " UTC [26196] LOG C-0x" + sock + ": appdb/" + user + "@10.0.0.1:" +
           std::to_string(port) + " " + what + "\n";
  };
  const std::string close = "closing because: client close request (age=0s)";
  const std::vector<std::string> ev = events_of(
      line("100", "b1", 5001, "held", "login attempt: db=appdb user=held tls=no") +
      line("200", "a1", 5002, "first", "login attempt: db=appdb user=first tls=no") +
      line("300", "a1", 5002, "first", close.c_str()) +
      line("400", "c1", 5003, "second", "login attempt: db=appdb user=second tls=no") +
      line("500", "c1", 5003, "second", close.c_str()) +
      line("600", "b1", 5001, "held", close.c_str()));
  REQUIRE(ev.size() == 6);
  CHECK_THAT(ev[0], Catch::Contains(R"("type":"connect")") && Catch::Contains(R"("user":"held")"));
  CHECK(ev[1] == R"({"type":"connect","ts":"2026-12-04T04:06:40.200Z","session":"26196-2","user":"first","db":"appdb","host":"10.0.0.1","port":5002,"via":"pgbouncer"})");
  CHECK(ev[2] == R"({"type":"disconnect","ts":"2026-12-04T04:06:40.300Z","session":"26196-2","user":"first","db":"appdb","host":"10.0.0.1","port":5002,"duration_ms":100,"matched":true,"via":"pgbouncer"})");
  CHECK_THAT(ev[3], Catch::Contains(R"("type":"connect")") && Catch::Contains(R"("user":"second")") &&
                        Catch::Contains(R"("port":5003)"));
  CHECK_THAT(ev[4], Catch::Contains(R"("type":"disconnect")") && Catch::Contains(R"("user":"second")"));
  CHECK_THAT(ev[5], Catch::Contains(R"("type":"disconnect")") && Catch::Contains(R"("user":"held")") &&
                        Catch::Contains(R"("duration_ms":500)"));
}

namespace {
// parse_pgbouncer_message's client token read the plain way (rfind and
// find over views), as the oracle of its one-pass scan.
void plain_message(std::string_view text, LogRecord* r) {
  r->message = text;
  if (text.size() < 6 || (text[0] != 'C' && text[0] != 'S') || text.substr(1, 3) != "-0x") return;
  size_t colon = text.substr(0, 42).find(": ", 4);
  if (colon == std::string_view::npos) return;
  std::string_view rest = text.substr(colon + 2);
  size_t sp = rest.find(' ');
  std::string_view who = rest.substr(0, sp);
  size_t at = who.rfind('@');
  if (at == std::string_view::npos) return;
  std::string_view where = who.substr(at + 1), addr;
  size_t port_at;
  if (!where.empty() && where[0] == '[') {
    size_t close = where.find(']');
    if (close == std::string_view::npos || close + 1 >= where.size() || where[close + 1] != ':') return;
    addr = where.substr(1, close - 1);
    port_at = close + 2;
  } else {
    size_t c = where.rfind(':');
    if (c == std::string_view::npos) return;
    addr = where.substr(0, c);
    port_at = c + 1;
  }
  int64_t port = parse_decimal(where.substr(port_at), 65535);
  if (port < 0) return;
  std::string_view names = who.substr(0, at);
  size_t slash = names.find('/');
  if (slash != std::string_view::npos) {
    r->db = names.substr(0, slash);
    r->user = names.substr(slash + 1);
  }
  r->socket = text.substr(0, colon);
  r->host = addr;
  r->port = static_cast<int32_t>(port);
  r->message = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
}
}  // namespace

TEST_CASE("parse_pgbouncer_message reads random client tokens as find and rfind do", "[pgbouncer_format]") {
  // Tokens of 0-70 bytes over the characters that matter, so that the
  // marks fall on both sides of every 16-byte block's edge.
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  auto next = [&seed]() {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  static const char kChars[] = "ab1234567890@@::/[] ";
  const char* kSockets[] = {"C-0x55d8f193ce80: ", "C-0x1: ", "S-0x55d8f193ce80aa: ", "C-0x55d8f193ce80"};
  for (int i = 0; i < 20000; ++i) {
    std::string text = kSockets[next() % 4];
    const size_t n = next() % 71;
    for (size_t k = 0; k < n; ++k) text += kChars[next() % (sizeof kChars - 1)];
    if (next() % 2) text += " login attempt: db=a user=b";
    LogRecord a, b;
    parse_pgbouncer_message(text, &a);
    plain_message(text, &b);
    INFO(text);
    REQUIRE(a.db == b.db);
    REQUIRE(a.user == b.user);
    REQUIRE(a.host == b.host);
    REQUIRE(a.port == b.port);
    REQUIRE(a.socket == b.socket);
    REQUIRE(a.message == b.message);
    REQUIRE(a.db.data() == b.db.data());
  }
}
