#include "scanner.hpp"

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
// match compare the whole marker.
#define PGCONN_FIND_MARKER_LOOP(W, VEC, SET1, LOAD, CMPEQ, AND, MOVEMASK)            \
  VEC first[kMarkerCount], second[kMarkerCount];                                   \
  for (int m = 0; m < kMarkerCount; ++m) {                                         \
    first[m] = SET1(kMarkers[m][kProbeA[m]]);                                      \
    second[m] = SET1(kMarkers[m][kProbeB[m]]);                                     \
  }                                                                                \
  for (; i + (W) + kLongest - 1 <= n; i += (W)) {                                  \
    unsigned mask = 0;                                                             \
    for (int m = 0; m < kMarkerCount; ++m) {                                       \
      const VEC a = LOAD(reinterpret_cast<const VEC*>(p + i + kProbeA[m]));        \
      const VEC b = LOAD(reinterpret_cast<const VEC*>(p + i + kProbeB[m]));        \
      mask |= static_cast<unsigned>(MOVEMASK(AND(CMPEQ(a, first[m]), CMPEQ(b, second[m])))); \
    }                                                                              \
    while (mask != 0) {                                                            \
      int bit = __builtin_ctz(mask);                                               \
      if (marker_at(p + i + bit, n - i - bit)) return i + bit;                     \
      mask &= mask - 1;                                                            \
    }                                                                              \
  }

namespace {

size_t find_marker_tail(const char* p, size_t n, size_t i) {
  for (; i < n; ++i)
    if (marker_at(p + i, n - i)) return i;
  return n;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) size_t find_marker_avx2(const char* p, size_t n, size_t i) {
  PGCONN_FIND_MARKER_LOOP(32, __m256i, _mm256_set1_epi8, _mm256_loadu_si256, _mm256_cmpeq_epi8,
                          _mm256_and_si256, _mm256_movemask_epi8)
  return find_marker_tail(p, n, i);
}
#endif

size_t find_marker_sse2(const char* p, size_t n, size_t i) {
#if defined(__SSE2__)
  PGCONN_FIND_MARKER_LOOP(16, __m128i, _mm_set1_epi8, _mm_loadu_si128, _mm_cmpeq_epi8,
                          _mm_and_si128, _mm_movemask_epi8)
#endif
  return find_marker_tail(p, n, i);
}

#if defined(__x86_64__)
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#endif

}  // namespace

size_t find_marker(std::string_view s, size_t from) {
#if defined(__x86_64__)
  if (kHaveAvx2) return find_marker_avx2(s.data(), s.size(), from);
#endif
  return find_marker_sse2(s.data(), s.size(), from);
}

bool has_marker(std::string_view line) { return find_marker(line, 0) < line.size(); }

}  // namespace pgconn
