#include "formats/records_ahead.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "formats/csvlog_format.hpp"
#include "formats/jsonlog_format.hpp"
#include "formats/scanner.hpp"

namespace pgconn {

namespace {

// The end of the line at `pos` (its '\n', or the block's end).
size_t line_end(std::string_view block, size_t pos) {
  const void* nl = std::memchr(block.data() + pos, '\n', block.size() - pos);
  return nl == nullptr ? block.size() : static_cast<const char*>(nl) - block.data();
}

// The end of the line at `pos` (as line_end()), and in *odd whether the
// line holds an odd count of '"' (odd_quotes()): one pass for both.
#if defined(__x86_64__)
__attribute__((target("avx2,popcnt,bmi"))) size_t line_end_quotes_avx2(std::string_view block,
                                                                        size_t pos, bool* odd) {
  const char* p = block.data();
  const size_t n = block.size();
  const __m256i nl = _mm256_set1_epi8('\n');
  const __m256i quote = _mm256_set1_epi8('"');
  unsigned parity = 0;
  size_t i = pos;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const uint32_t nls = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nl)));
    uint32_t quotes = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, quote)));
    if (nls != 0) {
      const unsigned at = static_cast<unsigned>(__builtin_ctz(nls));
      quotes &= (at == 0 ? 0u : (~0u >> (32 - at)));
      *odd = ((parity + static_cast<unsigned>(__builtin_popcount(quotes))) & 1u) != 0;
      return i + at;
    }
    parity += static_cast<unsigned>(__builtin_popcount(quotes));
  }
  for (; i < n && p[i] != '\n'; ++i) parity += p[i] == '"';
  *odd = (parity & 1u) != 0;
  return i;
}
const bool kHaveAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") &&
                       __builtin_cpu_supports("bmi");
#endif

size_t line_end_quotes(std::string_view block, size_t pos, bool* odd) {
#if defined(__x86_64__)
  if (kHaveAvx2) return line_end_quotes_avx2(block, pos, odd);
#endif
  const size_t end = line_end(block, pos);
  *odd = odd_quotes(block.substr(pos, end - pos));
  return end;
}

std::string_view without_cr(std::string_view l) {
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return l;
}

}  // namespace

// As CsvlogFormat::feed() frames: a record starts on a line outside quotes
// and goes on while the count of '"' is odd. A line with an odd count that
// does not start like a csvlog record is foreign (it may be a record of
// another format, whose quotes do not count).
void frame_csv(std::string_view block, size_t begin, RecordAhead* r) {
  bool in_quotes = false;
  size_t end = line_end_quotes(block, begin, &in_quotes);
  r->begin = begin;
  r->lines = 1;
  r->cut = false;
  r->foreign = in_quotes && !CsvlogFormat::looks_like(without_cr(block.substr(begin, end - begin)));
  if (!r->foreign) {
    while (in_quotes && end < block.size()) {
      bool odd = false;
      end = line_end_quotes(block, end + 1, &odd);
      in_quotes ^= odd;
      ++r->lines;
    }
    r->cut = in_quotes;
  }
  r->end = end;
}

void frame_json(std::string_view block, size_t begin, RecordAhead* r) {
  r->begin = begin;
  r->end = line_end(block, begin);
  r->lines = 1;
  r->foreign = false;
  r->cut = false;
}

void probe_csv(std::string_view block, size_t columns, RecordAhead* r) {
  r->probed = false;
  if (r->foreign || r->cut) return;
  r->probed = CsvlogFormat::probe(without_cr(block.substr(r->begin, r->end - r->begin)), columns,
                                  &r->pid, &r->app);
}

void probe_json(std::string_view block, RecordAhead* r) {
  r->probed = JsonlogFormat::probe(without_cr(block.substr(r->begin, r->end - r->begin)), &r->pid,
                                   &r->app);
}

bool MarkerCursor::in(size_t begin, size_t end) {
  if (!valid_ || hit_ < begin) {
    hit_ = find_marker(block_, std::min(begin, block_.size()));
    valid_ = true;
  }
  return hit_ < end;
}

void read_records_ahead(AheadFormat format, size_t columns, std::string_view block,
                        RecordsAhead* out) {
  out->format = format;
  out->columns = columns;
  out->records.clear();
  if (format == AheadFormat::kNone) return;
  MarkerCursor markers(block);
  for (size_t pos = 0; pos < block.size();) {
    RecordAhead& r = out->records.emplace_back();
    if (format == AheadFormat::kCsv) {
      frame_csv(block, pos, &r);
    } else {
      frame_json(block, pos, &r);
    }
    r.marker = markers.in(r.begin, r.end);
    if (!r.marker) {
      if (format == AheadFormat::kCsv) {
        probe_csv(block, columns, &r);
      } else {
        probe_json(block, &r);
      }
    }
    pos = r.end + 1;
  }
}

}  // namespace pgconn
