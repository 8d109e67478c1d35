#include "timestamp.hpp"

#include <climits>
#include <cstring>

#include <fmt/format.h>

namespace pgconn {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

// Reads exactly n digits at s[*i].
bool digits(std::string_view s, size_t* i, int n, int* out) {
  if (*i + n > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool expect(std::string_view s, size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

// "YYYY-MM-DD?HH:MM:SS" with `sep` between date and time; fills wall_ms.
bool parse_date_time(std::string_view s, size_t* i, char sep, Timestamp* t) {
  int y, mo, d, h, mi, se;
  if (!digits(s, i, 4, &y) || !expect(s, i, '-') || !digits(s, i, 2, &mo) ||
      !expect(s, i, '-') || !digits(s, i, 2, &d) || !expect(s, i, sep) ||
      !digits(s, i, 2, &h) || !expect(s, i, ':') || !digits(s, i, 2, &mi) ||
      !expect(s, i, ':') || !digits(s, i, 2, &se))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || se > 60) return false;
  t->wall_ms = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000;
  return true;
}

// Optional ".fff…": milliseconds kept, finer digits dropped.
void parse_fraction(std::string_view s, size_t* i, Timestamp* t) {
  if (*i >= s.size() || s[*i] != '.') return;
  size_t j = *i + 1;
  int ms = 0, n = 0;
  while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
    if (n < 3) ms = ms * 10 + (s[j] - '0');
    ++n;
    ++j;
  }
  if (n == 0) return;
  while (n < 3) ms *= 10, ++n;
  t->wall_ms += ms;
  t->has_ms = true;
  *i = j;
}

// "+03", "-0330", "+05:45", "Z".
bool parse_offset(std::string_view z, Timestamp* t) {
  if (z == "Z" || z == "z") {
    t->zone = Timestamp::Zone::kUtc;
    return true;
  }
  if (z.size() < 3 || (z[0] != '+' && z[0] != '-')) return false;
  size_t i = 1;
  int h = 0, m = 0;
  if (!digits(z, &i, 2, &h)) return false;
  if (i < z.size() && z[i] == ':') ++i;
  if (i < z.size() && !digits(z, &i, 2, &m)) return false;
  if (i != z.size() || h > 15 || m > 59) return false;
  int off = h * 60 + m;
  if (off == 0) {
    t->zone = Timestamp::Zone::kUtc;
  } else {
    t->zone = Timestamp::Zone::kOffset;
    t->offset_min = z[0] == '-' ? -off : off;
  }
  return true;
}

bool parse_zone(std::string_view z, Timestamp* t) {
  if (z.empty()) return true;
  if (z == "UTC" || z == "GMT" || z == "UCT" || z == "Z") {
    t->zone = Timestamp::Zone::kUtc;
    return true;
  }
  if (z[0] == '+' || z[0] == '-') return parse_offset(z, t);
  if (z.size() > 7) return false;
  for (char c : z)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  t->zone = Timestamp::Zone::kAbbrev;
  std::memcpy(t->abbrev, z.data(), z.size());
  t->abbrev[z.size()] = '\0';
  return true;
}

}  // namespace

bool parse_pg_time(std::string_view text, Timestamp* out) {
  Timestamp t;
  size_t i = 0;
  // Lines come a day at a time: the date of the last line read (per
  // thread) is compared, not read again.
  thread_local char last_date[10] = {};
  thread_local int64_t last_days = INT64_MIN;  // none yet
  const bool same_day = last_days != INT64_MIN && text.size() >= 19 && text[10] == ' ' &&
                        std::memcmp(text.data(), last_date, 10) == 0;
  int h, mi, se;
  i = 11;
  if (same_day && digits(text, &i, 2, &h) && expect(text, &i, ':') && digits(text, &i, 2, &mi) &&
      expect(text, &i, ':') && digits(text, &i, 2, &se) && h <= 24 && mi <= 59 && se <= 60) {
    t.wall_ms = (last_days * 86400 + h * 3600 + mi * 60 + se) * 1000;
  } else {
    i = 0;
    if (!parse_date_time(text, &i, ' ', &t)) return false;
    int y = 1970, mo = 1, d = 1;  // read above already
    size_t j = 0;
    digits(text, &j, 4, &y);
    j = 5;
    digits(text, &j, 2, &mo);
    j = 8;
    digits(text, &j, 2, &d);
    std::memcpy(last_date, text.data(), 10);
    last_days = days_from_civil(y, mo, d);
  }
  parse_fraction(text, &i, &t);
  if (i < text.size()) {
    if (text[i] != ' ' || i + 1 == text.size()) return false;
    if (!parse_zone(text.substr(i + 1), &t)) return false;
  }
  *out = t;
  return true;
}

bool parse_epoch_time(std::string_view text, Timestamp* out) {
  Timestamp t;
  size_t i = 0;
  int64_t secs = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i < 12)
    secs = secs * 10 + (text[i++] - '0');
  if (i == 0) return false;
  t.wall_ms = secs * 1000;
  parse_fraction(text, &i, &t);
  if (i != text.size()) return false;
  t.zone = Timestamp::Zone::kUtc;
  *out = t;
  return true;
}

bool parse_iso_time(std::string_view text, Timestamp* out) {
  Timestamp t;
  size_t i = 0;
  if (!parse_date_time(text, &i, 'T', &t)) return false;
  parse_fraction(text, &i, &t);
  if (i < text.size() && !parse_offset(text.substr(i), &t)) return false;
  *out = t;
  return true;
}

namespace {
char* put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10 % 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}
}  // namespace

void append_rfc3339(const Timestamp& t, std::string* out) {
  const int64_t ms = t.wall_ms;
  const int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const unsigned frac = static_cast<unsigned>(ms - sec * 1000);
  // "YYYY-MM-DDTHH:MM:SS" is the same for a second of lines: written once
  // per second (per thread).
  thread_local int64_t head_sec = INT64_MIN;
  thread_local char head[48];
  thread_local size_t head_len = 0;
  if (sec != head_sec) {
    const int64_t days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
    const unsigned secs = static_cast<unsigned>(sec - days * 86400);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    char* p = head;
    if (y < 0 || y > 9999) {
      p = fmt::format_to(p, "{:04}", y);  // at most 20 characters
    } else {
      p = put2(put2(p, static_cast<unsigned>(y / 100)), static_cast<unsigned>(y % 100));
    }
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    p = put2(p, d);
    *p++ = 'T';
    p = put2(p, secs / 3600);
    *p++ = ':';
    p = put2(p, secs / 60 % 60);
    *p++ = ':';
    p = put2(p, secs % 60);
    head_len = static_cast<size_t>(p - head);
    head_sec = sec;
  }
  char buf[80];  // head, ".mmm", "+hh:mm"
  std::memcpy(buf, head, head_len);
  char* p = buf + head_len;
  if (t.has_ms) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + frac / 100);
    p = put2(p, frac % 100);
  }
  switch (t.zone) {
    case Timestamp::Zone::kUtc:
      *p++ = 'Z';
      break;
    case Timestamp::Zone::kOffset: {
      unsigned off = static_cast<unsigned>(t.offset_min < 0 ? -t.offset_min : t.offset_min);
      *p++ = t.offset_min < 0 ? '-' : '+';
      p = put2(p, off / 60);
      *p++ = ':';
      p = put2(p, off % 60);
      break;
    }
    default:
      break;
  }
  out->append(buf, static_cast<size_t>(p - buf));
}

}  // namespace pgconn
