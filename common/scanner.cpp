#include "scanner.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pgconn {

size_t count_newlines(const char* p, size_t n) {
  size_t count = 0, i = 0;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    count += static_cast<size_t>(__builtin_popcount(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl))));
  }
#endif
  for (; i < n; ++i) count += p[i] == '\n';
  return count;
}

bool has_marker(std::string_view line) {
  for (std::string_view m : kMarkers)
    if (line.find(m) != std::string_view::npos) return true;
  return false;
}

}  // namespace pgconn
