// LogHistogram: session lengths in bounded memory for --durations
// (sketch.hpp, issue 9): n, mean and max exact; nearest-rank percentiles
// within 1% (the layout promises 1/256) on skewed data.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "window/sketch.hpp"

using namespace pgconn;

namespace {

// The exact nearest-rank percentile: the value at rank ceil(p * n).
int64_t nearest_rank(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

double rel_err(int64_t got, int64_t want) {
  if (want == 0) return got == 0 ? 0 : 1;
  return std::abs(static_cast<double>(got - want)) / static_cast<double>(want);
}

}  // namespace

TEST_CASE("LogHistogram: every bucket is at most 1/128 of its lower bound wide", "[sketch]") {
  for (uint32_t b = 0; b < 7296; ++b) {
    int64_t lo, hi;
    LogHistogram::bucket_range(b, &lo, &hi);
    REQUIRE(LogHistogram::bucket_of(lo) == b);
    REQUIRE(LogHistogram::bucket_of(hi) == b);
    if (b > 0) {
      int64_t plo, phi;
      LogHistogram::bucket_range(b - 1, &plo, &phi);
      REQUIRE(phi + 1 == lo);  // no gap, no overlap
    }
    REQUIRE(static_cast<double>(hi - lo) <= static_cast<double>(lo) / 128.0);
    if (hi == INT64_MAX) break;
  }
  CHECK(LogHistogram::bucket_of(127) == 127);  // exact below 128
  CHECK(LogHistogram::bucket_of(INT64_MAX) < 7296);
}

TEST_CASE("LogHistogram: exact below 128, n, mean and max always exact", "[sketch]") {
  LogHistogram h;
  std::vector<int64_t> v;
  for (int64_t i = 0; i < 100; ++i) {
    h.add(i % 37);
    v.push_back(i % 37);
  }
  for (double p : {0.0, 0.01, 0.5, 0.95, 0.99, 1.0}) CHECK(h.percentile(p) == nearest_rank(v, p));
  CHECK(h.count() == 100);
  CHECK(h.max() == 36);
  CHECK(h.min() == 0);
  double sum = 0;
  for (int64_t x : v) sum += static_cast<double>(x);
  CHECK(h.mean() == sum / 100);
  h.add(-5);  // a negative length counts as 0
  CHECK(h.min() == 0);
  CHECK(h.count() == 101);
}

TEST_CASE("LogHistogram: skewed sessions, many short and a few of hours, within 1%", "[sketch]") {
  std::mt19937_64 rng(9);
  std::lognormal_distribution<double> quick(std::log(120.0), 1.0);  // ~120 ms, up to seconds
  std::uniform_int_distribution<int64_t> hours(3600000, 5 * 3600000);
  LogHistogram h;
  std::vector<int64_t> v;
  for (int i = 0; i < 200000; ++i) {
    int64_t ms = static_cast<int64_t>(quick(rng));
    h.add(ms);
    v.push_back(ms);
  }
  for (int i = 0; i < 40; ++i) {  // the leak: a few sessions of hours
    int64_t ms = hours(rng);
    h.add(ms);
    v.push_back(ms);
  }
  REQUIRE(h.count() == v.size());
  CHECK(h.max() == *std::max_element(v.begin(), v.end()));
  long double sum = 0;
  for (int64_t x : v) sum += x;
  CHECK(h.mean() == Approx(static_cast<double>(sum / v.size())).epsilon(1e-12));
  for (double p : {0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9998, 0.99995, 1.0}) {
    INFO("p = " << p << ": sketch " << h.percentile(p) << ", exact " << nearest_rank(v, p));
    CHECK(rel_err(h.percentile(p), nearest_rank(v, p)) < 0.01);
    CHECK(rel_err(h.percentile(p), nearest_rank(v, p)) <= 1.0 / 256);
  }
}

TEST_CASE("LogHistogram: 999 sessions of 10 ms and one of 3 hours", "[sketch]") {
  LogHistogram h;
  for (int i = 0; i < 999; ++i) h.add(10);
  h.add(3 * 3600000);
  CHECK(h.percentile(0.5) == 10);
  CHECK(h.percentile(0.95) == 10);
  CHECK(h.percentile(0.999) == 10);  // rank 999
  CHECK(h.percentile(1.0) == 3 * 3600000);
  CHECK(h.max() == 3 * 3600000);
  CHECK(h.mean() == (999 * 10 + 3 * 3600000) / 1000.0);
}

TEST_CASE("LogHistogram: merging is the same as adding everything to one", "[sketch]") {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> d(std::log(2000.0), 2.0);
  LogHistogram all, parts[3], merged;
  for (int i = 0; i < 30000; ++i) {
    int64_t ms = static_cast<int64_t>(d(rng));
    all.add(ms);
    parts[i % 3].add(ms + 0);
  }
  for (const LogHistogram& p : parts) merged.merge(p);
  merged.merge(LogHistogram());  // an empty one changes nothing
  CHECK(merged.count() == all.count());
  CHECK(merged.max() == all.max());
  CHECK(merged.min() == all.min());
  CHECK(merged.mean() == all.mean());
  for (double p : {0.1, 0.5, 0.95, 0.99}) CHECK(merged.percentile(p) == all.percentile(p));
}

TEST_CASE("LogHistogram: the whole int64 range in bounded memory", "[sketch]") {
  LogHistogram h;
  h.add(0);
  h.add(INT64_MAX);
  h.add(1);
  CHECK(h.count() == 3);
  CHECK(h.percentile(0.5) == 1);
  CHECK(h.percentile(1.0) == INT64_MAX);
  h.clear();
  CHECK(h.count() == 0);
}

TEST_CASE("issue_15: a histogram of few values stays sparse and small; many turn it dense", "[sketch][issue_15]") {
  LogHistogram few;
  few.add(10);
  few.add(1000000);  // dense, these two would span about 1,200 buckets
  CHECK_FALSE(few.dense());
  CHECK(few.bytes() <= 64);
  CHECK(few.percentile(0.5) == 10);
  CHECK(few.max() == 1000000);

  std::mt19937_64 rng(15);
  std::vector<int64_t> values;
  LogHistogram many;
  for (int i = 0; i < 20000; ++i) {
    const int64_t v = static_cast<int64_t>(std::exp(std::uniform_real_distribution<double>(0, 12)(rng)));
    values.push_back(v);
    many.add(v);
  }
  CHECK(many.dense());
  // The same bound in both forms: a sparse one merged from the same values
  // answers the same.
  LogHistogram merged;
  for (int64_t v : values) {
    LogHistogram one;
    one.add(v);
    merged.merge(one);
  }
  for (double p : {0.01, 0.25, 0.5, 0.9, 0.95, 0.99}) {
    INFO(p);
    CHECK(merged.percentile(p) == many.percentile(p));
    const int64_t exact = nearest_rank(values, p);
    CHECK(std::abs(many.percentile(p) - exact) <= exact / 256 + 1);
  }
  CHECK(merged.count() == many.count());
  CHECK(merged.mean() == many.mean());
}

TEST_CASE("issue_15: sparse and dense histograms merge both ways", "[sketch][issue_15]") {
  LogHistogram sparse, dense;
  sparse.add(5);
  sparse.add(700);
  for (int64_t v = 100; v < 400; ++v) dense.add(v);
  REQUIRE(dense.dense());
  REQUIRE_FALSE(sparse.dense());
  LogHistogram a = sparse, b = dense;
  a.merge(dense);
  b.merge(sparse);
  CHECK(a.count() == 302);
  for (double p : {0.0, 0.1, 0.5, 0.9, 1.0}) CHECK(a.percentile(p) == b.percentile(p));
  CHECK(a.min() == 5);
  CHECK(b.max() == 700);
}

TEST_CASE("issue_15: dense counters widen past 255 and 65,535, exactly", "[sketch][issue_15]") {
  LogHistogram h;
  for (int64_t v = 0; v < 64; ++v) h.add(v);  // 64 buckets side by side: dense
  REQUIRE(h.dense());
  CHECK(h.counter_bytes() == 1);
  for (int i = 0; i < 300; ++i) h.add(10);
  CHECK(h.counter_bytes() == 2);
  for (int i = 0; i < 70000; ++i) h.add(20);
  CHECK(h.counter_bytes() == 4);
  CHECK(h.count() == 64 + 300 + 70000);
  // Nearest rank: 11 values below 10, then 301 tens; 20's run covers the middle.
  CHECK(h.percentile(0.001) == 10);
  CHECK(h.percentile(0.5) == 20);
  CHECK(h.percentile(0.0001) == 7);  // rank ceil(7.04) = 8: the eighth value
  CHECK(h.min() == 0);
  CHECK(h.max() == 63);
}

TEST_CASE("issue_15: a sparse count past an entry's 19 bits turns the histogram dense", "[sketch][issue_15]") {
  LogHistogram a, b;
  a.add(100);
  a.add(1000000);  // far apart: sparse
  REQUIRE_FALSE(a.dense());
  for (int i = 0; i < 600000; ++i) a.add(100);  // past 524,287 in one bucket
  CHECK(a.count() == 600002);
  CHECK(a.percentile(0.5) == 100);
  CHECK(a.percentile(0.99999) == 100);
  CHECK(a.max() == 1000000);
  // The same counts merged in: equal answers.
  LogHistogram one;
  one.add(100);
  b.add(1000000);
  for (int i = 0; i < 600001; ++i) b.merge(one);
  for (double p : {0.0, 0.5, 0.99, 0.999999, 1.0}) CHECK(a.percentile(p) == b.percentile(p));
}

TEST_CASE("issue_15: a far value turns a dense histogram back to sparse", "[sketch][issue_15]") {
  LogHistogram h;
  for (int64_t v = 0; v < 40; ++v) h.add(v);
  REQUIRE(h.dense());
  h.add(int64_t{1} << 40);  // thousands of buckets away
  CHECK_FALSE(h.dense());
  CHECK(h.count() == 41);
  CHECK(h.percentile(0.5) == 20);
  CHECK(h.max() == int64_t{1} << 40);
  CHECK(h.bytes() <= 41 * 8);
}

TEST_CASE("issue_15: memory stays within 8 bytes per value, 64 at least, on any data", "[sketch][issue_15]") {
  std::mt19937_64 rng(1515);
  for (int round = 0; round < 200; ++round) {
    LogHistogram h, m;
    std::vector<int64_t> values;
    const int n = 1 + static_cast<int>(rng() % 3000);
    const double spread = std::uniform_real_distribution<double>(0.5, 40)(rng);
    for (int i = 0; i < n; ++i) {
      const int64_t v = static_cast<int64_t>(std::exp(std::uniform_real_distribution<double>(0, spread)(rng)));
      values.push_back(v);
      h.add(v);
      LogHistogram one;
      one.add(v);
      m.merge(one);
      if (i % 97 == 0) REQUIRE(h.bytes() <= std::max<size_t>(64, 8 * h.count()));
    }
    INFO("round " << round << " n " << n << " spread " << spread);
    CHECK(h.bytes() <= std::max<size_t>(64, 8 * h.count()));
    CHECK(m.bytes() <= std::max<size_t>(64, 8 * m.count()));
    for (double p : {0.01, 0.5, 0.9, 0.95, 0.99}) {
      CHECK(h.percentile(p) == m.percentile(p));
      const int64_t exact = nearest_rank(values, p);
      CHECK(std::abs(h.percentile(p) - exact) <= exact / 256 + 1);
    }
  }
}
