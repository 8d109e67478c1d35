#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>

#include "render/color.hpp"
#include "event.hpp"
#include "render/event_line.hpp"
#include "lifecycle/message.hpp"
#include "render/render.hpp"

using namespace pgconn;

namespace {

const Palette kPlain = make_palette(ColorMode::kNever, true, nullptr, "xterm");
const Palette kColour = make_palette(ColorMode::kAlways, false, nullptr, nullptr);

std::string line(const Event& e, const Palette& p = kPlain, bool with_server = false) {
  std::string out;
  render_event_line(e, p, with_server, &out);
  return out;
}

Event connect(std::string app, std::string host, std::string user = "app_user",
              std::string db = "production") {
  Event e;
  e.type = EventType::kConnect;
  e.ts = "2024-05-01T10:23:45.123Z";
  e.pid = 4106;
  e.session = "4106-1";
  e.user = std::move(user);
  e.db = std::move(db);
  e.app = std::move(app);
  e.host = std::move(host);
  return e;
}

Event disconnect(std::string app, int64_t duration_ms, std::string reason = "") {
  Event e;
  e.type = EventType::kDisconnect;
  e.ts = "2024-05-01T10:23:47.000Z";
  e.user = "admin";
  e.db = "test";
  e.app = std::move(app);
  e.host = "10.0.1.9";
  e.duration_ms = duration_ms;
  e.reason = std::move(reason);
  return e;
}

Event reject(std::string reason, std::string user = "app_user") {
  Event e;
  e.type = EventType::kReject;
  e.ts = "2024-05-01T10:23:49Z";
  e.user = std::move(user);
  e.reason = std::move(reason);
  return e;
}

Event server(std::string state) {
  Event e;
  e.type = EventType::kServer;
  e.ts = "2024-05-01T10:24:00.500Z";
  e.pid = 4000;
  e.state = std::move(state);
  return e;
}

}  // namespace

// --- the seeds' lines (004, "Watch View")

TEST_CASE("event line: connect as in the seeds", "[event_line]") {
  CHECK(line(connect("rails", "10.0.1.5")) ==
        "[+] 10:23:45 rails connected from 10.0.1.5 (user: app_user, db: production)\n");
}

TEST_CASE("event line: disconnect with a duration as in the seeds", "[event_line]") {
  CHECK(line(disconnect("psql", 2300)) ==
        "[-] 10:23:47 psql disconnected (duration: 2.3s, user: admin, db: test)\n");
}

TEST_CASE("event line: too many connections as in the seeds", "[event_line]") {
  CHECK(line(reject("too_many_clients")) ==
        "[!] 10:23:49 Connection failed: too many connections (max_connections) (user: app_user)\n");
}

// --- connects

TEST_CASE("event line: connect over a Unix socket", "[event_line]") {
  CHECK(line(connect("psql", "[local]", "admin", "postgres")) ==
        "[+] 10:23:45 psql connected from [local] (user: admin, db: postgres)\n");
}

TEST_CASE("event line: connect without a host", "[event_line]") {
  CHECK(line(connect("psql", "", "admin", "postgres")) ==
        "[+] 10:23:45 psql connected from unknown (user: admin, db: postgres)\n");
}

TEST_CASE("event line: replication connection", "[event_line]") {
  Event e = connect("walreceiver", "10.0.0.9", "replicator", "");
  e.replication = Flag::kTrue;
  CHECK(line(e) ==
        "[+] 10:23:45 walreceiver connected from 10.0.0.9 (replication) (user: replicator)\n");
  e.replication = Flag::kFalse;
  CHECK(line(e) == "[+] 10:23:45 walreceiver connected from 10.0.0.9 (user: replicator)\n");
}

TEST_CASE("event line: an unset application shows as unknown", "[event_line]") {
  CHECK(line(connect("", "10.0.2.21", "readonly", "analytics")) ==
        "[+] 10:23:45 unknown connected from 10.0.2.21 (user: readonly, db: analytics)\n");
  CHECK(line(disconnect("", 29900)) ==
        "[-] 10:23:47 unknown disconnected (duration: 29.9s, user: admin, db: test)\n");
}

TEST_CASE("event line: the port is not shown", "[event_line]") {
  Event e = connect("rails", "10.0.1.5");
  e.port = 51234;
  CHECK(line(e) ==
        "[+] 10:23:45 rails connected from 10.0.1.5 (user: app_user, db: production)\n");
}

TEST_CASE("event line: unknown user and db are left out", "[event_line]") {
  CHECK(line(connect("rails", "10.0.1.5", "", "")) == "[+] 10:23:45 rails connected from 10.0.1.5\n");
  CHECK(line(connect("rails", "10.0.1.5", "", "shop")) ==
        "[+] 10:23:45 rails connected from 10.0.1.5 (db: shop)\n");
}

// --- disconnects

TEST_CASE("event line: disconnect without a duration", "[event_line]") {
  CHECK(line(disconnect("psql", -1)) == "[-] 10:23:47 psql disconnected (user: admin, db: test)\n");
}

TEST_CASE("event line: disconnect with a reason", "[event_line]") {
  CHECK(line(disconnect("psql", 2300, "terminated")) ==
        "[-] 10:23:47 psql disconnected: terminated by an administrator "
        "(duration: 2.3s, user: admin, db: test)\n");
  CHECK(line(disconnect("psql", -1, "lost")) ==
        "[-] 10:23:47 psql disconnected: its end was not logged (user: admin, db: test)\n");
}

// The phrases themselves live in end_phrase() and reason_phrase(); these
// tests check that each reason has one of its own, in words, and that the
// line is built from it (a few are pinned where SPEC.md or a test above
// shows them), not a second copy of the tables.

// A phrase a person reads: not the code itself, no snake_case word (but a
// file name, pg_hba.conf) outside the parentheses that name a setting
// ("(query_wait_timeout)").
bool in_words(std::string_view phrase, std::string_view code) {
  if (phrase.empty() || phrase == code) return false;
  std::string_view rest = phrase.substr(0, phrase.find('('));
  while (!rest.empty()) {
    const size_t end = std::min(rest.find(' '), rest.size());
    const std::string_view word = rest.substr(0, end);
    if (word.find('_') != std::string_view::npos && word.find('.') == std::string_view::npos)
      return false;
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  return true;
}

TEST_CASE("event line: every disconnect reason has its phrase", "[event_line]") {
  // pgconn-events(5) `reason` of a disconnect (SPEC.md §2), and PgBouncer's.
  const std::string_view kReasons[] = {
      "terminated", "idle_timeout", "idle_in_transaction_timeout", "transaction_timeout",
      "client_lost", "shutdown",    "crash",                       "lost",
      "query_wait_timeout", "query_timeout"};
  std::set<std::string_view> phrases;
  for (const std::string_view reason : kReasons) {
    INFO(reason);
    const std::string_view phrase = end_phrase(reason);
    CHECK(in_words(phrase, reason));
    CHECK(phrases.insert(phrase).second);  // no two reasons read the same
    CHECK(line(disconnect("rails", 850, std::string(reason))) ==
          "[-] 10:23:47 rails disconnected: " + std::string(phrase) +
              " (duration: 850ms, user: admin, db: test)\n");
  }
  CHECK(end_phrase("client_lost") == "client connection lost");
  CHECK(end_phrase("something_new") == "something_new");
}

TEST_CASE("event line: durations as people read them", "[event_line]") {
  const std::pair<int64_t, const char*> kCases[] = {
      {0, "0ms"},           {850, "850ms"},        {999, "999ms"},
      {1000, "1.0s"},       {2300, "2.3s"},        {2399, "2.3s"},
      {59999, "59.9s"},     {60000, "1m00s"},      {252000, "4m12s"},
      {252999, "4m12s"},    {3599000, "59m59s"},   {3600000, "1h00m"},
      {10920000, "3h02m"},  {86400000, "1d00h"},
  };
  for (const auto& [ms, text] : kCases) {
    INFO(ms);
    CHECK(line(disconnect("psql", ms)) ==
          std::string("[-] 10:23:47 psql disconnected (duration: ") + text +
              ", user: admin, db: test)\n");
  }
}

// --- rejects

TEST_CASE("event line: every reject reason has its phrase", "[event_line]") {
  std::set<std::string_view> phrases;
  for (const std::string_view reason : kRejectReasons) {
    INFO(reason);
    const std::string_view phrase = reason_phrase(reason);
    if (reason != "other") CHECK(in_words(phrase, reason));
    CHECK(phrases.insert(phrase).second);
    CHECK(line(reject(std::string(reason))) ==
          "[!] 10:23:49 Connection failed: " + std::string(phrase) + " (user: app_user)\n");
  }
  CHECK(std::size(kRejectReasons) == 17);
  // SPEC.md §5's example, and the fallback.
  CHECK(reason_phrase("too_many_clients") == "too many connections (max_connections)");
  CHECK(reason_phrase("other") == "other");
  // PgBouncer's own limit reads as its setting.
  Event bouncer = reject("too_many_clients");
  bouncer.via = "pgbouncer";
  CHECK(line(bouncer) ==
        "[!] 10:23:49 Connection failed: too many clients (max_client_conn) (user: app_user, via: pgbouncer)\n");
}

TEST_CASE("event line: a reject names user, db and host when known", "[event_line]") {
  Event e = reject("no_database", "bob");
  e.db = "nosuch";
  e.host = "[local]";
  CHECK(line(e) ==
        "[!] 10:23:49 Connection failed: database does not exist "
        "(user: bob, db: nosuch, host: [local])\n");
  Event bare = reject("", "");
  CHECK(line(bare) == "[!] 10:23:49 Connection failed: other\n");
}

// --- server events

TEST_CASE("event line: issue_13 server events are [*], never a connection's marker", "[event_line]") {
  CHECK(line(server("ready")) == "[*] 10:24:00 Server ready to accept connections\n");
  CHECK(line(server("shutdown")) == "[*] 10:24:00 Server shut down: every session ended\n");
  CHECK(line(server("crash")) == "[*] 10:24:00 Server crashed: every session ended\n");
  CHECK(line(server("snapshot")) == "[*] 10:24:00 Server: sessions checked against the process table\n");
  CHECK(line(server("something_new")) == "[*] 10:24:00 Server: something_new\n");
}

// --- time

TEST_CASE("event line: the time is the wall clock as logged", "[event_line]") {
  Event e = connect("rails", "10.0.1.5");
  e.ts = "2024-05-01T23:59:59.999+02:00";
  CHECK(line(e).rfind("[+] 23:59:59 rails", 0) == 0);
  e.ts = "2024-05-01T08:05:09-03:30";
  CHECK(line(e).rfind("[+] 08:05:09 rails", 0) == 0);
  e.ts = "2024-05-01T10:00:00";  // an unresolved zone abbreviation
  e.tz = "CEST";
  CHECK(line(e).rfind("[+] 10:00:00 rails", 0) == 0);
  e.ts = "";
  CHECK(line(e).rfind("[+] --:--:-- rails", 0) == 0);
}

// --- several servers

TEST_CASE("event line: with_server names the server", "[event_line]") {
  Event e = connect("rails", "10.0.1.5");
  e.server = "db1";
  CHECK(line(e, kPlain, true) ==
        "[+] 10:23:45 db1: rails connected from 10.0.1.5 (user: app_user, db: production)\n");
  CHECK(line(e, kPlain, false) ==
        "[+] 10:23:45 rails connected from 10.0.1.5 (user: app_user, db: production)\n");
  Event s = server("crash");
  s.server = "db2";
  CHECK(line(s, kPlain, true) == "[*] 10:24:00 db2: Server crashed: every session ended\n");
  Event none = connect("rails", "10.0.1.5");
  CHECK(line(none, kPlain, true) ==
        "[+] 10:23:45 unknown: rails connected from 10.0.1.5 (user: app_user, db: production)\n");
}

// --- untrusted names

TEST_CASE("event line: control characters, ESC and invalid UTF-8 are shown escaped",
          "[event_line]") {
  Event e = connect("x\x1b[31mred\x1b" "]0;title\x07", "10.0.1.5", "u\nv\tw\x7f", "d\\b\xff\xc3");
  CHECK(line(e) ==
        "[+] 10:23:45 x\\x1b[31mred\\x1b]0;title\\x07 connected from 10.0.1.5 "
        "(user: u\\x0av\\x09w\\x7f, db: d\\\\b\\xff\\xc3)\n");
  Event c1 = connect("a\xc2\x9b" "1m\xc3\xa9", "h\x1b" "c", "", "");  // C1 CSI, é
  CHECK(line(c1) == "[+] 10:23:45 a\\xc2\\x9b1m\xc3\xa9 connected from h\\x1bc\n");
  Event s = server("ready");
  s.server = "srv\x1b[2J";
  CHECK(line(s, kPlain, true) == "[*] 10:24:00 srv\\x1b[2J: Server ready to accept connections\n");
}

TEST_CASE("event line: no raw control byte reaches the line, whatever the field",
          "[event_line]") {
  const std::string evil = "\x1b[2J\x1b]0;pwned\x07\r\x9b" "31m";
  Event events[6];
  events[0] = connect(evil, evil, evil, evil);
  events[1] = disconnect(evil, 1000, "terminated");
  events[1].user = evil;
  events[1].db = evil;
  events[2] = reject("auth_failed", evil);
  events[2].db = evil;
  events[2].host = evil;
  events[3] = server(evil);
  events[3].server = evil;
  // A hand-made stream may carry any reason: pgconn-watch reads whatever
  // is piped into it (SPEC.md §6: log content is untrusted). 518f1b1 wrote
  // reasons this version does not know raw (reason_phrase() and end_phrase()
  // return them as they are), so an ESC in `reason` reached the terminal.
  events[4] = reject(evil);
  events[5] = disconnect("psql", 1000, evil);
  for (int i = 0; i < 6; ++i) {
    INFO("event " << i);
    std::string out = line(events[i], kPlain, true);
    REQUIRE(!out.empty());
    CHECK(out.back() == '\n');
    size_t bad = std::string::npos;
    for (size_t k = 0; k + 1 < out.size(); ++k) {
      unsigned char c = static_cast<unsigned char>(out[k]);
      if (c < 0x20 || c == 0x7f || c == 0x9b) bad = k;
    }
    CHECK(bad == std::string::npos);
  }
}

TEST_CASE("event line: an unknown reason is shown escaped", "[event_line]") {
  CHECK(line(reject("x\x1b[31my")) == "[!] 10:23:49 Connection failed: x\\x1b[31my (user: app_user)\n");
  CHECK(line(reject("something_new")) ==
        "[!] 10:23:49 Connection failed: something_new (user: app_user)\n");
  // Likewise a disconnect reason.
  CHECK(line(disconnect("psql", -1, "q\x1b]0;t\x07")) ==
        "[-] 10:23:47 psql disconnected: q\\x1b]0;t\\x07 (user: admin, db: test)\n");
  CHECK(line(server("x\x1b" "y")) == "[*] 10:24:00 Server: x\\x1by\n");
}

// --- colour

TEST_CASE("event line: colours are ESC sequences around the mark and the time", "[event_line]") {
  CHECK(line(connect("rails", "10.0.1.5"), kColour) ==
        "\x1b[32m[+]\x1b[0m \x1b[2m10:23:45\x1b[0m rails connected from 10.0.1.5 "
        "(user: app_user, db: production)\n");
  CHECK(line(disconnect("psql", 2300), kColour) ==
        "\x1b[33m[-]\x1b[0m \x1b[2m10:23:47\x1b[0m psql disconnected "
        "(duration: 2.3s, user: admin, db: test)\n");
  CHECK(line(reject("too_many_clients"), kColour) ==
        "\x1b[31m[!]\x1b[0m \x1b[2m10:23:49\x1b[0m Connection failed: too many connections "
        "(max_connections) (user: app_user)\n");
  // Server events: one marker, the colour tells a start from an end.
  CHECK(line(server("crash"), kColour).rfind("\x1b[31m[*]\x1b[0m ", 0) == 0);
  CHECK(line(server("shutdown"), kColour).rfind("\x1b[33m[*]\x1b[0m ", 0) == 0);
  CHECK(line(server("ready"), kColour).rfind("\x1b[32m[*]\x1b[0m ", 0) == 0);
}

TEST_CASE("event line: without colour there is no ESC byte", "[event_line]") {
  Event es[] = {connect("rails", "10.0.1.5"), disconnect("psql", 2300, "idle_timeout"),
                reject("role_limit"), server("ready"), server("shutdown"), server("crash")};
  for (const Event& e : es) {
    CHECK(line(e, kPlain).find('\x1b') == std::string::npos);
    CHECK(line(e, Palette{}).find('\x1b') == std::string::npos);
    CHECK(line(e, kColour).find('\x1b') != std::string::npos);
  }
}

TEST_CASE("event line: render appends to what is there", "[event_line]") {
  std::string out = "before\n";
  render_event_line(reject("auth_failed"), kPlain, false, &out);
  render_event_line(server("ready"), kPlain, false, &out);
  CHECK(out ==
        "before\n"
        "[!] 10:23:49 Connection failed: authentication failed (user: app_user)\n"
        "[*] 10:24:00 Server ready to accept connections\n");
}

TEST_CASE("event line: a pooler's clients and process are marked", "[event_line]") {
  Event c = connect("unknown", "10.0.1.5");
  c.via = "pgbouncer";
  CHECK(line(c).find("(user: app_user, db: production, via: pgbouncer)\n") != std::string::npos);
  Event d = disconnect("rails", 2300, "query_wait_timeout");
  d.via = "pgbouncer";
  CHECK(line(d) ==
        "[-] 10:23:47 rails disconnected: waited too long for a server connection "
        "(query_wait_timeout) (duration: 2.3s, user: admin, db: test, via: pgbouncer)\n");
  Event s = server("shutdown");
  s.via = "pgbouncer";
  CHECK(line(s) == "[*] 10:24:00 pgbouncer stopped: every client of it ended\n");
  s.state = "ready";
  CHECK(line(s) == "[*] 10:24:00 pgbouncer ready to accept connections\n");
  // PgBouncer's max_client_conn is not PostgreSQL's max_connections.
  Event r = reject("too_many_clients");
  r.via = "pgbouncer";
  CHECK(line(r) == "[!] 10:23:49 Connection failed: too many clients (max_client_conn) "
                   "(user: app_user, via: pgbouncer)\n");
}
