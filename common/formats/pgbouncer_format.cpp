#include "formats/pgbouncer_format.hpp"

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "timestamp.hpp"

namespace pgconn {

namespace {

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool is_level(std::string_view s) {
  return s == "LOG" || s == "WARNING" || s == "ERROR" || s == "FATAL" || s == "DEBUG" ||
         s == "NOISE";
}

// The next space-separated token of *rest, removed from it with its space.
std::string_view token(std::string_view* rest) {
  size_t sp = rest->find(' ');
  std::string_view t = rest->substr(0, sp);
  rest->remove_prefix(sp == std::string_view::npos ? rest->size() : sp + 1);
  return t;
}

// A record with every field unknown: copied over a record to reset it (a
// plain copy; building a new one field by field costs more per line).
const LogRecord kNoRecord;

// "[6505]" or "6505" -> 6505; -1 otherwise.
int64_t pid_token(std::string_view t) {
  if (t.size() >= 3 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
  return is_digits(t) ? parse_decimal(t) : -1;
}

// Where the client's "DB/USER@ADDR:PORT" token of `rest` ends (its first
// space, npos: none), and within it the last '@', the last ':' and the
// first '/' (npos: none): the token read once, 16 bytes at a time.
struct Marks {
  size_t space = std::string_view::npos;
  size_t at = std::string_view::npos;
  size_t colon = std::string_view::npos;
  size_t slash = std::string_view::npos;
};

Marks scan_who(std::string_view rest) {
  Marks m;
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= rest.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rest.data() + i));
    const unsigned sp = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' '))));
    unsigned at = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('@'))));
    unsigned colon = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':'))));
    unsigned slash = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('/'))));
    if (sp != 0) {  // only what comes before the space
      const unsigned before = (sp & (0u - sp)) - 1;
      at &= before;
      colon &= before;
      slash &= before;
    }
    if (at != 0) m.at = i + 31 - static_cast<size_t>(__builtin_clz(at));
    if (colon != 0) m.colon = i + 31 - static_cast<size_t>(__builtin_clz(colon));
    if (slash != 0 && m.slash == std::string_view::npos) m.slash = i + static_cast<size_t>(__builtin_ctz(slash));
    if (sp != 0) {
      m.space = i + static_cast<size_t>(__builtin_ctz(sp));
      return m;
    }
  }
#endif
  for (; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == ' ') {
      m.space = i;
      break;
    }
    if (c == '@') m.at = i;
    if (c == ':') m.colon = i;
    if (c == '/' && m.slash == std::string_view::npos) m.slash = i;
  }
  return m;
}

// True when p[4..15] holds no ':'. REQUIRES: 16 bytes at p.
bool first_colon_at_16(const char* p) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return (_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':'))) & 0xFFF0) == 0;
#else
  return std::memchr(p + 4, ':', 12) == nullptr;
#endif
}

}  // namespace

void parse_pgbouncer_message(std::string_view text, LogRecord* r) {
  r->via = kPgbouncerVia;
  r->message = text;
  // "C-0x55d8f18f9e30: " then "DB/USER@ADDR:PORT " (user up to the last
  // '@' of the token: user names with '@' exist; db up to the first '/').
  if (text.size() < 6 || (text[0] != 'C' && text[0] != 'S') || text.substr(1, 3) != "-0x") return;
  // The socket's first ": " within the first 42 characters: most often
  // right after "C-0x" and 12 hex digits (no ':' before it); else a loop
  // (memchr's call costs more than these few bytes).
  const size_t scan = std::min<size_t>(text.size(), 42);
  size_t colon = 4;
  if (!(scan >= 18 && text[16] == ':' && text[17] == ' ' && first_colon_at_16(text.data()))) {
    while (colon + 1 < scan && !(text[colon] == ':' && text[colon + 1] == ' ')) ++colon;
    if (colon + 1 >= scan) return;
  } else {
    colon = 16;
  }
  std::string_view socket = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 2);
  const Marks mk = scan_who(rest);
  const size_t sp = mk.space;
  std::string_view who = rest.substr(0, sp);
  const size_t at = mk.at;  // the last '@'
  if (at == std::string_view::npos) return;
  std::string_view where = who.substr(at + 1);
  std::string_view addr;
  size_t port_at;
  if (!where.empty() && where[0] == '[') {
    size_t close = where.find(']');
    if (close == std::string_view::npos || close + 1 >= where.size() || where[close + 1] != ':') return;
    addr = where.substr(1, close - 1);
    port_at = close + 2;
  } else {
    // where's last ':' is who's when it comes after the '@'
    if (mk.colon == std::string_view::npos || mk.colon < at) return;
    const size_t c = mk.colon - at - 1;
    addr = where.substr(0, c);
    port_at = c + 1;
  }
  int64_t port = parse_decimal(where.substr(port_at), 65535);
  if (port < 0) return;
  std::string_view names = who.substr(0, at);
  // names' first '/' is who's when it comes before the '@'
  const size_t slash = mk.slash < at ? mk.slash : names.size();
  if (slash != names.size()) {  // else "peer-N": a peering socket
    r->db = names.substr(0, slash);
    r->user = names.substr(slash + 1);
  }
  r->socket = socket;
  r->host = addr;
  r->port = static_cast<int32_t>(port);
  r->message = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
}

bool parse_pgbouncer_line(std::string_view line, LogRecord* r) {
  // "YYYY-MM-DD HH:MM:SS.mmm" then " [ZONE ]PID LEVEL "
  if (line.size() < 30 || line[4] != '-' || line[10] != ' ' || line[19] != '.' || line[23] != ' ')
    return false;
  std::string_view rest = line.substr(24);
  std::string_view t1 = token(&rest);
  size_t time_len = 23;
  int64_t pid = pid_token(t1);
  if (pid < 0) {  // a zone first
    if (t1.empty() || t1.size() > 7) return false;
    time_len = 24 + t1.size();
    pid = pid_token(token(&rest));
    if (pid < 0) return false;
  }
  std::string_view level = token(&rest);
  if (!is_level(level)) return false;
  Timestamp t;
  if (!parse_pg_time(line.substr(0, time_len), &t)) return false;
  *r = kNoRecord;
  r->time = t;
  r->pid = pid;
  r->severity = level;
  parse_pgbouncer_message(rest, r);
  return true;
}

bool PgbouncerFormat::feed(std::string_view line, RecordSink* out) {
  LogRecord r;
  if (!parse(line, &r)) return true;
  return out->on_record(r);
}

namespace {
bool digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

bool PgbouncerFormat::parse(std::string_view line, LogRecord* r) {
  // "YYYY-MM-DD HH:MM" as the model's, ":SS.mmm", then the model's head.
  const size_t h = head_.size();
  if (h != 0 && line.size() >= 23 + h && std::memcmp(line.data(), minute_, 16) == 0 &&
      line[16] == ':' && digit(line[17]) && digit(line[18]) && line[19] == '.' &&
      digit(line[20]) && digit(line[21]) && digit(line[22]) &&
      std::memcmp(line.data() + 23, head_.data(), h) == 0) {
    const int sec = (line[17] - '0') * 10 + (line[18] - '0');
    if (sec <= 60) {  // as parse_pg_time
      const int ms = (line[20] - '0') * 100 + (line[21] - '0') * 10 + (line[22] - '0');
      *r = kNoRecord;
      r->time = minute_time_;
      r->time.wall_ms += sec * 1000 + ms;
      r->pid = pid_;
      r->severity = line.substr(23 + level_at_, level_len_);
      parse_pgbouncer_message(line.substr(23 + h), r);
      return true;
    }
  }
  if (!parse_pgbouncer_line(line, r)) return false;
  // A model when the line has the common shape: three digits of
  // milliseconds right before the zone or pid, and a space after the level.
  const size_t at = static_cast<size_t>(r->severity.data() - line.data());
  const size_t end = at + r->severity.size();
  if (r->time.has_ms && line[23] == ' ' && end < line.size() && line[end] == ' ' &&
      digit(line[17]) && digit(line[18]) && digit(line[20]) && digit(line[21]) &&
      digit(line[22])) {
    std::memcpy(minute_, line.data(), 16);
    head_.assign(line.substr(23, end + 1 - 23));
    level_at_ = at - 23;
    level_len_ = r->severity.size();
    minute_time_ = r->time;
    minute_time_.wall_ms -= ((line[17] - '0') * 10 + (line[18] - '0')) * 1000 +
                            (line[20] - '0') * 100 + (line[21] - '0') * 10 + (line[22] - '0');
    pid_ = r->pid;
  } else {
    head_.clear();
  }
  return true;
}

bool PgbouncerFormat::looks_like(std::string_view line) {
  LogRecord r;
  return parse_pgbouncer_line(line, &r);
}

}  // namespace pgconn
