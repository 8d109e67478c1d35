// PeakTracker: the exact peak of sessions open at once, in event time
// (peak.hpp, issue 9): ends before starts at the same instant, changes
// slightly out of time order, sessions rejected right after their connect.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "window/peak.hpp"
#include "timestamp.hpp"

using namespace pgconn;

namespace {

// 10:00:00.000 plus `ms`.
Timestamp t(int64_t ms) {
  Timestamp ts;
  REQUIRE(parse_iso_time("2024-03-01T10:00:00.000Z", &ts));
  ts.wall_ms += ms;
  return ts;
}

std::string when(const PeakTracker::Peak& p) {
  std::string s;
  if (p.at.valid()) append_rfc3339(p.at, &s);
  return fmt::format("{} at {}", p.active, s);
}

}  // namespace

TEST_CASE("PeakTracker: the most open at once and the first moment", "[peak]") {
  PeakTracker p;
  CHECK(when(p.peak()) == "0 at ");
  p.open(t(0), 1);
  p.open(t(100), 2);
  p.close(t(200));
  p.open(t(300), 3);
  CHECK(when(p.peak()) == "2 at 2024-03-01T10:00:00.100Z");  // first reached, not the later equal
  p.open(t(400), 4);
  CHECK(when(p.peak()) == "3 at 2024-03-01T10:00:00.400Z");
  p.close(t(500), 3);
  CHECK(p.current() == 0);
  CHECK(when(p.peak()) == "3 at 2024-03-01T10:00:00.400Z");
  CHECK(p.late() == 0);
}

TEST_CASE("PeakTracker: a session that ends as another starts is gone first", "[peak]") {
  PeakTracker p;
  p.open(t(0), 1);
  p.open(t(1000), 2);  // starts ...
  p.close(t(1000));    // ... as session 1 ends (written after it)
  CHECK(p.peak().active == 1);
  p.open(t(2000), 3);
  p.open(t(2000), 4);  // two start at once: both count
  CHECK(when(p.peak()) == "3 at 2024-03-01T10:00:02.000Z");
}

TEST_CASE("PeakTracker: changes slightly out of time order are placed exactly", "[peak]") {
  // pgconn-parse writes a connect once settled, after newer lines: the
  // connect at .500 comes after the disconnect at .900.
  PeakTracker p;
  p.open(t(0), 1);
  p.close(t(900));
  p.open(t(500), 2);
  CHECK(when(p.peak()) == "2 at 2024-03-01T10:00:00.500Z");
  // Seconds later, long counted for good: still the same.
  p.open(t(60000), 3);
  p.close(t(61000));
  CHECK(when(p.peak()) == "2 at 2024-03-01T10:00:00.500Z");
  CHECK(p.late() == 0);
}

TEST_CASE("PeakTracker: a session rejected right after its connect never counts", "[peak]") {
  PeakTracker p;
  p.open(t(0), 1);
  p.open(t(10), 2);
  p.retract(2, t(12));  // FATAL: too many connections for role
  CHECK(when(p.peak()) == "1 at 2024-03-01T10:00:00.000Z");
  CHECK(p.current() == 1);
  p.open(t(20), 3);
  CHECK(when(p.peak()) == "2 at 2024-03-01T10:00:00.020Z");
  CHECK(p.late() == 0);
}

TEST_CASE("PeakTracker: a retraction past the horizon lowers the count, keeps the peak", "[peak]") {
  PeakTracker p(PeakOptions{1000, 1000});
  p.open(t(0), 1);
  p.open(t(10), 2);
  p.open(t(5000), 3);  // 1 and 2 are counted for good: the peak 2 at .010
  p.retract(2, t(5001));
  CHECK(p.late() == 1);
  CHECK(p.current() == 2);  // 1 and 3
  CHECK(when(p.peak()) == "2 at 2024-03-01T10:00:00.010Z");  // documented: may be one too high
}

TEST_CASE("PeakTracker: a change later than the horizon counts where the counting stands", "[peak]") {
  PeakTracker p(PeakOptions{1000, 1000});
  p.open(t(0), 1);
  p.open(t(3000), 2);  // 1 counted for good (at 0)
  p.open(t(500), 3);   // after it: still placed exactly
  CHECK(p.late() == 0);
  p.close(t(600));
  p.open(t(-500), 4);  // before it: too late, counted at .600, a moment with 2 open
  CHECK(p.late() == 1);
  CHECK(when(p.peak()) == "3 at 2024-03-01T10:00:03.000Z");  // so far: 1, 4, then 2
  p.close(t(3000), 2);  // 1 and 4 end as 2 starts
  CHECK(when(p.peak()) == "2 at 2024-03-01T10:00:00.500Z");
  CHECK(p.current() == 1);
  p.open(t(3001), 5);
  CHECK(when(p.peak()) == "2 at 2024-03-01T10:00:00.500Z");
}

TEST_CASE("PeakTracker: memory is bounded by max_pending", "[peak]") {
  PeakTracker p(PeakOptions{INT64_MAX / 4, 100});
  for (int i = 0; i < 10000; ++i) p.open(t(i), static_cast<uint64_t>(i));
  CHECK(when(p.peak()) == "10000 at 2024-03-01T10:00:09.999Z");
  for (int i = 0; i < 10000; ++i) p.close(t(20000 + i));
  CHECK(p.current() == 0);
  CHECK(p.late() == 0);
  p.clear();
  CHECK(p.peak().active == 0);
  CHECK(p.current() == 0);
}

TEST_CASE("PeakTracker: issue_13 restart() starts again from the sessions open now", "[peak]") {
  auto at = [](int64_t n, int64_t ms) { return when(PeakTracker::Peak{n, t(ms)}); };
  PeakTracker p;
  for (int i = 0; i < 5; ++i) p.open(t(i), i);
  p.close(t(10), 2);
  REQUIRE(p.peak().active == 5);
  p.restart(t(20), 3);
  CHECK(when(p.peak()) == at(3, 20));
  CHECK(p.current() == 3);
  p.close(t(20));  // at the same instant: counted in order, not late
  CHECK(p.late() == 0);
  CHECK(p.current() == 2);
  p.open(t(30), 9);
  CHECK(when(p.peak()) == at(3, 20));  // 3 again: not more than the peak
  p.open(t(31), 10);
  CHECK(when(p.peak()) == at(4, 31));
  p.close(t(5));  // older than the restart: late, counted where it stands
  CHECK(p.late() == 1);
  CHECK(p.current() == 3);
  // Nothing open: no peak.
  p.restart(t(40), 0);
  CHECK(p.peak().active == 0);
  CHECK_FALSE(p.peak().at.valid());
  CHECK(p.current() == 0);
  // Without a time: as cleared.
  p.restart(Timestamp(), 4);
  CHECK(p.current() == 0);
}
