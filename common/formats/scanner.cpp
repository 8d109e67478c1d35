#include "formats/scanner.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pgconn {

size_t count_newlines(const char* p, size_t n) {
  size_t count = 0, i = 0;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  while (i + 16 <= n) {
    // Per-byte counters (each cmpeq hit is -1) for at most 255 rounds, then
    // summed with psadbw.
    __m128i acc = zero;
    for (int round = 0; round < 255 && i + 16 <= n; ++round, i += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
    }
    __m128i sums = _mm_sad_epu8(acc, zero);
    count += static_cast<size_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; i < n; ++i) count += p[i] == '\n';
  return count;
}

namespace {

// Whether a marker starts at p; `left` bytes are readable.
bool marker_at(const char* p, size_t left) {
  auto is = [&](int m) {
    return kMarkers[m].size() <= left && std::memcmp(p, kMarkers[m].data(), kMarkers[m].size()) == 0;
  };
  switch (*p) {
    case 'n': return is(0);
    case 'F': return is(1);
    case 's': return is(2) || is(3);
    default: return false;
  }
}

// For each marker, two of its bytes whose pair is rare in log text (a
// statement, a path): the vector loop tests these, marker_at() the rest.
// "n?c", "F???L", "s?u", "v???p".
constexpr int kProbeA[kMarkerCount] = {0, 0, 0, 3};
constexpr int kProbeB[kMarkerCount] = {2, 4, 2, 7};

constexpr size_t kLongest = 16;  // the longest marker
static_assert(kMarkers[3].size() == kLongest);

}  // namespace

// The block loop, for a vector width W of 16 (SSE2) or 32 (AVX2): test the
// two probe bytes of every marker for W positions at once; only where both
// match compare the whole marker. With COUNT, the '\n' bytes of each W
// bytes passed are counted from the same vectors (*newlines).
#define PGCONN_FIND_MARKER_LOOP(W, COUNT, VEC, SET1, LOAD, CMPEQ, AND, MOVEMASK)     \
  VEC first[kMarkerCount], second[kMarkerCount];                                   \
  for (int m = 0; m < kMarkerCount; ++m) {                                         \
    first[m] = SET1(kMarkers[m][kProbeA[m]]);                                      \
    second[m] = SET1(kMarkers[m][kProbeB[m]]);                                     \
  }                                                                                \
  const VEC newline = SET1('\n');                                                  \
  uint64_t counted = 0;                                                            \
  for (; i + (W) + kLongest - 1 <= n; i += (W)) {                                  \
    unsigned mask = 0;                                                             \
    /* unrolled: the probes' offsets and bytes become constants */               \
    _Pragma("GCC unroll 8")                                                        \
    for (int m = 0; m < kMarkerCount; ++m) {                                       \
      const VEC a = LOAD(reinterpret_cast<const VEC*>(p + i + kProbeA[m]));        \
      const VEC b = LOAD(reinterpret_cast<const VEC*>(p + i + kProbeB[m]));        \
      mask |= static_cast<unsigned>(MOVEMASK(AND(CMPEQ(a, first[m]), CMPEQ(b, second[m])))); \
    }                                                                              \
    unsigned nl = 0;                                                               \
    if (COUNT)                                                                     \
      nl = static_cast<unsigned>(MOVEMASK(CMPEQ(LOAD(reinterpret_cast<const VEC*>(p + i)), newline))); \
    while (mask != 0) {                                                            \
      int bit = __builtin_ctz(mask);                                               \
      if (marker_at(p + i + bit, n - i - bit)) {                                   \
        if (COUNT) *newlines += counted + __builtin_popcount(nl & ((1u << bit) - 1)); \
        return i + bit;                                                            \
      }                                                                            \
      mask &= mask - 1;                                                            \
    }                                                                              \
    if (COUNT) counted += __builtin_popcount(nl);                                  \
  }                                                                                \
  if (COUNT) *newlines += counted;

namespace {

template <bool kCount>
size_t find_marker_tail(const char* p, size_t n, size_t i, uint64_t* newlines) {
  for (; i < n; ++i) {
    if (marker_at(p + i, n - i)) return i;
    if (kCount) *newlines += p[i] == '\n';
  }
  return n;
}

#if defined(__x86_64__)
template <bool kCount>
__attribute__((target("avx2,popcnt"))) size_t find_marker_avx2(const char* p, size_t n, size_t i,
                                                               uint64_t* newlines) {
  PGCONN_FIND_MARKER_LOOP(32, kCount, __m256i, _mm256_set1_epi8, _mm256_loadu_si256,
                          _mm256_cmpeq_epi8, _mm256_and_si256, _mm256_movemask_epi8)
  return find_marker_tail<kCount>(p, n, i, newlines);
}
#endif

template <bool kCount>
size_t find_marker_sse2(const char* p, size_t n, size_t i, uint64_t* newlines) {
#if defined(__SSE2__)
  PGCONN_FIND_MARKER_LOOP(16, kCount, __m128i, _mm_set1_epi8, _mm_loadu_si128, _mm_cmpeq_epi8,
                          _mm_and_si128, _mm_movemask_epi8)
#endif
  return find_marker_tail<kCount>(p, n, i, newlines);
}

#if defined(__x86_64__)
const bool kHaveAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#endif

template <bool kCount>
size_t find(std::string_view s, size_t from, uint64_t* newlines) {
#if defined(__x86_64__)
  if (kHaveAvx2) return find_marker_avx2<kCount>(s.data(), s.size(), from, newlines);
#endif
  return find_marker_sse2<kCount>(s.data(), s.size(), from, newlines);
}

}  // namespace

size_t find_marker(std::string_view s, size_t from) { return find<false>(s, from, nullptr); }

size_t find_marker_counting(std::string_view s, size_t from, uint64_t* newlines) {
  return find<true>(s, from, newlines);
}

void scan_block(std::string_view block, BlockScan* out) {
  out->candidates.clear();
  const char* base = block.data();
  const size_t size = block.size();
  uint64_t newlines = 0;
  size_t pos = 0;  // a line's start
  while (pos < size) {
    size_t hit = find_marker_counting(block, pos, &newlines);
    if (hit >= size) break;
    // No '\n' between the line's start and the hit: `newlines` is its index.
    const void* nl_before = memrchr(base + pos, '\n', hit - pos);
    size_t begin = nl_before == nullptr ? pos : static_cast<const char*>(nl_before) - base + 1;
    const void* nl_after = std::memchr(base + hit, '\n', size - hit);
    size_t end = nl_after == nullptr ? size : static_cast<const char*>(nl_after) - base;
    out->candidates.push_back(Candidate{begin, end, newlines});
    if (nl_after == nullptr) break;
    ++newlines;
    pos = end + 1;
  }
  out->newlines = newlines;
}

bool has_marker(std::string_view line) { return find_marker(line, 0) < line.size(); }

}  // namespace pgconn
