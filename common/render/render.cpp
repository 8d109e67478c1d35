#include "render/render.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "duration.hpp"
#include "codec/event_codec.hpp"
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

// Hands `out` to `spill` once it holds kSpillBytes (render_summary_json()).
constexpr size_t kSpillBytes = 64 * 1024;
void maybe_spill(std::string* out, const Spill& spill) {
  if (spill && out->size() >= kSpillBytes) spill(out);
}

void json_counts(const std::vector<Count>& counts, bool unknown_for_empty, std::string* out,
                 const Spill& spill = nullptr) {
  out->push_back('{');
  for (size_t i = 0; i < counts.size(); ++i) {
    maybe_spill(out, spill);
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

// "at 10:00:03", with the date when it is not the day of `newest`.
bool other_day(int64_t wall_ms, const Timestamp& newest) {
  auto day = [](int64_t ms) { return ms >= 0 ? ms / 86400000 : (ms + 1) / 86400000 - 1; };
  return newest.valid() && day(wall_ms) != day(newest.wall_ms);
}

std::string log_rfc3339(const Timestamp& t) {
  std::string s;
  append_rfc3339(t, &s);
  return s;
}

// "2024-03-01 10:00:00" in the time's own zone; "at an unknown time" when invalid.
std::string log_time(const Timestamp& t) {
  if (!t.valid()) return "at an unknown time";
  std::string iso;
  append_rfc3339(t, &iso);
  return iso.size() >= 19 ? iso.substr(0, 10) + " " + iso.substr(11, 8) : iso;
}

// Why the counts are a lower bound, for a DBA: "(at least: the log begins
// 2024-03-01 10:00:00; 3 sessions from before it have ended since)".
void lower_bound_note(std::string_view mark, const Timestamp& since, uint64_t ended_before,
                      std::string* out) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "({}at least: the log begins {}; ", mark, log_time(since));
  if (ended_before == 0) out->append("sessions from before it are not seen)\n");
  else if (ended_before == 1) out->append("1 session from before it has ended since)\n");
  else fmt::format_to(it, "{} sessions from before it have ended since)\n", ended_before);
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

std::string list_name(std::string_view name, bool overflow) {
  if (overflow) return std::string(name);
  std::string shown = display_name(name);
  for (int d = 0; d < 5; ++d) {
    const std::string_view spelled = overflow_name(static_cast<Dimension>(d));
    if (shown != spelled) continue;
    // Its first character is U+27E8, three bytes: written as escapes.
    std::string escaped;
    for (size_t i = 0; i < 3; ++i) {
      const auto c = static_cast<unsigned char>(shown[i]);
      escaped += "\\x";
      escaped.push_back(kHex[c >> 4]);
      escaped.push_back(kHex[c & 0xF]);
    }
    return escaped + shown.substr(3);
  }
  return shown;
}

namespace {

// "… 412 more": the row after the `top` biggest of `total` rows.
std::string more_rows(size_t total, size_t top) { return fmt::format("\u2026 {} more", total - top); }

// How many rows a list of `total` shows before its "more" row.
size_t shown_rows(size_t total, size_t top) { return top == 0 ? total : std::min(total, top); }

}  // namespace

std::string_view reason_phrase(std::string_view r, std::string_view via) {
  if (via == "pgbouncer" && r == "too_many_clients") return "too many clients (max_client_conn)";
  struct P { std::string_view reason, phrase; };
  static constexpr P kPhrases[] = {
      {"too_many_clients", "too many connections (max_connections)"},
      {"reserved_slots", "only reserved slots left"},
      {"role_limit", "connection limit exceeded (role)"},
      {"db_limit", "connection limit exceeded (database)"},
      {"auth_failed", "authentication failed"},
      {"no_hba_entry", "no pg_hba.conf entry"},
      {"hba_reject", "rejected by pg_hba.conf"},
      {"no_database", "database does not exist"},
      {"db_not_accepting", "database not accepting connections"},
      {"no_role", "role does not exist"},
      {"login_not_allowed", "role may not log in"},
      {"starting_up", "server starting up"},
      {"shutting_down", "server shutting down"},
      {"recovery", "server in recovery"},
      {"auth_timeout", "authentication timeout"},
      {"server_unavailable", "pooler could not connect to the server"},
      {"other", "other"},
  };
  for (const P& p : kPhrases)
    if (p.reason == r) return p.phrase;
  return r;
}

void render_summary_text(const Summary& s, const Filter& f, std::string* out, size_t top, const Spill& spill) {
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
    const size_t k = shown_rows(counts.size(), top);
    int64_t rest = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      if (i >= k) {
        rest += counts[i].n;
        continue;
      }
      name_w = std::max(name_w, std::min(kMaxAlign, width(list_name(counts[i].name, counts[i].overflow))));
      num_w = std::max(num_w, fmt::formatted_size("{}", counts[i].n));
    }
    if (k < counts.size()) {
      name_w = std::max(name_w, width(more_rows(counts.size(), k)));
      num_w = std::max(num_w, fmt::formatted_size("{}", rest));
    }
  }
  auto row = [&](std::string_view name, int64_t n) {
    maybe_spill(out, spill);
    out->append("  ");
    out->append(name);
    pad(out, name_w - std::min(name_w, width(name)) + 2);
    fmt::format_to(it, "{:>{}}\n", n, num_w);
  };
  fmt::format_to(it, "{}: {}\n", active_title(f), s.active);
  if (!s.complete) {
    out->append("  ");
    lower_bound_note("", s.since_at, s.ended_before, out);
  }
  if (s.peak.active > 0 && s.peak.at.valid())
    fmt::format_to(it, "Peak: {} at {}\n", s.peak.active,
                   wall_clock(s.peak.at.wall_ms, other_day(s.peak.at.wall_ms, s.newest), true));
  else
    fmt::format_to(it, "Peak: {}\n", s.peak.active);
  for (const auto& [dim, counts] : s.by) {
    if (f.field[static_cast<int>(dim)] || counts.empty()) continue;  // one row: the filter
    fmt::format_to(it, "\n{}\n", title(dim));
    const size_t k = shown_rows(counts.size(), top);
    int64_t rest = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      if (i < k) row(list_name(counts[i].name, counts[i].overflow), counts[i].n);
      else rest += counts[i].n;
    }
    if (k < counts.size()) row(more_rows(counts.size(), k), rest);
  }
  fmt::format_to(it, "\nSession totals: {} connects, {} disconnects", s.connects, s.disconnects);
  if (s.rejected > 0) {
    fmt::format_to(it, ", {} rejected\nRejected:\n", s.rejected);
    name_w = 10;
    num_w = 4;
    const size_t k = shown_rows(s.rejects.size(), top);
    int64_t rest = 0;
    for (size_t i = k; i < s.rejects.size(); ++i) rest += s.rejects[i].n;
    for (size_t i = 0; i < k; ++i) {
      name_w = std::max(name_w, std::min(kMaxAlign, width(display_safe(reason_phrase(s.rejects[i].name)))));
      num_w = std::max(num_w, fmt::formatted_size("{}", s.rejects[i].n));
    }
    if (k < s.rejects.size()) {
      name_w = std::max(name_w, width(more_rows(s.rejects.size(), k)));
      num_w = std::max(num_w, fmt::formatted_size("{}", rest));
    }
    for (size_t i = 0; i < k; ++i) row(display_safe(reason_phrase(s.rejects[i].name)), s.rejects[i].n);
    if (k < s.rejects.size()) row(more_rows(s.rejects.size(), k), rest);
  } else {
    out->push_back('\n');
  }
  if (s.with_durations) render_durations_text(s, out, top, spill);
  if (s.with_longest > 0) render_longest_text(s, out);
}

void render_durations_text(const Summary& s, std::string* out, size_t top, const Spill& spill) {
  auto it = std::back_inserter(*out);
  for (const auto& [dim, rows] : s.durations) {
    std::string t(title(dim));  // "By application:" -> "Durations by application:"
    t[0] = 'b';
    fmt::format_to(it, "\nDurations {}\n", t);
    if (rows.empty()) {
      out->append("  no session ended\n");
      continue;
    }
    const size_t k = shown_rows(rows.size(), top);
    uint64_t rest = 0;
    for (size_t i = k; i < rows.size(); ++i) rest += rows[i].n;
    size_t name_w = 10, n_w = 8;
    for (size_t i = 0; i < k; ++i) {
      name_w = std::max(name_w, std::min(kMaxAlign, width(list_name(rows[i].name, rows[i].overflow))));
      n_w = std::max(n_w, fmt::formatted_size("{}", rows[i].n));
    }
    if (k < rows.size()) {
      name_w = std::max(name_w, width(more_rows(rows.size(), k)));
      n_w = std::max(n_w, fmt::formatted_size("{}", rest));
    }
    pad(out, name_w + 2);
    fmt::format_to(it, "  {:>{}} {:>8} {:>8} {:>8} {:>8}\n", "sessions", n_w, "mean", "median", "p95", "max");
    for (size_t i = 0; i < k; ++i) {
      const DurationStats& r = rows[i];
      const std::string name = list_name(r.name, r.overflow);
      maybe_spill(out, spill);
      out->append("  ");
      out->append(name);
      pad(out, name_w - std::min(name_w, width(name)) + 2);
      fmt::format_to(it, "{:>{}} {:>8} {:>8} {:>8} {:>8}\n", r.n, n_w,
                     format_duration(static_cast<int64_t>(r.mean_ms + 0.5)), format_duration(r.p50_ms),
                     format_duration(r.p95_ms), format_duration(r.max_ms));
    }
    if (k < rows.size()) {
      const std::string more = more_rows(rows.size(), k);
      out->append("  ");
      out->append(more);
      pad(out, name_w - std::min(name_w, width(more)) + 2);
      fmt::format_to(it, "{:>{}}\n", rest, n_w);
    }
  }
}

void render_longest_text(const Summary& s, std::string* out) {
  if (s.longest.empty()) {
    out->append("\nLongest open sessions: none\n");
    return;
  }
  out->append("\nLongest open sessions:\n");
  // Columns: since, open for, pid, user, db, app, host (server when any).
  bool servers = false, days = false;
  for (const OpenSession& o : s.longest) {
    servers = servers || !o.server.empty();
    days = days || (o.since.valid() && other_day(o.since.wall_ms, s.newest));
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"since", "open for", "pid", "user", "db", "app", "host"});
  if (servers) rows[0].push_back("server");
  for (const OpenSession& o : s.longest) {
    std::vector<std::string> r;
    r.push_back(o.since.valid() ? wall_clock(o.since.wall_ms, days, true) : "?");
    r.push_back(o.since.valid() ? format_duration(o.open_ms) : "?");
    r.push_back(o.pid >= 0 ? fmt::format("{}", o.pid) : "-");
    for (const std::string* v : {&o.user, &o.db, &o.app, &o.host}) r.push_back(display_name(*v));
    if (servers) r.push_back(display_name(o.server));
    rows.push_back(std::move(r));
  }
  std::vector<size_t> w(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], width(r[c]));
  for (const auto& r : rows) {
    std::string line = " ";
    for (size_t c = 0; c < r.size(); ++c) {
      line += ' ';
      const bool right = c == 1 || c == 2;  // durations and pids right-aligned
      if (right) line.append(w[c] - width(r[c]), ' ');
      line += r[c];
      if (!right && c + 1 < r.size()) line.append(w[c] - width(r[c]), ' ');
      if (c + 1 < r.size()) line += ' ';
    }
    out->append(line);
    out->push_back('\n');
  }
}

void render_summary_json(const Summary& s, std::string* out, const Spill& spill) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "{{\"active\":{},\"connects\":{},\"disconnects\":{},\"rejects\":", s.active,
                 s.connects, s.disconnects);
  json_counts(s.rejects, false, out);
  out->append(",\"by\":{");
  for (size_t i = 0; i < s.by.size(); ++i) {
    if (i > 0) out->push_back(',');
    json_string(dimension_name(s.by[i].first), out);
    out->push_back(':');
    json_counts(s.by[i].second, true, out, spill);
  }
  fmt::format_to(it, "}},\"peak\":{{\"active\":{},\"at\":", s.peak.active);
  if (s.peak.active > 0 && s.peak.at.valid()) {
    std::string at;
    append_rfc3339(s.peak.at, &at);
    json_string(at, out);
  } else {
    out->append("null");
  }
  out->push_back('}');
  fmt::format_to(it, ",\"complete\":{},\"since\":", s.complete ? "true" : "false");
  if (s.since.empty()) out->append("null");
  else json_string(s.since, out);
  fmt::format_to(it, ",\"ended_before\":{}", s.ended_before);
  if (s.with_durations) {
    out->append(",\"durations\":{");
    for (size_t i = 0; i < s.durations.size(); ++i) {
      if (i > 0) out->push_back(',');
      json_string(dimension_name(s.durations[i].first), out);
      out->append(":{");
      const auto& rows = s.durations[i].second;
      for (size_t j = 0; j < rows.size(); ++j) {
        const DurationStats& r = rows[j];
        maybe_spill(out, spill);
        if (j > 0) out->push_back(',');
        json_string(r.name.empty() ? "unknown" : r.name, out);
        fmt::format_to(it, ":{{\"n\":{},\"mean_ms\":{},\"p50_ms\":{},\"p95_ms\":{},\"max_ms\":{}}}", r.n,
                       std::round(r.mean_ms * 10) / 10, r.p50_ms, r.p95_ms, r.max_ms);
      }
      out->push_back('}');
    }
    out->push_back('}');
  }
  if (s.with_longest > 0) {
    out->append(",\"longest\":[");
    for (size_t i = 0; i < s.longest.size(); ++i) {
      const OpenSession& o = s.longest[i];
      if (i > 0) out->push_back(',');
      out->push_back('{');
      bool first = true;
      auto key = [&](std::string_view k) {
        if (!first) out->push_back(',');
        first = false;
        json_string(k, out);
        out->push_back(':');
      };
      if (o.pid >= 0) key("pid"), fmt::format_to(it, "{}", o.pid);
      for (auto [k, v] : {std::pair<std::string_view, const std::string*>{"user", &o.user}, {"db", &o.db},
                          {"app", &o.app}, {"host", &o.host}, {"server", &o.server}})
        if (!v->empty()) key(k), json_string(*v, out);
      if (o.since.valid()) {
        std::string since;
        append_rfc3339(o.since, &since);
        key("since"), json_string(since, out);
        key("open_ms"), fmt::format_to(it, "{}", o.open_ms);
      }
      out->push_back('}');
    }
    out->push_back(']');
  }
  out->append("}\n");
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
  // "≥": a bucket from before the view was complete (its counts are a
  // lower bound); the column is there only when some bucket has it.
  bool marks = false;
  for (const Bucket& b : h.buckets) marks = marks || !b.complete;
  if (marks) {
    lower_bound_note("\u2265 ", h.since_at, h.ended_before, out);
  }
  out->push_back('\n');
  const bool days = h.to_ms - h.from_ms > 86400000 ||
                    (h.from_ms / 86400000) != ((h.to_ms - 1) / 86400000);
  const bool seconds = h.bucket_ms % 60000 != 0;
  size_t act_w = 1, con_w = 1, dis_w = 1, delta_w = 2, peak_w = 1;
  for (const Bucket& b : h.buckets) {
    act_w = std::max(act_w, fmt::formatted_size("{}", b.active));
    peak_w = std::max(peak_w, fmt::formatted_size("{}", b.peak));
    con_w = std::max(con_w, fmt::formatted_size("{}", b.connects));
    dis_w = std::max(dis_w, fmt::formatted_size("{}", b.disconnects));
    delta_w = std::max(delta_w, fmt::formatted_size("{:+}", b.delta));
  }
  for (const Bucket& b : h.buckets) {
    std::string delta = b.delta == 0 ? "" : fmt::format("({:+})", b.delta);
    fmt::format_to(it, "{}{}  {:>{}} active {:<{}}  peak {:>{}}  {:>{}} connects, {:>{}} disconnects",
                   wall_clock(b.start_ms, days, seconds), marks ? (b.complete ? "  " : " \u2265") : "",
                   b.active, act_w, delta, delta_w + 2,
                   b.peak, peak_w, b.connects, con_w, b.disconnects, dis_w);
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
                   "\"complete\":false,\"since\":null,\"ended_before\":0,"
                   "\"buckets\":[],\"growth\":{{}}}}\n", h.bucket_ms / 1000);
    return;
  }
  out->append("{\"from\":");
  json_string(time_json(h.from_ms, zone), out);
  out->append(",\"to\":");
  json_string(time_json(h.to_ms, zone), out);
  fmt::format_to(it, ",\"bucket_s\":{},\"connects\":{},\"disconnects\":{},\"net\":{},\"complete\":{},\"since\":",
                 h.bucket_ms / 1000, h.connects, h.disconnects, h.net, h.view_complete ? "true" : "false");
  if (h.since_at.valid()) json_string(log_rfc3339(h.since_at), out);
  else out->append("null");
  fmt::format_to(it, ",\"ended_before\":{},\"buckets\":[", h.ended_before);
  for (size_t i = 0; i < h.buckets.size(); ++i) {
    const Bucket& b = h.buckets[i];
    if (i > 0) out->push_back(',');
    out->append("{\"start\":");
    json_string(time_json(b.start_ms, zone), out);
    fmt::format_to(it, ",\"active\":{},\"delta\":{},\"connects\":{},\"disconnects\":{},\"leak\":{},\"peak\":{},"
                   "\"complete\":{}}}", b.active, b.delta, b.connects, b.disconnects,
                   b.leak ? "true" : "false", b.peak, b.complete ? "true" : "false");
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
