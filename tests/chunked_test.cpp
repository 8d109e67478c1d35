#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "chunked.hpp"
#include "event.hpp"
#include "window/reason_counts.hpp"
#include "window/window.hpp"

using namespace pgconn;

TEST_CASE("Chunked keeps elements in place across chunks and iterates in order", "[chunked]") {
  Chunked<std::string, 4> c;
  CHECK(c.empty());
  CHECK(c.begin() == c.end());
  std::vector<const std::string*> where;
  for (int i = 0; i < 11; ++i) {  // three chunks, the last one partly used
    c.emplace_back() = "s" + std::to_string(i);
    where.push_back(&c[static_cast<size_t>(i)]);
  }
  REQUIRE(c.size() == 11);
  for (size_t i = 0; i < 11; ++i) {
    CHECK(&c[i] == where[i]);  // never moved by growing
    CHECK(c[i] == "s" + std::to_string(i));
  }
  std::vector<std::string> seen(c.begin(), c.end());
  CHECK(seen.size() == 11);
  CHECK(seen.front() == "s0");
  CHECK(seen.back() == "s10");
  c.clear();
  CHECK(c.empty());
  CHECK(c.emplace_back().empty());  // value-initialised after clear()
  CHECK(c.size() == 1);
}

TEST_CASE("ReasonCounts counts like a map ordered by reason", "[chunked][reason_counts]") {
  // Random bumps over a few reasons, checked against std::map at each step.
  const std::vector<std::string> reasons = {"too_many_clients", "auth_failed", "role_limit", "other",
                                            "no_hba_entry", "a", "zz"};
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    ReasonCounts rc;
    std::map<std::string, uint64_t> want;
    CHECK(rc.empty());
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      const std::string& r = reasons[rng() % reasons.size()];
      ++rc.bump(r);
      ++want[r];
    }
    std::map<std::string, uint64_t> got;
    std::string last;
    for (const auto& [reason, count] : rc) {
      CHECK(std::string(reason) > last);  // ascending, each once
      last = std::string(reason);
      got[last] = count;
    }
    CHECK(got == want);
    CHECK(rc.size() == want.size());
    CHECK(rc.empty() == want.empty());
    for (const auto& [reason, count] : want) CHECK(rc.at(reason) == count);
    CHECK_THROWS_AS(rc.at("never"), std::out_of_range);
  }
}

TEST_CASE("Window counts at most kMaxReasons reasons, the rest as other", "[window][reason_counts]") {
  Window w(WindowOptions{});
  const size_t n = Window::kMaxReasons + 50;
  for (size_t i = 0; i < n; ++i) {
    Event e;
    e.type = EventType::kReject;
    e.ts = "2024-03-01T10:00:00.000Z";
    e.session = "s" + std::to_string(i);
    e.reason = "r" + std::to_string(i);
    w.add(EventView(e));
  }
  std::map<std::string, uint64_t> rejects;
  for (const auto& t : w.totals())
    for (const auto& [reason, count] : t.rejects) rejects[std::string(reason)] += count;
  CHECK(rejects.size() == Window::kMaxReasons + 1);  // + "other"
  CHECK(rejects.at("other") == n - Window::kMaxReasons);
  CHECK(rejects.at("r0") == 1);
  uint64_t total = 0;
  for (const auto& [reason, count] : rejects) total += count;
  CHECK(total == n);
}
