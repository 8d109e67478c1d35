#include "render/prom.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "lifecycle/message.hpp"
#include "utf8.hpp"
#include "version.hpp"

namespace pgconn {

// The `le` strings are Go's FormatFloat(x, 'g', -1, 64) of the seconds, as
// client_golang and node_exporter write them: a changed string would be a
// new series.
const std::vector<PromBucket> kPromDurationBuckets = {
    {5, "0.005"},          {10, "0.01"},         {25, "0.025"},       {50, "0.05"},
    {100, "0.1"},          {250, "0.25"},        {500, "0.5"},        {1000, "1"},
    {2500, "2.5"},         {5000, "5"},          {10000, "10"},       {30000, "30"},
    {60000, "60"},         {300000, "300"},      {900000, "900"},     {1800000, "1800"},
    {3600000, "3600"},     {10800000, "10800"},  {28800000, "28800"}, {86400000, "86400"},
    {604800000, "604800"}};

void prom_label_value(std::string_view v, std::string* out) {
  for (size_t i = 0; i < v.size();) {
    const char c = v[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const size_t n = utf8_sequence(v, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD: Prometheus refuses invalid UTF-8
        ++i;
      } else {
        out->append(v.substr(i, n));
        i += n;
      }
      continue;
    }
    if (c == '\\') out->append("\\\\");
    else if (c == '"') out->append("\\\"");
    else if (c == '\n') out->append("\\n");
    else out->push_back(c);  // tab, CR, other controls: raw (a `\t` escape is a parse error)
    ++i;
  }
}

void prom_help_text(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') out->append("\\\\");
    else if (c == '\n') out->append("\\n");
    else out->push_back(c);
  }
}

void prom_number(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

bool SeriesSlots::admit(const std::string& labels) {
  if (admitted_.count(labels) != 0) return true;
  if (admitted_.size() < max_) {
    admitted_.insert(labels);
    return true;
  }
  overflowed_ = true;
  return false;
}

void SeriesSlots::clear() {
  admitted_.clear();
  overflowed_ = false;
}

std::string_view prom_label_name(Dimension d) {
  switch (d) {
    case Dimension::kDb: return "datname";
    case Dimension::kUser: return "usename";
    case Dimension::kApp: return "application_name";
    case Dimension::kHost: return "client_addr";
    case Dimension::kServer: return "server";
  }
  return "server";
}

PromExporter::PromExporter(PromOptions options)
    : options_(std::move(options)),
      active_(options_.max_series),
      connects_(options_.max_series),
      disconnects_(options_.max_series),
      durations_(options_.max_series),
      servers_(options_.max_series) {}

void PromExporter::configure(WindowOptions* window) {
  window->ends = true;
  window->peak_by_server = true;
  window->duration_edges_ms.clear();
  for (const PromBucket& b : kPromDurationBuckets) window->duration_edges_ms.push_back(b.ms);
}


namespace {

void label(std::string_view name, std::string_view value, std::string* out) {
  if (!out->empty() && out->back() != '{') out->push_back(',');
  out->append(name);
  out->append("=\"");
  prom_label_value(value, out);
  out->push_back('"');
}

void header(std::string_view name, std::string_view type, std::string_view help, std::string* out) {
  out->append("# HELP ").append(name).push_back(' ');
  prom_help_text(help, out);
  out->append("\n# TYPE ").append(name).push_back(' ');
  out->append(type).push_back('\n');
}

// name{labels} value; `labels` may be empty.
void sample(std::string_view name, std::string_view labels, std::string_view value, std::string* out) {
  out->append(name);
  if (!labels.empty()) out->append("{").append(labels).push_back('}');
  out->push_back(' ');
  out->append(value).push_back('\n');
}

void sample(std::string_view name, std::string_view labels, uint64_t value, std::string* out) {
  sample(name, labels, std::to_string(value), out);
}

// `a,b` or just one of them when the other is empty.
std::string join(std::string_view a, std::string_view b) {
  std::string s(a);
  if (!s.empty() && !b.empty()) s.push_back(',');
  s.append(b);
  return s;
}

std::string one_label(std::string_view name, std::string_view value) {
  std::string s;
  label(name, value, &s);
  return s;
}

const std::string kOverflow = "overflow=\"true\"";

// Sorts `values` into those with a series of their own and the overflow
// sum; a label set admitted before and absent now is written at `zero`.
template <typename V, typename Add>
std::map<std::string, V> capped(std::map<std::string, V> values, SeriesSlots* slots, V zero, V* overflow,
                                Add add) {
  for (auto it = values.begin(); it != values.end();) {
    if (slots->admit(it->first)) {
      ++it;
    } else {
      add(overflow, it->second);
      it = values.erase(it);
    }
  }
  for (const std::string& kept : slots->admitted()) values.emplace(kept, zero);
  return values;
}

struct Durations {
  std::vector<uint64_t> counts;  // per edge, not cumulative; the last: above all
  uint64_t n = 0, sum_ms = 0;

  void add(const Durations& o) {
    if (counts.size() < o.counts.size()) counts.resize(o.counts.size(), 0);
    for (size_t i = 0; i < o.counts.size(); ++i) counts[i] += o.counts[i];
    n += o.n;
    sum_ms += o.sum_ms;
  }
};

void write_histogram(std::string_view labels, const Durations& d, std::string* out) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kPromDurationBuckets.size(); ++i) {
    if (i < d.counts.size()) cumulative += d.counts[i];
    sample("pgconn_session_duration_seconds_bucket",
           join(labels, one_label("le", kPromDurationBuckets[i].le)), cumulative, out);
  }
  sample("pgconn_session_duration_seconds_bucket", join(labels, "le=\"+Inf\""), d.n, out);
  std::string sum;
  prom_number(static_cast<double>(d.sum_ms) / 1000.0, &sum);
  sample("pgconn_session_duration_seconds_sum", labels, sum, out);
  sample("pgconn_session_duration_seconds_count", labels, d.n, out);
}

}  // namespace

bool PromExporter::identity(const Window& w, uint32_t combo, std::string* out) const {
  out->clear();
  const WhoView who = w.who(combo);
  label("server", who.server, out);
  bool named = w.name_id(combo, Dimension::kServer) != NameTable::kOverflow;
  for (Dimension d : options_.labels) {
    label(prom_label_name(d), who_field(who, d), out);
    named = named && w.name_id(combo, d) != NameTable::kOverflow;
  }
  return named;
}

void PromExporter::render(const Window& w, const Filter& f, double reset_s, std::string* out) {
  header("pgconn_build_info", "gauge", "pgconn-agg version; the value is always 1.", out);
  sample("pgconn_build_info", one_label("version", kVersion), 1, out);
  header("pgconn_stats_reset_timestamp_seconds", "gauge",
         "Unix time (wall clock) when pgconn-agg started or last cleared its statistics (SIGHUP).", out);
  std::string reset;
  prom_number(reset_s, &reset);
  sample("pgconn_stats_reset_timestamp_seconds", "", reset, out);

  std::string key;
  // Sessions open now. Names past the Window's cap (its overflow names)
  // never get a series of their own: they go to the overflow series, as
  // label sets past max_series do.
  std::map<std::string, uint64_t> active;
  uint64_t over_active = 0;
  for (const auto& [k, session] : w.active()) {
    if (!f.empty() && !f.matches(w.who(session.who))) continue;
    if (identity(w, session.who, &key)) {
      ++active[key];
    } else {
      ++over_active;
      active_.spill();
    }
  }
  // Totals, per identity, per server, per application.
  std::map<std::string, uint64_t> connects;
  std::map<std::string, uint64_t> ends;  // identity,reason -> n
  std::map<std::string, std::string> end_reason;  // identity,reason -> reason
  std::map<std::string, std::map<std::string, uint64_t>> rejects;  // server -> reason -> n
  std::map<std::string, Durations> durations;  // server,application_name -> buckets
  uint64_t over_connects = 0;
  std::map<std::string, uint64_t> spilled_ends;  // reason -> n, of overflow names
  std::map<std::string, uint64_t> spilled_rejects;
  Durations over_durations;
  for (const std::string& s : options_.servers) rejects[s];
  const bool by_app = std::find(options_.labels.begin(), options_.labels.end(), Dimension::kApp) !=
                      options_.labels.end();
  const bool server_over = w.names_overflowed(Dimension::kServer);
  const Window::EndTotals none;
  for (size_t i = 0; i < w.totals().size(); ++i) {
    const Window::Totals& t = w.totals()[i];
    const Window::EndTotals* ended = w.end_totals(i);
    if (ended == nullptr) ended = &none;
    const WhoView who = w.who(t.who);
    if (!f.empty() && !f.matches(who)) continue;
    const bool named = identity(w, t.who, &key);
    const bool server_named = w.name_id(t.who, Dimension::kServer) != NameTable::kOverflow;
    if (t.connects > 0) {
      if (named) connects[key] += t.connects;
      else over_connects += t.connects, connects_.spill();
    }
    for (const auto& [reason, n] : ended->ends) {
      if (!named) {
        spilled_ends[std::string(reason)] += n;
        continue;
      }
      std::string k = join(key, one_label("reason", reason));
      ends[k] += n;
      end_reason.emplace(std::move(k), reason);
    }
    if (server_named) {
      auto& r = rejects[std::string(who.server)];
      for (const auto& [reason, n] : t.rejects) r[std::string(reason)] += n;
    } else {
      for (const auto& [reason, n] : t.rejects) spilled_rejects[std::string(reason)] += n;
      if (!t.rejects.empty()) servers_.spill();
    }
    if (ended->duration_n > 0) {
      const Durations d{ended->edge_counts, ended->duration_n, ended->duration_sum_ms};
      if (!server_named || (by_app && w.name_id(t.who, Dimension::kApp) == NameTable::kOverflow)) {
        over_durations.add(d);
        durations_.spill();
        continue;
      }
      std::string hk = one_label("server", who.server);
      if (by_app) label("application_name", who.app, &hk);
      durations[hk].add(d);
    }
  }
  for (const auto& [server, peak] : w.server_peaks())
    if (!server_over || server != overflow_name(Dimension::kServer)) rejects[server];
  for (const auto& [server, view] : w.servers())
    if (!f.field[4] || *f.field[4] == server) rejects[server];
  for (const auto& [labels, server] : server_names_) rejects[server];  // seen before a clear
  // Before any event: the rejects of the server "" at 0, a placeholder that
  // takes no slot and stops at the first event (no view_complete for it).
  const bool placeholder = rejects.empty();
  if (placeholder) rejects[""];

  header("pgconn_sessions_active", "gauge",
         "Sessions open now according to the log: connection authorized, not rejected, no "
         "disconnection yet.",
         out);
  uint64_t over = over_active;
  auto add = [](uint64_t* sum, uint64_t n) { *sum += n; };
  for (const auto& [labels, n] : capped(std::move(active), &active_, uint64_t{0}, &over, add))
    sample("pgconn_sessions_active", labels, n, out);
  if (active_.overflowed()) sample("pgconn_sessions_active", kOverflow, over, out);

  // The servers: the rejects' and the peaks' label sets, by server label.
  using Reasons = std::map<std::string, uint64_t>;
  std::map<std::string, std::pair<std::string, Reasons>> servers;  // label -> (server, rejects)
  Reasons over_rejects = std::move(spilled_rejects);
  for (auto& [server, by_reason] : rejects) {
    std::string labels = one_label("server", server);
    if (placeholder || servers_.admit(labels)) {
      if (!placeholder) server_names_.emplace(labels, server);
      servers[labels] = {server, std::move(by_reason)};
    } else {
      for (const auto& [reason, n] : by_reason) over_rejects[reason] += n;
    }
  }

  header("pgconn_sessions_active_peak", "gauge",
         "Most sessions open at the same time since the statistics were reset, exact from the log.", out);
  for (const auto& [labels, server] : servers) {
    auto it = w.server_peaks().find(server.first);
    const int64_t peak = it == w.server_peaks().end() ? 0 : it->second.peak().active;
    sample("pgconn_sessions_active_peak", labels, static_cast<uint64_t>(peak), out);
  }

  header("pgconn_connects_total", "counter", "Sessions established (connection authorized and not rejected).",
         out);
  over = over_connects;
  for (const auto& [labels, n] : capped(std::move(connects), &connects_, uint64_t{0}, &over, add))
    sample("pgconn_connects_total", labels, n, out);
  if (connects_.overflowed()) sample("pgconn_connects_total", kOverflow, over, out);

  header("pgconn_disconnects_total", "counter",
         "Sessions ended, by reason (normal: no cause logged; lost: the end was never logged).", out);
  Reasons over_ends = std::move(spilled_ends);
  for (const auto& [reason, n] : over_ends) over_end_reasons_.insert(reason);
  if (!over_ends.empty()) disconnects_.spill();
  for (const std::string& reason : over_end_reasons_) over_ends[reason];  // seen before a clear
  for (auto it = ends.begin(); it != ends.end();) {
    if (disconnects_.admit(it->first)) {
      ++it;
    } else {
      const std::string& reason = end_reason[it->first];
      over_ends[reason] += it->second;
      over_end_reasons_.insert(reason);
      it = ends.erase(it);
    }
  }
  for (const std::string& kept : disconnects_.admitted()) ends.emplace(kept, 0);
  for (const auto& [labels, n] : ends) sample("pgconn_disconnects_total", labels, n, out);
  for (const auto& [reason, n] : over_ends)
    sample("pgconn_disconnects_total", join(kOverflow, one_label("reason", reason)), n, out);

  header("pgconn_rejects_total", "counter", "Connection attempts the server refused, by reason.", out);
  auto write_rejects = [&](const std::string& labels, const Reasons& by_reason) {
    for (std::string_view reason : kRejectReasons) {
      auto it = by_reason.find(std::string(reason));
      sample("pgconn_rejects_total", join(labels, one_label("reason", reason)),
             it == by_reason.end() ? 0 : it->second, out);
    }
    for (const auto& [reason, n] : by_reason)  // a category this build does not know
      if (std::find(std::begin(kRejectReasons), std::end(kRejectReasons), reason) == std::end(kRejectReasons))
        sample("pgconn_rejects_total", join(labels, one_label("reason", reason)), n, out);
  };
  for (const auto& [labels, server] : servers) write_rejects(labels, server.second);
  if (servers_.overflowed()) write_rejects(kOverflow, over_rejects);

  header("pgconn_session_duration_seconds", "histogram", "Session time PostgreSQL logged at disconnection.",
         out);
  auto add_durations = [](Durations* sum, const Durations& d) { sum->add(d); };
  for (const auto& [labels, d] :
       capped(std::move(durations), &durations_, Durations{}, &over_durations, add_durations))
    write_histogram(labels, d, out);
  if (durations_.overflowed()) write_histogram(kOverflow, over_durations, out);

  header("pgconn_sessions_evicted_total", "counter",
         "Open sessions forgotten because the active-session table was full; the view is incomplete "
         "when this grows.",
         out);
  sample("pgconn_sessions_evicted_total", "", w.evicted(), out);

  header("pgconn_view_complete", "gauge",
         "1 when every session open on the server is known (its start, a crash, a shutdown or a "
         "snapshot was seen since tracking began), else 0: the active counts are then a lower bound.",
         out);
  for (const auto& [labels, server] : servers) {
    if (placeholder) break;
    auto it = w.servers().find(server.first);
    const bool complete = !w.servers_overflow() && it != w.servers().end() && it->second.complete;
    sample("pgconn_view_complete", labels, complete ? 1 : 0, out);
  }
}

}  // namespace pgconn
