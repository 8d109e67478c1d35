#include "render.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "duration.hpp"
#include "event_codec.hpp"
#include "utf8.hpp"

namespace pgconn {

namespace {

constexpr const char* kHex = "0123456789abcdef";

std::string_view title(Dimension d) {
  switch (d) {
    case Dimension::kDb: return "By database:";
    case Dimension::kUser: return "By user:";
    case Dimension::kApp: return "By application:";
    case Dimension::kHost: return "By host:";
    case Dimension::kServer: return "By server:";
  }
  return "";
}

// Display width, counting each UTF-8 sequence as one column.
size_t width(std::string_view s) {
  size_t w = 0;
  for (char c : s) w += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return w;
}

void pad(std::string* out, size_t n) { out->append(n, ' '); }

// Names are aligned up to this width; a longer one (PostgreSQL's own names
// stop at 63 bytes, but a log or an event stream can say anything) only
// pushes its own count to the right. Otherwise one 100,000-character name
// would pad every row of every list to that width.
constexpr size_t kMaxAlign = 64;

// "db=production, user=admin"
std::string describe(const Filter& f) {
  std::string d;
  for (int i = 0; i < 5; ++i) {
    if (!f.field[i]) continue;
    if (!d.empty()) d += ", ";
    d += fmt::format("{}={}", dimension_name(static_cast<Dimension>(i)), display_safe(*f.field[i]));
  }
  return d;
}

// "Active connections to 'production' for user 'admin'"
std::string active_title(const Filter& f) {
  std::string t = "Active connections";
  auto add = [&](Dimension d, std::string_view words) {
    const auto& v = f.field[static_cast<int>(d)];
    if (v) t += fmt::format(" {} '{}'", words, display_safe(*v));
  };
  add(Dimension::kDb, "to");
  add(Dimension::kUser, "for user");
  add(Dimension::kApp, "from application");
  add(Dimension::kHost, "from host");
  add(Dimension::kServer, "on server");
  return t;
}

void json_string(std::string_view s, std::string* out) {
  out->push_back('"');
  append_json_escaped(s, out);
  out->push_back('"');
}

void json_counts(const std::vector<Count>& counts, bool unknown_for_empty, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i > 0) out->push_back(',');
    json_string(unknown_for_empty && counts[i].name.empty() ? "unknown" : counts[i].name, out);
    fmt::format_to(std::back_inserter(*out), ":{}", counts[i].n);
  }
  out->push_back('}');
}

std::string time_json(int64_t wall_ms, const Timestamp& zone) {
  Timestamp t = zone;
  t.wall_ms = wall_ms;
  t.has_ms = false;
  std::string s;
  append_rfc3339(t, &s);
  return s;
}

}  // namespace

std::string wall_clock(int64_t wall_ms, bool with_date, bool with_seconds) {
  int64_t secs = wall_ms / 1000;
  int64_t day_secs = ((secs % 86400) + 86400) % 86400;
  std::string s;
  if (with_date) {
    Timestamp t;
    t.wall_ms = wall_ms;
    std::string iso;
    append_rfc3339(t, &iso);
    s = iso.substr(5, 5) + " ";
  }
  s += fmt::format("{:02}:{:02}", day_secs / 3600, day_secs / 60 % 60);
  if (with_seconds) s += fmt::format(":{:02}", day_secs % 60);
  return s;
}

namespace {

std::string span(int64_t ms) {
  if (ms == 3600000) return "hour";
  if (ms % 3600000 == 0) return fmt::format("{} h", ms / 3600000);
  if (ms % 60000 == 0) return fmt::format("{} min", ms / 60000);
  return format_duration(ms);
}

}  // namespace

namespace {

// U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069: the bidirectional
// formatting characters, which reorder what a terminal shows after them
// ("Trojan Source"). REQUIRES: s[i..i+n) is one valid UTF-8 sequence.
bool is_bidi_control(std::string_view s, size_t i, size_t n) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (n == 2) return b(0) == 0xD8 && b(1) == 0x9C;
  if (n != 3 || b(0) != 0xE2) return false;
  if (b(1) == 0x80) return b(2) == 0x8E || b(2) == 0x8F || (b(2) >= 0xAA && b(2) <= 0xAE);
  return b(1) == 0x81 && b(2) >= 0xA6 && b(2) <= 0xA9;
}

}  // namespace

std::string display_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\') out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // A valid UTF-8 sequence stays, except C1 controls (U+0080..U+009F,
    // which some terminals obey like ESC) and bidi controls.
    size_t n = c >= 0x80 ? utf8_sequence(s, i) : 0;
    if (n > 0 && !(c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) &&
        !is_bidi_control(s, i, n)) {
      out.append(s.data() + i, n);
      i += n;
      continue;
    }
    out += "\\x";
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
    ++i;
  }
  return out;
}

std::string display_name(std::string_view s) { return s.empty() ? "unknown" : display_safe(s); }

std::string_view reason_phrase(std::string_view r) {
  struct P { std::string_view reason, phrase; };
  static constexpr P kPhrases[] = {
      {"too_many_clients", "too many connections"},
      {"reserved_slots", "only reserved slots left"},
      {"role_limit", "connection limit exceeded (role)"},
      {"db_limit", "connection limit exceeded (database)"},
      {"auth_failed", "authentication failed"},
      {"no_hba_entry", "no pg_hba.conf entry"},
      {"hba_reject", "rejected by pg_hba.conf"},
      {"no_database", "database does not exist"},
      {"no_role", "role does not exist"},
      {"login_not_allowed", "role may not log in"},
      {"starting_up", "server starting up"},
      {"shutting_down", "server shutting down"},
      {"recovery", "server in recovery"},
      {"auth_timeout", "authentication timeout"},
      {"other", "other"},
  };
  for (const P& p : kPhrases)
    if (p.reason == r) return p.phrase;
  return r;
}

void render_summary_text(const Summary& s, const Filter& f, std::string* out) {
  auto it = std::back_inserter(*out);
  if (s.no_data) {
    out->append("No connection data available.\n"
                "Start with: tail -n +1 -F LOG | pgconn-parse | pgconn-agg\n");
    return;
  }
  if (s.no_match) {
    fmt::format_to(it, "No connections match {}.\n", describe(f));
    return;
  }
  // The "By" lists share one layout, the seeds' ("  production    32"):
  // names padded to the widest (at least 10), counts right-aligned in 4 or
  // more columns. The reject list has its own.
  size_t name_w = 10, num_w = 4;
  for (const auto& [dim, counts] : s.by) {
    if (f.field[static_cast<int>(dim)]) continue;
    for (const Count& c : counts) {
      name_w = std::max(name_w, std::min(kMaxAlign, width(display_name(c.name))));
      num_w = std::max(num_w, fmt::formatted_size("{}", c.n));
    }
  }
  auto row = [&](std::string_view name, int64_t n) {
    out->append("  ");
    out->append(name);
    pad(out, name_w - std::min(name_w, width(name)) + 2);
    fmt::format_to(it, "{:>{}}\n", n, num_w);
  };
  fmt::format_to(it, "{}: {}\n", active_title(f), s.active);
  for (const auto& [dim, counts] : s.by) {
    if (f.field[static_cast<int>(dim)] || counts.empty()) continue;  // one row: the filter
    fmt::format_to(it, "\n{}\n", title(dim));
    for (const Count& c : counts) row(display_name(c.name), c.n);
  }
  fmt::format_to(it, "\nSession totals: {} connects, {} disconnects", s.connects, s.disconnects);
  if (s.rejected > 0) {
    fmt::format_to(it, ", {} rejected\nRejected:\n", s.rejected);
    name_w = 10;
    num_w = 4;
    for (const Count& c : s.rejects) {
      name_w = std::max(name_w, std::min(kMaxAlign, width(display_safe(reason_phrase(c.name)))));
      num_w = std::max(num_w, fmt::formatted_size("{}", c.n));
    }
    for (const Count& c : s.rejects) row(display_safe(reason_phrase(c.name)), c.n);
  } else {
    out->push_back('\n');
  }
}

void render_summary_json(const Summary& s, std::string* out) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "{{\"active\":{},\"connects\":{},\"disconnects\":{},\"rejects\":", s.active,
                 s.connects, s.disconnects);
  json_counts(s.rejects, false, out);
  out->append(",\"by\":{");
  for (size_t i = 0; i < s.by.size(); ++i) {
    if (i > 0) out->push_back(',');
    json_string(dimension_name(s.by[i].first), out);
    out->push_back(':');
    json_counts(s.by[i].second, true, out);
  }
  out->append("}}\n");
}

void render_history_text(const History& h, const Filter& f, int64_t last_ms, std::string* out) {
  auto it = std::back_inserter(*out);
  if (h.no_data) {
    out->append("No connection data available.\n"
                "Start with: tail -n +1 -F LOG | pgconn-parse | pgconn-agg --history\n");
    return;
  }
  if (h.no_match) {
    fmt::format_to(it, "No connections match {}.\n", describe(f));
    return;
  }
  std::string who = f.empty() ? "" : " (" + describe(f) + ")";
  fmt::format_to(it, "Last {}{}: {} connects, {} disconnects, {:+} net\n", span(last_ms), who,
                 h.connects, h.disconnects, h.net);
  if (!h.complete)
    fmt::format_to(it, "(only the newest changes are kept, from {}: raise --max-events for the rest)\n",
                   wall_clock(h.complete_from_ms, false, true));
  out->push_back('\n');
  const bool days = h.to_ms - h.from_ms > 86400000 ||
                    (h.from_ms / 86400000) != ((h.to_ms - 1) / 86400000);
  const bool seconds = h.bucket_ms % 60000 != 0;
  size_t act_w = 1, con_w = 1, dis_w = 1, delta_w = 2;
  for (const Bucket& b : h.buckets) {
    act_w = std::max(act_w, fmt::formatted_size("{}", b.active));
    con_w = std::max(con_w, fmt::formatted_size("{}", b.connects));
    dis_w = std::max(dis_w, fmt::formatted_size("{}", b.disconnects));
    delta_w = std::max(delta_w, fmt::formatted_size("{:+}", b.delta));
  }
  for (const Bucket& b : h.buckets) {
    std::string delta = b.delta == 0 ? "" : fmt::format("({:+})", b.delta);
    fmt::format_to(it, "{}  {:>{}} active {:<{}}  {:>{}} connects, {:>{}} disconnects",
                   wall_clock(b.start_ms, days, seconds), b.active, act_w, delta, delta_w + 2,
                   b.connects, con_w, b.disconnects, dis_w);
    out->append(b.leak ? "  \u2190 potential leak\n" : "\n");
  }
  // Sparkline of the active count.
  static const char* kBars[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                "\u2585", "\u2586", "\u2587", "\u2588"};
  int64_t lo = h.buckets.front().active, hi = lo;
  for (const Bucket& b : h.buckets) lo = std::min(lo, b.active), hi = std::max(hi, b.active);
  out->append("\nTrend: ");
  for (const Bucket& b : h.buckets) {
    int level = hi == lo ? (hi == 0 ? 0 : 3) : static_cast<int>((b.active - lo) * 7 / (hi - lo));
    out->append(kBars[level]);
  }
  fmt::format_to(it, "  {} \u2192 {} active\n", h.buckets.front().active, h.buckets.back().active);
  bool any_growth = false;
  for (const auto& [dim, counts] : h.growth) {
    if (counts.empty()) continue;
    if (!any_growth) out->append("Growth:\n");
    any_growth = true;
    fmt::format_to(it, "  {:<5} ", dimension_name(dim));
    for (size_t i = 0; i < counts.size() && i < 3; ++i)
      fmt::format_to(it, "{}{} {:+}", i > 0 ? ", " : "", display_name(counts[i].name), counts[i].n);
    out->append(counts.size() > 3 ? ", \u2026\n" : "\n");
  }
}

void render_history_json(const History& h, const Timestamp& zone, std::string* out) {
  auto it = std::back_inserter(*out);
  if (h.no_data) {  // no event, so no time to place buckets at
    out->append("{\"from\":null,\"to\":null,");
    fmt::format_to(it, "\"bucket_s\":{},\"connects\":0,\"disconnects\":0,\"net\":0,"
                   "\"buckets\":[],\"growth\":{{}}}}\n", h.bucket_ms / 1000);
    return;
  }
  out->append("{\"from\":");
  json_string(time_json(h.from_ms, zone), out);
  out->append(",\"to\":");
  json_string(time_json(h.to_ms, zone), out);
  fmt::format_to(it, ",\"bucket_s\":{},\"connects\":{},\"disconnects\":{},\"net\":{},\"buckets\":[",
                 h.bucket_ms / 1000, h.connects, h.disconnects, h.net);
  for (size_t i = 0; i < h.buckets.size(); ++i) {
    const Bucket& b = h.buckets[i];
    if (i > 0) out->push_back(',');
    out->append("{\"start\":");
    json_string(time_json(b.start_ms, zone), out);
    fmt::format_to(it, ",\"active\":{},\"delta\":{},\"connects\":{},\"disconnects\":{},\"leak\":{}}}",
                   b.active, b.delta, b.connects, b.disconnects, b.leak ? "true" : "false");
  }
  out->append("],\"growth\":{");
  for (size_t i = 0; i < h.growth.size(); ++i) {
    if (i > 0) out->push_back(',');
    json_string(dimension_name(h.growth[i].first), out);
    out->push_back(':');
    json_counts(h.growth[i].second, true, out);
  }
  out->append("}}\n");
}

}  // namespace pgconn
