#include "formats/csvlog_format.hpp"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pgconn {

namespace {

// Flips `in_quotes` for every '"' in s (a doubled "" flips twice).
bool quotes_after(std::string_view s, bool in_quotes) { return in_quotes != odd_quotes(s); }

// The start of the field that ends just before `end` (a ',' or the
// record's end), or npos when it does not parse. A quoted field is walked
// back over its "" pairs: a '"' right after another is one of a pair, as
// the opening quote follows a ',' (or starts the record).
size_t field_start(std::string_view rec, size_t end) {
  if (end == 0) return 0;
  if (rec[end - 1] != '"') {
    size_t comma = rec.rfind(',', end - 1);
    return comma == std::string_view::npos ? 0 : comma + 1;
  }
  if (end < 2) return std::string_view::npos;
  size_t j = end - 2;  // before the closing quote
  while (true) {
    size_t q = rec.rfind('"', j);
    if (q == std::string_view::npos) return std::string_view::npos;
    if (q > 0 && rec[q - 1] == '"') {
      if (q < 2) return std::string_view::npos;
      j = q - 2;
      continue;
    }
    return q;
  }
}

}  // namespace

namespace {

// The '"' bytes of p[*i, ...) in 32- or 16-byte steps, as masks XORed
// together (their parity is the count's); *i is left at the first byte not
// looked at.
#if defined(__x86_64__)
__attribute__((target("avx2"))) unsigned quote_masks_avx2(const char* p, size_t n, size_t* i) {
  const __m256i quote = _mm256_set1_epi8('"');
  unsigned masks = 0;
  for (; *i + 32 <= n; *i += 32) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + *i));
    masks ^= static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, quote)));
  }
  return masks;
}
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#endif

unsigned quote_masks_sse2(const char* p, size_t n, size_t* i) {
  unsigned masks = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  for (; *i + 16 <= n; *i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + *i));
    masks ^= static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)));
  }
#endif
  return masks;
}

}  // namespace

bool odd_quotes(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t i = 0;
  unsigned masks = 0;
#if defined(__x86_64__)
  if (kHaveAvx2) masks = quote_masks_avx2(p, n, &i);
#endif
  masks ^= quote_masks_sse2(p, n, &i);
  masks ^= masks >> 16;
  masks ^= masks >> 8;
  masks ^= masks >> 4;
  masks ^= masks >> 2;
  masks ^= masks >> 1;
  unsigned odd = masks & 1;
  for (; i < n; ++i) odd ^= p[i] == '"';
  return odd != 0;
}

bool CsvlogFormat::probe(std::string_view rec, size_t columns, int64_t* pid,
                         std::string_view* app) {
  // The pid: the fourth column, after the time and the quoted user and
  // database. (The time is not read: looks_like() would parse it.)
  if (columns < 23 || rec.empty() || rec[0] < '0' || rec[0] > '9') return false;
  size_t i = rec.find(',');
  if (i == std::string_view::npos || i > 64) return false;
  ++i;
  for (int field = 0; field < 2; ++field) {
    if (i < rec.size() && rec[i] == '"') {
      ++i;
      while (i < rec.size()) {
        if (i < rec.size() && rec[i] == '"') {
          if (i + 1 < rec.size() && rec[i + 1] == '"') {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      ++i;
    }
    if (i >= rec.size() || rec[i] != ',') return false;
    ++i;
  }
  size_t comma = rec.find(',', i);
  if (comma == std::string_view::npos) return false;
  *pid = parse_decimal(rec.substr(i, comma - i));
  if (*pid < 0) return false;
  // The name: columns - 23 fields back from the end, then one more.
  size_t end = rec.size();
  for (size_t back = columns - 23; back > 0; --back) {
    size_t start = field_start(rec, end);
    if (start == std::string_view::npos || start == 0 || rec[start - 1] != ',') return false;
    end = start - 1;
  }
  size_t start = field_start(rec, end);
  if (start == std::string_view::npos || start == 0 || rec[start - 1] != ',') return false;
  std::string_view field = rec.substr(start, end - start);
  if (!field.empty() && field[0] == '"') {
    field = field.substr(1, field.size() - 2);
    if (field.find('"') != std::string_view::npos) return false;  // "" inside
  }
  *app = known(field);
  return true;
}

bool CsvlogFormat::looks_like(std::string_view line) {
  size_t comma = line.find(',');
  Timestamp t;
  if (comma == std::string_view::npos || !parse_pg_time(line.substr(0, comma), &t)) return false;
  // user and database: empty or quoted; then the pid.
  size_t i = comma + 1;
  for (int field = 0; field < 2; ++field) {
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ',') return false;
    ++i;
  }
  size_t digits = i;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
  return i > digits && i < line.size() && line[i] == ',';
}

bool CsvlogFormat::feed(std::string_view line, RecordSink* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files
  if (pending_.empty() && !in_quotes_) {
    if (!quotes_after(line, false)) return emit(line, out);  // the common case: one line
    pending_.assign(line);
    in_quotes_ = true;
    return true;
  }
  if (pending_.size() < kMaxRecord) {
    pending_.push_back('\n');
    pending_.append(line.substr(0, kMaxRecord - std::min(pending_.size(), kMaxRecord)));
  }
  in_quotes_ = quotes_after(line, in_quotes_);
  if (in_quotes_) return true;
  bool ok = emit(pending_, out);
  pending_.clear();
  return ok;
}

bool CsvlogFormat::finish() {
  bool open = in_quotes_;
  pending_.clear();
  in_quotes_ = false;
  return open;
}

// The columns csvlog_record() reads; the text of the others (detail, hint,
// context, query: the long ones) is skipped, not unescaped.
constexpr bool kUsedColumn[kCsvlogColumnCount] = {
    true, true, true, true, true, true, true, false, false, false, false, true, false,
    true, false, false, false, false, false, false, false, false, true, true, false, false};

bool CsvlogFormat::emit(std::string_view rec, RecordSink* out) {
  fields_.clear();
  unquoted_.clear();
  unquoted_.reserve(rec.size());  // views into it must not move
  size_t i = 0;
  while (true) {
    const size_t column = fields_.size();
    const bool used = column < kCsvlogColumnCount && kUsedColumn[column];
    if (i < rec.size() && rec[i] == '"') {
      size_t start = unquoted_.size();
      ++i;
      while (i < rec.size()) {  // a run up to the next '"' at a time
        const void* q = std::memchr(rec.data() + i, '"', rec.size() - i);
        const size_t at = q == nullptr ? rec.size() : static_cast<const char*>(q) - rec.data();
        if (used) unquoted_.append(rec.data() + i, at - i);
        i = at;
        if (i >= rec.size()) break;
        if (i + 1 < rec.size() && rec[i + 1] == '"') {
          if (used) unquoted_.push_back('"');
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      fields_.push_back(std::string_view(unquoted_).substr(start));
      while (i < rec.size() && rec[i] != ',') ++i;  // junk after a closing quote
    } else {
      size_t comma = rec.find(',', i);
      if (comma == std::string_view::npos) comma = rec.size();
      fields_.push_back(rec.substr(i, comma - i));
      i = comma;
    }
    if (i >= rec.size()) break;
    ++i;  // the comma
  }
  LogRecord r;
  columns_ = fields_.size();
  if (!csvlog_record(fields_.data(), fields_.size(), &r)) return true;
  return out->on_record(r);
}

bool csvlog_record(const std::string_view* f, size_t n, LogRecord* r) {
  if (n < 14) return false;  // not a csvlog record
  *r = LogRecord();
  if (!parse_pg_time(f[0], &r->time)) return false;
  r->user = known(f[1]);
  r->db = known(f[2]);
  r->pid = parse_decimal(f[3]);
  split_host_port(f[4], &r->host, &r->port);
  r->session_id = f[5];
  r->line_num = parse_decimal(f[6]);
  r->severity = f[11];
  r->message = f[13];
  if (n > 22) r->app = known(f[22]);
  if (n > 23) r->backend_type = f[23];
  return is_report_severity(r->severity);
}

}  // namespace pgconn
