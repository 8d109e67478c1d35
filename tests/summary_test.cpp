// summarize() and history(): the numbers pgconn-agg shows (summary.hpp,
// SPEC.md §4). A Window is fed events built by hand.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "event.hpp"
#include "window/summary.hpp"
#include "timestamp.hpp"
#include "window/window.hpp"

using namespace pgconn;

namespace {

constexpr int64_t kMin = 60000;

std::string at(int h, int m, int s = 0) { return fmt::format("2024-03-01T{:02}:{:02}:{:02}Z", h, m, s); }

// Wall-clock milliseconds of a time of 2024-03-01.
int64_t wall(int h, int m, int s = 0) {
  Timestamp t;
  REQUIRE(parse_iso_time(at(h, m, s), &t));
  return t.wall_ms;
}

struct S {
  Event e;
  S(EventType t, std::string ts, std::string session) {
    e.type = t;
    e.ts = std::move(ts);
    e.session = std::move(session);
  }
  S& user(std::string v) { e.user = std::move(v); return *this; }
  S& db(std::string v) { e.db = std::move(v); return *this; }
  S& app(std::string v) { e.app = std::move(v); return *this; }
  S& host(std::string v) { e.host = std::move(v); return *this; }
  S& server(std::string v) { e.server = std::move(v); return *this; }
  S& reason(std::string v) { e.reason = std::move(v); return *this; }
  S& state(std::string v) { e.state = std::move(v); return *this; }
  operator const Event&() const { return e; }
};

S con(std::string ts, std::string s) { return S(EventType::kConnect, std::move(ts), std::move(s)); }
S dis(std::string ts, std::string s) { return S(EventType::kDisconnect, std::move(ts), std::move(s)); }
S rej(std::string ts, std::string s) { return S(EventType::kReject, std::move(ts), std::move(s)); }

Filter filter(Dimension d, std::string v) {
  Filter f;
  f.field[static_cast<int>(d)] = std::move(v);
  return f;
}

using Counts = std::vector<std::pair<std::string, int64_t>>;
Counts counts(const std::vector<Count>& c) {
  Counts out;
  for (const Count& x : c) out.emplace_back(x.name, x.n);
  return out;
}

const std::vector<Dimension> kDefaultBy = {Dimension::kDb, Dimension::kUser, Dimension::kApp};

// Per bucket: {active, delta, connects, disconnects, leak}.
struct B {
  int64_t active, delta;
  uint64_t connects, disconnects;
  bool leak;
  bool operator==(const B& o) const {
    return active == o.active && delta == o.delta && connects == o.connects &&
           disconnects == o.disconnects && leak == o.leak;
  }
};
std::vector<B> rows(const History& h) {
  std::vector<B> out;
  for (const Bucket& b : h.buckets) out.push_back(B{b.active, b.delta, b.connects, b.disconnects, b.leak});
  return out;
}
std::vector<int64_t> starts(const History& h) {
  std::vector<int64_t> out;
  for (const Bucket& b : h.buckets) out.push_back(b.start_ms);
  return out;
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<B> {
  static std::string convert(const B& b) {
    return fmt::format("{{active {} delta {} c {} d {}{}}}", b.active, b.delta, b.connects,
                       b.disconnects, b.leak ? " LEAK" : "");
  }
};
}  // namespace Catch

// ---------------------------------------------------------------- summarize

TEST_CASE("summarize: groups active sessions biggest first, ties by name", "[summary]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 0), "1").user("app_user").db("production").app("rails"));
  w.add(con(at(10, 0), "2").user("app_user").db("production").app("sidekiq"));
  w.add(con(at(10, 0), "3").user("readonly").db("analytics").app("rails"));
  w.add(con(at(10, 0), "4").user("admin").db("test").app("sidekiq"));
  w.add(con(at(10, 0), "5").user("admin").db("test"));
  w.add(con(at(10, 0), "6").user("admin").db("test"));
  w.add(con(at(10, 0), "7").user("admin").db("test"));
  w.add(con(at(10, 0), "8").user("zed").db("production").app("psql"));
  w.add(dis(at(10, 1), "8").user("zed").db("production"));
  Summary s = summarize(w, Filter{}, kDefaultBy);
  CHECK_FALSE(s.no_data);
  CHECK_FALSE(s.no_match);
  CHECK(s.active == 7);
  REQUIRE(s.by.size() == 3);
  CHECK(s.by[0].first == Dimension::kDb);
  CHECK(counts(s.by[0].second) == Counts{{"test", 4}, {"production", 2}, {"analytics", 1}});
  CHECK(s.by[1].first == Dimension::kUser);
  CHECK(counts(s.by[1].second) == Counts{{"admin", 4}, {"app_user", 2}, {"readonly", 1}});
  CHECK(s.by[2].first == Dimension::kApp);
  // An unset application_name is counted as "unknown" (how it is shown).
  CHECK(counts(s.by[2].second) == Counts{{"unknown", 3}, {"rails", 2}, {"sidekiq", 2}});
  CHECK(s.connects == 8);
  CHECK(s.disconnects == 1);
  CHECK(s.rejected == 0);
  CHECK(s.rejects.empty());
}

TEST_CASE("summarize: --by order and dimensions are as asked", "[summary]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 0), "1").user("u").db("d").app("rails").host("10.0.1.5").server("db1"));
  w.add(con(at(10, 0), "2").user("u").db("d").app("rails").host("10.0.1.6").server("db1"));
  w.add(con(at(10, 0), "3").user("u").db("d").app("psql").host("[local]").server("db2"));
  Summary s = summarize(w, Filter{}, {Dimension::kApp, Dimension::kHost, Dimension::kServer});
  REQUIRE(s.by.size() == 3);
  CHECK(s.by[0].first == Dimension::kApp);
  CHECK(counts(s.by[0].second) == Counts{{"rails", 2}, {"psql", 1}});
  CHECK(s.by[1].first == Dimension::kHost);
  CHECK(counts(s.by[1].second) == Counts{{"10.0.1.5", 1}, {"10.0.1.6", 1}, {"[local]", 1}});
  CHECK(s.by[2].first == Dimension::kServer);
  CHECK(counts(s.by[2].second) == Counts{{"db1", 2}, {"db2", 1}});
}

TEST_CASE("summarize: rejects by reason, biggest first", "[summary]") {
  Window w(WindowOptions{});
  w.add(rej(at(10, 0), "1").user("a").reason("too_many_clients"));
  w.add(rej(at(10, 0), "2").user("a").reason("too_many_clients"));
  w.add(rej(at(10, 0), "3").user("b").reason("role_limit"));
  w.add(rej(at(10, 0), "4").user("b").reason("db_limit"));
  Summary s = summarize(w, Filter{}, kDefaultBy);
  CHECK_FALSE(s.no_data);
  CHECK_FALSE(s.no_match);
  CHECK(s.active == 0);
  CHECK(s.rejected == 4);
  CHECK(counts(s.rejects) == Counts{{"too_many_clients", 2}, {"db_limit", 1}, {"role_limit", 1}});
  Summary b = summarize(w, filter(Dimension::kUser, "b"), kDefaultBy);
  CHECK(b.rejected == 2);
  CHECK(counts(b.rejects) == Counts{{"db_limit", 1}, {"role_limit", 1}});
}

TEST_CASE("summarize: filters are exact, case-sensitive and ANDed", "[summary]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 0), "1").user("app_user").db("production").app("rails"));
  w.add(con(at(10, 0), "2").user("app_user").db("production").app("rails"));
  w.add(con(at(10, 0), "3").user("admin").db("production"));
  w.add(con(at(10, 0), "4").user("admin").db("test").app("psql"));
  w.add(con(at(10, 0), "5").user("admin").db("production").app("psql"));
  w.add(dis(at(10, 1), "5").user("admin").db("production"));
  w.add(rej(at(10, 2), "6").user("admin").db("production").reason("db_limit"));

  Summary s = summarize(w, filter(Dimension::kDb, "production"), kDefaultBy);
  CHECK(s.active == 3);
  CHECK(s.connects == 4);
  CHECK(s.disconnects == 1);
  CHECK(s.rejected == 1);
  CHECK(counts(s.by[1].second) == Counts{{"app_user", 2}, {"admin", 1}});

  CHECK(summarize(w, filter(Dimension::kDb, "Production"), kDefaultBy).no_match);
  CHECK(summarize(w, filter(Dimension::kDb, "prod"), kDefaultBy).no_match);

  Filter both = filter(Dimension::kDb, "production");
  both.field[static_cast<int>(Dimension::kUser)] = "admin";
  Summary a = summarize(w, both, kDefaultBy);
  CHECK(a.active == 1);
  CHECK(a.connects == 2);  // sessions 3 and 5
  CHECK(a.disconnects == 1);
  CHECK(a.rejected == 1);

  // "unknown" is the empty application_name.
  Summary u = summarize(w, filter(Dimension::kApp, "unknown"), kDefaultBy);
  CHECK(u.active == 1);
  CHECK(u.connects == 1);
  // The disconnect of session 5 counts under its connect's app, psql.
  Summary p = summarize(w, filter(Dimension::kApp, "psql"), kDefaultBy);
  CHECK(p.active == 1);
  CHECK(p.connects == 2);
  CHECK(p.disconnects == 1);
}

TEST_CASE("summarize: no_data and no_match", "[summary]") {
  Window w(WindowOptions{});
  Summary empty = summarize(w, Filter{}, kDefaultBy);
  CHECK(empty.no_data);
  CHECK(empty.active == 0);
  Summary empty_f = summarize(w, filter(Dimension::kDb, "x"), kDefaultBy);
  CHECK(empty_f.no_data);

  w.add(con(at(10, 0), "1").user("u").db("d"));
  w.add(con(at(10, 0), "2").user("v").db("d"));
  w.add(dis(at(10, 1), "2").user("v").db("d"));
  CHECK_FALSE(summarize(w, Filter{}, kDefaultBy).no_data);
  Summary none = summarize(w, filter(Dimension::kUser, "nobody"), kDefaultBy);
  CHECK_FALSE(none.no_data);
  CHECK(none.no_match);
  // A filter that matches only closed sessions is a match with 0 active.
  Summary closed = summarize(w, filter(Dimension::kUser, "v"), kDefaultBy);
  CHECK_FALSE(closed.no_match);
  CHECK(closed.active == 0);
  CHECK(closed.connects == 1);

  w.clear();
  CHECK(summarize(w, Filter{}, kDefaultBy).no_data);
}

TEST_CASE("summarize: a server crash empties that server's share only", "[summary]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 0), "1").db("d").server("db1"));
  w.add(con(at(10, 0), "2").db("d").server("db2"));
  w.add(S(EventType::kServer, at(10, 1), "").server("db1").state("crash"));
  Summary s = summarize(w, Filter{}, {Dimension::kServer});
  CHECK(s.active == 1);
  CHECK(counts(s.by[0].second) == Counts{{"db2", 1}});
  CHECK(s.disconnects == 0);
}

// ------------------------------------------------------------------ history

TEST_CASE("history: buckets are aligned to multiples of the bucket", "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 7), "1").app("a"));
  w.add(con(at(10, 52, 30), "2").app("a"));
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  CHECK_FALSE(h.no_data);
  CHECK_FALSE(h.no_match);
  CHECK(h.bucket_ms == 15 * kMin);
  CHECK(h.from_ms == wall(10, 0));
  CHECK(h.to_ms == wall(11, 0));
  CHECK(starts(h) == std::vector<int64_t>{wall(10, 0), wall(10, 15), wall(10, 30), wall(10, 45)});
  CHECK(rows(h) == std::vector<B>{{1, 1, 1, 0, true}, {1, 0, 0, 0, false},
                                  {1, 0, 0, 0, false}, {2, 1, 1, 0, true}});
  CHECK(h.connects == 2);
  CHECK(h.disconnects == 0);
  CHECK(h.net == 2);
}

TEST_CASE("history: the newest bucket holds the newest event, also on a boundary",
          "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 7), "1"));
  w.add(con(at(11, 0, 0), "2"));
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  CHECK(starts(h) == std::vector<int64_t>{wall(10, 15), wall(10, 30), wall(10, 45), wall(11, 0)});
  CHECK(h.to_ms == wall(11, 15));
  // The 10:07 session is older than the history but counted as active.
  CHECK(rows(h) == std::vector<B>{{1, 0, 0, 0, false}, {1, 0, 0, 0, false},
                                  {1, 0, 0, 0, false}, {2, 1, 1, 0, true}});
  CHECK(h.connects == 1);
  CHECK(h.net == 1);

  // An event at the last millisecond of a bucket stays in it.
  Window v(WindowOptions{});
  v.add(con("2024-03-01T10:59:59.999Z", "1"));
  History g = history(v, Filter{}, 15 * kMin, 60 * kMin);
  CHECK(g.buckets.back().start_ms == wall(10, 45));
  CHECK(g.buckets.back().connects == 1);
}

TEST_CASE("history: --last/--bucket buckets, empty ones included", "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 31), "1"));
  w.add(con(at(10, 58), "2"));
  History h = history(w, Filter{}, 5 * kMin, 30 * kMin);
  REQUIRE(h.buckets.size() == 6);
  CHECK(starts(h) == std::vector<int64_t>{wall(10, 30), wall(10, 35), wall(10, 40), wall(10, 45),
                                          wall(10, 50), wall(10, 55)});
  CHECK(h.bucket_ms == 5 * kMin);
  CHECK(rows(h) == std::vector<B>{{1, 1, 1, 0, true}, {1, 0, 0, 0, false}, {1, 0, 0, 0, false},
                                  {1, 0, 0, 0, false}, {1, 0, 0, 0, false}, {2, 1, 1, 0, true}});

  CHECK(history(w, Filter{}, 15 * kMin, 60 * kMin).buckets.size() == 4);
  CHECK(history(w, Filter{}, 60 * kMin, 60 * kMin).buckets.size() == 1);
  CHECK(history(w, Filter{}, 10 * kMin, 120 * kMin).buckets.size() == 12);
  // At least one bucket.
  CHECK(history(w, Filter{}, 60 * kMin, 15 * kMin).buckets.size() == 1);
}

// issue_6 (found by fuzz/duration_fuzz.cpp): --bucket=1h30m --last=1116277d
// asked for 18 million buckets and ran for minutes; 1ms over 1000d ran out
// of memory.
TEST_CASE("history: issue_6 at most kMaxBuckets buckets, the newest ones", "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 7), "1"));
  History h = history(w, Filter{}, 1, int64_t{1} << 50);
  REQUIRE(h.buckets.size() == static_cast<size_t>(kMaxBuckets));
  CHECK(h.to_ms == wall(10, 7) + 1);
  CHECK(h.from_ms == h.to_ms - kMaxBuckets);
  CHECK(h.buckets.back().connects == 1);
  CHECK(history(w, Filter{}, 1, kMaxBuckets).buckets.size() == static_cast<size_t>(kMaxBuckets));
}

TEST_CASE("history: buckets follow the log's local time, not UTC", "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con("2024-03-01T10:20:00+05:30", "1"));  // 04:50 UTC
  History h = history(w, Filter{}, 60 * kMin, 60 * kMin);
  REQUIRE(h.buckets.size() == 1);
  CHECK(h.buckets[0].start_ms == wall(10, 0));  // not 09:30 (04:00 UTC)
  CHECK(h.buckets[0].connects == 1);
}

TEST_CASE("history: active is counted over the whole stream, delta from the first start",
          "[summary][history]") {
  Window w(WindowOptions{});
  // Three sessions opened long before the history; one ends inside it.
  w.add(con(at(8, 0), "old1").app("rails"));
  w.add(con(at(8, 0), "old2").app("rails"));
  w.add(con(at(8, 0), "old3").app("rails"));
  w.add(con(at(10, 5), "n1").app("rails"));
  w.add(con(at(10, 20), "n2").app("rails"));
  w.add(dis(at(10, 21), "old1"));
  w.add(con(at(10, 50), "n3").app("rails"));
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  CHECK(rows(h) == std::vector<B>{{4, 1, 1, 0, true}, {4, 0, 1, 1, false},
                                  {4, 0, 0, 0, false}, {5, 1, 1, 0, true}});
  CHECK(h.connects == 3);
  CHECK(h.disconnects == 1);
  CHECK(h.net == 2);
}

TEST_CASE("history: connects and disconnects are counted per bucket", "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 1), "1"));
  w.add(con(at(10, 2), "2"));
  w.add(dis(at(10, 3), "1"));
  w.add(dis(at(10, 16), "2"));
  w.add(dis(at(10, 17), "standalone"));  // counted, changes nothing
  w.add(rej(at(10, 18), "r").reason("auth_failed"));  // neither
  w.add(con(at(10, 46), "3"));
  w.add(dis(at(10, 47), "3"));
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  CHECK(rows(h) == std::vector<B>{{1, 1, 2, 1, false}, {0, -1, 0, 2, false},
                                  {0, 0, 0, 0, false}, {0, 0, 1, 1, false}});
  CHECK(h.connects == 3);
  CHECK(h.disconnects == 4);
  CHECK(h.net == -1);
}

TEST_CASE("history: a leak is the third rising bucket in a row", "[summary][history]") {
  Window w(WindowOptions{});
  // Every bucket: two sessions open, one of them ends: +1 with a disconnect.
  int id = 0;
  for (int m : {0, 15, 30, 45}) {
    std::string a = std::to_string(++id), b = std::to_string(++id);
    w.add(con(at(10, m + 1), a));
    w.add(con(at(10, m + 2), b));
    w.add(dis(at(10, m + 3), a));
  }
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  CHECK(rows(h) == std::vector<B>{{1, 1, 2, 1, false}, {2, 1, 2, 1, false},
                                  {3, 1, 2, 1, true}, {4, 1, 2, 1, true}});

  // A flat bucket breaks the run.
  Window v(WindowOptions{});
  id = 0;
  for (int m : {0, 15, 30, 45}) {
    std::string a = std::to_string(++id), b = std::to_string(++id);
    v.add(con(at(10, m + 1), a));
    if (m != 15) v.add(con(at(10, m + 2), b));
    v.add(dis(at(10, m + 3), a));
  }
  History g = history(v, Filter{}, 15 * kMin, 60 * kMin);
  CHECK(rows(g) == std::vector<B>{{1, 1, 2, 1, false}, {1, 0, 1, 1, false},
                                  {2, 1, 2, 1, false}, {3, 1, 2, 1, false}});
}

TEST_CASE("history: rising with no disconnects is a leak; flat or falling never",
          "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con(at(9, 0), "old1"));
  w.add(con(at(9, 0), "old2"));
  w.add(con(at(10, 1), "1"));                   // +1, no disconnect: leak
  w.add(dis(at(10, 16), "old1"));               // -1
  w.add(con(at(10, 31), "2"));                  // 0: one in, one out
  w.add(dis(at(10, 32), "old2"));
  w.add(con(at(10, 46), "3"));                  // +2 with no disconnect: leak
  w.add(con(at(10, 47), "4"));
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  CHECK(rows(h) == std::vector<B>{{3, 1, 1, 0, true}, {2, -1, 0, 1, false},
                                  {2, 0, 1, 1, false}, {4, 2, 2, 0, true}});
}

TEST_CASE("history: a server crash lowers active without disconnects", "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 1), "1"));
  w.add(con(at(10, 2), "2"));
  w.add(con(at(10, 3), "3"));
  w.add(S(EventType::kServer, at(10, 20), "").state("crash"));
  w.add(con(at(10, 21), "4"));
  History h = history(w, Filter{}, 15 * kMin, 30 * kMin);
  CHECK(rows(h) == std::vector<B>{{3, 3, 3, 0, true}, {1, -2, 1, 0, false}});
  CHECK(h.net == 4);
}

TEST_CASE("history: growth per app, user and host, positive only", "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con(at(9, 0), "old").app("sidekiq").user("app_user").host("10.0.1.9"));
  w.add(con(at(10, 1), "1").app("rails").user("app_user").host("10.0.1.5"));
  w.add(con(at(10, 2), "2").app("rails").user("app_user").host("10.0.1.5"));
  w.add(con(at(10, 3), "3").app("rails").user("web").host("10.0.1.6"));
  w.add(con(at(10, 4), "4").user("admin").host("[local]"));
  w.add(con(at(10, 5), "5").app("psql").user("admin").host("[local]"));
  w.add(dis(at(10, 6), "5").user("admin").host("[local]"));  // psql: net 0
  w.add(dis(at(10, 7), "old").user("app_user").host("10.0.1.9"));  // sidekiq: -1
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  REQUIRE(h.growth.size() == 3);
  CHECK(h.growth[0].first == Dimension::kApp);
  CHECK(counts(h.growth[0].second) == Counts{{"rails", 3}, {"unknown", 1}});
  CHECK(h.growth[1].first == Dimension::kUser);
  CHECK(counts(h.growth[1].second) == Counts{{"admin", 1}, {"app_user", 1}, {"web", 1}});
  CHECK(h.growth[2].first == Dimension::kHost);
  CHECK(counts(h.growth[2].second) == Counts{{"10.0.1.5", 2}, {"10.0.1.6", 1}, {"[local]", 1}});
}

TEST_CASE("history: filters apply to buckets, active and growth", "[summary][history]") {
  Window w(WindowOptions{});
  w.add(con(at(9, 0), "p0").db("production").app("rails"));
  w.add(con(at(10, 1), "p1").db("production").app("rails"));
  w.add(con(at(10, 2), "t1").db("test").app("psql"));
  w.add(con(at(10, 16), "t2").db("test").app("psql"));
  w.add(dis(at(10, 17), "p0").db("production"));
  History h = history(w, filter(Dimension::kDb, "production"), 15 * kMin, 30 * kMin);
  CHECK(rows(h) == std::vector<B>{{2, 1, 1, 0, true}, {1, -1, 0, 1, false}});
  CHECK(counts(h.growth[0].second).empty());  // rails: +1 -1
  History t = history(w, filter(Dimension::kDb, "test"), 15 * kMin, 30 * kMin);
  CHECK(rows(t) == std::vector<B>{{1, 1, 1, 0, true}, {2, 1, 1, 0, true}});
  CHECK(counts(t.growth[0].second) == Counts{{"psql", 2}});

  History none = history(w, filter(Dimension::kDb, "nope"), 15 * kMin, 30 * kMin);
  CHECK(none.no_match);
  CHECK_FALSE(none.no_data);
  // The bucket times come from the whole stream, not from the filtered part.
  CHECK(none.buckets.back().start_ms == wall(10, 15));

  Window empty(WindowOptions{});
  CHECK(history(empty, Filter{}, 15 * kMin, 60 * kMin).no_data);
}

TEST_CASE("history: past max_events the totals shrink but active stays exact",
          "[summary][history]") {
  WindowOptions o;
  o.max_events = 2;
  Window w(o);
  w.add(con(at(10, 46), "1"));
  w.add(con(at(10, 47), "2"));
  w.add(con(at(10, 48), "3"));
  History h = history(w, Filter{}, 15 * kMin, 15 * kMin);
  REQUIRE(h.buckets.size() == 1);
  CHECK(h.buckets[0].active == 3);
  CHECK(h.buckets[0].connects == 2);
}

TEST_CASE("history: forgotten sessions past max_active never make active negative",
          "[summary][history]") {
  // Regression (was a bug): Window::open() drops the oldest session past max_active without a
  // record of -1, while its connect's +1 stays in history(); walking back
  // from the (exact) active count then gives negative counts for the
  // buckets before. Here: max_active 1, three connects in the last bucket
  // -> active -2 in each earlier bucket.
  WindowOptions o;
  o.max_active = 1;
  Window w(o);
  w.add(con(at(10, 46), "1"));
  w.add(con(at(10, 47), "2"));
  w.add(con(at(10, 48), "3"));
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  for (const Bucket& b : h.buckets) {
    INFO("bucket at " << (b.start_ms - wall(10, 0)) / kMin << " min past 10:00");
    CHECK(b.active >= 0);
  }
  CHECK(h.buckets.back().active == 1);
}

TEST_CASE("history: a reject closing a session counts under that session's names",
          "[summary][history]") {
  // Regression (was a bug): Window::add() records the -1 of a reject that closes an open
  // session under the reject's own names (a disconnect borrows its
  // connect's app; a reject does not). A reject line without
  // application_name then escapes an --app filter and the buckets before it
  // go negative: connect app=rails at 10:46, reject without app at 10:47,
  // history --app=rails -> active -1 at the end of 10:00, 10:15, 10:30.
  Window w(WindowOptions{});
  w.add(con(at(10, 46), "1").user("u").db("d").app("rails"));
  w.add(rej(at(10, 47), "1").user("u").db("d").reason("db_limit"));
  REQUIRE(w.active().empty());
  History h = history(w, filter(Dimension::kApp, "rails"), 15 * kMin, 60 * kMin);
  for (const Bucket& b : h.buckets) CHECK(b.active >= 0);
  CHECK(h.buckets.back().active == 0);
}

// ------------------------------------------------------ issue 9: peak, durations, longest

namespace {

std::string at_ms(int h, int m, int s, int ms) {
  return fmt::format("2024-03-01T{:02}:{:02}:{:02}.{:03}Z", h, m, s, ms);
}

std::string iso(const Timestamp& t) {
  std::string s;
  if (t.valid()) append_rfc3339(t, &s);
  return s;
}

S dis_ms(std::string ts, std::string s, int64_t ms) {
  S d = dis(std::move(ts), std::move(s));
  d.e.duration_ms = ms;
  return d;
}

}  // namespace

TEST_CASE("summarize: issue_9 peak is exact in event time and respects the filter",
          "[summary][peak]") {
  WindowOptions all;
  WindowOptions rails;
  rails.filter = filter(Dimension::kApp, "rails");
  Window w(all), wr(rails);
  auto feed = [&](const Event& e) { w.add(e); wr.add(e); };
  feed(con(at_ms(10, 0, 1, 0), "1").app("rails"));
  feed(con(at_ms(10, 0, 2, 0), "2").app("psql"));
  feed(con(at_ms(10, 0, 3, 412), "3").app("rails"));   // 3 open
  feed(dis(at_ms(10, 0, 4, 0), "2"));                  // 2
  feed(con(at_ms(10, 0, 5, 0), "4").app("psql"));      // 3 again: not a new peak
  feed(con(at_ms(10, 0, 5, 100), "5").app("rails"));   // 4 open, 3 of them rails
  feed(rej(at_ms(10, 0, 5, 101), "5").reason("role_limit"));  // ... that never counts
  feed(dis(at_ms(10, 0, 6, 0), "1"));
  Summary s = summarize(w, Filter{}, kDefaultBy);
  CHECK(s.peak.active == 3);
  CHECK(iso(s.peak.at) == "2024-03-01T10:00:03.412Z");
  Summary r = summarize(wr, rails.filter, kDefaultBy);
  CHECK(r.peak.active == 2);
  CHECK(iso(r.peak.at) == "2024-03-01T10:00:03.412Z");
  w.clear();  // SIGHUP
  CHECK(summarize(w, Filter{}, kDefaultBy).peak.active == 0);
}

TEST_CASE("summarize: issue_9 peak counts only sessions open in this stream, a crash ends them",
          "[summary][peak]") {
  Window w(WindowOptions{});
  w.add(dis(at(9, 59), "old"));  // opened before the stream: unknown, changes nothing
  w.add(con(at(10, 0), "1").server("a"));
  w.add(con(at(10, 1), "2").server("b"));
  S crash = S(EventType::kServer, at(10, 2), "").server("a").state("crash");
  w.add(crash);
  w.add(con(at(10, 3), "3").server("b"));
  Summary s = summarize(w, Filter{}, kDefaultBy);
  CHECK(s.peak.active == 2);
  CHECK(iso(s.peak.at) == "2024-03-01T10:01:00Z");
}

TEST_CASE("history: issue_9 each bucket's peak counts those open at its start", "[summary][history][peak]") {
  Window w(WindowOptions{});
  w.add(con(at(9, 0), "early"));                 // open before the history
  w.add(con(at(10, 1), "1"));
  w.add(con(at(10, 2), "2"));                    // 3 open
  w.add(dis(at(10, 3), "1"));
  w.add(dis(at(10, 3), "2"));                    // 1
  w.add(con(at(10, 20), "3"));                   // 2
  w.add(dis(at(10, 20), "3"));                   // a session of no length: never open
  w.add(con(at(10, 50), "4"));
  w.add(dis(at(10, 55), "early"));
  w.add(con(at(10, 55), "5"));                   // starts as "early" ends: 2, not 3
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  std::vector<int64_t> peaks;
  for (const Bucket& b : h.buckets) peaks.push_back(b.peak);
  CHECK(peaks == std::vector<int64_t>{3, 1, 1, 2});
  CHECK(h.buckets[1].active == 1);
  // The filter applies to the peaks too.
  w.add(con(at(10, 56), "6").app("x"));
  h = history(w, filter(Dimension::kApp, "x"), 15 * kMin, 60 * kMin);
  peaks.clear();
  for (const Bucket& b : h.buckets) peaks.push_back(b.peak);
  CHECK(peaks == std::vector<int64_t>{0, 0, 0, 1});
}

TEST_CASE("history: issue_9 a session rejected after its connect is in no bucket's peak",
          "[summary][history][peak]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 0), "1"));
  w.add(con(at(10, 16), "2"));
  w.add(rej(at(10, 16, 1), "2").reason("db_limit"));
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);  // 9:30 to 10:30
  std::vector<int64_t> peaks;
  for (const Bucket& b : h.buckets) peaks.push_back(b.peak);
  CHECK(peaks == std::vector<int64_t>{0, 0, 1, 1});
  CHECK(h.buckets[3].connects == 1);  // its connect is still a connect
}

TEST_CASE("summarize: issue_9 durations per name, filtered, ordered by sessions", "[summary][durations]") {
  WindowOptions o;
  o.durations = true;
  auto feed = [](Window& w) {
    w.add(con(at(10, 0), "1").user("u").db("prod").app("rails"));
    w.add(dis_ms(at(10, 1), "1", 1000).user("u").db("prod"));  // app carried from the connect
    w.add(dis_ms(at(10, 2), "x", 3000).user("u").db("prod"));  // unmatched: app unknown
    w.add(dis_ms(at(10, 3), "y", 5000).user("v").db("test").app("rails"));
    w.add(dis(at(10, 4), "z").user("v").db("test").app("rails"));  // no duration: not counted
  };
  Window w(o);
  feed(w);
  Summary s = summarize(w, Filter{}, kDefaultBy, SummaryOptions{true, 0});
  REQUIRE(s.with_durations);
  REQUIRE(s.durations.size() == 3);
  CHECK(s.durations[2].first == Dimension::kApp);
  const auto& apps = s.durations[2].second;
  REQUIRE(apps.size() == 2);
  CHECK(apps[0].name == "rails");
  CHECK(apps[0].n == 2);
  CHECK(apps[0].mean_ms == 3000);
  CHECK(apps[0].p50_ms == 1000);  // nearest rank: ceil(0.5 * 2) = 1st
  CHECK(apps[0].p95_ms == 5000);
  CHECK(apps[0].max_ms == 5000);
  CHECK(apps[1].name == "unknown");
  const auto& dbs = s.durations[0].second;
  REQUIRE(dbs.size() == 2);
  CHECK((dbs[0].name == "prod" && dbs[0].n == 2 && dbs[1].name == "test" && dbs[1].n == 1));
  // Filtered: the Window counts durations for its filter (as pgconn-agg
  // builds it), like the peak.
  WindowOptions fo = o;
  fo.filter = filter(Dimension::kUser, "v");
  Window wf(fo);
  feed(wf);
  Summary f = summarize(wf, fo.filter, kDefaultBy, SummaryOptions{true, 0});
  REQUIRE(f.durations[0].second.size() == 1);
  CHECK(f.durations[0].second[0].name == "test");
  CHECK(f.durations[0].second[0].max_ms == 5000);
  // Only the dimensions asked for are kept.
  WindowOptions ao = o;
  ao.durations_by = {Dimension::kApp};
  Window wa(ao);
  feed(wa);
  Summary a = summarize(wa, Filter{}, {Dimension::kApp, Dimension::kDb}, SummaryOptions{true, 0});
  CHECK(a.durations[0].second.size() == 2);
  CHECK(a.durations[1].second.empty());
  CHECK(wa.durations(Dimension::kDb).size() == 0);
  w.clear();
  CHECK(summarize(w, Filter{}, kDefaultBy, SummaryOptions{true, 0}).durations[0].second.empty());
}

TEST_CASE("summarize: issue_15 durations of \"unknown\" and of the empty name are one row", "[summary][durations][issue_15]") {
  WindowOptions o;
  o.durations = true;
  Window w(o);
  w.add(dis_ms(at(10, 1), "a", 1000).user("u").db("prod").app("unknown"));  // a client calling itself so
  w.add(dis_ms(at(10, 2), "b", 3000).user("u").db("prod"));                  // none logged
  w.add(dis_ms(at(10, 3), "c", 5000).user("u").db("prod").app("rails"));
  Summary s = summarize(w, Filter{}, {Dimension::kApp}, SummaryOptions{true, 0});
  const auto& apps = s.durations[0].second;
  REQUIRE(apps.size() == 2);
  CHECK((apps[0].name == "unknown" && apps[0].n == 2 && apps[0].max_ms == 3000 && apps[0].mean_ms == 2000));
  CHECK((apps[1].name == "rails" && apps[1].n == 1));
}

TEST_CASE("summarize: issue_9 the longest open sessions, oldest first, ties by pid", "[summary][longest]") {
  Window w(WindowOptions{});
  auto c = [&](std::string ts, std::string s, int64_t pid, std::string app) {
    S e = con(std::move(ts), std::move(s)).app(std::move(app)).user("u").db("d").host("10.0.0.1");
    e.e.pid = pid;
    w.add(e);
  };
  c(at(10, 5), "a", 300, "rails");
  c(at(10, 0), "b", 200, "rails");
  c(at(10, 0), "c", 100, "psql");
  c(at(10, 9), "d", 50, "rails");
  w.add(dis(at(10, 30), "b"));
  Summary s = summarize(w, Filter{}, kDefaultBy, SummaryOptions{false, 2});
  REQUIRE(s.longest.size() == 2);
  CHECK(s.longest[0].pid == 100);
  CHECK(s.longest[0].app == "psql");
  CHECK(iso(s.longest[0].since) == "2024-03-01T10:00:00Z");
  CHECK(s.longest[0].open_ms == 30 * kMin);  // to the newest event
  CHECK(s.longest[1].pid == 300);
  Summary r = summarize(w, filter(Dimension::kApp, "rails"), kDefaultBy, SummaryOptions{false, 10});
  REQUIRE(r.longest.size() == 2);
  CHECK((r.longest[0].pid == 300 && r.longest[1].pid == 50));
}

// --- issue 13: whether the view is complete

TEST_CASE("summarize: issue_13 complete and since, per server shown", "[summary][complete]") {
  Window w(WindowOptions{});
  Summary s = summarize(w, Filter{}, {Dimension::kDb});
  CHECK_FALSE(s.complete);  // no event: nothing is known
  CHECK(s.since.empty());
  w.add(S(EventType::kServer, at(9, 0), "").state("ready").server("a"));
  w.add(con(at(10, 0), "a1").db("d").server("a"));
  s = summarize(w, Filter{}, {Dimension::kDb});
  CHECK(s.complete);
  CHECK(s.since == "2024-03-01T09:00:00Z");
  CHECK(s.ended_before == 0);
  // A second server read from the middle of its log: a lower bound.
  w.add(con(at(10, 5), "b1").db("d").server("b"));
  S gone = dis(at(10, 6), "b0").db("d").server("b");
  gone.e.matched = Flag::kFalse;
  w.add(gone);
  w.add(gone);
  s = summarize(w, Filter{}, {Dimension::kDb});
  CHECK_FALSE(s.complete);
  CHECK(s.since == "2024-03-01T09:00:00Z");
  CHECK(s.ended_before == 2);
  // --server shows one server: its own view and its own start.
  s = summarize(w, filter(Dimension::kServer, "a"), {Dimension::kDb});
  CHECK(s.complete);
  CHECK(s.ended_before == 0);
  s = summarize(w, filter(Dimension::kServer, "b"), {Dimension::kDb});
  CHECK_FALSE(s.complete);
  CHECK(s.since == "2024-03-01T10:05:00Z");
  CHECK(s.ended_before == 2);
  s = summarize(w, filter(Dimension::kServer, "nosuch"), {Dimension::kDb});
  CHECK_FALSE(s.complete);
  // Other filters do not change which servers are shown.
  CHECK_FALSE(summarize(w, filter(Dimension::kDb, "d"), {Dimension::kDb}).complete);
  // pgconn-parse --snapshot reconciled b: now exact.
  w.add(S(EventType::kServer, at(10, 7), "").state("snapshot").server("b"));
  s = summarize(w, Filter{}, {Dimension::kDb});
  CHECK(s.complete);
  CHECK(s.ended_before == 0);
  CHECK(s.active == 2);
}

TEST_CASE("summarize: issue_13 the unnamed server and the unknown filter", "[summary][complete]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 0), "s1"));
  CHECK_FALSE(summarize(w, Filter{}, {}).complete);
  w.add(S(EventType::kServer, at(10, 1), "").state("shutdown"));
  CHECK(summarize(w, Filter{}, {}).complete);
  CHECK(summarize(w, filter(Dimension::kServer, "unknown"), {}).complete);
  CHECK(summarize(w, Filter{}, {}).active == 0);
}

TEST_CASE("history: issue_13 buckets before the view was complete are marked", "[summary][history][complete]") {
  Window w(WindowOptions{});
  w.add(con(at(10, 1), "s1").server("a"));
  w.add(con(at(10, 20), "s2").server("a"));
  w.add(S(EventType::kServer, at(10, 35), "").state("snapshot").server("a"));
  w.add(con(at(10, 50), "s3").server("a"));
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  REQUIRE(h.buckets.size() == 4);
  CHECK(h.view_complete);
  CHECK(h.view_from_ms == wall(10, 35));
  // 10:00, 10:15 and 10:30 began before 10:35; 10:45 is exact.
  CHECK_FALSE(h.buckets[0].complete);
  CHECK_FALSE(h.buckets[1].complete);
  CHECK_FALSE(h.buckets[2].complete);
  CHECK(h.buckets[3].complete);
  // A stream that begins with the server's start: every bucket is exact.
  Window r(WindowOptions{});
  r.add(S(EventType::kServer, at(10, 1), "").state("ready"));
  r.add(con(at(10, 2), "s1"));
  r.add(con(at(10, 50), "s2"));
  h = history(r, Filter{}, 15 * kMin, 60 * kMin);
  for (const Bucket& b : h.buckets) CHECK(b.complete);
  CHECK(h.view_from_ms == INT64_MIN);
  // Never complete: every bucket is marked.
  Window n(WindowOptions{});
  n.add(con(at(10, 2), "s1"));
  h = history(n, Filter{}, 15 * kMin, 60 * kMin);
  CHECK_FALSE(h.view_complete);
  CHECK(h.since_at.valid());
  for (const Bucket& b : h.buckets) CHECK_FALSE(b.complete);
}

TEST_CASE("summarize: issue_13 events without sessions and no filter are a summary of 0", "[summary][complete]") {
  // An idle server read with pgconn-parse --snapshot: one server event only.
  Window w(WindowOptions{});
  w.add(S(EventType::kServer, at(10, 0), "").state("snapshot"));
  Summary s = summarize(w, Filter{}, {Dimension::kDb});
  CHECK_FALSE(s.no_data);
  CHECK_FALSE(s.no_match);  // was "No connections match ." (an empty filter)
  CHECK(s.complete);
  CHECK(s.active == 0);
  CHECK(summarize(w, filter(Dimension::kDb, "x"), {Dimension::kDb}).no_match);
  History h = history(w, Filter{}, 15 * kMin, 60 * kMin);
  CHECK_FALSE(h.no_match);
  CHECK(history(w, filter(Dimension::kDb, "x"), 15 * kMin, 60 * kMin).no_match);
}

TEST_CASE("issue_15: the overflow row is marked; the other dimensions keep their names", "[summary][issue_15]") {
  WindowOptions o;
  o.max_names = 2;
  o.durations = true;
  Window w(o);
  for (int i = 0; i < 5; ++i) {
    const std::string s = "s" + std::to_string(i);
    w.add(con(at(10, i), s).user("u").db(i < 3 ? "production" : "test").app("job-" + std::to_string(i)));
  }
  S d = dis(at(10, 9), "s4").user("u").db("test").app("job-4");
  d.e.duration_ms = 5000;
  w.add(d);
  SummaryOptions so;
  so.durations = true;
  Summary s = summarize(w, Filter{}, kDefaultBy, so);
  CHECK(counts(s.by[0].second) == Counts{{"production", 3}, {"test", 1}});
  const auto& apps = s.by[2].second;
  CHECK(counts(apps) == Counts{{"\u27e8other apps\u27e9", 2}, {"job-0", 1}, {"job-1", 1}});
  CHECK(apps[0].overflow);
  CHECK_FALSE(apps[1].overflow);
  // A filter on a database still sees its sessions past the app cap.
  Summary t = summarize(w, filter(Dimension::kDb, "test"), kDefaultBy);
  CHECK(t.active == 1);
  REQUIRE(s.durations.size() == 3);
  REQUIRE(s.durations[2].second.size() == 1);
  CHECK(s.durations[2].second[0].name == "\u27e8other apps\u27e9");
  CHECK(s.durations[2].second[0].overflow);
}

TEST_CASE("issue_15: durations are merged per name over many combinations", "[summary][issue_15]") {
  WindowOptions o;
  o.durations = true;
  Window w(o);
  // Three hosts per app: the app's row merges three histograms.
  for (int i = 0; i < 30; ++i) {
    const std::string s = "s" + std::to_string(i);
    const std::string app = "app" + std::to_string(i % 2);
    const std::string host = "h" + std::to_string(i % 3);
    w.add(con(at(10, 0), s).user("u").db("d").app(app).host(host));
    S d = dis(at(10, 1), s).user("u").db("d").app(app).host(host);
    d.e.duration_ms = 1000 * (i + 1);
    w.add(d);
  }
  SummaryOptions so;
  so.durations = true;
  Summary s = summarize(w, Filter{}, {Dimension::kApp, Dimension::kHost}, so);
  REQUIRE(s.durations[0].second.size() == 2);
  const DurationStats& a0 = s.durations[0].second[0];  // app0: 1, 3, ..., 29 s
  CHECK(a0.name == "app0");
  CHECK(a0.n == 15);
  CHECK(a0.max_ms == 29000);
  CHECK(a0.mean_ms == 15000);
  REQUIRE(s.durations[1].second.size() == 3);
  CHECK(s.durations[1].second[0].n == 10);
}
