#include "window/summary.hpp"

#include <algorithm>
#include <climits>
#include <unordered_map>

namespace pgconn {

namespace {

// An empty name is shown as "unknown": count both as one.
std::string group_name(std::string_view name) {
  return name.empty() ? std::string("unknown") : std::string(name);
}

// Counts by name (std::string or a view of a name the Window keeps), the
// biggest first, then by name.
template <typename Name>
std::vector<Count> sorted(const std::unordered_map<Name, int64_t>& counts) {
  std::vector<Count> out;
  out.reserve(counts.size());
  for (const auto& [name, n] : counts) out.push_back(Count{std::string(name), n});
  std::sort(out.begin(), out.end(), [](const Count& a, const Count& b) {
    return a.n != b.n ? a.n > b.n : a.name < b.name;
  });
  return out;
}

int64_t floor_to(int64_t v, int64_t step) {
  int64_t q = v / step;
  if (v % step != 0 && v < 0) --q;
  return q * step;
}

}  // namespace

namespace {

// The ids of one dimension's names as listed: a real name "unknown" is
// counted with the empty name (both are shown as "unknown").
struct Grouping {
  uint32_t unknown;
  explicit Grouping(const NameTable& names) : unknown(names.find("unknown")) {}
  uint32_t operator()(uint32_t id) const { return id == unknown ? NameTable::kEmpty : id; }
};

// Counts by name id as a sorted list of names.
std::vector<Count> sorted(const NameTable& names, const std::vector<int64_t>& by_id) {
  std::vector<Count> out;
  out.reserve(static_cast<size_t>(std::count_if(by_id.begin(), by_id.end(), [](int64_t n) { return n != 0; })));
  for (uint32_t id = 0; id < by_id.size(); ++id)
    if (by_id[id] != 0) out.push_back(Count{group_name(names.name(id)), by_id[id], id == NameTable::kOverflow});
  std::sort(out.begin(), out.end(), [](const Count& a, const Count& b) {
    return a.n != b.n ? a.n > b.n : a.name < b.name;
  });
  return out;
}

// Session lengths per name of each `by` dimension: the Window's histograms
// (kept for its filter), "unknown" merged with the empty name as the
// counts are.
void durations(const Window& w, const std::vector<Dimension>& by, Summary* s) {
  for (Dimension d : by) {
    const Grouping group(w.names(d));
    const Chunked<LogHistogram>& hs = w.durations(d);
    std::vector<DurationStats> rows;
    size_t n = 0;  // exactly: at the caps these are tens of thousands
    for (uint32_t id = 0; id < hs.size(); ++id) n += hs[id].count() > 0;
    rows.reserve(n);
    for (uint32_t id = 0; id < hs.size(); ++id) {
      if (group(id) != id) continue;  // "unknown": with the empty name
      const LogHistogram* h = &hs[id];
      LogHistogram merged;
      if (id == NameTable::kEmpty && group.unknown < hs.size() && hs[group.unknown].count() > 0) {
        merged = *h;
        merged.merge(hs[group.unknown]);
        h = &merged;
      }
      if (h->count() == 0) continue;
      rows.push_back(DurationStats{group_name(w.names(d).name(id)), h->count(), h->mean(), h->percentile(0.5),
                                   h->percentile(0.95), h->max(), id == NameTable::kOverflow});
    }
    std::sort(rows.begin(), rows.end(), [](const DurationStats& a, const DurationStats& b) {
      return a.n != b.n ? a.n > b.n : a.name < b.name;
    });
    s->durations.emplace_back(d, std::move(rows));
  }
}

// The `n` sessions open longest, oldest first, ties by pid.
void longest(const Window& w, const Filter& f, size_t n, Summary* s) {
  std::vector<const Window::Session*> open;
  for (const auto& [key, session] : w.active())
    if (f.matches(w.who(session.who))) open.push_back(&session);
  auto older = [](const Window::Session* a, const Window::Session* b) {
    if (a->since_ms != b->since_ms) return a->since_ms < b->since_ms;
    if (a->pid != b->pid) return a->pid < b->pid;
    return a->order < b->order;
  };
  const size_t k = std::min(n, open.size());
  std::partial_sort(open.begin(), open.begin() + static_cast<std::ptrdiff_t>(k), open.end(), older);
  const int64_t now = w.newest().valid() ? w.newest().sort_ms() : 0;
  for (size_t i = 0; i < k; ++i) {
    const Window::Session& session = *open[i];
    const WhoView who = w.who(session.who);
    OpenSession o{std::string(who.user), std::string(who.db), std::string(who.app),
                  std::string(who.host), std::string(who.server), session.since, 0, session.pid};
    if (session.since.valid()) o.open_ms = std::max<int64_t>(0, now - session.since_ms);
    s->longest.push_back(std::move(o));
  }
}

}  // namespace

Summary summarize(const Window& w, const Filter& f, const std::vector<Dimension>& by,
                  const SummaryOptions& options) {
  Summary s;
  s.no_data = w.empty();
  s.peak = w.peak().peak();
  s.newest = w.newest();
  std::vector<std::vector<int64_t>> groups(by.size());  // by name id
  std::vector<Grouping> grouping;
  for (size_t i = 0; i < by.size(); ++i) {
    groups[i].assign(w.names(by[i]).size(), 0);
    grouping.emplace_back(w.names(by[i]));
  }
  for (const auto& [key, session] : w.active()) {
    if (!f.empty() && !f.matches(w.who(session.who))) continue;
    ++s.active;
    for (size_t i = 0; i < by.size(); ++i) ++groups[i][grouping[i](w.name_id(session.who, by[i]))];
  }
  for (size_t i = 0; i < by.size(); ++i) s.by.emplace_back(by[i], sorted(w.names(by[i]), groups[i]));

  std::unordered_map<std::string_view, int64_t> rejects;  // views of the Window's reasons
  for (const Window::Totals& t : w.totals()) {
    if (!f.empty() && !f.matches(w.who(t.who))) continue;
    s.connects += t.connects;
    s.disconnects += t.disconnects;
    for (const auto& [reason, n] : t.rejects) {
      rejects[reason] += static_cast<int64_t>(n);
      s.rejected += n;
    }
  }
  s.rejects = sorted(rejects);
  // Without a filter there is nothing to match: events with no session in
  // them (a server start, a snapshot of an idle server, a SIGHUP with none
  // open) are a summary of 0, not "No connections match .".
  s.no_match = !f.empty() && !s.no_data && s.active == 0 && s.connects == 0 && s.disconnects == 0 &&
               s.rejected == 0;
  s.with_durations = options.durations;
  if (options.durations) durations(w, by, &s);
  s.with_longest = options.longest;
  if (options.longest > 0) longest(w, f, options.longest, &s);
  view_completeness(w, f, &s);
  return s;
}

namespace {

// The servers a filter shows: its --server (an empty name matching
// "unknown"), else all.
bool shows_server(const Filter& f, std::string_view server) {
  const auto& only = f.field[static_cast<int>(Dimension::kServer)];
  return !only || server == *only || (server.empty() && *only == "unknown");
}

// INT64_MIN, a time, or INT64_MAX (History::view_from_ms).
int64_t view_from(const Window& w, const Filter& f) {
  if (w.servers_overflow()) return INT64_MAX;
  int64_t from = INT64_MAX;
  bool any = false;
  for (const auto& [name, v] : w.servers()) {
    if (!shows_server(f, name)) continue;
    if (!v.complete) return INT64_MAX;
    from = any ? std::max(from, v.complete_from_ms) : v.complete_from_ms;
    any = true;
  }
  return from;
}

}  // namespace

void view_completeness(const Window& w, const Filter& f, Summary* s) {
  bool any = false;
  s->complete = !w.servers_overflow();
  s->since_at = Timestamp();
  s->ended_before = 0;
  for (const auto& [name, v] : w.servers()) {
    if (!shows_server(f, name)) continue;
    any = true;
    if (!v.complete) {
      s->complete = false;
      s->ended_before += v.ended_before;
    }
    if (v.first.valid() && (!s->since_at.valid() || v.first.sort_ms() < s->since_at.sort_ms()))
      s->since_at = v.first;
  }
  if (!any) s->complete = false;
  s->since.clear();
  if (s->since_at.valid()) append_rfc3339(s->since_at, &s->since);
}

History history(const Window& w, const Filter& f, int64_t bucket_ms, int64_t last_ms) {
  History h;
  h.bucket_ms = bucket_ms;
  h.no_data = w.empty();
  const int64_t n = std::clamp<int64_t>(last_ms / bucket_ms, 1, kMaxBuckets);
  const int64_t newest = w.newest().valid() ? w.newest().wall_ms : 0;
  const int64_t last_start = floor_to(newest, bucket_ms);
  h.from_ms = last_start - (n - 1) * bucket_ms;
  h.to_ms = last_start + bucket_ms;
  h.buckets.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) h.buckets[i].start_ms = h.from_ms + i * bucket_ms;

  int64_t active_now = 0;
  for (const auto& [key, session] : w.active())
    if (f.matches(w.who(session.who))) ++active_now;

  // Walk the records from the newest back: the active count at a moment is
  // the count now minus the changes after it.
  std::vector<int64_t> change_in(static_cast<size_t>(n), 0);  // per bucket
  std::vector<std::unordered_map<std::string, int64_t>> growth(3);
  const Dimension growth_dims[3] = {Dimension::kApp, Dimension::kUser, Dimension::kHost};
  bool any = false;
  for (const Window::Record& r : w.history()) {
    const WhoView who = w.who(r.who);
    if (!f.matches(who)) continue;
    any = true;
    if (r.wall_ms < h.from_ms) continue;
    const int64_t i = std::min<int64_t>((r.wall_ms - h.from_ms) / bucket_ms, n - 1);
    Bucket& b = h.buckets[static_cast<size_t>(i)];
    if (r.type == EventType::kConnect) ++b.connects;
    if (r.type == EventType::kDisconnect) ++b.disconnects;
    change_in[static_cast<size_t>(i)] += r.delta;
    if (r.delta != 0)
      for (int g = 0; g < 3; ++g) growth[g][group_name(who_field(who, growth_dims[g]))] += r.delta;
  }
  // change_after[k]: the changes after the start of bucket k (k = n: none).
  std::vector<int64_t> change_after(static_cast<size_t>(n) + 1, 0);
  for (int64_t k = n - 1; k >= 0; --k)
    change_after[static_cast<size_t>(k)] = change_after[static_cast<size_t>(k) + 1] + change_in[static_cast<size_t>(k)];
  int64_t before = std::max<int64_t>(0, active_now - change_after[0]);
  // Peaks: the changes inside the history in time order, ends before starts
  // at the same instant, swept from the count at its start.
  std::vector<std::pair<int64_t, int8_t>> changes;  // (time, delta)
  for (const Window::Record& r : w.history())
    if (r.delta != 0 && r.wall_ms >= h.from_ms && f.matches(w.who(r.who)))
      changes.emplace_back(r.wall_ms, r.delta);
  std::sort(changes.begin(), changes.end());
  size_t next_change = 0;
  int64_t open_now = active_now - change_after[0];  // may dip below 0 in a cut history
  for (int64_t i = 0; i < n; ++i) {
    Bucket& b = h.buckets[static_cast<size_t>(i)];
    const int64_t end = i + 1 < n ? b.start_ms + bucket_ms : INT64_MAX;  // as the records were bucketed
    b.peak = open_now;
    for (; next_change < changes.size() && changes[next_change].first < end; ++next_change) {
      open_now += changes[next_change].second;
      b.peak = std::max(b.peak, open_now);
    }
    // A bounded history can miss the opening of a session it saw close;
    // never show fewer than none.
    b.active = std::max<int64_t>(0, active_now - change_after[static_cast<size_t>(i) + 1]);
    b.peak = std::max(b.peak, b.active);
    b.delta = b.active - before;
    before = b.active;
    h.connects += b.connects;
    h.disconnects += b.disconnects;
    const bool rising = b.delta > 0;
    const bool three = i >= 2 && rising && h.buckets[i - 1].delta > 0 && h.buckets[i - 2].delta > 0;
    b.leak = three || (rising && b.disconnects == 0);
  }
  h.net = static_cast<int64_t>(h.connects) - static_cast<int64_t>(h.disconnects);
  for (int g = 0; g < 3; ++g) {
    std::vector<Count> up = sorted(growth[g]);
    up.erase(std::remove_if(up.begin(), up.end(), [](const Count& c) { return c.n <= 0; }), up.end());
    h.growth.emplace_back(growth_dims[g], std::move(up));
  }
  h.no_match = !f.empty() && !h.no_data && !any && active_now == 0;
  h.view_from_ms = view_from(w, f);
  for (Bucket& b : h.buckets) b.complete = h.view_from_ms <= b.start_ms;
  Summary view;
  view_completeness(w, f, &view);
  h.view_complete = view.complete;
  h.since_at = view.since_at;
  h.ended_before = view.ended_before;
  if (w.dropped() > 0 && !w.history().empty() && w.history().front().wall_ms > h.from_ms) {
    h.complete = false;
    h.complete_from_ms = w.history().front().wall_ms;
  }
  return h;
}

}  // namespace pgconn
