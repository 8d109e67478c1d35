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
// Memory follows what was counted (issue 15: one histogram per name
// combination, and 150,000 application names): a histogram starts sparse,
// one 8-byte entry per bucket used, and turns dense (one count per bucket
// from the lowest to the highest used) only once the dense form is at most
// four times as big or spans at most 32 buckets, that is when a name has
// had sessions enough to need it (and back to sparse when a far value
// would break that). So a histogram never takes more than
// about 32 bytes per value counted (256 bytes at least), nor more than its
// dense form. Both forms hold the same buckets: the error bound is the
// same.
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

  // Whether the counts are kept densely now (see above; for tests).
  bool dense() const { return !sparse_; }
  // Bytes held for the counts.
  size_t bytes() const { return counts_.capacity() * sizeof(uint64_t); }

 private:
  static constexpr int kCountBits = 40;  // sparse entry: bucket << 40 | count
  static constexpr uint64_t kMaxSparseCount = (uint64_t{1} << kCountBits) - 1;
  // Adds `n` to bucket `b` (min, max, sum and n_ are the caller's).
  void add_bucket(uint32_t b, uint64_t n);
  void make_dense();
  void make_sparse();
  // Whether `span` dense buckets are worth it for `used` buckets in use.
  static bool dense_pays(uint64_t span, uint64_t used);
  // Calls f(bucket, count) for every bucket with a count, lowest first.
  template <typename F>
  void for_each(F f) const;

  // Dense: counts_[i] is bucket first_ + i. Sparse: entries sorted by bucket.
  std::vector<uint64_t> counts_;
  bool sparse_ = true;
  uint32_t first_ = 0;
  uint32_t used_ = 0;  // dense: buckets with a count
  uint64_t n_ = 0;
  uint64_t sum_ = 0;  // exact up to 1.8e19 ms in all (585 million years)
  int64_t min_ = 0, max_ = 0;
};

}  // namespace pgconn
