#include <catch2/catch.hpp>

#include <string>

#include "render/color.hpp"
#include "event.hpp"
#include "render/event_line.hpp"

using namespace pgconn;

namespace {

// One line of each kind through the palette: what pgconn-watch would write.
std::string render_all(const Palette& p) {
  std::string out;
  Event e;
  e.type = EventType::kConnect;
  e.ts = "2024-05-01T10:23:45.000Z";
  e.user = "app_user";
  e.db = "production";
  e.app = "rails";
  e.host = "10.0.1.5";
  render_event_line(e, p, false, &out);
  e.type = EventType::kDisconnect;
  e.duration_ms = 2300;
  render_event_line(e, p, true, &out);
  e.type = EventType::kReject;
  e.reason = "too_many_clients";
  render_event_line(e, p, false, &out);
  Event s;
  s.type = EventType::kServer;
  s.ts = "2024-05-01T10:23:50Z";
  for (const char* state : {"ready", "shutdown", "crash", "other"}) {
    s.state = state;
    render_event_line(s, p, false, &out);
  }
  return out;
}

bool has_esc(const std::string& s) { return s.find('\x1b') != std::string::npos; }

bool styles_empty(const Palette& p) {
  return !p.connect.has_foreground() && !p.connect.has_background() && !p.connect.has_emphasis() &&
         !p.disconnect.has_foreground() && !p.disconnect.has_background() &&
         !p.disconnect.has_emphasis() && !p.reject.has_foreground() &&
         !p.reject.has_background() && !p.reject.has_emphasis() && !p.dim.has_foreground() &&
         !p.dim.has_background() && !p.dim.has_emphasis();
}

}  // namespace

TEST_CASE("parse_color_mode accepts auto, always and never", "[color]") {
  auto a = parse_color_mode("auto");
  REQUIRE(a.ok());
  CHECK(*a == ColorMode::kAuto);
  auto b = parse_color_mode("always");
  REQUIRE(b.ok());
  CHECK(*b == ColorMode::kAlways);
  auto c = parse_color_mode("never");
  REQUIRE(c.ok());
  CHECK(*c == ColorMode::kNever);
}

TEST_CASE("parse_color_mode rejects other words and quotes them", "[color]") {
  auto r = parse_color_mode("bogus");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "bad --color \"bogus\": expected auto, always or never");
  auto empty = parse_color_mode("");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error() == "bad --color \"\": expected auto, always or never");
  // Exact words only: no case folding, no prefixes, no yes/no synonyms.
  CHECK_FALSE(parse_color_mode("Always").ok());
  CHECK_FALSE(parse_color_mode("alw").ok());
  CHECK_FALSE(parse_color_mode("always ").ok());
  CHECK_FALSE(parse_color_mode("yes").ok());
}

TEST_CASE("make_palette: always wins over NO_COLOR, TERM=dumb and no terminal", "[color]") {
  CHECK(make_palette(ColorMode::kAlways, false, nullptr, nullptr).enabled);
  CHECK(make_palette(ColorMode::kAlways, false, "1", "dumb").enabled);
  CHECK(make_palette(ColorMode::kAlways, true, "1", "xterm").enabled);
  CHECK(make_palette(ColorMode::kAlways, false, "", "xterm-256color").enabled);
}

TEST_CASE("make_palette: never wins over a terminal", "[color]") {
  CHECK_FALSE(make_palette(ColorMode::kNever, true, nullptr, "xterm").enabled);
  CHECK_FALSE(make_palette(ColorMode::kNever, true, "", "xterm-256color").enabled);
  CHECK_FALSE(make_palette(ColorMode::kNever, false, nullptr, nullptr).enabled);
  CHECK(styles_empty(make_palette(ColorMode::kNever, true, nullptr, "xterm")));
}

TEST_CASE("make_palette auto: a non-empty NO_COLOR disables colour", "[color]") {
  CHECK_FALSE(make_palette(ColorMode::kAuto, true, "1", "xterm").enabled);
  CHECK_FALSE(make_palette(ColorMode::kAuto, true, "0", "xterm").enabled);  // any value
  CHECK_FALSE(make_palette(ColorMode::kAuto, true, "false", "xterm-256color").enabled);
  CHECK(styles_empty(make_palette(ColorMode::kAuto, true, "1", "xterm")));
}

TEST_CASE("make_palette auto: an empty NO_COLOR is as if unset", "[color]") {
  CHECK(make_palette(ColorMode::kAuto, true, "", "xterm").enabled);
  CHECK_FALSE(make_palette(ColorMode::kAuto, false, "", "xterm").enabled);
}

TEST_CASE("make_palette auto: TERM unset or dumb disables colour", "[color]") {
  CHECK_FALSE(make_palette(ColorMode::kAuto, true, nullptr, nullptr).enabled);
  CHECK_FALSE(make_palette(ColorMode::kAuto, true, nullptr, "dumb").enabled);
  CHECK_FALSE(make_palette(ColorMode::kAuto, true, "", "dumb").enabled);
  CHECK(styles_empty(make_palette(ColorMode::kAuto, true, nullptr, "dumb")));
}

TEST_CASE("make_palette auto: otherwise the terminal decides", "[color]") {
  CHECK(make_palette(ColorMode::kAuto, true, nullptr, "xterm").enabled);
  CHECK(make_palette(ColorMode::kAuto, true, nullptr, "screen").enabled);
  CHECK(make_palette(ColorMode::kAuto, true, nullptr, "").enabled);  // set but empty: not "dumb"
  CHECK_FALSE(make_palette(ColorMode::kAuto, false, nullptr, "xterm").enabled);
  CHECK_FALSE(make_palette(ColorMode::kAuto, false, nullptr, "xterm-256color").enabled);
}

TEST_CASE("make_palette on: green, yellow, red, faint", "[color]") {
  Palette p = make_palette(ColorMode::kAlways, false, nullptr, nullptr);
  REQUIRE(p.enabled);
  CHECK(fmt::format(p.connect, "x") == "\x1b[32mx\x1b[0m");
  CHECK(fmt::format(p.disconnect, "x") == "\x1b[33mx\x1b[0m");
  CHECK(fmt::format(p.reject, "x") == "\x1b[31mx\x1b[0m");
  CHECK(fmt::format(p.dim, "x") == "\x1b[2mx\x1b[0m");
}

TEST_CASE("with colour off, rendering emits no ESC byte", "[color]") {
  const Palette offs[] = {
      make_palette(ColorMode::kNever, true, nullptr, "xterm"),
      make_palette(ColorMode::kAuto, true, "1", "xterm"),
      make_palette(ColorMode::kAuto, true, nullptr, "dumb"),
      make_palette(ColorMode::kAuto, true, nullptr, nullptr),
      make_palette(ColorMode::kAuto, false, nullptr, "xterm"),
      Palette{},
  };
  for (const Palette& p : offs) {
    std::string out = render_all(p);
    CHECK(out.size() > 100);
    CHECK_FALSE(has_esc(out));
  }
}

TEST_CASE("with colour on, rendering emits ESC sequences", "[color]") {
  std::string out = render_all(make_palette(ColorMode::kAuto, true, nullptr, "xterm"));
  CHECK(has_esc(out));
  CHECK(out.find("\x1b[32m[+]\x1b[0m") != std::string::npos);
  CHECK(out.find("\x1b[33m[-]\x1b[0m") != std::string::npos);
  CHECK(out.find("\x1b[31m[!]\x1b[0m") != std::string::npos);
}
