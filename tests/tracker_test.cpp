// Tracker: the per-backend table that joins lifecycle lines into events
// (SPEC.md §2, pg-log-formats.md §3-§6). Records are built by hand; a fake
// sink keeps every event, and most checks compare the encoded line so that
// key order and omitted fields are checked too.
#include <catch2/catch.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "codec/event_codec.hpp"
#include "timestamp.hpp"
#include "lifecycle/tracker.hpp"

using namespace pgconn;

namespace {

struct FakeSink : EventSink {
  std::vector<Event> events;
  size_t stop_after = SIZE_MAX;  // returns false from this event on
  bool on_event(const Event& e) override {
    events.push_back(e);
    return events.size() < stop_after;
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const Event& e : events) {
      std::string s;
      encode_json(e, &s);
      s.pop_back();  // the newline
      out.push_back(s);
    }
    return out;
  }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const Event& e : events) out.emplace_back(event_type_name(e.type));
    return out;
  }
};

// A report built by hand; every view points at a string literal.
struct Rec {
  LogRecord r;
  Rec(const char* time, int64_t pid, const char* severity, const char* message) {
    if (time != nullptr) REQUIRE(parse_pg_time(time, &r.time));
    r.pid = pid;
    r.severity = severity;
    r.message = message;
  }
  Rec& session(const char* s) { r.session_id = s; return *this; }
  Rec& server(const char* s) { r.server = s; return *this; }
  Rec& user(const char* s) { r.user = s; return *this; }
  Rec& db(const char* s) { r.db = s; return *this; }
  Rec& app(const char* s) { r.app = s; return *this; }
  Rec& host(const char* h, int32_t port = -1) {
    r.host = h;
    r.port = port;
    return *this;
  }
};

struct Fixture {
  FakeSink sink;
  Tracker tracker;
  explicit Fixture(TrackerOptions o = TrackerOptions()) : tracker(&sink, std::move(o)) {}
  bool add(const Rec& rec) { return tracker.add(rec.r); }
};

// One line of a script fed to the tracker in order; a failure names it.
struct Line {
  const char* time;
  int64_t pid;
  const char* severity;
  const char* message;
  const char* session = nullptr;
  const char* server = nullptr;
};

void feed(Fixture& f, std::initializer_list<Line> lines) {
  for (const Line& l : lines) {
    Rec rec(l.time, l.pid, l.severity, l.message);
    if (l.session != nullptr) rec.session(l.session);
    if (l.server != nullptr) rec.server(l.server);
    INFO("line: " << l.message);
    REQUIRE(f.add(rec));
  }
}

// One TCP connection of pid 100 up to its `connection authorized`.
void connect_100(Fixture& f, const char* session = "663213aa.64") {
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.100 UTC", 100, "LOG",
                    "connection received: host=10.0.0.5 port=51234")
                    .session(session)));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.105 UTC", 100, "LOG",
                    "connection authorized: user=app database=shop application_name=psql")
                    .session(session)));
}

const char* const kConnect100 =
    "{\"type\":\"connect\",\"ts\":\"2024-05-01T10:00:00.105Z\",\"pid\":100,"
    "\"session\":\"663213aa.64\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"psql\","
    "\"host\":\"10.0.0.5\",\"port\":51234}";

}  // namespace

// ---------------------------------------------------------------- settling

TEST_CASE("Tracker holds connection authorized until the backend's next line", "[tracker]") {
  Fixture f;
  connect_100(f);
  CHECK(f.sink.events.empty());
  CHECK(f.tracker.holding());
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.300 UTC", 100, "LOG", "statement: SELECT 1")
                    .session("663213aa.64")));
  CHECK_FALSE(f.tracker.holding());
  CHECK(f.sink.lines() == std::vector<std::string>{kConnect100});
}

TEST_CASE("Tracker settles a held connection by a line logged at least 1 s later", "[tracker]") {
  Fixture f;
  connect_100(f);
  // Another backend 999 ms after `connection authorized`: still held.
  REQUIRE(f.add(Rec("2024-05-01 10:00:01.104 UTC", 200, "LOG", "checkpoint starting: time")));
  CHECK(f.sink.events.empty());
  CHECK(f.tracker.holding());
  // 1000 ms after it: settled.
  REQUIRE(f.add(Rec("2024-05-01 10:00:01.105 UTC", 200, "LOG", "checkpoint complete")));
  CHECK_FALSE(f.tracker.holding());
  CHECK(f.sink.lines() == std::vector<std::string>{kConnect100});
}

TEST_CASE("Tracker settles every held connection on settle_all", "[tracker]") {
  Fixture f;
  connect_100(f);
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.110 UTC", 101, "LOG",
                    "connection authorized: user=etl database=dw")
                    .session("663213aa.65")));
  CHECK(f.sink.events.empty());
  CHECK(f.tracker.settle_all());
  CHECK_FALSE(f.tracker.holding());
  CHECK(f.sink.lines() ==
        std::vector<std::string>{
            kConnect100,
            "{\"type\":\"connect\",\"ts\":\"2024-05-01T10:00:00.110Z\",\"pid\":101,"
            "\"session\":\"663213aa.65\",\"user\":\"etl\",\"db\":\"dw\"}"});
}

TEST_CASE("Tracker turns a held connection into a reject on each FATAL of §4b", "[tracker]") {
  struct Case {
    const char* message;
    const char* reason;
  };
  const Case cases[] = {
      {"role \"app\" does not exist", "no_role"},
      {"role \"app\" is not permitted to log in", "login_not_allowed"},
      {"too many connections for role \"app\"", "role_limit"},
      {"too many connections for database \"shop\"", "db_limit"},
      {"remaining connection slots are reserved for non-replication superuser connections",
       "reserved_slots"},
      {"remaining connection slots are reserved for roles with the SUPERUSER attribute",
       "reserved_slots"},
      {"remaining connection slots are reserved for roles with privileges of the "
       "\"pg_use_reserved_connections\" role",
       "reserved_slots"},
      {"database \"shop\" does not exist", "no_database"},
      {"database \"shop\" is not currently accepting connections", "db_not_accepting"},
      {"permission denied for database \"shop\"", "other"},
      {"cannot connect to invalid database \"shop\"", "other"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    Fixture f;
    connect_100(f);
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.107 UTC", 100, "FATAL", c.message).session("663213aa.64")));
    CHECK_FALSE(f.tracker.holding());
    REQUIRE(f.sink.events.size() == 1);
    const Event& e = f.sink.events[0];
    CHECK(event_type_name(e.type) == "reject");
    CHECK(e.ts == "2024-05-01T10:00:00.107Z");  // the FATAL's time
    CHECK(e.pid == 100);
    CHECK(e.session == "663213aa.64");
    CHECK(e.user == "app");
    CHECK(e.db == "shop");
    CHECK(e.app == "psql");
    CHECK(e.host == "10.0.0.5");
    CHECK(e.port == 51234);
    CHECK(e.reason == c.reason);
    CHECK(e.message == c.message);
    CHECK(e.matched == Flag::kTrue);
    // Nothing more: no connect, and the backend is gone.
    REQUIRE(f.add(Rec("2024-05-01 10:00:05.000 UTC", 100, "LOG",
                      "disconnection: session time: 0:00:04.000 user=app database=shop "
                      "host=10.0.0.5 port=51234")));
    REQUIRE(f.sink.events.size() == 2);
    CHECK(f.sink.events[1].matched == Flag::kFalse);
  }
}

TEST_CASE("Tracker writes a §4b reject as one exact line", "[tracker]") {
  Fixture f;
  connect_100(f);
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.106 UTC", 100, "FATAL",
                    "too many connections for role \"app\"")
                    .session("663213aa.64")));
  CHECK(f.sink.lines() ==
        std::vector<std::string>{
            "{\"type\":\"reject\",\"ts\":\"2024-05-01T10:00:00.106Z\",\"pid\":100,"
            "\"session\":\"663213aa.64\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"psql\","
            "\"host\":\"10.0.0.5\",\"port\":51234,\"reason\":\"role_limit\","
            "\"message\":\"too many connections for role \\\"app\\\"\",\"matched\":true}"});
}

TEST_CASE("Tracker keeps log order for events queued behind a held connection", "[tracker]") {
  SECTION("the held connection becomes a reject") {
    Fixture f;
    connect_100(f);
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.106 UTC", 300, "LOG",
                      "disconnection: session time: 0:00:10.000 user=bob database=shop "
                      "host=[local]")));
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.107 UTC", 301, "FATAL",
                      "password authentication failed for user \"eve\"")));
    CHECK(f.sink.events.empty());  // both wait for pid 100
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.108 UTC", 100, "FATAL",
                      "database \"shop\" does not exist")));
    CHECK(f.sink.types() == std::vector<std::string>{"reject", "disconnect", "reject"});
    CHECK(f.sink.events[0].pid == 100);
    CHECK(f.sink.events[0].reason == "no_database");
    CHECK(f.sink.events[1].pid == 300);
    CHECK(f.sink.events[2].pid == 301);
    CHECK(f.sink.events[2].reason == "auth_failed");
  }
  SECTION("two held connections, the second settled first") {
    Fixture f;
    connect_100(f);
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.110 UTC", 101, "LOG",
                      "connection authorized: user=etl database=dw")));
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.120 UTC", 101, "LOG", "statement: SELECT 1")));
    CHECK(f.sink.events.empty());  // 101 is settled but waits for 100
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.130 UTC", 100, "LOG", "statement: SELECT 2")));
    REQUIRE(f.sink.events.size() == 2);
    CHECK(f.sink.events[0].pid == 100);
    CHECK(f.sink.events[1].pid == 101);
  }
}

// ------------------------------------------------------- before authorization

TEST_CASE("Tracker writes pre-authorization rejects, matched with connection received",
          "[tracker]") {
  struct Case {
    const char* message;
    const char* reason;
  };
  const Case cases[] = {
      {"sorry, too many clients already", "too_many_clients"},
      {"password authentication failed for user \"app\"", "auth_failed"},
      {"pg_hba.conf rejects connection for host \"10.0.0.5\", user \"app\", database \"shop\", "
       "no encryption",
       "hba_reject"},
      {"no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\", SSL off",
       "no_hba_entry"},
      {"the database system is starting up", "starting_up"},
      {"the database system is shutting down", "shutting_down"},
      {"the database system is in recovery mode", "recovery"},
      {"the database system is not yet accepting connections", "recovery"},
      {"canceling authentication due to timeout", "auth_timeout"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    SECTION(std::string("matched: ") + c.reason + " " + c.message) {
      Fixture f;
      REQUIRE(f.add(Rec("2024-05-01 10:00:00.100 UTC", 100, "LOG",
                        "connection received: host=10.0.0.5 port=51234")));
      REQUIRE(f.add(Rec("2024-05-01 10:00:00.103 UTC", 100, "FATAL", c.message)));
      REQUIRE(f.sink.events.size() == 1);
      const Event& e = f.sink.events[0];
      CHECK(event_type_name(e.type) == "reject");
      CHECK(e.ts == "2024-05-01T10:00:00.103Z");
      CHECK(e.pid == 100);
      CHECK(e.host == "10.0.0.5");
      CHECK(e.port == 51234);
      CHECK(e.reason == c.reason);
      CHECK(e.message == c.message);
      CHECK(e.matched == Flag::kTrue);
      CHECK_FALSE(e.session.empty());
      CHECK_FALSE(f.tracker.holding());
    }
    SECTION(std::string("unmatched: ") + c.reason + " " + c.message) {
      Fixture f;
      REQUIRE(f.add(Rec("2024-05-01 10:00:00.103 UTC", 100, "FATAL", c.message)));
      REQUIRE(f.sink.events.size() == 1);
      const Event& e = f.sink.events[0];
      CHECK(event_type_name(e.type) == "reject");
      CHECK(e.reason == c.reason);
      CHECK(e.matched == Flag::kFalse);
      CHECK_FALSE(e.session.empty());
    }
  }
}

TEST_CASE("Tracker takes the names of a pre-authorization reject from its message and prefix",
          "[tracker]") {
  Fixture f;
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.100 UTC", 100, "LOG",
                    "connection received: host=10.0.0.5 port=51234")
                    .session("663213aa.64")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.103 UTC", 100, "FATAL",
                    "password authentication failed for user \"app\"")
                    .session("663213aa.64")
                    .user("app")
                    .db("shop")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.200 UTC", 101, "FATAL",
                    "no pg_hba.conf entry for host \"10.0.0.9\", user \"bob\", database \"dw\", "
                    "no encryption")
                    .session("663213ab.65")));
  CHECK(f.sink.lines() ==
        std::vector<std::string>{
            "{\"type\":\"reject\",\"ts\":\"2024-05-01T10:00:00.103Z\",\"pid\":100,"
            "\"session\":\"663213aa.64\",\"user\":\"app\",\"db\":\"shop\",\"host\":\"10.0.0.5\","
            "\"port\":51234,\"reason\":\"auth_failed\",\"message\":\"password authentication "
            "failed for user \\\"app\\\"\",\"matched\":true}",
            "{\"type\":\"reject\",\"ts\":\"2024-05-01T10:00:00.200Z\",\"pid\":101,"
            "\"session\":\"663213ab.65\",\"user\":\"bob\",\"db\":\"dw\",\"host\":\"10.0.0.9\","
            "\"reason\":\"no_hba_entry\",\"message\":\"no pg_hba.conf entry for host "
            "\\\"10.0.0.9\\\", user \\\"bob\\\", database \\\"dw\\\", no encryption\","
            "\"matched\":false}"});
}

TEST_CASE("Tracker makes an unknown FATAL during set-up a reject of reason other", "[tracker]") {
  SECTION("before connection authorized") {
    Fixture f;
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.100 UTC", 100, "LOG",
                      "connection received: host=10.0.0.5 port=51234")));
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.101 UTC", 100, "FATAL",
                      "unsupported startup parameter: foo")));
    REQUIRE(f.sink.events.size() == 1);
    CHECK(event_type_name(f.sink.events[0].type) == "reject");
    CHECK(f.sink.events[0].reason == "other");
    CHECK(f.sink.events[0].message == "unsupported startup parameter: foo");
    CHECK(f.sink.events[0].host == "10.0.0.5");
    CHECK(f.sink.events[0].matched == Flag::kTrue);
  }
  SECTION("after connection authorized, when the backend logs nothing more") {
    // The FATAL alone does not tell a set-up failure from the end of a
    // session whose statements the stream skipped: its next line does.
    Fixture f;
    connect_100(f);
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.106 UTC", 100, "FATAL",
                      "could not open relation with OID 1262")));
    CHECK(f.sink.events.empty());
    REQUIRE(f.tracker.settle_all());
    REQUIRE(f.sink.events.size() == 1);
    CHECK(event_type_name(f.sink.events[0].type) == "reject");
    CHECK(f.sink.events[0].reason == "other");
    CHECK(f.sink.events[0].user == "app");
    CHECK(f.sink.events[0].app == "psql");
    CHECK(f.sink.events[0].matched == Flag::kTrue);
  }
  SECTION("not once the session is settled") {
    Fixture f;
    connect_100(f);
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.300 UTC", 100, "LOG", "statement: SELECT 1")));
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.400 UTC", 100, "FATAL",
                      "could not open file \"base/1/2\": No such file or directory")));
    CHECK(f.sink.types() == std::vector<std::string>{"connect"});
  }
}

TEST_CASE("Tracker writes nothing for a connection that ends before authorization", "[tracker]") {
  Fixture f;
  feed(f, {
    {"2024-05-01 10:00:00.100 UTC", 100, "LOG", "connection received: host=10.0.0.5 port=51234"},
    {"2024-05-01 10:00:00.101 UTC", 100, "LOG", "incomplete startup packet"},
    {"2024-05-01 10:00:00.200 UTC", 101, "LOG", "connection received: host=10.0.0.6 port=40000"},
    {"2024-05-01 10:00:00.201 UTC", 101, "LOG",
     "could not receive data from client: Connection reset by peer"},
  });
  CHECK(f.tracker.settle_all());
  CHECK(f.sink.events.empty());
}

// ------------------------------------------------------------------ sessions

TEST_CASE("Tracker closes a session as lost when its pid logs a new connection received",
          "[tracker]") {
  Fixture f;
  feed(f, {
    {"2024-05-01 10:00:00.100 UTC", 100, "LOG", "connection received: host=10.0.0.5 port=51234"},
    {"2024-05-01 10:00:00.105 UTC", 100, "LOG",
     "connection authorized: user=app database=shop application_name=psql"},
    {"2024-05-01 10:00:00.200 UTC", 100, "LOG", "statement: SELECT 1"},
    {"2024-05-01 11:00:00.000 UTC", 100, "LOG", "connection received: host=10.0.0.7 port=40000"},
    {"2024-05-01 11:00:00.004 UTC", 100, "LOG", "connection authorized: user=bob database=dw"},
    {"2024-05-01 11:00:05.000 UTC", 100, "LOG",
     "disconnection: session time: 0:00:05.000 user=bob database=dw host=10.0.0.7 port=40000"},
  });
  REQUIRE(f.sink.events.size() == 4);
  const auto lines = f.sink.lines();
  const std::string s1 = f.sink.events[0].session, s2 = f.sink.events[2].session;
  CHECK(s1 != s2);
  CHECK(lines[1] == "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T11:00:00.000Z\",\"pid\":100,"
                    "\"session\":\"" + s1 + "\",\"user\":\"app\",\"db\":\"shop\","
                    "\"app\":\"psql\",\"host\":\"10.0.0.5\",\"port\":51234,\"reason\":\"lost\","
                    "\"matched\":true}");
  CHECK(event_type_name(f.sink.events[2].type) == "connect");
  CHECK(f.sink.events[2].user == "bob");
  CHECK(f.sink.events[2].host == "10.0.0.7");
  CHECK(f.sink.events[3].session == s2);
  CHECK(f.sink.events[3].matched == Flag::kTrue);
  CHECK(f.sink.events[3].reason.empty());
}

TEST_CASE("Tracker gives a disconnect the app and session key of its connect", "[tracker]") {
  Fixture f;
  feed(f, {
    {"2024-05-01 10:00:00.100 UTC", 100, "LOG", "connection received: host=10.0.0.5 port=51234"},
    {"2024-05-01 10:00:00.105 UTC", 100, "LOG",
     "connection authorized: user=app database=shop application_name=rails"},
    {"2024-05-01 10:01:02.450 UTC", 100, "LOG",
     "disconnection: session time: 0:01:02.345 user=app database=shop host=10.0.0.5 port=51234"},
  });
  REQUIRE(f.sink.events.size() == 2);
  const std::string s = f.sink.events[0].session;
  CHECK_FALSE(s.empty());
  CHECK(f.sink.lines()[1] ==
        "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T10:01:02.450Z\",\"pid\":100,"
        "\"session\":\"" + s + "\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"rails\","
        "\"host\":\"10.0.0.5\",\"port\":51234,\"duration_ms\":62345,\"matched\":true}");
}

TEST_CASE("Tracker writes a disconnect without its connect as matched false", "[tracker]") {
  Fixture f;
  REQUIRE(f.add(Rec("2024-05-01 10:01:02.450 UTC", 100, "LOG",
                    "disconnection: session time: 27:03:10.551 user=app database=shop "
                    "host=[local]")
                    .session("663213aa.64")
                    .app("psql")));
  CHECK(f.sink.lines() ==
        std::vector<std::string>{
            "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T10:01:02.450Z\",\"pid\":100,"
            "\"session\":\"663213aa.64\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"psql\","
            "\"host\":\"[local]\",\"duration_ms\":97390551,\"matched\":false}"});
}

TEST_CASE("Tracker gives a disconnect the reason its session ended", "[tracker]") {
  struct Case {
    const char* severity;
    const char* message;
    const char* reason;
  };
  const Case cases[] = {
      {"FATAL", "terminating connection due to administrator command", "terminated"},
      {"FATAL", "terminating connection due to idle-session timeout", "idle_timeout"},
      {"FATAL", "terminating connection due to idle-in-transaction timeout",
       "idle_in_transaction_timeout"},
      {"FATAL", "terminating connection due to transaction timeout", "transaction_timeout"},
      {"FATAL", "terminating connection due to conflict with recovery", "terminated"},
      {"FATAL", "connection to client lost", "client_lost"},
      {"LOG", "unexpected EOF on client connection", "client_lost"},
      {"LOG", "unexpected EOF on client connection with an open transaction", "client_lost"},
      {"FATAL", "unexpected EOF on client connection with an open transaction", "client_lost"},
      {"LOG", "could not receive data from client: Connection reset by peer", "client_lost"},
      {"FATAL", "terminating connection because protocol synchronization was lost",
       "client_lost"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.severity, c.message);
    Fixture f;
    connect_100(f);
    feed(f, {
      {"2024-05-01 10:00:00.300 UTC", 100, "LOG", "statement: BEGIN"},
      {"2024-05-01 10:05:00.000 UTC", 100, c.severity, c.message},
      {"2024-05-01 10:05:00.001 UTC", 100, "LOG",
       "disconnection: session time: 0:04:59.896 user=app database=shop host=10.0.0.5 port=51234"},
    });
    REQUIRE(f.sink.events.size() == 2);
    CHECK(event_type_name(f.sink.events[1].type) == "disconnect");
    CHECK(f.sink.events[1].reason == c.reason);
    CHECK(f.sink.events[1].matched == Flag::kTrue);
    CHECK(f.sink.events[1].duration_ms == 299896);
  }
}

TEST_CASE("Tracker gives a session terminated during a fast shutdown the reason shutdown",
          "[tracker]") {
  Fixture f;
  connect_100(f);
  feed(f, {
    {"2024-05-01 10:00:00.300 UTC", 100, "LOG", "statement: SELECT 1"},
    {"2024-05-01 10:05:00.000 UTC", 1, "LOG", "received fast shutdown request"},
    {"2024-05-01 10:05:00.001 UTC", 1, "LOG", "aborting any active transactions"},
    {"2024-05-01 10:05:00.002 UTC", 100, "FATAL",
     "terminating connection due to administrator command"},
    {"2024-05-01 10:05:00.003 UTC", 100, "LOG",
     "disconnection: session time: 0:04:59.898 user=app database=shop host=10.0.0.5 port=51234"},
    {"2024-05-01 10:05:00.100 UTC", 1, "LOG", "database system is shut down"},
  });
  CHECK(f.sink.types() == std::vector<std::string>{"connect", "disconnect", "server"});
  CHECK(f.sink.events[1].reason == "shutdown");
  CHECK(f.sink.lines()[2] ==
        "{\"type\":\"server\",\"ts\":\"2024-05-01T10:05:00.100Z\",\"pid\":1,"
        "\"state\":\"shutdown\"}");
}

// -------------------------------------------------------------- server events

TEST_CASE("Tracker writes one server crash event and forgets the server's backends",
          "[tracker]") {
  Fixture f;
  connect_100(f);
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.300 UTC", 100, "LOG", "statement: SELECT 1")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:01.000 UTC", 101, "LOG",
                    "connection received: host=10.0.0.6 port=40000")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:01.004 UTC", 101, "LOG",
                    "connection authorized: user=etl database=dw")));  // held
  feed(f, {
    {"2024-05-01 10:00:01.010 UTC", 1, "LOG",
     "client backend (PID 102) was terminated by signal 9: Killed"},
    {"2024-05-01 10:00:01.011 UTC", 1, "LOG", "terminating any other active server processes"},
    {"2024-05-01 10:00:01.020 UTC", 1, "LOG", "all server processes terminated; reinitializing"},
    {"2024-05-01 10:00:01.500 UTC", 1, "LOG",
     "database system was interrupted; last known up at 2024-05-01 09:55:00 UTC"},
    {"2024-05-01 10:00:02.000 UTC", 1, "LOG", "database system is ready to accept connections"},
  });
  CHECK(f.sink.types() ==
        std::vector<std::string>{"connect", "connect", "server", "server"});
  CHECK(f.sink.lines()[2] ==
        "{\"type\":\"server\",\"ts\":\"2024-05-01T10:00:01.011Z\",\"pid\":1,\"state\":\"crash\"}");
  CHECK(f.sink.lines()[3] ==
        "{\"type\":\"server\",\"ts\":\"2024-05-01T10:00:02.000Z\",\"pid\":1,\"state\":\"ready\"}");
  // Both sessions are over: their pids are unknown now.
  REQUIRE(f.add(Rec("2024-05-01 10:00:03.000 UTC", 100, "LOG",
                    "disconnection: session time: 0:00:02.900 user=app database=shop "
                    "host=10.0.0.5 port=51234")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:03.001 UTC", 101, "LOG",
                    "disconnection: session time: 0:00:02.000 user=etl database=dw "
                    "host=10.0.0.6 port=40000")));
  REQUIRE(f.sink.events.size() == 6);
  CHECK(f.sink.events[4].matched == Flag::kFalse);
  CHECK(f.sink.events[5].matched == Flag::kFalse);
}

TEST_CASE("Tracker writes one crash event when backends report the crash too", "[tracker]") {
  Fixture f;
  connect_100(f);
  feed(f, {
    {"2024-05-01 10:00:00.300 UTC", 100, "LOG", "statement: SELECT 1"},
    {"2024-05-01 10:00:01.010 UTC", 1, "LOG",
     "server process (PID 102) was terminated by signal 11: Segmentation fault"},
    {"2024-05-01 10:00:01.011 UTC", 1, "LOG", "terminating any other active server processes"},
    {"2024-05-01 10:00:01.012 UTC", 100, "WARNING",
     "terminating connection because of crash of another server process"},
    {"2024-05-01 10:00:01.020 UTC", 1, "LOG", "all server processes terminated; reinitializing"},
  });
  CHECK(f.sink.types() == std::vector<std::string>{"connect", "server"});
  CHECK(f.sink.events[1].state == "crash");
  // A new connection on the same pid after the restart is a new session,
  // and nothing is written as lost for the old one.
  feed(f, {
    {"2024-05-01 10:00:05.000 UTC", 1, "LOG", "database system is ready to accept connections"},
    {"2024-05-01 10:00:06.000 UTC", 100, "LOG", "connection received: host=10.0.0.5 port=51300"},
    {"2024-05-01 10:00:06.004 UTC", 100, "LOG", "connection authorized: user=app database=shop"},
  });
  CHECK(f.tracker.settle_all());
  CHECK(f.sink.types() == std::vector<std::string>{"connect", "server", "server", "connect"});
  // A second crash after the restart is written again.
  REQUIRE(f.add(Rec("2024-05-01 10:00:07.011 UTC", 1, "LOG",
                    "terminating any other active server processes")));
  CHECK(f.sink.types() ==
        std::vector<std::string>{"connect", "server", "server", "connect", "server"});
}

TEST_CASE("Tracker writes one shutdown event for an immediate shutdown", "[tracker]") {
  Fixture f;
  connect_100(f);
  feed(f, {
    {"2024-05-01 10:00:00.300 UTC", 100, "LOG", "statement: SELECT 1"},
    {"2024-05-01 10:00:02.000 UTC", 1, "LOG", "received immediate shutdown request"},
    {"2024-05-01 10:00:02.010 UTC", 100, "FATAL",
     "terminating connection due to immediate shutdown command"},
    {"2024-05-01 10:00:02.050 UTC", 1, "LOG", "database system is shut down"},
  });
  CHECK(f.sink.types() == std::vector<std::string>{"connect", "server"});
  CHECK(f.sink.events[1].state == "shutdown");
  CHECK(f.sink.events[1].ts == "2024-05-01T10:00:02.000Z");
  // The session is gone with the server.
  REQUIRE(f.add(Rec("2024-05-01 10:00:03.000 UTC", 100, "LOG",
                    "disconnection: session time: 0:00:02.900 user=app database=shop "
                    "host=10.0.0.5 port=51234")));
  REQUIRE(f.sink.events.size() == 3);
  CHECK(f.sink.events[2].matched == Flag::kFalse);
}

TEST_CASE("Tracker writes ready server events", "[tracker]") {
  Fixture f;
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.000 UTC", 1, "LOG",
                    "database system is ready to accept connections")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:01.000 UTC", 2, "LOG",
                    "database system is ready to accept read-only connections")
                    .server("standby")));
  CHECK(f.sink.lines() ==
        std::vector<std::string>{
            "{\"type\":\"server\",\"ts\":\"2024-05-01T10:00:00.000Z\",\"pid\":1,\"state\":\"ready\"}",
            "{\"type\":\"server\",\"ts\":\"2024-05-01T10:00:01.000Z\",\"pid\":2,\"state\":\"ready\","
            "\"server\":\"standby\"}"});
}

// ---------------------------------------------------------------- replication

TEST_CASE("Tracker marks replication connections", "[tracker]") {
  Fixture f;
  feed(f, {
    {"2024-05-01 10:00:00.100 UTC", 200, "LOG", "connection received: host=10.0.0.9 port=40112"},
    {"2024-05-01 10:00:00.104 UTC", 200, "LOG",
     "replication connection authorized: user=rep application_name=walreceiver "
     "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)"},
    {"2024-05-01 10:00:00.200 UTC", 201, "LOG", "connection received: host=10.0.0.10 port=40113"},
    {"2024-05-01 10:00:00.204 UTC", 201, "LOG",
     "replication connection authorized: user=rep database=shop application_name=sub1"},
    {"2024-05-01 10:10:00.000 UTC", 200, "LOG",
     "disconnection: session time: 0:09:59.900 user=rep database= host=10.0.0.9 port=40112"},
  });
  CHECK(f.tracker.settle_all());
  const auto lines = f.sink.lines();
  REQUIRE(lines.size() == 3);
  const std::string s200 = f.sink.events[0].session;
  CHECK(lines[0] == "{\"type\":\"connect\",\"ts\":\"2024-05-01T10:00:00.104Z\",\"pid\":200,"
                    "\"session\":\"" + s200 + "\",\"user\":\"rep\",\"app\":\"walreceiver\","
                    "\"host\":\"10.0.0.9\",\"port\":40112,\"replication\":true}");
  CHECK(f.sink.events[1].pid == 201);
  CHECK(f.sink.events[1].db == "shop");
  CHECK(f.sink.events[1].replication == Flag::kTrue);
  CHECK(lines[2] == "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T10:10:00.000Z\",\"pid\":200,"
                    "\"session\":\"" + s200 + "\",\"user\":\"rep\",\"app\":\"walreceiver\","
                    "\"host\":\"10.0.0.9\",\"port\":40112,\"replication\":true,"
                    "\"duration_ms\":599900,\"matched\":true}");
}

TEST_CASE("Tracker marks a rejected replication connection", "[tracker]") {
  Fixture f;
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.100 UTC", 200, "LOG",
                    "connection received: host=127.0.0.1 port=40112")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.101 UTC", 200, "FATAL",
                    "no pg_hba.conf entry for replication connection from host \"127.0.0.1\", "
                    "user \"app_user\", no encryption")
                    .user("app_user")));
  REQUIRE(f.sink.events.size() == 1);
  CHECK(f.sink.events[0].reason == "no_hba_entry");
  CHECK(f.sink.events[0].user == "app_user");
  CHECK(f.sink.events[0].db.empty());
  CHECK(f.sink.events[0].replication == Flag::kTrue);
  CHECK(f.sink.events[0].matched == Flag::kTrue);
}

// ------------------------------------------------------- late rejects, limits

TEST_CASE("Tracker gives a reject of an already settled session the same session key",
          "[tracker]") {
  Fixture f;
  feed(f, {
    {"2024-05-01 10:00:00.100 UTC", 100, "LOG", "connection received: host=10.0.0.5 port=51234"},
    {"2024-05-01 10:00:00.105 UTC", 100, "LOG",
     "connection authorized: user=app database=shop application_name=psql"},
    // Settled by time (another backend, 1.5 s later) before its FATAL came.
    {"2024-05-01 10:00:01.605 UTC", 300, "LOG", "checkpoint starting: time"},
    {"2024-05-01 10:00:01.606 UTC", 100, "FATAL", "too many connections for role \"app\""},
  });
  REQUIRE(f.sink.events.size() == 2);
  CHECK(event_type_name(f.sink.events[0].type) == "connect");
  const Event& e = f.sink.events[1];
  CHECK(event_type_name(e.type) == "reject");
  CHECK(e.session == f.sink.events[0].session);
  CHECK(e.reason == "role_limit");
  CHECK(e.user == "app");
  CHECK(e.app == "psql");
  CHECK(e.host == "10.0.0.5");
  CHECK(e.port == 51234);
  CHECK(e.matched == Flag::kTrue);
  CHECK(e.ts == "2024-05-01T10:00:01.606Z");
}

TEST_CASE("Tracker evicts the oldest backend at the table cap", "[tracker]") {
  TrackerOptions o;
  o.max_backends = 2;
  Fixture f(o);
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.100 UTC", 100, "LOG",
                    "connection authorized: user=a database=shop")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.200 UTC", 101, "LOG",
                    "connection authorized: user=b database=shop")));
  CHECK(f.tracker.stats().evicted == 0);
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.300 UTC", 102, "LOG",
                    "connection authorized: user=c database=shop")));
  CHECK(f.tracker.stats().evicted == 1);
  CHECK(f.tracker.settle_all());
  CHECK(f.sink.types() == std::vector<std::string>{"connect", "connect", "connect"});
  auto disconnect = [&](int64_t pid, const char* line) {
    REQUIRE(f.add(Rec("2024-05-01 10:00:05.000 UTC", pid, "LOG", line)));
    return f.sink.events.back();
  };
  // 100 was forgotten; 101 and 102 are still known.
  CHECK(disconnect(100, "disconnection: session time: 0:00:04.900 user=a database=shop "
                        "host=[local]").matched == Flag::kFalse);
  CHECK(disconnect(102, "disconnection: session time: 0:00:04.700 user=c database=shop "
                        "host=[local]").matched == Flag::kTrue);
  CHECK(f.tracker.stats().events[static_cast<int>(EventType::kConnect)] == 3);
  CHECK(f.tracker.stats().events[static_cast<int>(EventType::kDisconnect)] == 2);
}

// ------------------------------------------------------------------- servers

TEST_CASE("Tracker never joins the lines of different servers", "[tracker]") {
  Fixture f;
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.100 UTC", 100, "LOG",
                    "connection received: host=10.0.0.5 port=51234")
                    .server("db1")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.105 UTC", 100, "LOG",
                    "connection authorized: user=app database=shop application_name=psql")
                    .server("db1")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.200 UTC", 100, "LOG", "statement: SELECT 1")
                    .server("db1")));
  // Same pid on db2: neither a pid reuse on db1 nor the same session.
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.300 UTC", 100, "LOG",
                    "connection received: host=10.0.0.8 port=50000")
                    .server("db2")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.304 UTC", 100, "LOG",
                    "connection authorized: user=bob database=dw")
                    .server("db2")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.400 UTC", 1, "LOG",
                    "terminating any other active server processes")
                    .server("db2")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:09.000 UTC", 100, "LOG",
                    "disconnection: session time: 0:00:08.900 user=app database=shop "
                    "host=10.0.0.5 port=51234")
                    .server("db1")));
  CHECK(f.sink.types() ==
        std::vector<std::string>{"connect", "connect", "server", "disconnect"});
  CHECK(f.sink.events[0].server == "db1");
  CHECK(f.sink.events[1].server == "db2");
  CHECK(f.sink.events[1].host == "10.0.0.8");
  CHECK(f.sink.events[2].server == "db2");
  const Event& d = f.sink.events[3];
  CHECK(d.server == "db1");
  CHECK(d.matched == Flag::kTrue);
  CHECK(d.app == "psql");
  CHECK(d.session == f.sink.events[0].session);
  CHECK(d.reason.empty());
}

TEST_CASE("Tracker names every event's server by the label", "[tracker]") {
  TrackerOptions o;
  o.label = "prod";
  Fixture f(o);
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.000 UTC", 1, "LOG",
                    "database system is ready to accept connections")
                    .server("db1")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.100 UTC", 100, "LOG",
                    "connection received: host=10.0.0.5 port=51234")
                    .server("db1")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.105 UTC", 100, "LOG",
                    "connection authorized: user=app database=shop")
                    .server("db1")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.200 UTC", 101, "FATAL",
                    "password authentication failed for user \"x\"")
                    .server("db2")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:01.000 UTC", 100, "LOG",
                    "disconnection: session time: 0:00:00.895 user=app database=shop "
                    "host=10.0.0.5 port=51234")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:02.000 UTC", 1, "LOG", "database system is shut down")));
  CHECK(f.sink.types() ==
        std::vector<std::string>{"server", "connect", "reject", "disconnect", "server"});
  for (const Event& e : f.sink.events) CHECK(e.server == "prod");
}

// ---------------------------------------------------------- logs without pid

TEST_CASE("Tracker joins the lines of a log without pid by order", "[tracker]") {
  Fixture f;
  feed(f, {
    {nullptr, -1, "LOG", "connection received: host=10.0.0.5 port=51234"},
    {nullptr, -1, "LOG", "connection authorized: user=app database=shop"},
    {nullptr, -1, "LOG", "connection received: host=[local]"},
    {nullptr, -1, "LOG", "connection authorized: user=bob database=dw"},
    {nullptr, -1, "LOG", "statement: SELECT 1"},
    // Ends in the other order; joined by user, database, host and port.
    {nullptr, -1, "LOG",
     "disconnection: session time: 0:00:01.000 user=bob database=dw host=[local]"},
    {nullptr, -1, "LOG",
     "disconnection: session time: 0:00:02.000 user=app database=shop host=10.0.0.5 port=51234"},
  });
  const auto& ev = f.sink.events;
  REQUIRE(ev.size() == 4);
  CHECK(f.sink.types() ==
        std::vector<std::string>{"connect", "connect", "disconnect", "disconnect"});
  CHECK(ev[0].host == "10.0.0.5");
  CHECK(ev[0].port == 51234);
  CHECK(ev[0].pid == -1);
  CHECK(ev[0].ts.empty());
  CHECK(ev[1].host == "[local]");
  CHECK(ev[0].session != ev[1].session);
  CHECK(ev[2].session == ev[1].session);
  CHECK(ev[2].matched == Flag::kTrue);
  CHECK(ev[2].duration_ms == 1000);
  CHECK(ev[3].session == ev[0].session);
  CHECK(ev[3].matched == Flag::kTrue);
  // A disconnection nobody connected.
  REQUIRE(f.add(Rec(nullptr, -1, "LOG",
                    "disconnection: session time: 0:00:02.000 user=app database=shop "
                    "host=10.0.0.5 port=51234")));
  CHECK(ev.back().matched == Flag::kFalse);
}

TEST_CASE("Tracker rejects connections of a log without pid", "[tracker]") {
  Fixture f;
  feed(f, {
    {nullptr, -1, "LOG", "connection received: host=10.0.0.5 port=51234"},
    {nullptr, -1, "LOG", "connection authorized: user=app database=shop"},
    {nullptr, -1, "FATAL", "too many connections for role \"app\""},
    {nullptr, -1, "LOG", "connection received: host=10.0.0.6 port=40000"},
    {nullptr, -1, "FATAL", "password authentication failed for user \"bob\""},
    {nullptr, -1, "FATAL", "sorry, too many clients already"},
  });
  const auto& ev = f.sink.events;
  REQUIRE(ev.size() == 3);
  CHECK(f.sink.types() == std::vector<std::string>{"reject", "reject", "reject"});
  CHECK(ev[0].reason == "role_limit");
  CHECK(ev[0].user == "app");
  CHECK(ev[0].db == "shop");
  CHECK(ev[0].host == "10.0.0.5");
  CHECK(ev[0].matched == Flag::kTrue);
  CHECK(ev[1].reason == "auth_failed");
  CHECK(ev[1].user == "bob");
  CHECK(ev[1].host == "10.0.0.6");
  CHECK(ev[1].port == 40000);
  CHECK(ev[1].matched == Flag::kTrue);
  CHECK(ev[2].reason == "too_many_clients");
  CHECK(ev[2].matched == Flag::kFalse);
}

TEST_CASE("Tracker applies a session end of a log without pid to the next disconnection",
          "[tracker]") {
  Fixture f;
  feed(f, {
    {nullptr, -1, "LOG", "connection received: host=10.0.0.5 port=51234"},
    {nullptr, -1, "LOG", "connection authorized: user=app database=shop"},
    {nullptr, -1, "LOG", "connection received: host=10.0.0.6 port=40000"},
    {nullptr, -1, "LOG", "connection authorized: user=bob database=dw"},
    {nullptr, -1, "FATAL", "terminating connection due to idle-in-transaction timeout"},
    {nullptr, -1, "LOG",
     "disconnection: session time: 0:01:00.000 user=bob database=dw host=10.0.0.6 port=40000"},
    {nullptr, -1, "LOG",
     "disconnection: session time: 0:02:00.000 user=app database=shop host=10.0.0.5 port=51234"},
  });
  const auto& ev = f.sink.events;
  REQUIRE(f.sink.types() ==
          std::vector<std::string>{"connect", "connect", "disconnect", "disconnect"});
  CHECK(ev[2].user == "bob");
  CHECK(ev[2].reason == "idle_in_transaction_timeout");
  CHECK(ev[2].matched == Flag::kTrue);
  CHECK(ev[3].user == "app");
  CHECK(ev[3].reason.empty());
  CHECK(ev[3].matched == Flag::kTrue);
}

// --------------------------------------------------------------------- stop

TEST_CASE("Tracker stops when the sink says stop", "[tracker]") {
  FakeSink sink;
  sink.stop_after = 1;
  Tracker t(&sink, TrackerOptions());
  LogRecord r;
  REQUIRE(parse_pg_time("2024-05-01 10:00:00.000 UTC", &r.time));
  r.pid = 1;
  r.severity = "LOG";
  r.message = "database system is ready to accept connections";
  CHECK_FALSE(t.add(r));
  CHECK_FALSE(t.add(r));
  CHECK_FALSE(t.settle_all());
  CHECK(sink.events.size() == 1);
}

TEST_CASE("Tracker stops when the sink says stop while releasing held events", "[tracker]") {
  Fixture f;
  f.sink.stop_after = 1;
  connect_100(f);
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.106 UTC", 300, "LOG", "checkpoint starting: time")));
  CHECK(f.sink.events.empty());
  CHECK_FALSE(f.add(Rec("2024-05-01 10:00:00.107 UTC", 100, "LOG", "statement: SELECT 1")));
  CHECK(f.sink.events.size() == 1);
  CHECK_FALSE(f.add(Rec("2024-05-01 10:00:00.108 UTC", 1, "LOG",
                        "database system is ready to accept connections")));
  CHECK(f.sink.events.size() == 1);
}

// ------------------------------------------------------------ PG 18, times

TEST_CASE("Tracker reads PG 18 connection ready", "[tracker]") {
  SECTION("after connection authorized it settles the connection") {
    Fixture f;
    connect_100(f);
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.109 UTC", 100, "LOG",
                      "connection ready: setup total=9.668 ms, fork=0.475 ms, "
                      "authentication=3.408 ms")
                      .session("663213aa.64")));
    CHECK(f.sink.lines() == std::vector<std::string>{kConnect100});
  }
  SECTION("alone it is the connect, with the names of the prefix") {
    Fixture f;
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.109 UTC", 100, "LOG",
                      "connection ready: setup total=9.668 ms, fork=0.475 ms, "
                      "authentication=3.408 ms")
                      .session("663213aa.64")
                      .user("app")
                      .db("shop")
                      .app("psql")
                      .host("10.0.0.5", 51234)));
    CHECK(f.sink.lines() ==
          std::vector<std::string>{
              "{\"type\":\"connect\",\"ts\":\"2024-05-01T10:00:00.109Z\",\"pid\":100,"
              "\"session\":\"663213aa.64\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"psql\","
              "\"host\":\"10.0.0.5\",\"port\":51234}"});
  }
  SECTION("connection authorized without connection received takes host from the prefix") {
    Fixture f;
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.104 UTC", 100, "LOG",
                      "connection authenticated: user=\"app\" method=trust "
                      "(/etc/postgresql/18/main/pg_hba.conf:117)")
                      .host("10.0.0.5", 51234)));
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.105 UTC", 100, "LOG",
                      "connection authorized: user=app database=shop application_name=psql")
                      .host("10.0.0.5", 51234)));
    CHECK(f.tracker.settle_all());
    REQUIRE(f.sink.events.size() == 1);
    CHECK(f.sink.events[0].host == "10.0.0.5");
    CHECK(f.sink.events[0].port == 51234);
  }
}

TEST_CASE("Tracker keeps an abbreviated zone in tz and a numeric offset in ts", "[tracker]") {
  Fixture f;
  feed(f, {
    {"2024-01-15 10:00:00.000 CET", 1, "LOG", "database system is ready to accept connections"},
    {"2024-01-15 10:00:01 +03", 1, "LOG", "database system is ready to accept connections"},
    {"2024-01-15 10:00:02.500 -0330", 1, "LOG", "database system is ready to accept connections"},
  });
  CHECK(f.sink.lines() ==
        std::vector<std::string>{
            "{\"type\":\"server\",\"ts\":\"2024-01-15T10:00:00.000\",\"tz\":\"CET\",\"pid\":1,"
            "\"state\":\"ready\"}",
            "{\"type\":\"server\",\"ts\":\"2024-01-15T10:00:01+03:00\",\"pid\":1,"
            "\"state\":\"ready\"}",
            "{\"type\":\"server\",\"ts\":\"2024-01-15T10:00:02.500-03:30\",\"pid\":1,"
            "\"state\":\"ready\"}"});
}

TEST_CASE("Tracker counts lifecycle and malformed lines", "[tracker]") {
  Fixture f;
  connect_100(f);
  feed(f, {
    {"2024-05-01 10:00:00.200 UTC", 100, "LOG", "statement: SELECT 1"},
    {"2024-05-01 10:00:00.300 UTC", 101, "LOG", "connection received: port=5"},
    {"2024-05-01 10:00:01.300 UTC", 100, "LOG",
     "disconnection: session time: 0:00:01.195 user=app database=shop host=10.0.0.5 port=51234"},
  });
  CHECK(f.tracker.stats().lifecycle_lines == 3);
  CHECK(f.tracker.stats().malformed == 1);
  CHECK(f.tracker.stats().disconnection_lines == 1);
  CHECK(f.sink.types() == std::vector<std::string>{"connect", "disconnect"});
}

TEST_CASE("Tracker keeps a port scanner's reset out of the sessions of a log without pid",
          "[tracker]") {
  // pg-log-formats.md §3: a health check or port scanner logs `connection
  // received` and then `could not receive data from client`; it is neither a
  // connect nor the end of another session.
  Fixture f;
  feed(f, {
    {nullptr, -1, "LOG", "connection received: host=10.0.0.5 port=51234"},
    {nullptr, -1, "LOG", "connection authorized: user=app database=shop"},
    {nullptr, -1, "LOG", "connection received: host=10.0.0.99 port=33333"},
    {nullptr, -1, "LOG", "could not receive data from client: Connection reset by peer"},
    {nullptr, -1, "LOG",
     "disconnection: session time: 0:00:05.000 user=app database=shop host=10.0.0.5 port=51234"},
  });
  REQUIRE(f.sink.types() == std::vector<std::string>{"connect", "disconnect"});
  CHECK(f.sink.events[1].matched == Flag::kTrue);
  CHECK(f.sink.events[1].reason.empty());
}

TEST_CASE("Tracker keeps a session whose unknown FATAL is followed by its disconnection",
          "[tracker]") {
  // The fast scanner skips statement lines, so a session can look unsettled
  // when a FATAL ends it; set-up failures log no disconnection line.
  Fixture f;
  connect_100(f);
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.300 UTC", 100, "FATAL", "invalid frontend message type 0")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.301 UTC", 100, "LOG",
                    "disconnection: session time: 0:00:00.201 user=app database=shop "
                    "host=10.0.0.5 port=51234")));
  REQUIRE(f.sink.types() == std::vector<std::string>{"connect", "disconnect"});
  CHECK(f.sink.events[0].ts == "2024-05-01T10:00:00.105Z");
  CHECK(f.sink.events[1].matched == Flag::kTrue);
  CHECK(f.sink.events[1].duration_ms == 201);
  CHECK(f.sink.events[1].session == f.sink.events[0].session);
}

TEST_CASE("Tracker joins the lines of a log with %c but no pid by session id", "[tracker]") {
  // Azure's `%t-%c-`: no %p, but every line names its session.
  Fixture f;
  REQUIRE(f.add(Rec("2024-05-01 10:00:00 UTC", -1, "LOG",
                    "connection received: host=10.0.0.5 port=51234")
                    .session("6632134f.1092")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00 UTC", -1, "LOG",
                    "connection received: host=10.0.0.6 port=40000")
                    .session("6632134f.1093")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00 UTC", -1, "LOG",
                    "connection authorized: user=app database=shop")
                    .session("6632134f.1092")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00 UTC", -1, "FATAL",
                    "password authentication failed for user \"bob\"")
                    .session("6632134f.1093")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:09 UTC", -1, "LOG",
                    "disconnection: session time: 0:00:09.000 user=app database=shop "
                    "host=10.0.0.5 port=51234")
                    .session("6632134f.1092")));
  const auto& ev = f.sink.events;
  REQUIRE(f.sink.types() == std::vector<std::string>{"connect", "reject", "disconnect"});
  CHECK(ev[0].session == "6632134f.1092");
  CHECK(ev[0].user == "app");
  CHECK(ev[0].host == "10.0.0.5");
  CHECK(ev[0].port == 51234);
  CHECK(ev[1].session == "6632134f.1093");
  CHECK(ev[1].user == "bob");
  CHECK(ev[1].host == "10.0.0.6");
  CHECK(ev[1].port == 40000);
  CHECK(ev[1].matched == Flag::kTrue);
  CHECK(ev[2].session == "6632134f.1092");
  CHECK(ev[2].matched == Flag::kTrue);
}

TEST_CASE("Tracker does not refuse a session whose statement it saw before an unknown FATAL",
          "[tracker]") {
  Fixture f;
  connect_100(f);
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.150 UTC", 100, "LOG", "statement: COPY t FROM STDIN")
                    .session("663213aa.64")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.300 UTC", 100, "FATAL",
                    "invalid frontend message type 0")
                    .session("663213aa.64")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.301 UTC", 100, "LOG",
                    "disconnection: session time: 0:00:00.201 user=app database=shop "
                    "host=10.0.0.5 port=51234")
                    .session("663213aa.64")));
  REQUIRE(f.sink.types() == std::vector<std::string>{"connect", "disconnect"});
  CHECK(f.sink.events[1].matched == Flag::kTrue);
}

TEST_CASE("Tracker turns a held connection into a reject by its own FATAL a second later",
          "[tracker]") {
  // The backend's own line decides before the time rule does.
  Fixture f;
  connect_100(f);
  REQUIRE(f.add(Rec("2024-05-01 10:00:01.500 UTC", 100, "FATAL",
                    "too many connections for database \"shop\"")
                    .session("663213aa.64")));
  CHECK(f.sink.types() == std::vector<std::string>{"reject"});
  CHECK(f.sink.events[0].reason == "db_limit");
}

TEST_CASE("Tracker waits a second more to settle by time when the log has whole seconds",
          "[tracker]") {
  // With %t a line stamped one second later may be only milliseconds later.
  Fixture f;
  feed(f, {
    {"2024-05-01 10:00:00 UTC", 100, "LOG", "connection received: host=10.0.0.5 port=51234"},
    {"2024-05-01 10:00:00 UTC", 100, "LOG", "connection authorized: user=app database=shop"},
    {"2024-05-01 10:00:01 UTC", 200, "LOG", "checkpoint starting: time"},
  });
  CHECK(f.tracker.holding());
  REQUIRE(f.add(Rec("2024-05-01 10:00:02 UTC", 200, "LOG", "checkpoint complete")));
  CHECK_FALSE(f.tracker.holding());
  REQUIRE(f.sink.events.size() == 1);
  CHECK(f.sink.events[0].ts == "2024-05-01T10:00:00Z");
}

TEST_CASE("Tracker closes an open session as lost when its pid is rejected before authorization",
          "[tracker]") {
  // log_connections was off for a while: the pid's new connection shows
  // only by its FATAL.
  Fixture f;
  connect_100(f, "");
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.300 UTC", 100, "LOG", "statement: SELECT 1")));
  REQUIRE(f.add(Rec("2024-05-01 12:00:00.000 UTC", 100, "FATAL",
                    "password authentication failed for user \"bob\"")));
  REQUIRE(f.sink.types() == std::vector<std::string>{"connect", "disconnect", "reject"});
  CHECK(f.sink.events[1].session == f.sink.events[0].session);
  CHECK(f.sink.events[1].reason == "lost");
  CHECK(f.sink.events[1].matched == Flag::kTrue);
  CHECK(f.sink.events[2].session != f.sink.events[0].session);
  CHECK(f.sink.events[2].user == "bob");
  CHECK(f.sink.events[2].matched == Flag::kFalse);
}

TEST_CASE("Tracker gives a disconnect the reason of a session-end line without its start",
          "[tracker]") {
  Fixture f;
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.000 UTC", 100, "FATAL",
                    "terminating connection due to administrator command")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.001 UTC", 100, "LOG",
                    "disconnection: session time: 1:00:00.000 user=app database=shop "
                    "host=[local]")));
  REQUIRE(f.sink.types() == std::vector<std::string>{"disconnect"});
  CHECK(f.sink.events[0].reason == "terminated");
  CHECK(f.sink.events[0].matched == Flag::kFalse);
  CHECK(f.sink.events[0].duration_ms == 3600000);
}

// ------------------------------------------------- issue 13: holes found on real servers

TEST_CASE("issue_13 a ready after an unclean death ends every session of the server", "[tracker]") {
  Fixture f;
  connect_100(f);
  feed(f, {
    {"2024-05-01 10:00:00.200 UTC", 100, "LOG", "statement: SELECT 1"},
    // pid 101 is still held when the postmaster dies (SIGKILL: no crash line).
    {"2024-05-01 10:00:00.300 UTC", 101, "LOG",
     "connection authorized: user=app database=shop application_name=job"},
    {"2024-05-01 10:05:00.000 UTC", 400, "LOG",
     "database system was interrupted; last known up at 2024-05-01 10:00:00 UTC"},
    {"2024-05-01 10:05:01.000 UTC", 400, "LOG", "database system is ready to accept connections"},
  });
  CHECK(f.sink.types() == std::vector<std::string>{"connect", "connect", "server"});
  CHECK(f.sink.events[2].state == "ready");
  // No disconnect was invented; the old pid's disconnection is unmatched.
  REQUIRE(f.add(Rec("2024-05-01 10:05:02.000 UTC", 100, "LOG",
                    "disconnection: session time: 0:05:02.000 user=app database=shop "
                    "host=10.0.0.5 port=51234")));
  REQUIRE(f.sink.events.size() == 4);
  CHECK(f.sink.events[3].matched == Flag::kFalse);
  // The pid is used again: a fresh session, nothing lost.
  connect_100(f, "66321400.64");
  REQUIRE(f.tracker.settle_all());
  REQUIRE(f.sink.events.size() == 5);
  CHECK(f.sink.events[4].type == EventType::kConnect);
  CHECK(f.sink.events[4].session == "66321400.64");
}

TEST_CASE("issue_13 a standby's promotion keeps its sessions", "[tracker]") {
  Fixture f;
  REQUIRE(f.add(Rec("2024-05-01 09:59:00.000 UTC", 400, "LOG",
                    "database system is ready to accept read-only connections")));
  connect_100(f);
  feed(f, {
    {"2024-05-01 10:00:00.200 UTC", 100, "LOG", "statement: SELECT 1"},
    {"2024-05-01 10:01:00.000 UTC", 400, "LOG", "database system is ready to accept connections"},
    {"2024-05-01 10:02:00.000 UTC", 100, "LOG",
     "disconnection: session time: 0:02:00.000 user=app database=shop host=10.0.0.5 port=51234"},
  });
  CHECK(f.sink.types() == std::vector<std::string>{"server", "connect", "disconnect"});
  CHECK(f.sink.events[2].matched == Flag::kTrue);
}

TEST_CASE("issue_13 a new application name of an open session is an update", "[tracker]") {
  Fixture f;
  connect_100(f);
  // The session's own lines with %a: the same name, then another one.
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.200 UTC", 100, "LOG", "statement: SELECT 1")
                    .session("663213aa.64").app("psql")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.300 UTC", 100, "LOG",
                    "statement: SET application_name = 'worker-7'")
                    .session("663213aa.64").app("psql")));
  CHECK(f.sink.types() == std::vector<std::string>{"connect"});
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.400 UTC", 100, "LOG", "statement: SELECT 2")
                    .session("663213aa.64").app("worker-7")));
  // "[unknown]" (empty) says nothing.
  REQUIRE(f.add(Rec("2024-05-01 10:00:00.450 UTC", 100, "LOG", "statement: SELECT 3")
                    .session("663213aa.64")));
  REQUIRE(f.add(Rec("2024-05-01 10:00:01.000 UTC", 100, "LOG",
                    "disconnection: session time: 0:00:00.900 user=app database=shop "
                    "host=10.0.0.5 port=51234")
                    .session("663213aa.64").app("worker-7")));
  CHECK(f.sink.lines()[1] ==
        "{\"type\":\"update\",\"ts\":\"2024-05-01T10:00:00.400Z\",\"pid\":100,"
        "\"session\":\"663213aa.64\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"worker-7\","
        "\"host\":\"10.0.0.5\",\"port\":51234}");
  REQUIRE(f.sink.events.size() == 3);
  CHECK(f.sink.events[2].type == EventType::kDisconnect);
  CHECK(f.sink.events[2].app == "worker-7");
  CHECK(f.tracker.stats().events[static_cast<int>(EventType::kUpdate)] == 1);
}

TEST_CASE("issue_13 the disconnection line's own application name moves the session first",
          "[tracker]") {
  Fixture f;
  connect_100(f);
  REQUIRE(f.add(Rec("2024-05-01 10:00:01.000 UTC", 100, "LOG",
                    "disconnection: session time: 0:00:00.900 user=app database=shop "
                    "host=10.0.0.5 port=51234")
                    .session("663213aa.64").app("worker-7")));
  CHECK(f.sink.types() == std::vector<std::string>{"connect", "update", "disconnect"});
  CHECK(f.sink.events[1].app == "worker-7");
  CHECK(f.sink.events[2].app == "worker-7");
  CHECK(f.sink.events[2].matched == Flag::kTrue);
}

TEST_CASE("issue_13 without pids interleaved set-ups still close by their disconnections",
          "[tracker]") {
  // Real PostgreSQL 15 log, empty log_line_prefix: a probe that hung up,
  // four pool connections whose set-ups interleave, two of them terminated.
  Fixture f;
  auto log = [&](const char* sev, const char* msg) { REQUIRE(f.add(Rec(nullptr, -1, sev, msg))); };
  log("LOG", "connection received: host=127.0.0.1 port=58234");
  log("LOG", "connection received: host=127.0.0.1 port=58250");
  log("LOG", "connection received: host=127.0.0.1 port=58254");
  log("LOG", "connection authenticated: identity=\"app_user\" method=scram-sha-256 (pg_hba.conf:5)");
  log("LOG", "connection authorized: user=app_user database=shop application_name=pool1");
  log("LOG", "connection authenticated: identity=\"app_user\" method=scram-sha-256 (pg_hba.conf:5)");
  log("LOG", "connection authorized: user=app_user database=shop application_name=pool4");
  log("LOG", "connection received: host=127.0.0.1 port=58256");
  log("LOG", "connection authorized: user=app_user database=shop application_name=pool2");
  log("LOG", "connection received: host=127.0.0.1 port=58258");
  log("LOG", "connection authorized: user=app_user database=shop application_name=pool3");
  log("FATAL", "terminating connection due to administrator command");
  log("FATAL", "terminating connection due to administrator command");
  log("LOG", "disconnection: session time: 0:00:00.964 user=app_user database=shop host=127.0.0.1 port=58258");
  log("LOG", "disconnection: session time: 0:00:01.014 user=app_user database=shop host=127.0.0.1 port=58250");
  log("LOG", "disconnection: session time: 0:00:03.052 user=app_user database=shop host=127.0.0.1 port=58254");
  log("LOG", "disconnection: session time: 0:00:03.015 user=app_user database=shop host=127.0.0.1 port=58256");
  REQUIRE(f.tracker.settle_all());
  int connects = 0, matched = 0, terminated = 0;
  for (const Event& e : f.sink.events) {
    connects += e.type == EventType::kConnect;
    matched += e.type == EventType::kDisconnect && e.matched == Flag::kTrue;
    terminated += e.reason == "terminated";
  }
  CHECK(connects == 4);
  CHECK(matched == 4);  // was 3: one stayed open for good
  CHECK(terminated == 2);
}

TEST_CASE("issue_13 without pids a disconnection from before the log leaves a sure session open",
          "[tracker]") {
  Fixture f;
  auto log = [&](const char* sev, const char* msg) { REQUIRE(f.add(Rec(nullptr, -1, sev, msg))); };
  log("LOG", "connection received: host=127.0.0.1 port=50001");
  log("LOG", "connection authorized: user=app_user database=shop application_name=pool1");
  log("LOG", "disconnection: session time: 5:00:00.000 user=app_user database=shop host=127.0.0.1 port=40000");
  log("LOG", "disconnection: session time: 0:00:01.000 user=app_user database=shop host=127.0.0.1 port=50001");
  REQUIRE(f.tracker.settle_all());
  CHECK(f.sink.types() == std::vector<std::string>{"connect", "disconnect", "disconnect"});
  REQUIRE(f.sink.events.size() == 3);
  CHECK(f.sink.events[1].matched == Flag::kFalse);
  CHECK(f.sink.events[2].matched == Flag::kTrue);
  CHECK(f.sink.events[2].app == "pool1");
}

TEST_CASE("Tracker numbers its session keys PID-N across digit carries and pid changes",
          "[tracker]") {
  // The counter's decimal text is counted up in place and the pid's text
  // kept from key to key: every key must still be "PID-N", N = 1, 2, ...
  Fixture f;
  const int64_t pids[] = {7, 7, 123456, 9, 9, 9, 4194304};
  for (int n = 1; n <= 1200; ++n) {
    const int64_t pid = pids[n % 7];
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.100 UTC", pid, "LOG",
                      "connection received: host=10.0.0.5 port=51234")));
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.101 UTC", pid, "LOG",
                      "connection authorized: user=app database=shop")));
    REQUIRE(f.add(Rec("2024-05-01 10:00:00.102 UTC", pid, "LOG",
                      "disconnection: session time: 0:00:00.002 user=app database=shop "
                      "host=10.0.0.5 port=51234")));
    REQUIRE(f.sink.events.size() == static_cast<size_t>(2 * n));
    CHECK(f.sink.events[2 * n - 2].session == std::to_string(pid) + "-" + std::to_string(n));
    CHECK(f.sink.events[2 * n - 1].session == std::to_string(pid) + "-" + std::to_string(n));
  }
}
