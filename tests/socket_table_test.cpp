#include <catch2/catch.hpp>

#include <random>
#include <unordered_map>

#include "lifecycle/socket_table.hpp"

using namespace pgconn;

namespace {
// Few distinct homes: long probe runs that wrap around the array's end,
// which is where deletion by backward shift can go wrong.
struct BadHash {
  size_t operator()(uint64_t k) const { return static_cast<size_t>((k % 7) * 1021); }
};
}  // namespace

TEST_CASE("SocketTable agrees with std::unordered_map under random use", "[socket_table]") {
  SocketTable<uint64_t, BadHash> t;
  std::unordered_map<uint64_t, uint64_t> want;
  std::mt19937_64 rng(17);
  for (int step = 0; step < 200000; ++step) {
    const uint64_t k = rng() % 3000;
    switch (rng() % 3) {
      case 0:
        t.set(k, static_cast<uint64_t>(step));
        want[k] = static_cast<uint64_t>(step);
        break;
      case 1:
        t.erase(k);
        want.erase(k);
        break;
      default: {
        const uint64_t* got = t.find(k);
        auto it = want.find(k);
        REQUIRE((got == nullptr) == (it == want.end()));
        if (got != nullptr) REQUIRE(*got == it->second);
      }
    }
    REQUIRE(t.size() == want.size());
  }
  for (const auto& [k, v] : want) {
    const uint64_t* got = t.find(k);
    REQUIRE(got != nullptr);
    CHECK(*got == v);
  }
}
