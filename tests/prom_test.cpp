// prom: the Prometheus text exposition of a Window (prom.hpp): escaping,
// numbers, the exact duration buckets, the reject reasons, the overflow
// series and counters that never go backwards.
#include <catch2/catch.hpp>

#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "event.hpp"
#include "lifecycle/message.hpp"
#include "render/prom.hpp"
#include "window/window.hpp"

using namespace pgconn;

namespace {

std::string label_value(std::string_view v) {
  std::string out;
  prom_label_value(v, &out);
  return out;
}

std::string number(double v) {
  std::string out;
  prom_number(v, &out);
  return out;
}

std::string at(int s) { return fmt::format("2024-03-01T10:{:02}:{:02}.000Z", s / 60, s % 60); }

Event ev(EventType t, int s, std::string session) {
  Event e;
  e.type = t;
  e.ts = at(s);
  e.session = std::move(session);
  e.user = "u";
  e.db = "d";
  return e;
}

// Windows the way pgconn-agg builds them for --prom.
Window prom_window() {
  WindowOptions o;
  PromExporter::configure(&o);
  return Window(o);
}

std::string render(PromExporter* p, const Window& w) {
  std::string out;
  p->render(w, Filter(), 1796357000.25, &out);
  return out;
}

// The sample lines: "name{labels}" -> value.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    INFO(line);
    CHECK(out.count(line.substr(0, sp)) == 0);  // no series twice
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

}  // namespace

TEST_CASE("label values: exactly the three escapes, invalid UTF-8 replaced", "[prom]") {
  CHECK(label_value("plain") == "plain");
  CHECK(label_value("a\\b") == "a\\\\b");
  CHECK(label_value("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(label_value("line1\nline2") == "line1\\nline2");
  CHECK(label_value("tab\there\rcr\x01") == "tab\there\rcr\x01");  // raw: `\t` is a parse error
  CHECK(label_value("caf\xC3\xA9 \xE2\x82\xAC") == "caf\xC3\xA9 \xE2\x82\xAC");
  CHECK(label_value("bad\xFF\xFEx") == "bad\xEF\xBF\xBD\xEF\xBF\xBDx");
  CHECK(label_value("cut\xC3") == "cut\xEF\xBF\xBD");
  CHECK(label_value("") == "");
  std::string help;
  prom_help_text("a\\b\nc\"d", &help);
  CHECK(help == "a\\\\b\\nc\"d");
}

TEST_CASE("numbers: shortest round trip, never six digits", "[prom]") {
  CHECK(number(0.005) == "0.005");
  CHECK(number(4000.5) == "4000.5");
  CHECK(number(1796357000.25) == "1796357000.25");
  CHECK(number(1709287225.46) == "1709287225.46");
  CHECK(number(0) == "0");
  CHECK(number(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(number(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(number(std::numeric_limits<double>::quiet_NaN()) == "NaN");
}

TEST_CASE("SeriesSlots: the first max label sets keep their series until clear()", "[prom]") {
  SeriesSlots s(2);
  CHECK(s.admit("a"));
  CHECK(s.admit("b"));
  CHECK(!s.overflowed());
  CHECK(!s.admit("c"));
  CHECK(s.overflowed());
  CHECK(s.admit("a"));  // sticky
  CHECK(!s.admit("c"));
  s.clear();
  CHECK(!s.overflowed());
  CHECK(s.admit("c"));
}

TEST_CASE("an empty window: every reject reason at 0, HELP and TYPE before samples", "[prom]") {
  Window w = prom_window();
  PromExporter p{PromOptions()};
  const std::string text = render(&p, w);
  auto s = samples(text);
  for (std::string_view r : kRejectReasons)
    CHECK(s.at(fmt::format("pgconn_rejects_total{{server=\"\",reason=\"{}\"}}", r)) == 0);
  CHECK(s.at("pgconn_stats_reset_timestamp_seconds") == 1796357000.25);
  CHECK(s.at("pgconn_sessions_active_peak{server=\"\"}") == 0);
  CHECK(s.count("pgconn_view_complete{server=\"\"}") == 0);  // a placeholder: no alert
  CHECK(text.back() == '\n');
  // The placeholder stops at the first event of a named server.
  Event c = ev(EventType::kConnect, 1, "a");
  c.server = "db1";
  w.add(c);
  auto next = samples(render(&p, w));
  CHECK(next.count("pgconn_rejects_total{server=\"\",reason=\"other\"}") == 0);
  CHECK(next.at("pgconn_rejects_total{server=\"db1\",reason=\"other\"}") == 0);
  CHECK(next.at("pgconn_view_complete{server=\"db1\"}") == 0);
  // Each metric: HELP, TYPE, then its samples, never interleaved.
  std::set<std::string> done;
  std::string current;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    if (line.rfind("# HELP ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      CHECK(done.insert(current).second);
      REQUIRE(std::getline(in, line));
      CHECK(line.rfind("# TYPE " + current + " ", 0) == 0);
      continue;
    }
    CHECK(line.rfind(current, 0) == 0);
  }
}

TEST_CASE("PromOptions::servers: that server's rejects from the start", "[prom]") {
  Window w = prom_window();
  PromOptions o;
  o.servers = {"db1"};
  PromExporter p(o);
  auto s = samples(render(&p, w));
  CHECK(s.at("pgconn_rejects_total{server=\"db1\",reason=\"too_many_clients\"}") == 0);
  CHECK(s.count("pgconn_rejects_total{server=\"\",reason=\"too_many_clients\"}") == 0);
}

TEST_CASE("session durations: exact bucket counts from duration_ms", "[prom]") {
  Window w = prom_window();
  int i = 0;
  for (int64_t ms : {0, 5, 6, 1000, 1001, 2500, 604800000, 604800001}) {
    const std::string id = "s" + std::to_string(i);
    Event c = ev(EventType::kConnect, i, id);
    c.app = "psql";
    w.add(c);
    Event d = ev(EventType::kDisconnect, i + 1, id);
    d.duration_ms = ms;
    w.add(d);
    ++i;
  }
  Event lost = ev(EventType::kDisconnect, 30, "gone");  // no duration: not in the histogram
  lost.reason = "lost";
  w.add(lost);
  PromExporter p{PromOptions()};
  auto s = samples(render(&p, w));
  const std::string l = "pgconn_session_duration_seconds_bucket{server=\"\",application_name=\"psql\",le=";
  CHECK(s.at(l + "\"0.005\"}") == 2);
  CHECK(s.at(l + "\"0.01\"}") == 3);
  CHECK(s.at(l + "\"0.5\"}") == 3);
  CHECK(s.at(l + "\"1\"}") == 4);
  CHECK(s.at(l + "\"2.5\"}") == 6);
  CHECK(s.at(l + "\"604800\"}") == 7);
  CHECK(s.at(l + "\"+Inf\"}") == 8);
  CHECK(s.at("pgconn_session_duration_seconds_count{server=\"\",application_name=\"psql\"}") == 8);
  CHECK(s.at("pgconn_session_duration_seconds_sum{server=\"\",application_name=\"psql\"}") ==
        (0 + 5 + 6 + 1000 + 1001 + 2500 + 604800000.0 + 604800001.0) / 1000);
  CHECK(s.at("pgconn_disconnects_total{server=\"\",datname=\"d\",usename=\"u\",application_name=\"psql\",reason=\"normal\"}") == 8);
  CHECK(s.at("pgconn_disconnects_total{server=\"\",datname=\"d\",usename=\"u\",application_name=\"\",reason=\"lost\"}") == 1);
}

TEST_CASE("past max_series label sets fold into one overflow series; sums stay exact", "[prom]") {
  Window w = prom_window();
  PromOptions o;
  o.max_series = 2;
  PromExporter p(o);
  for (int i = 0; i < 2; ++i) {
    Event c = ev(EventType::kConnect, i, "a" + std::to_string(i));
    c.app = "app" + std::to_string(i);
    w.add(c);
  }
  auto first = samples(render(&p, w));
  CHECK(first.at("pgconn_sessions_active{server=\"\",datname=\"d\",usename=\"u\",application_name=\"app0\"}") == 1);
  CHECK(first.count("pgconn_sessions_active{overflow=\"true\"}") == 0);
  // Two more applications: "app" (sorted first) must not take a slot.
  for (std::string app : {"app", "zz\"top\\"}) {
    Event c = ev(EventType::kConnect, 5, "b" + app);
    c.app = app;
    w.add(c);
  }
  Event end = ev(EventType::kDisconnect, 6, "a0");  // app0 down to 0: keeps its series
  w.add(end);
  auto second = samples(render(&p, w));
  CHECK(second.at("pgconn_sessions_active{server=\"\",datname=\"d\",usename=\"u\",application_name=\"app0\"}") == 0);
  CHECK(second.at("pgconn_sessions_active{server=\"\",datname=\"d\",usename=\"u\",application_name=\"app1\"}") == 1);
  CHECK(second.at("pgconn_sessions_active{overflow=\"true\"}") == 2);
  CHECK(second.count("pgconn_sessions_active{server=\"\",datname=\"d\",usename=\"u\",application_name=\"app\"}") == 0);
  CHECK(second.at("pgconn_connects_total{overflow=\"true\"}") == 2);
  CHECK(second.at("pgconn_disconnects_total{server=\"\",datname=\"d\",usename=\"u\",application_name=\"app0\",reason=\"normal\"}") == 1);
  double sum = 0;
  for (const auto& [k, v] : second)
    if (k.rfind("pgconn_sessions_active{", 0) == 0) sum += v;
  CHECK(sum == 3);
  w.clear();  // SIGHUP: every series stays, at 0 (Prometheus sees the counters reset)
  auto third = samples(render(&p, w));
  for (const auto& [k, v] : second) {
    if (k.rfind("pgconn_sessions_active_peak", 0) == 0 || k.rfind("pgconn_build_info", 0) == 0 ||
        k.rfind("pgconn_stats_reset", 0) == 0)
      continue;
    INFO(k);
    REQUIRE(third.count(k) == 1);
    CHECK(third.at(k) == 0);
  }
  CHECK(third.count("pgconn_sessions_active{server=\"\",datname=\"d\",usename=\"u\",application_name=\"app\"}") == 0);
}

TEST_CASE("counters never go backwards between renders, with the cap", "[prom]") {
  std::mt19937 rng(16);
  Window w = prom_window();
  PromOptions o;
  o.max_series = 5;
  o.labels = {Dimension::kApp, Dimension::kHost};
  PromExporter p(o);
  std::map<std::string, double> before;
  int open = 0;
  for (int round = 0; round < 40; ++round) {
    for (int k = 0; k < 20; ++k) {
      const int n = static_cast<int>(rng() % 30);
      Event e = ev(rng() % 3 ? EventType::kConnect : EventType::kDisconnect, round, "s" + std::to_string(n));
      e.app = "app" + std::to_string(rng() % 12);
      e.host = "10.0.0." + std::to_string(rng() % 3);
      e.server = rng() % 2 ? "db1" : "db2";
      e.duration_ms = static_cast<int64_t>(rng() % 100000);
      if (rng() % 7 == 0) {
        e.type = EventType::kReject;
        e.reason = "auth_failed";
      }
      w.add(e);
      ++open;
    }
    auto now = samples(render(&p, w));
    for (const auto& [k, v] : before) {
      if (k.find("_total{") == std::string::npos && k.find("_bucket{") == std::string::npos &&
          k.find("_count{") == std::string::npos)
        continue;
      INFO(k);
      REQUIRE(now.count(k) == 1);  // a series once written stays
      CHECK(now.at(k) >= v);
    }
    before = now;
  }
  CHECK(open > 0);
}

TEST_CASE("the peak per server", "[prom]") {
  Window w = prom_window();
  for (int i = 0; i < 3; ++i) {
    Event c = ev(EventType::kConnect, i, "a" + std::to_string(i));
    c.server = "db1";
    w.add(c);
  }
  Event c = ev(EventType::kConnect, 5, "b");
  c.server = "db2";
  w.add(c);
  for (int i = 0; i < 3; ++i) {
    Event d = ev(EventType::kDisconnect, 10 + i, "a" + std::to_string(i));
    d.server = "db1";
    w.add(d);
  }
  PromExporter p{PromOptions()};
  auto s = samples(render(&p, w));
  CHECK(s.at("pgconn_sessions_active_peak{server=\"db1\"}") == 3);
  CHECK(s.at("pgconn_sessions_active_peak{server=\"db2\"}") == 1);
  CHECK(s.at("pgconn_rejects_total{server=\"db2\",reason=\"other\"}") == 0);
  CHECK(s.count("pgconn_rejects_total{server=\"\",reason=\"other\"}") == 0);
}

TEST_CASE("issue_15: names past the Window's cap go to the overflow series, never to a label", "[prom][issue_15]") {
  WindowOptions o;
  PromExporter::configure(&o);
  o.max_names = 2;
  Window w(o);
  for (int i = 0; i < 5; ++i) {
    Event c = ev(EventType::kConnect, i, "s" + std::to_string(i));
    c.app = "job-" + std::to_string(i);
    w.add(c);
  }
  Event d = ev(EventType::kDisconnect, 10, "s4");
  d.app = "job-4";
  d.duration_ms = 2000;
  w.add(d);
  PromExporter p{PromOptions()};
  const std::string text = render(&p, w);
  CHECK(text.find("\u27e8") == std::string::npos);
  auto s = samples(text);
  CHECK(s.at("pgconn_sessions_active{server=\"\",datname=\"d\",usename=\"u\",application_name=\"job-0\"}") == 1);
  CHECK(s.at("pgconn_sessions_active{overflow=\"true\"}") == 2);
  CHECK(s.at("pgconn_connects_total{overflow=\"true\"}") == 3);
  CHECK(s.at("pgconn_disconnects_total{overflow=\"true\",reason=\"normal\"}") == 1);
  CHECK(s.at("pgconn_session_duration_seconds_count{overflow=\"true\"}") == 1);
  // Every session is counted once: named plus overflow.
  double active = 0;
  for (const auto& [k, v] : s)
    if (k.rfind("pgconn_sessions_active{", 0) == 0) active += v;
  CHECK(active == 4);
}
