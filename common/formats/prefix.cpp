#include "formats/prefix.hpp"

#include <cctype>
#include <cstring>

#include <fmt/format.h>

namespace pgconn {

namespace {

constexpr std::string_view kSeverityPattern =
    "(DEBUG[1-5]|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|"
    "LOCATION):  ";

// %t / %s / %m: "2024-05-01 10:00:00[.123] ZONE"; zone an abbreviation or
// a numeric offset ("+03", "-0330").
constexpr std::string_view kTimeSeconds =
    R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: (?:[A-Za-z]{1,7}|[+-]\d\d(?::?\d\d)?))?)";
constexpr std::string_view kTimeMillis =
    R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}(?: (?:[A-Za-z]{1,7}|[+-]\d\d(?::?\d\d)?))?)";

void append_literal(char c, std::string* out) {
  if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out->push_back('\\');
  out->push_back(c);
}


}  // namespace

PrefixMatcher::PrefixMatcher(Regex re, std::vector<Field> fields, std::string source)
    : re_(std::move(re)), fields_(std::move(fields)), source_(std::move(source)) {
  for (Field f : fields_) {
    if (f == Field::kPid) has_pid_ = true;
    if (f == Field::kApp) has_app_ = true;
  }
  if (has_pid_ && has_app_ && source_ != "(generic)") build_probe(source_);
}

void PrefixMatcher::build_probe(std::string_view prefix) {
  std::vector<ProbeStep> steps;
  auto text = [&](char c) {
    if (steps.empty() || steps.back().field != 0) steps.push_back(ProbeStep{});
    steps.back().text.push_back(c);
  };
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (prefix[i] != '%') {
      text(prefix[i]);
      continue;
    }
    if (++i >= prefix.size()) break;
    if (prefix[i] == '-' || (prefix[i] >= '0' && prefix[i] <= '9')) return;  // padding
    char f = prefix[i];
    switch (f) {
      case '%': text('%'); continue;
      case 'q': continue;  // sessions' lines have the whole prefix
      case 'p': case 'a': break;
      case 't': case 'm': case 's': f = 't'; break;
      case 'u': case 'd': case 'r': case 'h': case 'L': case 'b': case 'P': case 'n':
      case 'i': case 'e': case 'c': case 'l': case 'v': case 'x': case 'Q':
        f = '?';
        break;
      default: continue;  // prints nothing
    }
    steps.push_back(ProbeStep{f, {}});
  }
  // Every field must end at fixed text.
  for (size_t k = 0; k < steps.size(); ++k)
    if (steps[k].field != 0 && (k + 1 == steps.size() || steps[k + 1].field != 0)) return;
  probe_ = std::move(steps);
}

namespace {

// Whether `text` is at line[pos]: a byte loop, as the fixed texts are short
// (a call to memcmp costs more than the compare).
inline bool text_at(std::string_view line, size_t pos, std::string_view text) {
  if (pos > line.size() || line.size() - pos < text.size()) return false;
  const char* p = line.data() + pos;
  for (size_t i = 0; i < text.size(); ++i)
    if (p[i] != text[i]) return false;
  return true;
}

// The first `text` (non-empty) at or after `from`, or npos.
inline size_t find_text(std::string_view line, size_t from, std::string_view text) {
  while (from < line.size()) {
    const void* hit = std::memchr(line.data() + from, text[0], line.size() - from);
    if (hit == nullptr) return std::string_view::npos;
    size_t at = static_cast<const char*>(hit) - line.data();
    if (text_at(line, at, text)) return at;
    from = at + 1;
  }
  return std::string_view::npos;
}

}  // namespace

bool PrefixMatcher::probe(std::string_view line, int64_t* pid, std::string_view* app) const {
  if (probe_.empty()) return false;
  size_t pos = 0;
  *pid = -1;
  for (size_t k = 0; k < probe_.size(); ++k) {
    const ProbeStep& s = probe_[k];
    if (s.field == 0) {
      if (!text_at(line, pos, s.text)) return false;
      pos += s.text.size();
      continue;
    }
    // A field: up to the first occurrence of the fixed text after it (a
    // time has at least "YYYY-MM-DD HH:MM:SS" first).
    const std::string& next = probe_[k + 1].text;
    size_t from = s.field == 't' ? pos + 19 : pos;
    if (from > line.size()) return false;
    size_t end = find_text(line, from, next);
    if (end == std::string_view::npos) return false;
    std::string_view v = line.substr(pos, end - pos);
    if (s.field == 'p') {
      *pid = parse_decimal(v);
      if (*pid < 0) return false;
    } else if (s.field == 'a') {
      *app = known(v);
    }
    pos = end;
  }
  // Then "SEVERITY:  ".
  size_t sev = pos;
  while (sev < line.size() && ((line[sev] >= 'A' && line[sev] <= 'Z') || (line[sev] >= '0' && line[sev] <= '9')))
    ++sev;
  return sev > pos && text_at(line, sev, ":  ");
}

Result<PrefixMatcher> PrefixMatcher::compile(std::string_view prefix) {
  std::string pat = "^";
  std::vector<Field> fields;
  int optional_groups = 0;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = prefix[i];
    if (c != '%') {
      append_literal(c, &pat);
      continue;
    }
    if (++i >= prefix.size()) break;  // a lone '%' at the end prints nothing
    int pad = 0;  // >0: right-aligned (spaces before), <0: left-aligned (after)
    bool minus = prefix[i] == '-';
    if (minus) ++i;
    while (i < prefix.size() && prefix[i] >= '0' && prefix[i] <= '9') pad = 1, ++i;
    if (minus) pad = -1;
    if (i >= prefix.size()) break;
    std::string_view value;
    Field field = Field::kIgnored;
    switch (prefix[i]) {
      case 'a': value = "(.*?)"; field = Field::kApp; break;
      case 'u': value = "(.*?)"; field = Field::kUser; break;
      case 'd': value = "(.*?)"; field = Field::kDb; break;
      // %r: host(port), [local], a host alone, or whatever the server put
      // there (Amazon RDS prints "???(???)" when it does not know).
      case 'r': value = R"((\[local\]|[^\s()]*\(\d+\)|[^\s()]*\([^\s()]*\)|[^\s()]*))"; field = Field::kHostPort; break;
      case 'h': value = R"((\[local\]|\S*?))"; field = Field::kHost; break;
      case 'L': value = R"((\S*?))"; break;
      case 'b':  // multi-word types first: "client backend", "autovacuum worker", …
        value = R"((client backend|not initialized|background worker "[^"]*"|)"
                R"((?:autovacuum|logical replication|parallel|background|standalone|slotsync|io) \S+|.*?))";
        field = Field::kBackendType;
        break;
      case 'p': value = R"((\d+))"; field = Field::kPid; break;
      case 'P': value = R"((\d*))"; break;
      case 't': case 's':
        pat += pad > 0 ? " *(" : "(";
        pat += kTimeSeconds;
        pat += pad < 0 ? ") *" : ")";
        fields.push_back(prefix[i] == 't' ? Field::kTime : Field::kIgnored);
        continue;
      case 'm':
        pat += pad > 0 ? " *(" : "(";
        pat += kTimeMillis;
        pat += pad < 0 ? ") *" : ")";
        fields.push_back(Field::kTime);
        continue;
      case 'n': value = R"((\d+\.\d{3}))"; field = Field::kEpoch; break;
      case 'i': value = "(.*?)"; break;
      case 'e': value = "([0-9A-Z]{5})"; break;
      case 'c': value = R"(([0-9a-f]+\.[0-9a-f]+))"; field = Field::kSession; break;
      case 'l': value = R"((\d+))"; field = Field::kLineNum; break;
      case 'v': value = R"((\d+/\d+|))"; break;
      case 'x': value = R"((\d+))"; break;
      case 'Q': value = R"((-?\d+))"; break;
      case '%': pat += '%'; continue;
      case 'q':  // processes without a session stop the prefix here
        pat += "(?:";
        ++optional_groups;
        continue;
      default:
        continue;  // PostgreSQL prints nothing for an unknown escape
    }
    if (pad > 0) pat += " *";
    pat += value;
    if (pad < 0) pat += " *";
    fields.push_back(field);
  }
  // Lazy: a line is read with the shortest prefix that fits, so text that
  // merely looks like "user@db LOG:  " inside a message is not a prefix.
  for (int k = 0; k < optional_groups; ++k) pat += ")??";
  pat += kSeverityPattern;
  fields.push_back(Field::kSeverity);
  auto re = Regex::compile(pat);
  if (!re.ok()) return make_error(fmt::format("bad log_line_prefix \"{}\": {}", prefix, re.error()));
  return PrefixMatcher(std::move(*re), std::move(fields), std::string(prefix));
}

PrefixMatcher PrefixMatcher::generic() {
  std::string pat = "^(.*?)\\b";
  pat += kSeverityPattern;
  auto re = Regex::compile(pat);
  return PrefixMatcher(std::move(*re), {Field::kGenericPrefix, Field::kSeverity}, "(generic)");
}

// Picks what has a recognisable shape out of an unknown prefix: a time at
// its start, the first "[pid]" (or "[pid-line]"), a %c-shaped session id.
void PrefixMatcher::read_generic(std::string_view p, LogRecord* r) const {
  size_t n = p.size() > 19 && p[19] == '.' ? 23 : 19;  // time, milliseconds
  if (n <= p.size()) {
    size_t z = n + 1;  // then " ZONE" when it has one: letters, or +HH[[:]MM]
    if (z < p.size() && (p[z] == '+' || p[z] == '-')) {
      ++z;
      while (z < p.size() && (std::isdigit(static_cast<unsigned char>(p[z])) ||
                              (p[z] == ':' && z + 1 < p.size() && std::isdigit(static_cast<unsigned char>(p[z + 1])))))
        ++z;
    } else {
      while (z < p.size() && std::isalpha(static_cast<unsigned char>(p[z]))) ++z;
    }
    if (n == p.size() || p[n] != ' ' || z == n + 1 || !parse_pg_time(p.substr(0, z), &r->time))
      parse_pg_time(p.substr(0, n), &r->time);
  }
  for (size_t at = p.find('['); at != std::string_view::npos; at = p.find('[', at + 1)) {
    size_t close = p.find_first_of("]-", at + 1);
    if (close == std::string_view::npos) break;
    int64_t pid = parse_decimal(p.substr(at + 1, close - at - 1));
    if (pid > 0) {
      r->pid = pid;
      break;
    }
  }
  for (size_t dot = p.find('.'); dot != std::string_view::npos; dot = p.find('.', dot + 1)) {
    size_t b = dot, e = dot + 1;
    while (b > 0 && std::isxdigit(static_cast<unsigned char>(p[b - 1]))) --b;
    while (e < p.size() && std::isxdigit(static_cast<unsigned char>(p[e]))) ++e;
    bool bounded = (b == 0 || !std::isalnum(static_cast<unsigned char>(p[b - 1]))) &&
                   (e == p.size() || !std::isalnum(static_cast<unsigned char>(p[e])));
    if (bounded && dot - b >= 6 && dot - b <= 8 && e - dot - 1 >= 1 && e - dot - 1 <= 8) {
      r->session_id = p.substr(b, e - b);
      break;
    }
  }
}

bool PrefixMatcher::match(std::string_view line, LogRecord* r) const {
  if (!re_.match(line, &caps_)) return false;
  bool timed = false;  // the first time escape of the prefix wins
  for (size_t i = 0; i < fields_.size(); ++i) {
    std::string_view v = caps_[i + 1];
    if (v.data() == nullptr) continue;
    switch (fields_[i]) {
      case Field::kApp: r->app = known(v); break;
      case Field::kUser: r->user = known(v); break;
      case Field::kDb: r->db = known(v); break;
      case Field::kHostPort: split_host_port(v, &r->host, &r->port); break;
      case Field::kHost: r->host = known(v); break;
      case Field::kBackendType: r->backend_type = v; break;
      case Field::kPid: r->pid = parse_decimal(v); break;
      case Field::kTime:
        if (!timed) timed = parse_pg_time(v, &r->time);
        break;
      case Field::kEpoch:
        if (!timed) timed = parse_epoch_time(v, &r->time);
        break;
      case Field::kSession: r->session_id = v; break;
      case Field::kLineNum: r->line_num = parse_decimal(v); break;
      case Field::kSeverity: r->severity = v; break;
      case Field::kGenericPrefix: read_generic(v, r); break;
      case Field::kIgnored: break;
    }
  }
  r->message = strip_sqlstate(line.substr(caps_[0].size()));
  return true;
}

}  // namespace pgconn
