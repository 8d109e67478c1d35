// render: Summary and History as text and JSON (render.hpp, SPEC.md §4,
// the seeds' layout). Summaries are built by hand so that the exact text is
// checked independently of the Window.
#include <catch2/catch.hpp>

#include <cctype>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "json_reader.hpp"
#include "render/render.hpp"
#include "window/summary.hpp"
#include "timestamp.hpp"
#include "window/window.hpp"

using namespace pgconn;

namespace {

constexpr int64_t kMin = 60000;

std::vector<Count> list(std::vector<std::pair<std::string, int64_t>> v) {
  std::vector<Count> out;
  for (auto& [name, n] : v) out.push_back(Count{name, n});
  return out;
}

// The seeds' "Connection Overview" numbers.
Summary seed_summary() {
  Summary s;
  s.complete = true;  // a stream from the server's start
  s.active = 47;
  s.by.emplace_back(Dimension::kDb, list({{"production", 32}, {"analytics", 8}, {"test", 7}}));
  s.by.emplace_back(Dimension::kUser, list({{"app_user", 28}, {"readonly", 12}, {"admin", 7}}));
  s.by.emplace_back(Dimension::kApp,
                    list({{"rails", 20}, {"", 14}, {"sidekiq", 8}, {"psql", 5}}));
  s.connects = 234;
  s.disconnects = 187;
  REQUIRE(parse_iso_time("2024-03-01T10:41:07.412Z", &s.peak.at));
  s.peak.active = 52;
  s.newest = s.peak.at;
  return s;
}

Filter filter(Dimension d, std::string v) {
  Filter f;
  f.field[static_cast<int>(d)] = std::move(v);
  return f;
}

std::string summary_text(const Summary& s, const Filter& f = Filter{}) {
  std::string out;
  render_summary_text(s, f, &out);
  return out;
}

std::string summary_json(const Summary& s) {
  std::string out;
  render_summary_json(s, &out);
  return out;
}

int64_t wall(int h, int m) {
  Timestamp t;
  REQUIRE(parse_iso_time(fmt::format("2024-03-01T{:02}:{:02}:00Z", h, m), &t));
  return t.wall_ms;
}

// The seeds' history: 40, 45, 52, 61 active in 15-minute buckets.
History seed_history() {
  History h;
  h.view_complete = true;  // a stream from the server's start
  h.bucket_ms = 15 * kMin;
  h.from_ms = wall(10, 0);
  h.to_ms = wall(11, 0);
  const int64_t active[] = {40, 45, 52, 61};
  const int64_t delta[] = {2, 5, 7, 9};
  const uint64_t con[] = {60, 55, 9, 110};
  const uint64_t dis[] = {58, 50, 2, 101};
  const bool leak[] = {false, false, true, true};
  const int64_t peak[] = {44, 47, 55, 66};
  for (int i = 0; i < 4; ++i) {
    Bucket b;
    b.start_ms = h.from_ms + i * h.bucket_ms;
    b.active = active[i];
    b.delta = delta[i];
    b.connects = con[i];
    b.disconnects = dis[i];
    b.leak = leak[i];
    b.peak = peak[i];
    h.buckets.push_back(b);
    h.connects += con[i];
    h.disconnects += dis[i];
  }
  h.net = static_cast<int64_t>(h.connects) - static_cast<int64_t>(h.disconnects);
  h.growth.emplace_back(Dimension::kApp, list({{"rails", 15}, {"sidekiq", 6}}));
  h.growth.emplace_back(Dimension::kUser, list({{"app_user", 21}}));
  h.growth.emplace_back(Dimension::kHost,
                        list({{"10.0.1.5", 9}, {"10.0.1.6", 7}, {"10.0.1.7", 4}, {"[local]", 1}}));
  return h;
}

std::string history_text(const History& h, const Filter& f = Filter{}, int64_t last = 60 * kMin) {
  std::string out;
  render_history_text(h, f, last, &out);
  return out;
}

Timestamp utc_zone() {
  Timestamp t;
  REQUIRE(parse_iso_time("2024-03-01T10:52:00Z", &t));
  return t;
}

}  // namespace

// ------------------------------------------------------------------ summary

TEST_CASE("render: the summary text", "[render]") {
  CHECK(summary_text(seed_summary()) ==
        "Active connections: 47\n"
        "Peak: 52 at 10:41:07\n"
        "\n"
        "By database:\n"
        "  production    32\n"
        "  analytics      8\n"
        "  test           7\n"
        "\n"
        "By user:\n"
        "  app_user      28\n"
        "  readonly      12\n"
        "  admin          7\n"
        "\n"
        "By application:\n"
        "  rails         20\n"
        "  unknown       14\n"
        "  sidekiq        8\n"
        "  psql           5\n"
        "\n"
        "Session totals: 234 connects, 187 disconnects\n");
}

TEST_CASE("render: the summary has the seeds' column layout", "[render][seed]") {
  // The seeds ("Connection Overview", "Filtered View") print names in a
  // 12-column field and counts right-aligned in 4 ("  production    32"):
  // every row of every "By" list is 18 columns, its name from the third,
  // its count's last digit in the last. (The text itself is the test above;
  // only the order of "unknown" differs from the seed on purpose, SPEC.md
  // §4: biggest first.)
  std::istringstream text(summary_text(seed_summary()));
  std::string line;
  int rows = 0;
  bool in_list = false;
  while (std::getline(text, line)) {
    if (line.rfind("By ", 0) == 0) {
      in_list = true;
      continue;
    }
    if (line.empty()) in_list = false;
    if (!in_list) continue;
    INFO(line);
    ++rows;
    CHECK(line.size() == 18);
    CHECK(line.rfind("  ", 0) == 0);
    CHECK(line[2] != ' ');
    CHECK(std::isdigit(static_cast<unsigned char>(line.back())));
  }
  CHECK(rows == 10);
}

TEST_CASE("render: long names and big counts widen the columns", "[render]") {
  Summary s;
  s.complete = true;  // a stream from the server's start
  s.active = 1234;
  s.by.emplace_back(Dimension::kDb, list({{"a_rather_long_database", 1200}, {"x", 34}}));
  s.by.emplace_back(Dimension::kApp, list({{"caf\xC3\xA9", 1234}}));
  s.connects = 2000;
  s.disconnects = 766;
  CHECK(summary_text(s) ==
        "Active connections: 1234\n"
        "Peak: 0\n"
        "\n"
        "By database:\n"
        "  a_rather_long_database  1200\n"
        "  x                         34\n"
        "\n"
        "By application:\n"
        "  caf\xC3\xA9" "                    1234\n"
        "\n"
        "Session totals: 2000 connects, 766 disconnects\n");
}

TEST_CASE("render: the filtered summary leaves the filtered dimension out", "[render]") {
  Summary s;
  s.complete = true;  // a stream from the server's start
  s.active = 32;
  s.by.emplace_back(Dimension::kDb, list({{"production", 32}}));
  s.by.emplace_back(Dimension::kUser, list({{"app_user", 25}, {"readonly", 5}, {"admin", 2}}));
  s.by.emplace_back(Dimension::kApp, list({{"rails", 20}, {"sidekiq", 8}, {"psql", 4}}));
  s.connects = 120;
  s.disconnects = 88;
  CHECK(summary_text(s, filter(Dimension::kDb, "production")) ==
        "Active connections to 'production': 32\n"
        "Peak: 0\n"
        "\n"
        "By user:\n"
        "  app_user      25\n"
        "  readonly       5\n"
        "  admin          2\n"
        "\n"
        "By application:\n"
        "  rails         20\n"
        "  sidekiq        8\n"
        "  psql           4\n"
        "\n"
        "Session totals: 120 connects, 88 disconnects\n");

  Filter two = filter(Dimension::kDb, "test");
  two.field[static_cast<int>(Dimension::kUser)] = "admin";
  Summary t;
  t.complete = true;  // a stream from the server's start
  t.active = 3;
  t.by.emplace_back(Dimension::kDb, list({{"test", 3}}));
  t.by.emplace_back(Dimension::kUser, list({{"admin", 3}}));
  t.by.emplace_back(Dimension::kApp, list({{"psql", 2}, {"", 1}}));
  t.connects = 3;
  CHECK(summary_text(t, two) ==
        "Active connections to 'test' for user 'admin': 3\n"
        "Peak: 0\n"
        "\n"
        "By application:\n"
        "  psql           2\n"
        "  unknown        1\n"
        "\n"
        "Session totals: 3 connects, 0 disconnects\n");

  Summary u;
  u.complete = true;  // a stream from the server's start
  u.active = 0;
  u.by.emplace_back(Dimension::kDb, std::vector<Count>{});
  u.connects = 4;
  u.disconnects = 4;
  CHECK(summary_text(u, filter(Dimension::kApp, "cron")) ==
        "Active connections from application 'cron': 0\n"
        "Peak: 0\n"
        "\n"
        "Session totals: 4 connects, 4 disconnects\n");
  CHECK(summary_text(u, filter(Dimension::kHost, "10.0.1.5")).rfind(
            "Active connections from host '10.0.1.5': 0\n", 0) == 0);
  CHECK(summary_text(u, filter(Dimension::kServer, "db1")).rfind(
            "Active connections on server 'db1': 0\n", 0) == 0);
}

TEST_CASE("render: rejects are listed by reason phrase", "[render]") {
  Summary s;
  s.complete = true;  // a stream from the server's start
  s.active = 1;
  s.by.emplace_back(Dimension::kDb, list({{"production", 1}}));
  s.connects = 5;
  s.disconnects = 4;
  s.rejected = 4;
  s.rejects = list({{"too_many_clients", 2}, {"role_limit", 1}, {"brand_new_reason", 1}});
  CHECK(summary_text(s) ==
        "Active connections: 1\n"
        "Peak: 0\n"
        "\n"
        "By database:\n"
        "  production     1\n"
        "\n"
        "Session totals: 5 connects, 4 disconnects, 4 rejected\n"
        "Rejected:\n"
        "  too many connections (max_connections)     2\n"
        "  connection limit exceeded (role)           1\n"
        "  brand_new_reason                           1\n");
  CHECK(reason_phrase("db_limit") == "connection limit exceeded (database)");
  CHECK(reason_phrase("reserved_slots") == "only reserved slots left");
  CHECK(reason_phrase("something_else") == "something_else");
}

TEST_CASE("render: the empty state and a filter matching nothing", "[render]") {
  Summary empty;
  empty.no_data = true;
  const std::string text = summary_text(empty);
  CHECK(text.rfind("No connection data available.\n", 0) == 0);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);  // the message and a hint
  CHECK(text.find("pgconn-parse") != std::string::npos);

  Summary none;
  none.no_match = true;
  CHECK(summary_text(none, filter(Dimension::kDb, "nope")) == "No connections match db=nope.\n");
  Filter two = filter(Dimension::kUser, "admin");
  two.field[static_cast<int>(Dimension::kDb)] = "test";
  CHECK(summary_text(none, two) == "No connections match db=test, user=admin.\n");

  History h;
  h.no_data = true;
  const std::string ht = history_text(h);
  CHECK(ht.rfind("No connection data available.\n", 0) == 0);
  History hn;
  hn.no_match = true;
  CHECK(history_text(hn, filter(Dimension::kApp, "x")) == "No connections match app=x.\n");
}

TEST_CASE("render: summary JSON", "[render]") {
  Summary s;
  s.complete = true;  // a stream from the server's start
  s.active = 14;
  s.by.emplace_back(Dimension::kDb, list({{"production", 9}, {"test", 2}}));
  s.by.emplace_back(Dimension::kUser, list({{"app_user", 9}}));
  s.by.emplace_back(Dimension::kApp, list({{"rails", 6}, {"", 1}}));
  s.connects = 81;
  s.disconnects = 67;
  s.rejected = 1;
  s.rejects = list({{"role_limit", 1}});
  // SPEC.md §4's example, key for key.
  CHECK(summary_json(s) ==
        "{\"active\":14,\"connects\":81,\"disconnects\":67,\"rejects\":{\"role_limit\":1},"
        "\"by\":{\"db\":{\"production\":9,\"test\":2},\"user\":{\"app_user\":9},"
        "\"app\":{\"rails\":6,\"unknown\":1}},\"peak\":{\"active\":0,\"at\":null},\"complete\":true,\"since\":null,\"ended_before\":0}\n");

  // Names are JSON-escaped and the line parses back.
  Summary e;
  e.by.emplace_back(Dimension::kApp, list({{"a\"b\\c\x1b[2J", 1}}));
  e.active = 1;
  const std::string line = summary_json(e);
  CHECK(line ==
        "{\"active\":1,\"connects\":0,\"disconnects\":0,\"rejects\":{},"
        "\"by\":{\"app\":{\"a\\\"b\\\\c\\u001b[2J\":1}},\"peak\":{\"active\":0,\"at\":null},\"complete\":false,\"since\":null,\"ended_before\":0}\n");
  JsonReader outer, by, app;
  REQUIRE(outer.parse(line));
  REQUIRE(outer.find("by") != nullptr);
  REQUIRE(by.parse(outer.find("by")->value));
  REQUIRE(app.parse(by.find("app")->value));
  REQUIRE(app.members().size() == 1);
  CHECK(app.members()[0].key == "a\"b\\c\x1b[2J");

  Summary empty;
  empty.no_data = true;
  CHECK(summary_json(empty) ==
        "{\"active\":0,\"connects\":0,\"disconnects\":0,\"rejects\":{},\"by\":{},\"peak\":{\"active\":0,\"at\":null},\"complete\":false,\"since\":null,\"ended_before\":0}\n");
}

TEST_CASE("render: JSON has one key per shown name, also for an app named unknown",
          "[render]") {
  // Regression (was a bug): an application really named "unknown" and an unset one are two
  // groups in summarize(), and render_summary_json writes both as
  // "unknown": the object gets a duplicate key ({"unknown":2,"unknown":1})
  // and jq keeps only the last count. The text view shows two "unknown"
  // rows. Filters already treat them as one (Filter::matches).
  Window w(WindowOptions{});
  for (const char* id : {"1", "2", "3"}) {
    Event e;
    e.type = EventType::kConnect;
    e.ts = "2024-03-01T10:00:00Z";
    e.session = id;
    e.app = id[0] == '3' ? "unknown" : "";
    w.add(e);
  }
  const Summary s = summarize(w, Filter{}, {Dimension::kApp});
  const std::string line = summary_json(s);
  JsonReader outer, by, app;
  REQUIRE(outer.parse(line));
  REQUIRE(by.parse(outer.find("by")->value));
  REQUIRE(app.parse(by.find("app")->value));
  CHECK(app.members().size() == 1);
  CHECK(app.integer("unknown") == 3);
}

// ------------------------------------------------------------------ history

TEST_CASE("render: the history text", "[render][history]") {
  CHECK(history_text(seed_history()) ==
        "Last hour: 234 connects, 211 disconnects, +23 net\n"
        "\n"
        "10:00  40 active (+2)  peak 44   60 connects,  58 disconnects\n"
        "10:15  45 active (+5)  peak 47   55 connects,  50 disconnects\n"
        "10:30  52 active (+7)  peak 55    9 connects,   2 disconnects  \u2190 potential leak\n"
        "10:45  61 active (+9)  peak 66  110 connects, 101 disconnects  \u2190 potential leak\n"
        "\n"
        "Trend: \u2581\u2582\u2585\u2588  40 \u2192 61 active\n"
        "Growth:\n"
        "  app   rails +15, sidekiq +6\n"
        "  user  app_user +21\n"
        "  host  10.0.1.5 +9, 10.0.1.6 +7, 10.0.1.7 +4, \u2026\n");
}

TEST_CASE("render: history text with flat buckets, a filter and no growth", "[render][history]") {
  History h;
  h.bucket_ms = 5 * kMin;
  h.from_ms = wall(10, 30);
  h.to_ms = wall(10, 40);
  Bucket a;
  a.start_ms = wall(10, 30);
  a.active = 3;
  a.peak = 3;
  Bucket b;
  b.start_ms = wall(10, 35);
  b.active = 0;
  b.peak = 3;
  b.delta = -3;
  b.disconnects = 3;
  h.buckets = {a, b};
  h.disconnects = 3;
  h.net = -3;
  h.growth.emplace_back(Dimension::kApp, std::vector<Count>{});
  CHECK(history_text(h, filter(Dimension::kDb, "production"), 10 * kMin) ==
        "Last 10 min (db=production): 0 connects, 3 disconnects, -3 net\n"
        "\n"
        "10:30  3 active       peak 3  0 connects, 0 disconnects\n"
        "10:35  0 active (-3)  peak 3  0 connects, 3 disconnects\n"
        "\n"
        "Trend: \u2588\u2581  3 \u2192 0 active\n");
}

TEST_CASE("render: history JSON", "[render][history]") {
  std::string out;
  render_history_json(seed_history(), utc_zone(), &out);
  CHECK(out ==
        "{\"from\":\"2024-03-01T10:00:00Z\",\"to\":\"2024-03-01T11:00:00Z\",\"bucket_s\":900,"
        "\"connects\":234,\"disconnects\":211,\"net\":23,\"complete\":true,\"since\":null,\"ended_before\":0,\"buckets\":["
        "{\"start\":\"2024-03-01T10:00:00Z\",\"active\":40,\"delta\":2,\"connects\":60,\"disconnects\":58,\"leak\":false,\"peak\":44,\"complete\":true},"
        "{\"start\":\"2024-03-01T10:15:00Z\",\"active\":45,\"delta\":5,\"connects\":55,\"disconnects\":50,\"leak\":false,\"peak\":47,\"complete\":true},"
        "{\"start\":\"2024-03-01T10:30:00Z\",\"active\":52,\"delta\":7,\"connects\":9,\"disconnects\":2,\"leak\":true,\"peak\":55,\"complete\":true},"
        "{\"start\":\"2024-03-01T10:45:00Z\",\"active\":61,\"delta\":9,\"connects\":110,\"disconnects\":101,\"leak\":true,\"peak\":66,\"complete\":true}],"
        "\"growth\":{\"app\":{\"rails\":15,\"sidekiq\":6},\"user\":{\"app_user\":21},"
        "\"host\":{\"10.0.1.5\":9,\"10.0.1.6\":7,\"10.0.1.7\":4,\"[local]\":1}}}\n");

  // The bucket times carry the log's own offset.
  Timestamp zone;
  REQUIRE(parse_iso_time("2024-03-01T10:52:00.123+05:30", &zone));
  History h = seed_history();
  h.buckets.resize(1);
  h.growth.clear();
  std::string z;
  render_history_json(h, zone, &z);
  CHECK(z.rfind("{\"from\":\"2024-03-01T10:00:00+05:30\",\"to\":\"2024-03-01T11:00:00+05:30\","
                "\"bucket_s\":900,", 0) == 0);
  CHECK(z.find("{\"start\":\"2024-03-01T10:00:00+05:30\",") != std::string::npos);
  JsonReader r;
  CHECK(r.parse(z));
}

// ---------------------------------------------------------- display_safe

TEST_CASE("display_safe escapes ESC, control characters and DEL", "[render]") {
  CHECK(display_safe("rails") == "rails");
  CHECK(display_safe("") == "");
  CHECK(display_safe("evil\x1b[2J\x1b]0;pwn\x07") == "evil\\x1b[2J\\x1b]0;pwn\\x07");
  CHECK(display_safe("a\tb\nc\rd") == "a\\x09b\\x0ac\\x0dd");
  CHECK(display_safe(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(display_safe("del\x7f") == "del\\x7f");
  CHECK(display_safe("back\\slash") == "back\\\\slash");  // so an escape is unambiguous
}

TEST_CASE("display_safe escapes C1 controls and invalid UTF-8, keeps valid UTF-8", "[render]") {
  CHECK(display_safe("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(display_safe("\xE6\x97\xA5\xE6\x9C\xAC") == "\xE6\x97\xA5\xE6\x9C\xAC");
  CHECK(display_safe("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
  CHECK(display_safe("\xC2\xA0") == "\xC2\xA0");  // U+00A0 is printable
  // U+009B (CSI) and U+0085 (NEL) encoded in UTF-8.
  CHECK(display_safe("x\xC2\x9B" "2Jy") == "x\\xc2\\x9b2Jy");
  CHECK(display_safe("\xC2\x85") == "\\xc2\\x85");
  CHECK(display_safe("\xC2\x80") == "\\xc2\\x80");
  // Raw 8-bit C1 bytes and other invalid bytes.
  CHECK(display_safe("\x9B" "31m") == "\\x9b31m");
  CHECK(display_safe("a\xFF" "b") == "a\\xffb");
  CHECK(display_safe("\xC3") == "\\xc3");                  // cut sequence
  CHECK(display_safe("\xC0\xAF") == "\\xc0\\xaf");         // overlong "/"
  CHECK(display_safe("\xED\xA0\x80") == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(display_name("") == "unknown");
  CHECK(display_name("x\x1b") == "x\\x1b");
}

TEST_CASE("display_safe escapes bidi controls, keeps their neighbours", "[render]") {
  CHECK(display_safe("a\xE2\x80\xAE" "b") == "a\\xe2\\x80\\xaeb");  // U+202E RLO
  CHECK(display_safe("\xE2\x80\xAA") == "\\xe2\\x80\\xaa");        // U+202A LRE
  CHECK(display_safe("\xE2\x81\xA6") == "\\xe2\\x81\\xa6");        // U+2066 LRI
  CHECK(display_safe("\xE2\x81\xA9") == "\\xe2\\x81\\xa9");        // U+2069 PDI
  CHECK(display_safe("\xE2\x80\x8F") == "\\xe2\\x80\\x8f");        // U+200F RLM
  CHECK(display_safe("\xD8\x9C") == "\\xd8\\x9c");                    // U+061C ALM
  CHECK(display_safe("\xE2\x80\xA6") == "\xE2\x80\xA6");           // U+2026 stays
  CHECK(display_safe("\xE2\x81\xA5") == "\xE2\x81\xA5");           // U+2065 stays
  CHECK(display_safe("\xD8\xA8") == "\xD8\xA8");                     // U+0628 stays
}

TEST_CASE("render: a very long name pads only its own row", "[render]") {
  Summary s;
  s.complete = true;  // a stream from the server's start
  s.active = 2;
  s.by.emplace_back(Dimension::kApp, list({{std::string(100000, 'a'), 1}, {"rails", 1}}));
  const std::string text = summary_text(s);
  CHECK(text.find("  " + std::string(100000, 'a') + "     1\n") != std::string::npos);
  CHECK(text.find("\n  rails" + std::string(64 - 5 + 2, ' ') + "   1\n") != std::string::npos);
  CHECK(text.size() < 100200);
}

TEST_CASE("render: names from the log never reach the text raw", "[render]") {
  const std::string evil = "evil\x1b[2J\xC2\x9B" "0m\x07";
  Summary s;
  s.complete = true;  // a stream from the server's start
  s.active = 1;
  s.by.emplace_back(Dimension::kApp, list({{evil, 1}}));
  const std::string text = summary_text(s);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\x07') == std::string::npos);
  CHECK(text.find("\xC2\x9B") == std::string::npos);
  CHECK(text.find("evil\\x1b[2J\\xc2\\x9b0m\\x07") != std::string::npos);

  const std::string filtered = summary_text(s, filter(Dimension::kApp, evil));
  CHECK(filtered.find('\x1b') == std::string::npos);
  CHECK(filtered.find("from application 'evil\\x1b[2J") != std::string::npos);
  Summary none;
  none.no_match = true;
  CHECK(summary_text(none, filter(Dimension::kUser, evil)).find('\x1b') == std::string::npos);

  History h = seed_history();
  h.growth[0].second = list({{evil, 3}});
  const std::string ht = history_text(h, filter(Dimension::kDb, evil));
  CHECK(ht.find('\x1b') == std::string::npos);
  CHECK(ht.find('\x07') == std::string::npos);
}

TEST_CASE("render: a reject reason this version does not know is shown escaped", "[render]") {
  // Regression (was a bug): reason_phrase() hands back an unknown reason as it is, and
  // render_summary_text prints it without display_safe(): a `reason` in the
  // event stream (untrusted input to pgconn-agg, like every name) reaches
  // the terminal raw, ESC sequences included. render.hpp: "every name from
  // the log passes through display_safe()"; SPEC.md §6: "control characters
  // and terminal escapes ... never written raw to a terminal".
  Summary s;
  s.complete = true;  // a stream from the server's start
  s.active = 0;
  s.rejected = 1;
  s.rejects = list({{"x\x1b[2J\x07", 1}});
  const std::string text = summary_text(s);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\x07') == std::string::npos);
  CHECK(text.find("x\\x1b[2J\\x07") != std::string::npos);
}

// ------------------------------------------------------ issue 9

namespace {

Summary peak_summary() {
  Summary s;
  s.complete = true;  // a stream from the server's start
  s.active = 2;
  s.by.emplace_back(Dimension::kApp, list({{"rails", 2}}));
  s.connects = 700;
  s.disconnects = 698;
  REQUIRE(parse_iso_time("2024-03-01T10:00:03.412Z", &s.peak.at));
  s.peak.active = 72;
  REQUIRE(parse_iso_time("2024-03-01T11:00:00Z", &s.newest));
  s.with_durations = true;
  s.durations.emplace_back(
      Dimension::kApp,
      std::vector<DurationStats>{{"rails", 636, 61234.5, 41000, 183000, 911000}, {"", 62, 850, 800, 1500, 2300}});
  s.with_longest = 5;
  OpenSession o;
  o.user = "app_user";
  o.db = "production";
  o.app = "rails";
  o.host = "10.0.1.5";
  o.pid = 4242;
  REQUIRE(parse_iso_time("2024-03-01T09:58:01.250Z", &o.since));
  o.open_ms = 3718750;
  s.longest.push_back(o);
  OpenSession p;
  p.user = "x\x1b[2J";
  p.pid = 7;
  REQUIRE(parse_iso_time("2024-02-29T23:00:00Z", &p.since));
  p.open_ms = 12 * 3600000;
  s.longest.push_back(p);
  return s;
}

}  // namespace

TEST_CASE("render: issue_9 peak, durations and the longest sessions as text", "[render][peak]") {
  CHECK(summary_text(peak_summary()) ==
        "Active connections: 2\n"
        "Peak: 72 at 10:00:03\n"
        "\n"
        "By application:\n"
        "  rails          2\n"
        "\n"
        "Session totals: 700 connects, 698 disconnects\n"
        "\n"
        "Durations by application:\n"
        "              sessions     mean   median      p95      max\n"
        "  rails            636    1m01s    41.0s    3m03s   15m11s\n"
        "  unknown           62    850ms    800ms     1.5s     2.3s\n"
        "\n"
        "Longest open sessions:\n"
        "  since           open for   pid  user      db          app      host\n"
        "  03-01 09:58:01     1h01m  4242  app_user  production  rails    10.0.1.5\n"
        "  02-29 23:00:00    12h00m     7  x\\x1b[2J  unknown     unknown  unknown\n");
  Summary none = peak_summary();
  none.longest.clear();
  none.durations[0].second.clear();
  std::string text = summary_text(none);
  CHECK(text.find("Longest open sessions: none\n") != std::string::npos);
  CHECK(text.find("Durations by application:\n  no session ended\n") != std::string::npos);
  // A peak on another day than the newest event shows its date.
  Summary d = peak_summary();
  REQUIRE(parse_iso_time("2024-03-02T01:00:00Z", &d.newest));
  CHECK(summary_text(d).find("Peak: 72 at 03-01 10:00:03\n") != std::string::npos);
}

TEST_CASE("render: issue_9 peak, durations and the longest sessions as JSON", "[render][peak]") {
  const std::string line = summary_json(peak_summary());
  CHECK(line ==
        "{\"active\":2,\"connects\":700,\"disconnects\":698,\"rejects\":{},\"by\":{\"app\":{\"rails\":2}},"
        "\"peak\":{\"active\":72,\"at\":\"2024-03-01T10:00:03.412Z\"},\"complete\":true,\"since\":null,\"ended_before\":0,"
        "\"durations\":{\"app\":{\"rails\":{\"n\":636,\"mean_ms\":61234.5,\"p50_ms\":41000,\"p95_ms\":183000,"
        "\"max_ms\":911000},\"unknown\":{\"n\":62,\"mean_ms\":850,\"p50_ms\":800,\"p95_ms\":1500,\"max_ms\":2300}}},"
        "\"longest\":[{\"pid\":4242,\"user\":\"app_user\",\"db\":\"production\",\"app\":\"rails\",\"host\":\"10.0.1.5\","
        "\"since\":\"2024-03-01T09:58:01.250Z\",\"open_ms\":3718750},"
        "{\"pid\":7,\"user\":\"x\\u001b[2J\",\"since\":\"2024-02-29T23:00:00Z\",\"open_ms\":43200000}]}\n");
  JsonReader r;
  CHECK(r.parse(line));
}

// --- issue 13: the view may be a lower bound

TEST_CASE("render: issue_13 a lower bound says so under the active count", "[render][complete]") {
  Summary s = seed_summary();
  s.complete = false;
  REQUIRE(parse_iso_time("2024-03-01T09:58:01.250+01:00", &s.since_at));
  s.since = "2024-03-01T09:58:01.250+01:00";
  s.ended_before = 3;
  const std::string text = summary_text(s);
  CHECK(text.rfind("Active connections: 47\n"
                   "  (at least: the log begins 2024-03-01 09:58:01; 3 sessions from before it have ended since)\n"
                   "Peak: 52 at 10:41:07\n", 0) == 0);
  s.ended_before = 1;
  CHECK(summary_text(s).find("; 1 session from before it has ended since)\n") != std::string::npos);
  s.ended_before = 0;
  CHECK(summary_text(s).find("  (at least: the log begins 2024-03-01 09:58:01; sessions from before it are not seen)\nPeak") !=
        std::string::npos);
  s.since_at = Timestamp();
  CHECK(summary_text(s).find("(at least: the log begins at an unknown time;") != std::string::npos);
  // Complete: no extra line.
  s.complete = true;
  CHECK(summary_text(s).find("at least") == std::string::npos);
  // JSON: the fixed keys.
  s.complete = false;
  s.ended_before = 3;
  const std::string json = summary_json(s);
  CHECK(json.find(",\"complete\":false,\"since\":\"2024-03-01T09:58:01.250+01:00\",\"ended_before\":3") !=
        std::string::npos);
}

TEST_CASE("render: issue_13 --history marks the buckets from before the view was complete", "[render][history][complete]") {
  History h = seed_history();
  h.view_complete = true;
  h.buckets[0].complete = false;
  h.buckets[1].complete = false;
  REQUIRE(parse_iso_time("2024-03-01T10:07:00Z", &h.since_at));
  h.ended_before = 2;
  const std::string text = history_text(h);
  CHECK(text.find("Last hour: 234 connects, 211 disconnects, +23 net\n"
                  "(\u2265 at least: the log begins 2024-03-01 10:07:00; 2 sessions from before it have ended since)\n\n"
                  "10:00 \u2265  40 active (+2)  peak 44   60 connects,  58 disconnects\n"
                  "10:15 \u2265  45 active (+5)  peak 47   55 connects,  50 disconnects\n"
                  "10:30    52 active (+7)  peak 55    9 connects,   2 disconnects  \u2190 potential leak\n") == 0);
  std::string json;
  render_history_json(h, utc_zone(), &json);
  CHECK(json.find("\"complete\":true,\"since\":\"2024-03-01T10:07:00Z\",\"ended_before\":2,") != std::string::npos);
  CHECK(json.find("\"peak\":44,\"complete\":false}") != std::string::npos);
  CHECK(json.find("\"peak\":55,\"complete\":true}") != std::string::npos);
  // All complete: no marker column, no legend (the seeds' layout).
  CHECK(history_text(seed_history()).find("\u2265") == std::string::npos);
}

TEST_CASE("issue_15: --top shows the biggest rows and one row for the rest", "[render][issue_15]") {
  Summary s;
  s.complete = true;
  s.active = 10;
  std::vector<Count> apps;
  for (int i = 0; i < 5; ++i) apps.push_back(Count{"app" + std::to_string(i), 5 - i});
  apps.push_back(Count{"\u27e8other apps\u27e9", 1, true});
  s.by.emplace_back(Dimension::kApp, apps);
  std::string out;
  render_summary_text(s, Filter{}, &out, 2);
  CHECK(out.find("By application:\n"
                 "  app0           5\n"
                 "  app1           4\n"
                 "  \u2026 4 more       7\n") != std::string::npos);
  CHECK(out.find("app2") == std::string::npos);
  // --top=0: every row, the overflow name as it is.
  out.clear();
  render_summary_text(s, Filter{}, &out, 0);
  for (int i = 0; i < 5; ++i) CHECK(out.find("  app" + std::to_string(i)) != std::string::npos);
  CHECK(out.find("  \u27e8other apps\u27e9 ") != std::string::npos);
  CHECK(out.find("more") == std::string::npos);
  // No "more" row when the list fits.
  out.clear();
  render_summary_text(s, Filter{}, &out, 6);
  CHECK(out.find("more") == std::string::npos);
  // JSON keeps every name.
  out.clear();
  render_summary_json(s, &out);
  for (int i = 0; i < 5; ++i) CHECK(out.find("\"app" + std::to_string(i) + "\":") != std::string::npos);
  CHECK(out.find("\"\u27e8other apps\u27e9\":1") != std::string::npos);
}

TEST_CASE("issue_15: --top cuts the duration tables too", "[render][issue_15]") {
  Summary s;
  s.with_durations = true;
  std::vector<DurationStats> rows;
  for (int i = 0; i < 4; ++i) rows.push_back(DurationStats{"app" + std::to_string(i), uint64_t(10 - i), 1000, 1000, 1000, 1000});
  s.durations.emplace_back(Dimension::kApp, rows);
  std::string out;
  render_durations_text(s, &out, 1);
  CHECK(out.find("  app0") != std::string::npos);
  CHECK(out.find("app1") == std::string::npos);
  CHECK(out.find("  \u2026 3 more          24\n") != std::string::npos);
}

TEST_CASE("issue_15: a real name spelled like an overflow name does not read like one", "[render][issue_15]") {
  CHECK(list_name("\u27e8other users\u27e9", true) == "\u27e8other users\u27e9");
  CHECK(list_name("\u27e8other users\u27e9", false) == "\\xe2\\x9f\\xa8other users\u27e9");
  CHECK(list_name("", false) == "unknown");
  CHECK(list_name("rails", false) == "rails");
}

TEST_CASE("issue_15: a large summary spilled in pieces is the same text, each piece about 64 KiB",
          "[render][issue_15]") {
  Summary s = seed_summary();
  std::vector<Count> apps;
  std::vector<DurationStats> rows;
  for (int i = 0; i < 20000; ++i) {
    apps.push_back(Count{fmt::format("worker-{}", i), 20000 - i});
    rows.push_back(DurationStats{fmt::format("worker-{}", i), static_cast<uint64_t>(20000 - i), 1500.5, 1000, 9000,
                                 60000});
  }
  s.by.emplace_back(Dimension::kHost, apps);
  s.with_durations = true;
  s.durations.emplace_back(Dimension::kApp, rows);
  for (bool json : {true, false}) {
    CAPTURE(json);
    std::string whole, out, pieces;
    std::vector<size_t> sizes;
    const Spill spill = [&](std::string* part) {
      sizes.push_back(part->size());
      pieces += *part;
      part->clear();
    };
    if (json) {
      render_summary_json(s, &whole);
      render_summary_json(s, &out, spill);
    } else {
      render_summary_text(s, Filter{}, &whole, 0);
      render_summary_text(s, Filter{}, &out, 0, spill);
    }
    pieces += out;  // the rest, as the caller writes it
    CHECK(pieces == whole);
    REQUIRE(sizes.size() >= 20);  // megabytes: spilled many times
    for (size_t n : sizes) CHECK((n >= 64 * 1024 && n < 65 * 1024));
    CHECK(out.size() < 65 * 1024);
  }
}
