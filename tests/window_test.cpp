// Window: the active set, session totals and the bounded event history of
// pgconn-agg (window.hpp, SPEC.md §2 "Semantics that matter", §4). Events
// are built by hand; times are RFC 3339 strings as pgconn-parse writes them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "event.hpp"
#include "timestamp.hpp"
#include "window/window.hpp"

using namespace pgconn;

namespace {

// "2024-03-01T10:07:00Z" for at(10, 7).
std::string at(int h, int m, int s = 0) { return fmt::format("2024-03-01T{:02}:{:02}:{:02}Z", h, m, s); }

// An event built by hand: W(kConnect, at(10, 0), "s1").user("u").app("rails").
struct W {
  Event e;
  W(EventType t, std::string ts, std::string session) {
    e.type = t;
    e.ts = std::move(ts);
    e.session = std::move(session);
  }
  W& user(std::string v) { e.user = std::move(v); return *this; }
  W& db(std::string v) { e.db = std::move(v); return *this; }
  W& app(std::string v) { e.app = std::move(v); return *this; }
  W& host(std::string v) { e.host = std::move(v); return *this; }
  W& server(std::string v) { e.server = std::move(v); return *this; }
  W& reason(std::string v) { e.reason = std::move(v); return *this; }
  W& state(std::string v) { e.state = std::move(v); return *this; }
  W& pid(int64_t v) { e.pid = v; return *this; }
  W& via(std::string v) { e.via = std::move(v); return *this; }
  W& matched(bool v) { e.matched = v ? Flag::kTrue : Flag::kFalse; return *this; }
  W& duration(int64_t v) { e.duration_ms = v; return *this; }
  W& snapshot() { e.snapshot = Flag::kTrue; return *this; }
  operator const Event&() const { return e; }
};

W connect(std::string ts, std::string s) { return W(EventType::kConnect, std::move(ts), std::move(s)); }
W disconnect(std::string ts, std::string s) { return W(EventType::kDisconnect, std::move(ts), std::move(s)); }
W reject(std::string ts, std::string s) { return W(EventType::kReject, std::move(ts), std::move(s)); }
W update(std::string ts, std::string s) { return W(EventType::kUpdate, std::move(ts), std::move(s)); }
W server_event(std::string ts, std::string state) {
  return W(EventType::kServer, std::move(ts), "").state(std::move(state));
}

// The session ids (without the server part of the key) of the active set.
std::set<std::string> active_sessions(const Window& w) {
  std::set<std::string> out;
  for (const auto& [key, s] : w.active()) out.insert(key.substr(key.find('\0') + 1));
  return out;
}

uint64_t total_connects(const Window& w) {
  uint64_t n = 0;
  for (const auto& t : w.totals()) n += t.connects;
  return n;
}
uint64_t total_disconnects(const Window& w) {
  uint64_t n = 0;
  for (const auto& t : w.totals()) n += t.disconnects;
  return n;
}

WhoView names(std::string_view user, std::string_view db, std::string_view app, std::string_view host,
              std::string_view server = "") {
  WhoView w;
  w.user = user;
  w.db = db;
  w.app = app;
  w.host = host;
  w.server = server;
  return w;
}

}  // namespace

TEST_CASE("Window: a connect opens a session, its disconnect closes it", "[window]") {
  Window w(WindowOptions{});
  CHECK(w.empty());
  w.add(connect(at(10, 0), "s1").user("app_user").db("production").app("rails").host("10.0.1.5"));
  w.add(connect(at(10, 1), "s2").user("admin").db("test").app("psql"));
  CHECK(active_sessions(w) == std::set<std::string>{"s1", "s2"});
  const Window::Session& s1 = w.who(w.active().begin()->second.who).user == "app_user"
                                  ? w.active().begin()->second
                                  : std::next(w.active().begin())->second;
  CHECK(w.who(s1.who).db == "production");
  CHECK(w.who(s1.who).app == "rails");
  CHECK(w.who(s1.who).host == "10.0.1.5");
  w.add(disconnect(at(10, 2), "s1").user("app_user").db("production"));
  CHECK(active_sessions(w) == std::set<std::string>{"s2"});
  CHECK_FALSE(w.empty());
  CHECK(w.events() == 3);
  CHECK(total_connects(w) == 2);
  CHECK(total_disconnects(w) == 1);
  REQUIRE(w.history().size() == 3);
  CHECK(w.history()[0].delta == 1);
  CHECK(w.history()[2].type == EventType::kDisconnect);
  CHECK(w.history()[2].delta == -1);
}

TEST_CASE("Window: a standalone disconnect is counted but never makes the set negative",
          "[window]") {
  Window w(WindowOptions{});
  w.add(disconnect(at(10, 0), "never-seen").user("u").db("d"));
  w.add(disconnect(at(10, 0), "never-seen").user("u").db("d"));
  CHECK(w.active().empty());
  CHECK(total_disconnects(w) == 2);
  REQUIRE(w.history().size() == 2);
  CHECK(w.history()[0].delta == 0);
  CHECK(w.history()[1].delta == 0);
  // A later connect still counts as one open session.
  w.add(connect(at(10, 1), "s1").user("u").db("d"));
  CHECK(w.active().size() == 1);
  w.add(disconnect(at(10, 2), "s1").user("u").db("d"));
  w.add(disconnect(at(10, 3), "s1").user("u").db("d"));  // its end logged twice
  CHECK(w.active().empty());
  CHECK(w.history().back().delta == 0);
}

TEST_CASE("Window: a reject naming an open session closes it", "[window]") {
  Window w(WindowOptions{});
  w.add(connect(at(10, 0), "s1").user("u").db("d").app("a"));
  w.add(connect(at(10, 0), "s2").user("u").db("d").app("a"));
  w.add(reject(at(10, 0, 1), "s1").user("u").db("d").app("a").reason("role_limit"));
  CHECK(active_sessions(w) == std::set<std::string>{"s2"});
  CHECK(w.history().back().type == EventType::kReject);
  // It never counted as open (issue 9): neither its connect's record nor
  // the reject's changes the history's count.
  CHECK(w.history().back().delta == 0);
  CHECK(w.history().front().delta == 0);
  CHECK(w.history()[1].delta == 1);
  // A reject of a session never opened changes nothing.
  w.add(reject(at(10, 1), "s9").user("u").db("d").reason("auth_failed"));
  CHECK(active_sessions(w) == std::set<std::string>{"s2"});
  CHECK(w.history().back().delta == 0);
  // Rejects are counted by reason; one without a reason as "other".
  w.add(reject(at(10, 2), "s8").user("u").db("d"));
  std::map<std::string, uint64_t> rejects;
  for (const auto& t : w.totals())
    for (const auto& [reason, n] : t.rejects) rejects[std::string(reason)] += n;
  CHECK(rejects == std::map<std::string, uint64_t>{{"auth_failed", 1}, {"other", 1}, {"role_limit", 1}});
  // A reject is neither a connect nor a disconnect.
  CHECK(total_connects(w) == 2);
  CHECK(total_disconnects(w) == 0);
}

TEST_CASE("Window: a repeated connect of the same session replaces it", "[window]") {
  Window w(WindowOptions{});
  w.add(connect(at(10, 0), "s1").user("u").db("d").app("old"));
  w.add(connect(at(10, 1), "s1").user("u").db("d").app("new"));
  REQUIRE(w.active().size() == 1);
  CHECK(w.who(w.active().begin()->second.who).app == "new");
  CHECK(total_connects(w) == 2);
  REQUIRE(w.history().size() == 2);
  CHECK(w.history()[1].delta == 0);  // the active count did not grow
  w.add(disconnect(at(10, 2), "s1").user("u").db("d"));
  CHECK(w.active().empty());
}

TEST_CASE("Window: a server crash or shutdown closes that server's sessions only", "[window]") {
  Window w(WindowOptions{});
  w.add(connect(at(10, 0), "a1").user("u").db("d").server("db1"));
  w.add(connect(at(10, 0), "a2").user("u").db("d").server("db1"));
  w.add(connect(at(10, 0), "b1").user("u").db("d").server("db2"));
  w.add(connect(at(10, 0), "n1").user("u").db("d"));  // no server label
  const size_t records = w.history().size();

  // A snapshot (pgconn-parse --snapshot) ends nothing: it only vouches for them.
  w.add(server_event(at(10, 1), "snapshot").server("db1"));
  CHECK(w.active().size() == 4);
  CHECK(w.history().size() == records);

  w.add(server_event(at(10, 2), "crash").server("db1"));
  CHECK(active_sessions(w) == std::set<std::string>{"b1", "n1"});
  // Each dropped session is one record of -1, under its own names.
  REQUIRE(w.history().size() == records + 2);
  for (size_t i = records; i < w.history().size(); ++i) {
    CHECK(w.history()[i].type == EventType::kServer);
    CHECK(w.history()[i].delta == -1);
    CHECK(w.who(w.history()[i].who).server == "db1");
  }
  // A crash or shutdown is not a disconnect.
  CHECK(total_disconnects(w) == 0);

  w.add(server_event(at(10, 3), "shutdown"));  // the unlabelled server
  CHECK(active_sessions(w) == std::set<std::string>{"b1"});
  w.add(server_event(at(10, 4), "shutdown").server("db2"));
  CHECK(w.active().empty());
  // The disconnect that a crash made redundant changes nothing.
  w.add(disconnect(at(10, 5), "a1").user("u").db("d").server("db1"));
  CHECK(w.active().empty());
  CHECK(w.history().back().delta == 0);
}

TEST_CASE("Window: the same session id on two servers is two sessions", "[window]") {
  Window w(WindowOptions{});
  w.add(connect(at(10, 0), "42-1").server("db1"));
  w.add(connect(at(10, 0), "42-1").server("db2"));
  CHECK(w.active().size() == 2);
  w.add(disconnect(at(10, 1), "42-1").server("db2"));
  REQUIRE(w.active().size() == 1);
  CHECK(w.who(w.active().begin()->second.who).server == "db1");
}

TEST_CASE("Window: without a session key the pid joins connect and disconnect", "[window]") {
  Window w(WindowOptions{});
  w.add(connect(at(10, 0), "").pid(812).user("u"));
  w.add(connect(at(10, 0), "").pid(813).user("u"));
  w.add(disconnect(at(10, 1), "").pid(812).user("u"));
  REQUIRE(w.active().size() == 1);
  CHECK(w.active().begin()->second.pid == 813);
}

TEST_CASE("Window: a disconnect is counted under its connect's application", "[window]") {
  Window w(WindowOptions{});
  w.add(connect(at(10, 0), "s1").user("u").db("d").app("rails").host("h"));
  w.add(disconnect(at(10, 1), "s1").user("u").db("d").host("h"));  // the line has no app
  REQUIRE(w.find_totals(names("u", "d", "rails", "h")) != nullptr);
  const Window::Totals& t = (*w.find_totals(names("u", "d", "rails", "h")));
  CHECK(t.connects == 1);
  CHECK(t.disconnects == 1);
  CHECK(w.find_totals(names("u", "d", "", "h")) == nullptr);
  CHECK(w.who(w.history().back().who).app == "rails");
}

TEST_CASE("Window: totals are kept per name combination", "[window]") {
  Window w(WindowOptions{});
  w.add(connect(at(10, 0), "s1").user("u1").db("d1").app("a1").host("h1"));
  w.add(connect(at(10, 0), "s2").user("u1").db("d1").app("a1").host("h1"));
  w.add(connect(at(10, 0), "s3").user("u2").db("d1").host("h2"));
  w.add(connect(at(10, 0), "s4").user("u1").db("d1").app("a1").host("h1").server("db2"));
  w.add(reject(at(10, 1), "s5").user("u2").db("d1").host("h2").reason("no_hba_entry"));
  CHECK(w.totals().size() == 3);
  CHECK((*w.find_totals(names("u1", "d1", "a1", "h1"))).connects == 2);
  CHECK((*w.find_totals(names("u1", "d1", "a1", "h1", "db2"))).connects == 1);
  const Window::Totals& t = (*w.find_totals(names("u2", "d1", "", "h2")));
  CHECK(t.connects == 1);
  CHECK(t.rejects.at("no_hba_entry") == 1);

  // Filters apply to the totals through their names.
  Filter f;
  f.field[static_cast<int>(Dimension::kUser)] = "u1";
  uint64_t n = 0;
  for (const auto& tt : w.totals())
    if (f.matches(w.who(tt.who))) n += tt.connects;
  CHECK(n == 3);
  f.field[static_cast<int>(Dimension::kServer)] = "db2";
  n = 0;
  for (const auto& tt : w.totals())
    if (f.matches(w.who(tt.who))) n += tt.connects;
  CHECK(n == 1);
}

TEST_CASE("Window: name combinations past max_totals are counted together", "[window]") {
  WindowOptions o;
  o.max_totals = 2;
  Window w(o);
  w.add(connect(at(10, 0), "s1").user("a"));
  w.add(connect(at(10, 0), "s2").user("b"));
  w.add(connect(at(10, 0), "s3").user("c"));
  w.add(connect(at(10, 0), "s4").user("d"));
  w.add(connect(at(10, 0), "s5").user("a"));  // a known combination still has its own
  CHECK(w.totals_overflow() == 2);
  CHECK(total_connects(w) == 5);
  CHECK(w.totals().size() == 3);
  CHECK((*w.find_totals(names("a", "", "", ""))).connects == 2);
  CHECK(w.active().size() == 5);  // the active set is not affected
}

TEST_CASE("Window: past max_active the oldest session is forgotten and counted", "[window]") {
  WindowOptions o;
  o.max_active = 3;
  Window w(o);
  for (int i = 1; i <= 5; ++i) w.add(connect(at(10, i), fmt::format("s{}", i)));
  CHECK(active_sessions(w) == std::set<std::string>{"s3", "s4", "s5"});
  CHECK(w.evicted() == 2);
  // Closing sessions makes room: no eviction while under the cap.
  w.add(disconnect(at(10, 6), "s3"));
  w.add(connect(at(10, 7), "s6"));
  CHECK(active_sessions(w) == std::set<std::string>{"s4", "s5", "s6"});
  CHECK(w.evicted() == 2);
  // An evicted session's disconnect is standalone now.
  w.add(disconnect(at(10, 8), "s1"));
  CHECK(w.active().size() == 3);
}

TEST_CASE("Window: a repeated connect at the max_active cap evicts nothing", "[window]") {
  // Regression (was a bug): Window::open() evicts before it looks whether the key is already
  // open, so re-opening a session at the cap forgets another, live session
  // and counts it in evicted(): the set does not grow, nothing must go.
  WindowOptions o;
  o.max_active = 2;
  Window w(o);
  w.add(connect(at(10, 0), "s1"));
  w.add(connect(at(10, 1), "s2"));
  w.add(connect(at(10, 2), "s2"));
  CHECK(active_sessions(w) == std::set<std::string>{"s1", "s2"});
  CHECK(w.evicted() == 0);
}

TEST_CASE("Window: the active set stays bounded over many sessions", "[window]") {
  WindowOptions o;
  o.max_active = 100;
  o.max_events = 50;
  Window w(o);
  for (int i = 0; i < 20000; ++i) w.add(connect(at(10, 0), std::to_string(i)));
  CHECK(w.active().size() == 100);
  CHECK(w.evicted() == 19900);
  CHECK(w.history().size() == 50);
}

TEST_CASE("Window: max_events keeps the newest records", "[window]") {
  WindowOptions o;
  o.max_events = 3;
  Window w(o);
  for (int i = 1; i <= 5; ++i) w.add(connect(at(10, i), fmt::format("s{}", i)));
  REQUIRE(w.history().size() == 3);
  std::vector<std::string> sessions;
  Timestamp t3, t5;
  REQUIRE(parse_iso_time(at(10, 3), &t3));
  REQUIRE(parse_iso_time(at(10, 5), &t5));
  CHECK(w.history().front().wall_ms == t3.wall_ms);
  CHECK(w.history().back().wall_ms == t5.wall_ms);
  // The records bound --history only: the active set and totals are exact.
  CHECK(w.active().size() == 5);
  CHECK(total_connects(w) == 5);
  CHECK(w.events() == 5);
}

TEST_CASE("Window: clear() forgets everything", "[window]") {
  WindowOptions o;
  o.max_active = 1;
  Window w(o);
  w.add(connect(at(10, 0), "s1").user("u"));
  w.add(connect(at(10, 1), "s2").user("u"));
  w.add(reject(at(10, 2), "s3").reason("auth_failed"));
  REQUIRE(w.evicted() == 1);
  w.clear();
  CHECK(w.empty());
  CHECK(w.events() == 0);
  CHECK(w.active().empty());
  CHECK(w.history().empty());
  CHECK(w.totals().empty());
  CHECK(w.evicted() == 0);
  CHECK_FALSE(w.newest().valid());
  // Still usable: a disconnect of a session from before the clear is standalone.
  w.add(disconnect(at(10, 3), "s2").user("u"));
  CHECK(w.active().empty());
  CHECK(w.history().back().delta == 0);
  w.add(connect(at(10, 4), "s4").user("u"));
  CHECK(w.active().size() == 1);
  CHECK(w.newest().valid());
}

TEST_CASE("Window: events without ts count and are placed at the newest time", "[window]") {
  Window w(WindowOptions{});
  w.add(connect("", "s0").user("u"));  // nothing timed yet
  CHECK(w.active().size() == 1);
  CHECK_FALSE(w.newest().valid());
  w.add(connect(at(10, 5), "s1").user("u"));
  w.add(connect("", "s2").user("u"));
  w.add(connect("not a time", "s3").user("u"));
  CHECK(w.active().size() == 4);
  Timestamp t;
  REQUIRE(parse_iso_time(at(10, 5), &t));
  REQUIRE(w.newest().valid());
  CHECK(w.newest().wall_ms == t.wall_ms);
  REQUIRE(w.history().size() == 4);
  CHECK(w.history()[2].wall_ms == t.wall_ms);
  CHECK(w.history()[3].wall_ms == t.wall_ms);
}

TEST_CASE("Window: newest() is the latest time, not the last line", "[window]") {
  Window w(WindowOptions{});
  w.add(connect("2024-03-01T10:30:00.250+02:00", "s1"));
  w.add(connect(at(8, 0), "s2"));  // 08:00Z is earlier than 10:30+02:00 (08:30Z)
  REQUIRE(w.newest().valid());
  CHECK(w.newest().zone == Timestamp::Zone::kOffset);
  CHECK(w.newest().offset_min == 120);
}

TEST_CASE("Filter: exact, case-sensitive, ANDed; unknown matches an empty name", "[window]") {
  Who who{"app_user", "production", "", "10.0.1.5", "db1"};
  Filter f;
  CHECK(f.empty());
  CHECK(f.matches(who));
  f.field[static_cast<int>(Dimension::kDb)] = "production";
  CHECK_FALSE(f.empty());
  CHECK(f.matches(who));
  f.field[static_cast<int>(Dimension::kDb)] = "Production";
  CHECK_FALSE(f.matches(who));
  f.field[static_cast<int>(Dimension::kDb)] = "prod";
  CHECK_FALSE(f.matches(who));  // no partial matches
  f.field[static_cast<int>(Dimension::kDb)] = "production";
  f.field[static_cast<int>(Dimension::kUser)] = "admin";
  CHECK_FALSE(f.matches(who));  // AND
  f.field[static_cast<int>(Dimension::kUser)] = "app_user";
  f.field[static_cast<int>(Dimension::kApp)] = "unknown";
  CHECK(f.matches(who));
  f.field[static_cast<int>(Dimension::kHost)] = "10.0.1.5";
  f.field[static_cast<int>(Dimension::kServer)] = "db1";
  CHECK(f.matches(who));
  f.field[static_cast<int>(Dimension::kServer)] = "db2";
  CHECK_FALSE(f.matches(who));

  Filter g;
  g.field[static_cast<int>(Dimension::kApp)] = "";  // an empty value is not "any"
  CHECK(g.matches(who));
  Who named{"u", "d", "rails", "h", ""};
  CHECK_FALSE(g.matches(named));
  Filter unknown;
  unknown.field[static_cast<int>(Dimension::kApp)] = "unknown";
  CHECK_FALSE(unknown.matches(named));
}

TEST_CASE("Window: interned names round trip; dimension names", "[window]") {
  Window w(WindowOptions{});
  w.add(connect(at(10, 0), "s1").user("u").db("d b").host("[local]").server("db1"));
  WhoView v = w.who(w.active().begin()->second.who);
  CHECK(v.user == "u");
  CHECK(v.db == "d b");
  CHECK(v.app == "");
  CHECK(v.host == "[local]");
  CHECK(v.server == "db1");
  CHECK(who_field(v, Dimension::kHost) == "[local]");

  // Any byte in a name, and long names (each stored whole, apart from the
  // others: a NUL in one never shifts the next).
  w.clear();
  w.add(connect(at(10, 0), "s2").user(std::string("x\0y", 3)).db(std::string(300, 'd'))
            .app(std::string("\0", 1)).host(std::string(100000, 'h')));
  v = w.who(w.active().begin()->second.who);
  CHECK(v.user == std::string("x\0y", 3));
  CHECK(v.db == std::string(300, 'd'));
  CHECK(v.app == std::string("\0", 1));
  CHECK(v.host == std::string(100000, 'h'));
  CHECK(v.server == "");

  for (std::string_view name : {"db", "user", "app", "host", "server"}) {
    Dimension d;
    REQUIRE(parse_dimension(name, &d));
    CHECK(dimension_name(d) == name);
  }
  Dimension d;
  CHECK_FALSE(parse_dimension("bogus", &d));
  CHECK_FALSE(parse_dimension("", &d));
  CHECK_FALSE(parse_dimension("DB", &d));
}

TEST_CASE("Window: issue_9 the peak is kept for the filter, a late reject never counts", "[window][peak]") {
  WindowOptions o;
  o.filter.field[static_cast<int>(Dimension::kDb)] = "d";
  Window w(o);
  w.add(connect(at(10, 0), "s1").db("d"));
  w.add(connect(at(10, 1), "s2").db("other"));
  w.add(connect(at(10, 2), "s3").db("d"));
  w.add(reject(at(10, 2), "s3").reason("db_limit"));  // rejected right after authorized
  w.add(connect(at(10, 3), "s4").db("d"));
  CHECK(w.peak().peak().active == 2);
  std::string when;
  append_rfc3339(w.peak().peak().at, &when);
  CHECK(when == "2024-03-01T10:03:00Z");
  CHECK(w.peak().late() == 0);
  // The session keeps its connect's time for --longest.
  const auto& s = w.active().begin()->second;
  CHECK(s.since.valid());
}

TEST_CASE("Window: a pooler and a PostgreSQL server of one name stay apart", "[window]") {
  Window w{WindowOptions{}};
  w.add(connect(at(10, 0), "100-1").server("db1").pid(100));
  w.add(connect(at(10, 0, 1), "100-1").server("db1").via("pgbouncer"));  // same key text
  w.add(connect(at(10, 0, 2), "100-2").server("db1").via("pgbouncer"));
  CHECK(w.active().size() == 3);
  w.add(server_event(at(10, 1), "shutdown").server("db1").via("pgbouncer"));  // PgBouncer stopped
  REQUIRE(w.active().size() == 1);
  CHECK(w.active().begin()->second.via.empty());
  w.add(connect(at(10, 2), "200-1").server("db1").via("pgbouncer"));
  w.add(server_event(at(10, 3), "crash").server("db1"));  // PostgreSQL crashed
  REQUIRE(w.active().size() == 1);
  CHECK(w.active().begin()->second.via == "pgbouncer");
  w.add(disconnect(at(10, 4), "200-1").server("db1"));  // not via: another session
  CHECK(w.active().size() == 1);
  w.add(disconnect(at(10, 4), "200-1").server("db1").via("pgbouncer"));
  CHECK(w.active().empty());
}

// --- issue 13: whether the view is complete, restarts, updates, SIGHUP

TEST_CASE("Window: issue_13 a server is complete once the stream shows it start, empty or snapshotted", "[window]") {
  Window w(WindowOptions{});
  CHECK(w.servers().empty());
  w.add(connect(at(10, 1), "a1").server("db1"));
  w.add(disconnect(at(10, 2), "old1").server("db1").matched(false));  // from before the log
  w.add(disconnect(at(10, 2), "old2").server("db1").matched(false));
  w.add(disconnect(at(10, 2), "old3").server("db1"));                 // not known to be older
  w.add(server_event(at(10, 0), "ready").server("db2"));              // starts the stream of db2
  w.add(connect(at(10, 3), "b1").server("db2"));
  w.add(connect(at(10, 3), "c1").server("db3"));
  w.add(server_event(at(10, 4), "snapshot").server("db3"));          // pgconn-parse --snapshot
  REQUIRE(w.servers().size() == 3);
  const Window::ServerView& one = w.servers().at("db1");
  CHECK_FALSE(one.complete);
  CHECK(one.ended_before == 2);
  CHECK(one.sessions);
  CHECK(one.first.valid());
  Timestamp t;
  REQUIRE(parse_iso_time(at(10, 1), &t));
  CHECK(one.first.wall_ms == t.wall_ms);
  // A ready before any session of it: complete for all time.
  CHECK(w.servers().at("db2").complete);
  CHECK(w.servers().at("db2").complete_from_ms == INT64_MIN);
  CHECK(w.servers().at("db2").first.wall_ms < t.wall_ms);  // the oldest time, not the first line's
  // A snapshot after sessions: complete from then, and it ends nothing.
  REQUIRE(parse_iso_time(at(10, 4), &t));
  CHECK(w.servers().at("db3").complete);
  CHECK(w.servers().at("db3").complete_from_ms == t.wall_ms);
  CHECK(active_sessions(w) == std::set<std::string>{"a1", "b1", "c1"});
  // A crash makes db1 complete (and empty); its counter then stops.
  w.add(server_event(at(10, 5), "crash").server("db1"));
  CHECK(w.servers().at("db1").complete);
  w.add(disconnect(at(10, 6), "old4").server("db1").matched(false));
  CHECK(w.servers().at("db1").ended_before == 2);
  // Unknown states change nothing.
  w.add(server_event(at(10, 7), "something_new").server("db4"));
  CHECK_FALSE(w.servers().at("db4").complete);
}

TEST_CASE("Window: issue_13 a ready (any start) ends every session of that server", "[window]") {
  WindowOptions o;
  Window w(o);
  w.add(connect(at(10, 0), "a1").server("db1"));
  w.add(connect(at(10, 0), "a2").server("db1"));
  w.add(connect(at(10, 0), "b1").server("db2"));
  REQUIRE(w.peak().current() == 3);
  // The postmaster died unclean (SIGKILL: no crash line) and was started again.
  w.add(server_event(at(10, 5), "ready").server("db1"));
  CHECK(active_sessions(w) == std::set<std::string>{"b1"});
  CHECK(w.peak().current() == 1);
  CHECK(w.history().back().type == EventType::kServer);
  CHECK(w.history().back().delta == -1);
  CHECK(total_disconnects(w) == 0);  // not disconnects
  CHECK(w.servers().at("db1").complete);
  CHECK_FALSE(w.servers().at("db2").complete);
}

TEST_CASE("Window: issue_13 an update moves an open session to its new app", "[window]") {
  WindowOptions o;
  o.durations = true;
  Window w(o);
  w.add(connect(at(10, 0), "s1").user("u").db("d").app("psql").pid(7));
  w.add(connect(at(10, 1), "s2").user("u").db("d").app("psql"));
  const size_t records = w.history().size();
  w.add(update(at(10, 2), "s1").app("worker-7"));
  REQUIRE(w.active().size() == 2);
  std::map<std::string, int> by_app;
  for (const auto& [k, s] : w.active()) ++by_app[std::string(w.who(s.who).app)];
  CHECK(by_app == std::map<std::string, int>{{"psql", 1}, {"worker-7", 1}});
  // The other names stay; the session keeps its start and pid.
  for (const auto& [k, s] : w.active()) {
    const WhoView who = w.who(s.who);
    CHECK(who.user == "u");
    CHECK(who.db == "d");
    if (who.app == "worker-7") CHECK(s.pid == 7);
  }
  // The history: it left psql and joined worker-7 at once.
  REQUIRE(w.history().size() == records + 2);
  CHECK(w.history()[records].delta == -1);
  CHECK(w.who(w.history()[records].who).app == "psql");
  CHECK(w.history()[records + 1].delta == 1);
  CHECK(w.who(w.history()[records + 1].who).app == "worker-7");
  CHECK(w.peak().current() == 2);
  // A disconnect without an app is counted under the new one, duration too.
  w.add(disconnect(at(10, 3), "s1").user("u").db("d").duration(3000));
  CHECK((*w.find_totals(names("u", "d", "worker-7", ""))).disconnects == 1);
  {
    const Chunked<LogHistogram>& app_h = w.durations(Dimension::kApp);
    const uint32_t worker7 = w.names(Dimension::kApp).find("worker-7");
    REQUIRE(worker7 < app_h.size());
    CHECK(app_h[worker7].count() == 1);
    const uint32_t psql = w.names(Dimension::kApp).find("psql");
    CHECK((psql >= app_h.size() || app_h[psql].count() == 0));
  }
  CHECK((*w.find_totals(names("u", "d", "psql", ""))).connects == 2);  // connects stay where they were
  // An update for a session it does not hold is counted nowhere.
  const size_t before = w.history().size();
  w.add(update(at(10, 4), "nope").app("ghost"));
  CHECK(w.history().size() == before);
  CHECK(w.active().size() == 1);
  for (const auto& t : w.totals()) CHECK(w.who(t.who).app != "ghost");
  // An update that changes nothing records nothing.
  w.add(update(at(10, 5), "s2").app("psql"));
  CHECK(w.history().size() == before);
}

TEST_CASE("Window: issue_13 an update moves the filtered peak", "[window]") {
  WindowOptions o;
  o.filter.field[static_cast<int>(Dimension::kApp)] = "worker-7";
  Window w(o);
  w.add(connect(at(10, 0), "s1").app("psql"));
  w.add(connect(at(10, 0), "s2").app("psql"));
  CHECK(w.peak().current() == 0);
  w.add(update(at(10, 1), "s1").app("worker-7"));
  CHECK(w.peak().current() == 1);
  CHECK(w.peak().peak().active == 1);
  w.add(update(at(10, 2), "s1").app("psql"));
  CHECK(w.peak().current() == 0);
}

TEST_CASE("Window: issue_13 reset_statistics() (SIGHUP) keeps the open sessions", "[window]") {
  WindowOptions o;
  o.durations = true;
  o.max_events = 3;
  Window w(o);
  w.add(server_event(at(9, 59), "ready"));
  for (int i = 0; i < 11; ++i) w.add(connect(at(10, i), fmt::format("s{}", i)).user("u").app("pool"));
  w.add(disconnect(at(10, 20), "s0").user("u").duration(1000));
  w.add(reject(at(10, 21), "r1").reason("auth_failed"));
  REQUIRE(w.active().size() == 10);
  REQUIRE(w.peak().peak().active == 11);
  REQUIRE(w.dropped() > 0);
  w.reset_statistics();
  // What was accumulated is gone...
  CHECK(w.totals().empty());
  CHECK(w.history().empty());
  CHECK(w.dropped() == 0);
  // ...the sessions open now are not: 10, as pg_stat_activity says (it said 0).
  CHECK(w.active().size() == 10);
  CHECK_FALSE(w.empty());
  CHECK(w.servers().at("").complete);
  // The peak starts again from them, at the newest event's time.
  CHECK(w.peak().peak().active == 10);
  CHECK(w.peak().current() == 10);
  Timestamp t;
  REQUIRE(parse_iso_time(at(10, 21), &t));
  CHECK(w.peak().peak().at.wall_ms == t.wall_ms);
  w.add(connect(at(10, 30), "n1").user("u"));
  CHECK(w.peak().peak().active == 11);
  w.add(disconnect(at(10, 31), "s5").user("u").app("pool"));
  CHECK(w.active().size() == 10);
  CHECK(w.peak().current() == 10);
  CHECK(total_disconnects(w) == 1);
  CHECK(total_connects(w) == 1);
  // A late reject of a session from before the reset does not touch the new
  // history's records (record numbers go on across the reset).
  const size_t n = w.history().size();
  const int8_t first = w.history().front().delta;
  w.add(reject(at(10, 32), "s6").reason("auth_failed"));
  CHECK(w.history().size() == std::min<size_t>(n + 1, 3));
  CHECK(w.active().size() == 9);
  if (n < 3) CHECK(w.history().front().delta == first);
}

TEST_CASE("Window: issue_13 a connect from the process table does not move where the stream begins", "[window]") {
  Window w(WindowOptions{});
  // tail -n 0 -F LOG | pgconn-parse --snapshot: backends started long before.
  w.add(connect("2024-02-20T08:00:00Z", "old").snapshot());
  w.add(server_event(at(10, 0), "snapshot"));
  w.add(connect(at(10, 1), "new"));
  const Window::ServerView& v = w.servers().at("");
  CHECK(v.complete);
  Timestamp t;
  REQUIRE(parse_iso_time(at(10, 0), &t));
  CHECK(v.first.wall_ms == t.wall_ms);
  CHECK(w.active().size() == 2);
}

TEST_CASE("issue_13 Window: an update moves an open session to its new names", "[window]") {
  Window w{WindowOptions()};
  w.add(connect(at(10, 0), "s1").user("u").db("d").app("psql").host("h"));
  w.add(connect(at(10, 1), "s2").user("u").db("d").app("psql").host("h"));
  w.add(W(EventType::kUpdate, at(10, 2), "s1").user("u").db("d").app("worker-7").host("h"));
  w.add(W(EventType::kUpdate, at(10, 3), "gone").user("u").app("other"));  // not open: nothing
  std::map<std::string, int> apps;
  for (const auto& [key, s] : w.active()) ++apps[std::string(w.who(s.who).app)];
  CHECK(apps == std::map<std::string, int>{{"psql", 1}, {"worker-7", 1}});
  CHECK(total_connects(w) == 2);
  // The history sees it leave psql and join worker-7: nothing opened.
  int64_t sum = 0, psql = 0;
  for (const Window::Record& r : w.history()) {
    sum += r.delta;
    if (w.who(r.who).app == "psql") psql += r.delta;
  }
  CHECK(sum == 2);
  CHECK(psql == 1);
  w.add(disconnect(at(10, 4), "s1").user("u").db("d").app("worker-7").host("h"));
  CHECK(active_sessions(w) == std::set<std::string>{"s2"});
}

TEST_CASE("issue_15: caps per dimension: past max_names only that dimension overflows", "[window][issue_15]") {
  WindowOptions o;
  o.max_names = 3;
  o.durations = true;
  Window w(o);
  for (int i = 0; i < 6; ++i) {
    const std::string s = "s" + std::to_string(i);
    w.add(connect(at(10, i), s).user("u").db("production").app("worker-" + std::to_string(i)).host("h"));
    w.add(disconnect(at(10, i, 30), s).user("u").db("production").app("worker-" + std::to_string(i)).host("h")
              .duration(30000));
  }
  CHECK(w.names_overflowed(Dimension::kApp));
  CHECK_FALSE(w.names_overflowed(Dimension::kDb));
  CHECK_FALSE(w.names_overflowed(Dimension::kUser));
  CHECK(overflow_name(Dimension::kApp) == "\u27e8other apps\u27e9");
  // The first three apps keep their names; the rest are one row, the
  // database and user stay exact in every one.
  std::map<std::string, uint64_t> by_app;
  for (const auto& t : w.totals()) {
    const WhoView who = w.who(t.who);
    CHECK(who.db == "production");
    CHECK(who.user == "u");
    by_app[std::string(who.app)] += t.connects;
  }
  CHECK(by_app == std::map<std::string, uint64_t>{
                      {"worker-0", 1}, {"worker-1", 1}, {"worker-2", 1}, {"\u27e8other apps\u27e9", 3}});
  // A name past the cap is looked up as the overflow name.
  const Window::Totals* t = w.find_totals(names("u", "production", "worker-5", "h"));
  REQUIRE(t != nullptr);
  CHECK(t->connects == 3);
  CHECK(w.durations(Dimension::kApp)[NameTable::kOverflow].count() == 3);
  CHECK(w.totals_overflow() == 0);  // no combination was folded
  // The overflow id is not the name of the log: a real name spelled like it
  // would be a name of its own.
  CHECK(w.names(Dimension::kApp).find("\u27e8other apps\u27e9") == NameTable::kNone);
}

TEST_CASE("issue_15: an open session past the cap keeps its other names; a disconnect finds it", "[window][issue_15]") {
  WindowOptions o;
  o.max_names = 1;
  Window w(o);
  w.add(connect(at(10, 0), "s1").user("u").db("d").app("a1"));
  w.add(connect(at(10, 1), "s2").user("u").db("d").app("a2"));
  REQUIRE(w.active().size() == 2);
  for (const auto& [key, s] : w.active()) {
    CHECK(w.who(s.who).db == "d");
    CHECK(w.who(s.who).user == "u");
  }
  w.add(disconnect(at(10, 2), "s2").user("u").db("d").app("a2"));
  CHECK(w.active().size() == 1);
  CHECK(w.find_totals(names("u", "d", "a2", ""))->disconnects == 1);
  CHECK(w.find_totals(names("u", "d", "a1", ""))->disconnects == 0);
}

TEST_CASE("issue_15: clear() forgets the names; reset_statistics() keeps the open sessions' names", "[window][issue_15]") {
  WindowOptions o;
  o.max_names = 1;
  Window w(o);
  w.add(connect(at(10, 0), "s1").app("a1"));
  w.add(connect(at(10, 1), "s2").app("a2"));
  w.reset_statistics();
  CHECK(w.totals().empty());
  CHECK(w.who(w.active().find(std::string("\0s1", 3))->second.who).app == "a1");
  w.clear();
  CHECK_FALSE(w.names_overflowed(Dimension::kApp));
  w.add(connect(at(10, 2), "s3").app("a2"));
  CHECK(w.who(w.active().begin()->second.who).app == "a2");
}

TEST_CASE("issue_15: the times of a stream parse as parse_iso_time() does, one after another", "[window][issue_15]") {
  // The Window parses a time like the one before it from the difference
  // in its seconds and milliseconds: each must equal a full parse.
  const char* times[] = {
      "2024-03-01T10:00:00.003Z", "2024-03-01T10:00:00.007Z", "2024-03-01T10:00:59.999Z",
      "2024-03-01T10:01:00.000Z", "2024-03-01T10:01:00.000+02:00", "2024-03-01T10:01:07.250+02:00",
      "2024-03-01T10:01:07.25+02:00", "2024-03-01T10:01:07.250123Z", "2024-03-01T10:01:08.250123Z",
      "2024-03-01T10:01:08Z", "2024-03-01T10:01:09.001Z", "2024-03-01T10:01:09.001-05:30",
      "2024-03-02T10:01:09.001-05:30", "2024-03-01T10:01:05.500Z"};
  Window w(WindowOptions{});
  for (const char* ts : times) {
    INFO(ts);
    Event e;
    e.type = EventType::kConnect;
    e.ts = ts;
    e.session = ts;
    w.add(e);
    Timestamp want;
    REQUIRE(parse_iso_time(ts, &want));
    // The newest time is this one while times rise; check through the
    // history record's wall clock, which every event has.
    CHECK(w.history().back().wall_ms == want.wall_ms);
  }
  Timestamp last;
  REQUIRE(parse_iso_time("2024-03-02T10:01:09.001-05:30", &last));
  CHECK(w.newest().sort_ms() == last.sort_ms());
  CHECK(w.newest().offset_min == -330);
}

namespace {

// Everything a Window counts, as text: totals per name combination,
// durations per name, the open sessions, the history and the peak.
std::string fingerprint(const Window& w) {
  std::vector<std::string> rows;
  auto names = [&](uint32_t who) {
    const WhoView v = w.who(who);
    return fmt::format("{}|{}|{}|{}|{}", v.db, v.user, v.app, v.host, v.server);
  };
  for (const Window::Totals& t : w.totals()) {
    std::string row = fmt::format("T {} c{} d{}", names(t.who), t.connects, t.disconnects);
    for (const auto& [reason, n] : t.rejects) row += fmt::format(" r{}={}", reason, n);
    rows.push_back(std::move(row));
  }
  for (int d = 0; d < 5; ++d) {
    const Chunked<LogHistogram>& hs = w.durations(static_cast<Dimension>(d));
    for (uint32_t id = 0; id < hs.size(); ++id) {
      const LogHistogram& h = hs[id];
      if (h.count() > 0)
        rows.push_back(fmt::format("D{} {} h{} {} {} {} {} {}", d, w.names(static_cast<Dimension>(d)).name(id),
                                   h.count(), h.min(), h.max(), h.mean(), h.percentile(0.5), h.percentile(0.95)));
    }
  }
  for (const auto& [key, s] : w.active())
    rows.push_back(fmt::format("A {} {} {}", key.substr(key.find('\0') + 1), names(s.who), s.since_ms));
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (const std::string& r : rows) out += r + "\n";
  for (const Window::Record& r : w.history())
    out += fmt::format("H {} {} {} {}\n", r.wall_ms, static_cast<int>(r.type), r.delta, names(r.who));
  out += fmt::format("P {} {}\n", w.peak().peak().active, w.totals_overflow());
  return out;
}

// A stream of many name combinations (past Window::kPrefetchFrom), with
// every kind of event: disconnects with and without their app, rejects of
// open sessions, updates, a restart.
std::vector<Event> diverse_events(int sessions) {
  std::vector<Event> out;
  int64_t ms = 0;
  auto ts = [&] {
    ms += 3;
    return fmt::format("2024-03-01T{:02}:{:02}:{:02}.{:03}Z", 10 + ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                       ms % 1000);
  };
  std::vector<W> open;
  for (int i = 0; i < sessions; ++i) {
    W c = connect(ts(), fmt::format("s{}", i))
              .user(fmt::format("user_{}", i % 2000))
              .db(fmt::format("db_{}", i % 20))
              .app(fmt::format("app-{}", i * 7919 % 5000))
              .host(fmt::format("10.0.{}.{}", i * 31 % 3000 / 256, i * 31 % 256))
              .pid(1000 + i);
    out.push_back(c);
    open.push_back(c);
    if (i % 97 == 0) out.push_back(update(ts(), c.e.session).app(fmt::format("app-{}", i % 7)));
    if (i % 101 == 0) {
      out.push_back(reject(ts(), c.e.session).reason("auth_failed"));
      open.pop_back();
    }
    if (i == sessions / 2) {
      out.push_back(server_event(ts(), "ready"));
      open.clear();
    }
    if (open.size() > 50) {
      W d = open.front();
      open.erase(open.begin());
      d.e.type = EventType::kDisconnect;
      d.e.ts = ts();
      if (i % 3 == 0) d.e.app.clear();  // counted under its connect's app
      d.duration(static_cast<int64_t>(i % 1000) * (i % 7 + 1));
      out.push_back(d);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("Window: events added with prefetch() hints count as added one by one", "[window]") {
  const std::vector<Event> events = diverse_events(12000);
  WindowOptions o;
  o.durations = true;
  o.max_totals = 8000;  // the backstop is reached too
  Window plain(o), batched(o);
  for (const Event& e : events) plain.add(e);
  REQUIRE(plain.combinations() > Window::kPrefetchFrom);  // the prefetch steps run
  // Batches of 16, each step for all of them before the next and add() last:
  // hints are worked out before the events ahead of them add names.
  for (size_t b = 0; b < events.size(); b += 16) {
    const size_t n = std::min<size_t>(16, events.size() - b);
    std::vector<EventView> views;
    std::vector<Window::Hint> hints(n);
    for (size_t i = 0; i < n; ++i) views.emplace_back(events[b + i]);
    for (int step = 0; step < Window::kPrefetchSteps; ++step)
      for (size_t i = 0; i < n; ++i) batched.prefetch(views[i], &hints[i], step);
    for (size_t i = 0; i < n; ++i) batched.add(views[i], hints[i]);
  }
  CHECK(batched.totals_overflow() > 0);
  CHECK(fingerprint(batched) == fingerprint(plain));
}

TEST_CASE("NameTable: names that differ in one byte anywhere are two names", "[window]") {
  // hash_name() and same_name() read names of up to 16 bytes with loads
  // that overlap; every byte of every length must count.
  NameTable t(100000, "other");
  std::vector<std::string> names;
  for (size_t n = 1; n <= 40; ++n) {
    const std::string base(n, 'a');
    names.push_back(base);
    for (size_t i = 0; i < n; ++i) {
      std::string v = base;
      v[i] = 'b';
      names.push_back(v);
    }
  }
  std::set<uint32_t> ids;
  for (const std::string& s : names) ids.insert(t.intern(s));
  CHECK(ids.size() == names.size());
  for (const std::string& s : names) {
    INFO(s);
    CHECK(t.name(t.find(s)) == s);
    CHECK(t.intern(s) == t.find(s));
    CHECK(same_name(s, std::string(s)));
    CHECK(NameTable::hash(s) == t.hash_of(t.find(s)));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t j = 0; j < names.size(); ++j) {
      if (i == j) continue;
      if (same_name(names[i], names[j])) FAIL(names[i] << " == " << names[j]);
    }
  }
  CHECK(t.find("") == NameTable::kEmpty);
  CHECK(t.find(std::string(17, 'c')) == NameTable::kNone);
}
