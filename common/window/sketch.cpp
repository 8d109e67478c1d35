#include "window/sketch.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

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

uint32_t LogHistogram::entry(size_t i) const {
  uint32_t e;
  std::memcpy(&e, data_.data() + 4 * i, 4);
  return e;
}

void LogHistogram::set_entry(size_t i, uint32_t e) { std::memcpy(data_.data() + 4 * i, &e, 4); }

uint64_t LogHistogram::counter(size_t i) const {
  const uint8_t* p = data_.data() + i * width_;
  switch (width_) {
    case 1: return *p;
    case 2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    default: { uint64_t v; std::memcpy(&v, p, 8); return v; }
  }
}

void LogHistogram::set_counter(size_t i, uint64_t v) {
  uint8_t* p = data_.data() + i * width_;
  switch (width_) {
    case 1: *p = static_cast<uint8_t>(v); break;
    case 2: { const auto w = static_cast<uint16_t>(v); std::memcpy(p, &w, 2); break; }
    case 4: { const auto w = static_cast<uint32_t>(v); std::memcpy(p, &w, 4); break; }
    default: std::memcpy(p, &v, 8); break;
  }
}

uint64_t LogHistogram::max_counter() const {
  uint64_t m = 0;
  for (size_t i = 0; i < span(); ++i) m = std::max(m, counter(i));
  return m;
}

int LogHistogram::width_for(uint64_t count) {
  if (count <= UINT8_MAX) return 1;
  if (count <= UINT16_MAX) return 2;
  if (count <= UINT32_MAX) return 4;
  return 8;
}

template <typename F>
void LogHistogram::for_each(F f) const {
  if (width_ == 0) {
    for (size_t i = 0; i < entries(); ++i) {
      const uint32_t e = entry(i);
      f(e >> kCountBits, uint64_t{e & kMaxSparseCount});
    }
    return;
  }
  for (size_t i = 0; i < span(); ++i)
    if (const uint64_t n = counter(i); n != 0) f(first_ + static_cast<uint32_t>(i), n);
}

bool LogHistogram::dense_pays(uint64_t span, uint64_t used, int width) {
  return span * static_cast<uint64_t>(width) <= std::max<uint64_t>(64, 8 * used);
}

void LogHistogram::make_dense(uint64_t extra) {
  std::vector<uint8_t> sparse;
  sparse.swap(data_);
  const size_t n = sparse.size() / 4;
  auto at = [&](size_t i) {
    uint32_t e;
    std::memcpy(&e, sparse.data() + 4 * i, 4);
    return e;
  };
  uint64_t top = 0;
  for (size_t i = 0; i < n; ++i) top = std::max<uint64_t>(top, at(i) & kMaxSparseCount);
  width_ = static_cast<uint8_t>(width_for(top + extra));
  used_ = static_cast<uint16_t>(n);
  if (n == 0) return;
  first_ = static_cast<uint16_t>(at(0) >> kCountBits);
  const size_t span = (at(n - 1) >> kCountBits) - first_ + 1;
  data_.assign(span * width_, 0);
  for (size_t i = 0; i < n; ++i) set_counter((at(i) >> kCountBits) - first_, at(i) & kMaxSparseCount);
}

void LogHistogram::make_sparse() {
  std::vector<uint8_t> sparse;
  sparse.reserve(4 * static_cast<size_t>(used_) + 4);  // and the entry about to come
  for_each([&](uint32_t b, uint64_t n) {
    const uint32_t e = b << kCountBits | static_cast<uint32_t>(n);
    sparse.insert(sparse.end(), reinterpret_cast<const uint8_t*>(&e), reinterpret_cast<const uint8_t*>(&e) + 4);
  });
  data_.swap(sparse);
  width_ = 0;
  used_ = 0;
}

void LogHistogram::widen(int width) {
  const size_t n = span();
  std::vector<uint64_t> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = counter(i);
  width_ = static_cast<uint8_t>(width);
  data_.assign(n * static_cast<size_t>(width), 0);
  for (size_t i = 0; i < n; ++i) set_counter(i, values[i]);
}

void LogHistogram::add_sparse(uint32_t b, uint64_t n) {
  // Binary search over the entries (sorted by bucket: the top bits).
  size_t lo = 0, hi = entries();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if ((entry(mid) >> kCountBits) < b) lo = mid + 1; else hi = mid;
  }
  if (lo < entries() && (entry(lo) >> kCountBits) == b) {
    const uint64_t have = entry(lo) & kMaxSparseCount;
    if (have + n <= kMaxSparseCount) {
      set_entry(lo, entry(lo) + static_cast<uint32_t>(n));
      return;
    }
    make_dense(n);  // a count too big for an entry
    add_dense(b, n);
    return;
  }
  if (n > kMaxSparseCount) {
    make_dense(n);
    add_dense(b, n);
    return;
  }
  // A new entry. Room grows by a quarter (not doubled): bytes() stays close
  // to what is used.
  if (data_.size() + 4 > data_.capacity()) data_.reserve(data_.size() + std::max<size_t>(16, data_.size() / 4 / 4 * 4));
  const uint32_t e = b << kCountBits | static_cast<uint32_t>(n);
  data_.insert(data_.begin() + static_cast<std::ptrdiff_t>(4 * lo), reinterpret_cast<const uint8_t*>(&e),
               reinterpret_cast<const uint8_t*>(&e) + 4);
  const uint64_t span = (entry(entries() - 1) >> kCountBits) - (entry(0) >> kCountBits) + 1;
  uint64_t top = 0;
  if (dense_pays(span, entries(), 1)) {
    for (size_t i = 0; i < entries(); ++i) top = std::max<uint64_t>(top, entry(i) & kMaxSparseCount);
    if (dense_pays(span, entries(), width_for(top))) make_dense();
  }
}

void LogHistogram::add_dense(uint32_t b, uint64_t n) {
  if (data_.empty()) {
    first_ = static_cast<uint16_t>(b);
    width_ = static_cast<uint8_t>(width_for(n));
    data_.assign(width_, 0);
  } else if (b < first_ || b - first_ >= span()) {
    const uint64_t lo = std::min<uint32_t>(first_, b), hi = std::max<uint64_t>(first_ + span() - 1, b);
    if (!dense_pays(hi - lo + 1, used_ + 1u, width_) && n <= kMaxSparseCount &&
        max_counter() <= kMaxSparseCount) {  // a far value
      make_sparse();
      add_sparse(b, n);
      return;
    }
    // Exactly as big as needed (vector's own growth would double it).
    std::vector<uint8_t> grown((hi - lo + 1) * width_, 0);
    std::memcpy(grown.data() + (first_ - lo) * width_, data_.data(), data_.size());
    data_.swap(grown);
    first_ = static_cast<uint16_t>(lo);
  }
  const size_t i = b - first_;
  const uint64_t have = counter(i);
  used_ += have == 0;
  if (width_for(have + n) > width_) widen(width_for(have + n));
  set_counter(i, have + n);
}

void LogHistogram::add_bucket(uint32_t b, uint64_t n) {
  if (width_ == 0 && !data_.empty()) {
    add_sparse(b, n);
  } else if (width_ == 0) {
    // The first bucket: sparse, unless its count needs more than an entry.
    if (n > kMaxSparseCount) add_dense(b, n); else add_sparse(b, n);
  } else {
    add_dense(b, n);
  }
}

void LogHistogram::prefetch(int64_t v) const {
  if (data_.empty()) return;
  if (width_ == 0) {  // the binary search's first probes and the end
    __builtin_prefetch(data_.data() + data_.size() / 8 * 4);
    __builtin_prefetch(data_.data() + data_.size() - 1);
    return;
  }
  const uint32_t b = bucket_of(v < 0 ? 0 : v);
  if (b >= first_ && b - first_ < span()) __builtin_prefetch(data_.data() + (b - first_) * width_);
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
