#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "ring.hpp"

using namespace pgconn;

TEST_CASE("Ring keeps first-in first-out order across wrap-around and growth", "[ring]") {
  Ring<int> r;
  CHECK(r.empty());
  int next_in = 0, next_out = 0;
  // Push 3, pop 2, many times: the ring wraps and grows with elements in it.
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 3; ++i) r.push_back() = next_in++;
    for (int i = 0; i < 2; ++i) {
      REQUIRE(r.front() == next_out++);
      r.pop_front();
    }
    REQUIRE(r.size() == static_cast<size_t>(next_in - next_out));
    for (size_t i = 0; i < r.size(); ++i) REQUIRE(r[i] == next_out + static_cast<int>(i));
  }
  while (!r.empty()) {
    CHECK(r.front() == next_out++);
    r.pop_front();
  }
  CHECK(next_out == next_in);
}

TEST_CASE("Ring hands a slot out again as it was left", "[ring]") {
  Ring<std::string> r;
  std::set<const char*> buffers;
  for (int i = 0; i < 1000; ++i) {  // one in, one out: the slots cycle
    std::string& s = r.push_back();
    if (i >= 500) REQUIRE(s.size() == 100);  // as the last user left it
    s.assign(100, 'x');
    buffers.insert(s.data());
    r.pop_front();
  }
  CHECK(buffers.size() < 500);  // strings kept their buffers: few were allocated
}
