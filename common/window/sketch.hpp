// LogHistogram: session lengths (non-negative integers, milliseconds) in
// bounded memory, for pgconn-agg --durations.
//
// Why a log-bucketed histogram (HdrHistogram's layout) and not a t-digest:
// its error bound is a fixed relative one that holds for every quantile on
// any data (a t-digest is tightest at the tails and gives no hard bound in
// the middle); merging is adding counts, exact and order-independent (a
// t-digest merge depends on the order of inputs); and add() is a few shifts
// and an increment (a binary search while sparse), which keeps
// pgconn-agg above 3 M events/s.
//
// Layout: values below kSub (128) each have their own bucket (exact); above
// it every power of two is cut into kSub equal buckets, so a bucket is at
// most 1/128 of its lower bound wide, and the midpoint reported for it is
// within 1/256 (0.4%) of every value in it. There are 7,296 buckets (the
// whole int64 range), about 1,700 for lengths from 10 ms to 10 minutes.
//
// Memory follows what was counted (issue 15: pgconn-agg keeps one
// histogram per name of each --by dimension, up to 20,000 names each, and
// must stay under 32 MB). A histogram starts sparse: one 4-byte entry per
// bucket used (the bucket and a count of up to 524,287). It turns dense,
// one counter per bucket from the lowest to the highest used, once that is
// at most twice as big (or 64 bytes): then an add is one increment, no
// search. Dense counters are as narrow as the largest count allows, one
// byte until a bucket passes 255, then two, four or eight, so a name of a
// thousand sessions spread over 1,000 buckets takes about 1 KB, not 8. A
// far value that would make the dense form more than twice the sparse one
// turns it back to sparse. So a histogram never holds more than 8 bytes
// per value counted (64 at least), whatever the values. Both forms hold the
// same buckets: the error bound is the same.
//
// count(), max(), min() and mean() are exact (the sum is kept).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pgconn {

class LogHistogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr int64_t kSub = int64_t{1} << kSubBits;

  // Counts one value; a negative one counts as 0.
  void add(int64_t v);
  // Asks the cache for what add(v) will touch (no effect on the counts).
  void prefetch(int64_t v) const;
  // Adds every value of `other` (exact: the counts are added).
  void merge(const LogHistogram& other);
  void clear();

  uint64_t count() const { return n_; }
  // REQUIRES: count() > 0 for min(), max() and mean().
  int64_t min() const { return min_; }
  int64_t max() const { return max_; }
  double mean() const { return static_cast<double>(sum_) / static_cast<double>(n_); }

  // The nearest-rank percentile: the value at rank ceil(p * count()) (1 for
  // p = 0) of the values in ascending order, within 0.4% (exact below 128),
  // never outside [min(), max()]. REQUIRES: count() > 0, 0 <= p <= 1.
  int64_t percentile(double p) const;

  // The bucket of a value, and the range of values [lo, hi] it holds.
  static uint32_t bucket_of(int64_t v);
  static void bucket_range(uint32_t b, int64_t* lo, int64_t* hi);

  // Whether the counts are kept densely now (see above; for tests), and
  // the bytes of one dense counter (0 while sparse).
  bool dense() const { return width_ != 0; }
  int counter_bytes() const { return width_; }
  // Bytes held for the counts.
  size_t bytes() const { return data_.capacity(); }

 private:
  static constexpr int kCountBits = 19;  // sparse entry: bucket << 19 | count
  static constexpr uint32_t kMaxSparseCount = (uint32_t{1} << kCountBits) - 1;
  static constexpr uint32_t kBuckets = 7296;  // 128 exact + 56 octaves of 128
  static_assert(kBuckets <= (uint32_t{1} << (32 - kCountBits)), "a bucket fits an entry");

  // Adds `n` to bucket `b` (min, max, sum and n_ are the caller's).
  void add_bucket(uint32_t b, uint64_t n);
  void add_sparse(uint32_t b, uint64_t n);
  void add_dense(uint32_t b, uint64_t n);
  // Turns the sparse entries dense, `extra` = more room wanted for the
  // largest count (so that adding it fits the counters).
  void make_dense(uint64_t extra = 0);
  // Turns the dense counters sparse. REQUIRES: every count fits an entry.
  void make_sparse();
  // Whether the dense form, `span` counters of `width` bytes, is worth it
  // for `used` buckets in use (twice the sparse form, or 64 bytes).
  static bool dense_pays(uint64_t span, uint64_t used, int width);
  // The counter width a count needs (1, 2, 4 or 8).
  static int width_for(uint64_t count);
  // Rewrites the dense counters `width` bytes wide (REQUIRES: wider).
  void widen(int width);
  // Sparse entries and dense counters, read and written in place.
  size_t entries() const { return data_.size() / 4; }
  uint32_t entry(size_t i) const;
  void set_entry(size_t i, uint32_t e);
  size_t span() const { return width_ == 0 ? 0 : data_.size() / width_; }
  uint64_t counter(size_t i) const;
  void set_counter(size_t i, uint64_t v);
  uint64_t max_counter() const;
  // Calls f(bucket, count) for every bucket with a count, lowest first.
  template <typename F>
  void for_each(F f) const;

  // Sparse (width_ 0): 4-byte entries sorted by bucket. Dense: counters of
  // width_ bytes, the first for bucket first_.
  std::vector<uint8_t> data_;
  uint8_t width_ = 0;
  uint16_t first_ = 0;
  uint16_t used_ = 0;  // dense: buckets with a count
  uint64_t n_ = 0;
  uint64_t sum_ = 0;  // exact up to 1.8e19 ms in all (585 million years)
  int64_t min_ = 0, max_ = 0;
};

}  // namespace pgconn
