#include "window/sketch.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace pgconn {

uint32_t LogHistogram::bucket_of(int64_t v) {
  if (v < kSub) return static_cast<uint32_t>(v < 0 ? 0 : v);
  const uint64_t u = static_cast<uint64_t>(v);
  const int e = 63 - std::countl_zero(u);  // 2^e <= v < 2^(e+1), e >= kSubBits
  const int shift = e - kSubBits;          // bucket width 2^shift
  // Octave e starts at bucket kSub * (e - kSubBits + 1); v >> shift is in [kSub, 2 kSub).
  return static_cast<uint32_t>(kSub * (shift + 1) + static_cast<int64_t>(u >> shift) - kSub);
}

void LogHistogram::bucket_range(uint32_t b, int64_t* lo, int64_t* hi) {
  if (b < kSub) {
    *lo = *hi = b;
    return;
  }
  const int shift = static_cast<int>(b / kSub) - 1;
  const uint64_t top = kSub + b % kSub;  // the value's top kSubBits + 1 bits
  const uint64_t l = top << shift;
  *lo = static_cast<int64_t>(l);
  *hi = static_cast<int64_t>(l + ((uint64_t{1} << shift) - 1));
}

template <typename F>
void LogHistogram::for_each(F f) const {
  if (sparse_) {
    for (uint64_t e : counts_) f(static_cast<uint32_t>(e >> kCountBits), e & kMaxSparseCount);
    return;
  }
  for (size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i] != 0) f(first_ + static_cast<uint32_t>(i), counts_[i]);
}

void LogHistogram::make_dense() {
  std::vector<uint64_t> sparse;
  sparse.swap(counts_);
  sparse_ = false;
  if (sparse.empty()) return;
  first_ = static_cast<uint32_t>(sparse.front() >> kCountBits);
  counts_.assign((sparse.back() >> kCountBits) - first_ + 1, 0);
  used_ = 0;
  for (uint64_t e : sparse) {
    used_ += counts_[(e >> kCountBits) - first_] == 0;
    counts_[(e >> kCountBits) - first_] += e & kMaxSparseCount;
  }
}

void LogHistogram::make_sparse() {
  std::vector<uint64_t> sparse;
  sparse.reserve(used_ + 1);
  for_each([&](uint32_t b, uint64_t n) {
    while (n > 0) {  // a count too big for one entry: never seen, but exact
      const uint64_t part = std::min(n, kMaxSparseCount);
      sparse.push_back(uint64_t{b} << kCountBits | part);
      n -= part;
    }
  });
  counts_.swap(sparse);
  sparse_ = true;
}

bool LogHistogram::dense_pays(uint64_t span, uint64_t used) {
  return span <= std::max<uint64_t>(32, 4 * used);
}

void LogHistogram::add_bucket(uint32_t b, uint64_t n) {
  if (!sparse_ && !counts_.empty()) {
    const uint64_t lo = std::min<uint64_t>(first_, b), hi = std::max<uint64_t>(first_ + counts_.size() - 1, b);
    const bool fresh = b < first_ || b - first_ >= counts_.size() || counts_[b - first_] == 0;
    if (!dense_pays(hi - lo + 1, used_ + fresh) && n <= kMaxSparseCount) make_sparse();  // a far value
  }
  if (sparse_) {
    const uint64_t key = uint64_t{b} << kCountBits;
    auto it = std::lower_bound(counts_.begin(), counts_.end(), key);
    if (it != counts_.end() && (*it >> kCountBits) == b) {
      if ((*it & kMaxSparseCount) + n <= kMaxSparseCount) {
        *it += n;
        return;
      }
      make_dense();  // a count too big for an entry
    } else {
      counts_.insert(it, key | std::min(n, kMaxSparseCount));
      if (n <= kMaxSparseCount) {
        // Dense once that is at most four times the size, or 32 buckets
        // (sketch.hpp): a dense add is one increment, no search.
        const uint64_t span = (counts_.back() >> kCountBits) - (counts_.front() >> kCountBits) + 1;
        if (dense_pays(span, counts_.size())) make_dense();
        return;
      }
      counts_.erase(std::lower_bound(counts_.begin(), counts_.end(), key));
      make_dense();
    }
  }
  if (counts_.empty()) {
    first_ = b;
    counts_.assign(1, 0);
  } else if (b < first_) {  // grow downwards
    counts_.insert(counts_.begin(), first_ - b, 0);
    first_ = b;
  } else if (b - first_ >= counts_.size()) {
    counts_.resize(b - first_ + 1, 0);
  }
  used_ += counts_[b - first_] == 0;
  counts_[b - first_] += n;
}

void LogHistogram::prefetch(int64_t v) const {
  if (counts_.empty()) return;
  if (sparse_) {  // the binary search's first probes and the end
    __builtin_prefetch(counts_.data() + counts_.size() / 2);
    __builtin_prefetch(counts_.data() + counts_.size() - 1);
    return;
  }
  const uint32_t b = bucket_of(v < 0 ? 0 : v);
  if (b >= first_ && b - first_ < counts_.size()) __builtin_prefetch(&counts_[b - first_]);
}

void LogHistogram::add(int64_t v) {
  if (v < 0) v = 0;
  if (n_ == 0) min_ = max_ = v;
  add_bucket(bucket_of(v), 1);
  ++n_;
  sum_ += static_cast<uint64_t>(v);
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

void LogHistogram::merge(const LogHistogram& o) {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  o.for_each([this](uint32_t b, uint64_t n) { add_bucket(b, n); });
  n_ += o.n_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

void LogHistogram::clear() { *this = LogHistogram(); }

int64_t LogHistogram::percentile(double p) const {
  if (n_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(n_)));
  rank = std::clamp<uint64_t>(rank, 1, n_);
  if (rank == n_) return max_;  // exact
  if (rank == 1) return min_;
  uint64_t seen = 0;
  int64_t found = max_;
  bool done = false;
  for_each([&](uint32_t b, uint64_t n) {
    if (done) return;
    seen += n;
    if (seen < rank) return;
    int64_t lo, hi;
    bucket_range(b, &lo, &hi);
    // The midpoint: within half a bucket of any value in it.
    found = std::clamp(lo + (hi - lo) / 2, min_, max_);
    done = true;
  });
  return found;
}

}  // namespace pgconn
