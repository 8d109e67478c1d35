// CatchUp: when a replayed input has caught up (catch_up.hpp), for
// pgconn-agg --prom-file's first file.
#include <catch2/catch.hpp>

#include <chrono>

#include "window/catch_up.hpp"
#include "timestamp.hpp"

using namespace pgconn;
using std::chrono::milliseconds;

namespace {

const CatchUp::Clock::time_point t0{};

Timestamp utc_ms(int64_t ms) {
  Timestamp t;
  t.wall_ms = ms;
  t.zone = Timestamp::Zone::kUtc;
  return t;
}

}  // namespace

TEST_CASE("CatchUp: a live input idle for 250 ms has caught up", "[catch_up]") {
  CatchUp c({milliseconds(250), 5000, milliseconds(150000)}, t0);
  const int64_t wall = 1796357000000;
  const Timestamp old = utc_ms(wall - 86400000);  // a replay of yesterday
  c.on_would_block(t0 + milliseconds(10));
  CHECK(c.wait_ms(t0 + milliseconds(10), true) == 250);
  CHECK(!c.check(t0 + milliseconds(200), true, old, wall));
  c.on_data();  // a replay's gap of milliseconds ends
  CHECK(c.wait_ms(t0 + milliseconds(200), true) == -1);
  c.on_would_block(t0 + milliseconds(300));
  CHECK(!c.check(t0 + milliseconds(500), true, old, wall));
  CHECK(c.wait_ms(t0 + milliseconds(500), true) == 50);
  CHECK(!c.check(t0 + milliseconds(549), true, old, wall));
  CHECK(c.check(t0 + milliseconds(550), true, old, wall));
  CHECK(c.done());
  c.on_data();
  CHECK(c.check(t0 + milliseconds(551), true, old, wall));  // stays
  CHECK(c.wait_ms(t0 + milliseconds(551), true) == -1);
}

TEST_CASE("CatchUp: a regular file is not caught up by a pause", "[catch_up]") {
  CatchUp c({milliseconds(250), 5000, milliseconds(150000)}, t0);
  c.on_would_block(t0);
  CHECK(c.wait_ms(t0, false) == -1);
  CHECK(!c.check(t0 + milliseconds(1000), false, Timestamp(), 0));
}

TEST_CASE("CatchUp: an event as new as the clock (a busy log never idle)", "[catch_up]") {
  CatchUp c({milliseconds(250), 5000, milliseconds(150000)}, t0);
  const int64_t wall = 1796357000000;
  CHECK(!c.check(t0, true, utc_ms(wall - 60000), wall));
  CHECK(!c.check(t0, true, utc_ms(wall - 5001), wall));
  CHECK(c.check(t0, true, utc_ms(wall - 4000), wall));
}

TEST_CASE("CatchUp: local times cannot be compared with the clock", "[catch_up]") {
  CatchUp c({milliseconds(250), 5000, milliseconds(150000)}, t0);
  const int64_t wall = 1796357000000;
  Timestamp local = utc_ms(wall);
  local.zone = Timestamp::Zone::kAbbrev;
  CHECK(!c.check(t0, true, local, wall));
  local.zone = Timestamp::Zone::kNone;
  CHECK(!c.check(t0, true, local, wall));
  Timestamp offset = utc_ms(wall + 3600000);  // 10:00+01:00 is 09:00Z
  offset.zone = Timestamp::Zone::kOffset;
  offset.offset_min = 60;
  CHECK(c.check(t0, true, offset, wall));
}

TEST_CASE("CatchUp: gives up waiting after give_up", "[catch_up]") {
  CatchUp c({milliseconds(250), 5000, milliseconds(150000)}, t0);
  CHECK(!c.check(t0 + milliseconds(149999), true, Timestamp(), 0));
  CHECK(c.check(t0 + milliseconds(150000), true, Timestamp(), 0));
}
