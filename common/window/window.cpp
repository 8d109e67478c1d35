#include "window/window.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace pgconn {

namespace {
constexpr std::string_view kDimensionNames[] = {"db", "user", "app", "host", "server"};
// names.hpp says why no logged name is spelled so.
constexpr std::string_view kOverflowNames[] = {"\u27e8other databases\u27e9", "\u27e8other users\u27e9",
                                               "\u27e8other apps\u27e9", "\u27e8other hosts\u27e9",
                                               "\u27e8other servers\u27e9"};
constexpr uint32_t kNoTotals = UINT32_MAX;

// The hash of a combination, from its names' hashes (NameTable::hash()).
uint64_t hash_names(const uint32_t (&hashes)[5]) {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  for (uint32_t x : hashes) {
    h = (h ^ x) * 0xff51afd7ed558ccdULL;
    h ^= h >> 29;
  }
  return h ^ (h >> 32);
}
}  // namespace

std::string_view dimension_name(Dimension d) { return kDimensionNames[static_cast<int>(d)]; }
std::string_view overflow_name(Dimension d) { return kOverflowNames[static_cast<int>(d)]; }

bool parse_dimension(std::string_view name, Dimension* out) {
  for (int i = 0; i < 5; ++i) {
    if (kDimensionNames[i] == name) {
      *out = static_cast<Dimension>(i);
      return true;
    }
  }
  return false;
}

std::string_view who_field(const WhoView& w, Dimension d) {
  switch (d) {
    case Dimension::kDb: return w.db;
    case Dimension::kUser: return w.user;
    case Dimension::kApp: return w.app;
    case Dimension::kHost: return w.host;
    case Dimension::kServer: return w.server;
  }
  return w.db;
}

bool Filter::empty() const {
  for (const auto& f : field)
    if (f) return false;
  return true;
}

bool Filter::matches(const WhoView& w) const {
  for (int i = 0; i < 5; ++i) {
    if (!field[i]) continue;
    std::string_view v = who_field(w, static_cast<Dimension>(i));
    if (v == *field[i]) continue;
    if (v.empty() && *field[i] == "unknown") continue;  // shown as "unknown"
    return false;
  }
  return true;
}

Window::Window(WindowOptions options)
    : options_(options),
      peak_all_(options_.filter.empty()),
      keep_ends_(options_.ends || !options_.duration_edges_ms.empty()),
      names_{NameTable(options_.max_names, std::string(kOverflowNames[0])),
             NameTable(options_.max_names, std::string(kOverflowNames[1])),
             NameTable(options_.max_names, std::string(kOverflowNames[2])),
             NameTable(options_.max_names, std::string(kOverflowNames[3])),
             NameTable(options_.max_names, std::string(kOverflowNames[4]))} {
  combo_slots_.assign(1024, ComboSlot{});
  if (options_.durations)
    for (Dimension d : options_.durations_by) durations_of_[static_cast<int>(d)] = true;
}

WhoView Window::who(uint32_t combo) const {
  const Combo& c = combos_[combo];
  WhoView w;
  w.db = names_[0].name(c.id[0]);
  w.user = names_[1].name(c.id[1]);
  w.app = names_[2].name(c.id[2]);
  w.host = names_[3].name(c.id[3]);
  w.server = names_[4].name(c.id[4]);
  return w;
}

uint64_t Window::combo_hash(const uint32_t (&ids)[5]) const {
  uint32_t hashes[5];
  for (int d = 0; d < 5; ++d) hashes[d] = names_[d].hash_of(ids[d]);
  return hash_names(hashes);
}

void Window::prefetch(const EventView& e, Hint* hint, int step) const {
  if (step == 0) {
    hint->set = false;
    if (combos_.size() < kPrefetchFrom) return;
    hint->set = true;
    const std::string_view names[5] = {e.db, e.user, e.app, e.host, e.server};
    for (int d = 0; d < 5; ++d) {
      hint->name[d] = NameTable::hash(names[d]);
      names_[d].prefetch(hint->name[d]);
    }
    hint->combo = hash_names(hint->name);
    hint->totals = UINT32_MAX;
    if (e.type != EventType::kServer) __builtin_prefetch(&combo_slots_[hint->combo & (combo_slots_.size() - 1)]);
    return;
  }
  if (!hint->set || e.type == EventType::kServer) return;
  if (step == 1) {
    for (int d = 0; d < 5; ++d) hint->id[d] = names_[d].prefetch_entry(hint->name[d]);
    if (options_.durations && e.type == EventType::kDisconnect && e.duration_ms >= 0)
      for (int d = 0; d < 5; ++d)
        if (durations_of_[d] && hint->id[d] < durations_[d].size()) __builtin_prefetch(&durations_[d][hint->id[d]]);
    // The first slot of its hash's tag: its combination, unless two share
    // a tag (then only this guess is wasted).
    const size_t mask = combo_slots_.size() - 1;
    const auto tag = static_cast<uint32_t>(hint->combo >> 32);
    size_t i = hint->combo & mask;
    for (int probe = 0; probe < 4; ++probe, i = (i + 1) & mask) {
      const ComboSlot& s = combo_slots_[i];
      if (s.combo == 0) return;
      if (s.tag != tag) continue;
      __builtin_prefetch(&combos_[s.combo - 1]);  // for find_combo() to check
      const uint32_t t = combo_totals_[s.combo - 1];
      if (t >= totals_.size()) return;
      hint->totals = t;
      // Its counts, at the start of a Totals.
      const char* at = reinterpret_cast<const char*>(&totals_[t]);
      __builtin_prefetch(at);
      __builtin_prefetch(at + 64);
      __builtin_prefetch(at + 127);
      return;
    }
    return;
  }
  for (int d = 0; d < 5; ++d) names_[d].prefetch_bytes(hint->id[d]);
  if (options_.durations && e.type == EventType::kDisconnect && e.duration_ms >= 0)
    for (int d = 0; d < 5; ++d)
      if (durations_of_[d] && hint->id[d] < durations_[d].size()) durations_[d][hint->id[d]].prefetch(e.duration_ms);
}

uint32_t Window::find_combo(const uint32_t (&ids)[5], uint64_t hash, size_t* slot) const {
  const size_t mask = combo_slots_.size() - 1;
  const auto tag = static_cast<uint32_t>(hash >> 32);
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const ComboSlot& s = combo_slots_[i];
    if (s.combo == 0) {
      *slot = i;
      return UINT32_MAX;
    }
    if (s.tag != tag) continue;
    const uint32_t* id = combos_[s.combo - 1].id;
    if (id[0] == ids[0] && id[1] == ids[1] && id[2] == ids[2] && id[3] == ids[3] && id[4] == ids[4])
      return s.combo - 1;
  }
}

uint32_t Window::combo_of(uint32_t (&ids)[5], const uint64_t* hash) {
  size_t slot = 0;
  uint64_t h = hash ? *hash : combo_hash(ids);
  uint32_t c = find_combo(ids, h, &slot);
  if (c != UINT32_MAX) return c;
  if (combos_.size() >= options_.max_totals) {
    // The backstop (window.hpp): overflow names, most diverse dimension
    // first, until the combination is one already kept; the one of all
    // overflow names but the server may always be added (the server stays:
    // a restart must end its sessions).
    ++totals_overflow_;
    int order[4] = {0, 1, 2, 3};
    std::stable_sort(std::begin(order), std::end(order),
                     [&](int a, int b) { return names_[a].size() > names_[b].size(); });
    for (int d : order) {
      ids[d] = NameTable::kOverflow;
      h = combo_hash(ids);
      c = find_combo(ids, h, &slot);
      if (c != UINT32_MAX) return c;
    }
  }
  Combo combo;
  std::copy(std::begin(ids), std::end(ids), combo.id);
  c = static_cast<uint32_t>(combos_.size());
  combos_.push_back(combo);
  combo_totals_.push_back(kNoTotals);
  counts_.push_back(peak_all_ || options_.filter.matches(who(c)));
  auto fill = [](ComboSlot* s, uint32_t k, uint64_t tag_hash) {
    s->tag = static_cast<uint32_t>(tag_hash >> 32);
    s->combo = k + 1;
  };
  fill(&combo_slots_[slot], c, h);
  if (combos_.size() * 2 > combo_slots_.size()) {  // at most half full
    combo_slots_.assign(combo_slots_.size() * 2, ComboSlot{});
    const size_t mask = combo_slots_.size() - 1;
    for (uint32_t k = 0; k < combos_.size(); ++k) {
      const uint64_t kh = combo_hash(combos_[k].id);
      size_t i = kh & mask;
      while (combo_slots_[i].combo != 0) i = (i + 1) & mask;
      fill(&combo_slots_[i], k, kh);
    }
  }
  return c;
}

const Window::Totals* Window::find_totals(const WhoView& w) const {
  uint32_t ids[5];
  const std::string_view names[5] = {w.db, w.user, w.app, w.host, w.server};
  for (int d = 0; d < 5; ++d) {
    ids[d] = names_[d].find(names[d]);
    if (ids[d] == NameTable::kNone) {
      if (!names_[d].overflowed()) return nullptr;
      ids[d] = NameTable::kOverflow;
    }
  }
  size_t slot = 0;
  const uint32_t c = find_combo(ids, combo_hash(ids), &slot);
  if (c == UINT32_MAX || combo_totals_[c] == kNoTotals) return nullptr;
  return &totals_[combo_totals_[c]];
}

void Window::clear() {
  active_.clear();
  oldest_ = youngest_ = nullptr;
  history_.clear();
  totals_.clear();
  end_totals_.clear();
  for (Chunked<LogHistogram>& h : durations_) h.clear();
  reasons_.clear();
  for (NameTable& n : names_) n.clear();
  combos_.clear();
  combo_totals_.clear();
  counts_.clear();
  combo_slots_.assign(1024, ComboSlot{});
  last_server_.clear();
  last_view_ = nullptr;
  events_ = 0;
  evicted_ = 0;
  totals_overflow_ = 0;
  dropped_ = 0;
  records_before_ = 0;
  servers_.clear();
  servers_overflow_ = false;
  newest_ = Timestamp();
  peak_.clear();
  server_peaks_.clear();
}

void Window::peak_open(uint32_t who, const Timestamp& t, uint64_t id) {
  if (!t.valid() || !peak_counts(who)) return;
  peak_.open(t, id);
  if (!options_.peak_by_server) return;
  const std::string_view server = server_of(who);
  auto it = server_peaks_.find(server);
  if (it == server_peaks_.end()) it = server_peaks_.emplace(std::string(server), PeakTracker()).first;
  it->second.open(t, id);
}

void Window::peak_close(uint32_t who, const Timestamp& t, int64_t n) {
  if (!t.valid() || n == 0) return;
  peak_.close(t, n);
  if (!options_.peak_by_server) return;
  auto it = server_peaks_.find(server_of(who));
  if (it != server_peaks_.end()) it->second.close(t, n);
}

void Window::peak_retract(uint32_t who, uint64_t id, const Timestamp& t) {
  if (!peak_counts(who)) return;
  peak_.retract(id, t);
  if (!options_.peak_by_server) return;
  auto it = server_peaks_.find(server_of(who));
  if (it != server_peaks_.end()) it->second.retract(id, t);
}

void Window::count_duration(EndTotals* totals, int64_t ms) const {
  const std::vector<int64_t>& edges = options_.duration_edges_ms;
  if (edges.empty()) return;
  if (totals->edge_counts.empty()) totals->edge_counts.assign(edges.size() + 1, 0);
  // Integer comparison with the edges: the bucket counts are exact.
  ++totals->edge_counts[static_cast<size_t>(std::lower_bound(edges.begin(), edges.end(), ms) - edges.begin())];
  ++totals->duration_n;
  totals->duration_sum_ms += static_cast<uint64_t>(ms);
}

void Window::add_duration(uint32_t who, int64_t ms) {
  for (int d = 0; d < 5; ++d) {
    if (!durations_of_[d]) continue;
    const uint32_t id = combos_[who].id[d];
    Chunked<LogHistogram>& h = durations_[d];
    while (h.size() <= id) h.emplace_back();
    h[id].add(ms);
  }
}

void Window::reset_statistics() {
  // The sessions stay, so their record numbers must not be reused: the
  // numbering goes on past the forgotten records.
  records_before_ += dropped_ + history_.size();
  history_.clear();
  dropped_ = 0;
  totals_.clear();
  end_totals_.clear();
  for (Chunked<LogHistogram>& h : durations_) h.clear();
  std::fill(combo_totals_.begin(), combo_totals_.end(), kNoTotals);
  totals_overflow_ = 0;
  int64_t open = 0;
  std::map<std::string_view, int64_t> open_by_server;
  if (newest_.valid())
    for (const auto& [key, s] : active_) {
      const bool counts = s.since.valid() && peak_counts(s.who);
      open += counts;
      if (counts) ++open_by_server[server_of(s.who)];
    }
  peak_.restart(newest_, open);
  for (auto& [server, peak] : server_peaks_) {
    auto it = open_by_server.find(server);
    peak.restart(newest_, it == open_by_server.end() ? 0 : it->second);
  }
}

size_t Window::record_index(uint64_t record) const {
  const uint64_t first = records_before_ + dropped_;
  if (record < first || record - first >= history_.size()) return SIZE_MAX;
  return static_cast<size_t>(record - first);
}

Window::ServerView* Window::server_view(std::string_view server, const Timestamp& t) {
  if (!last_view_ || server != last_server_) {  // a stream's events are mostly of one server
    auto it = servers_.find(server);
    if (it == servers_.end()) {
      if (servers_.size() >= options_.max_totals) {
        servers_overflow_ = true;
        return nullptr;
      }
      it = servers_.emplace(std::string(server), ServerView{}).first;
    }
    last_server_.assign(server);
    last_view_ = &it->second;
  }
  ServerView& v = *last_view_;
  if (t.valid() && (!v.first.valid() || t.sort_ms() < v.first.sort_ms())) v.first = t;
  return &v;
}

void Window::end_sessions(std::string_view server, std::string_view via, int64_t wall,
                          const Timestamp& t) {
  int64_t ended = 0;  // for the peak
  for (auto it = active_.begin(); it != active_.end();) {
    // A pooler's restart ends its clients only, and PostgreSQL's its own.
    if (server_of(it->second.who) == server && it->second.via == via) {
      record(EventType::kServer, -1, wall, it->second.who);
      ended += peak_counts(it->second.who);
      it = erase_session(it);
    } else {
      ++it;
    }
  }
  if (t.valid()) {
    peak_.close(t, ended);
    auto peak = server_peaks_.find(server);
    if (peak != server_peaks_.end()) peak->second.close(t, ended);
  }
}


const std::string& Window::session_key(const EventView& e) {
  // A pooler and a PostgreSQL server of one name are two servers.
  std::string& key = key_;  // reused: no allocation once it is long enough
  key.assign(e.server);
  key.push_back('\0');
  if (!e.via.empty()) {
    key += e.via;
    key.push_back('\0');
  }
  if (!e.session.empty()) {
    key += e.session;
  } else {  // an event stream without session keys: the pid stands in
    key += "pid:";
    char digits[24];
    const int n = std::snprintf(digits, sizeof digits, "%lld", static_cast<long long>(e.pid));
    key.append(digits, static_cast<size_t>(n));
  }
  return key;
}

std::string_view Window::intern_reason(std::string_view reason) {
  auto it = reasons_.find(reason);
  if (it != reasons_.end()) return *it;
  if (reasons_.size() >= kMaxReasons) reason = "other";
  return *reasons_.emplace(reason).first;
}

Window::Totals& Window::totals_for(uint32_t who, uint32_t* index_out) {
  uint32_t& index = combo_totals_[who];
  if (index == kNoTotals) {
    index = static_cast<uint32_t>(totals_.size());
    totals_.emplace_back().who = who;
    if (keep_ends_) end_totals_.emplace_back();
  }
  if (index_out) *index_out = index;
  return totals_[index];
}

void Window::record(EventType type, int8_t delta, int64_t wall_ms, uint32_t who) {
  if (history_.size() >= options_.max_events) {
    // The oldest goes unread (a Record owns nothing): reading it would be
    // a cache miss per event.
    ++dropped_;
    history_.pop_front();
  }
  history_.push_back(Record{wall_ms, type, delta, who});
}

void Window::unlink(Session* s) {
  (s->older ? s->older->newer : oldest_) = s->newer;
  (s->newer ? s->newer->older : youngest_) = s->older;
  s->older = s->newer = nullptr;
}

Window::ActiveIt Window::erase_session(ActiveIt it) {
  unlink(&it->second);
  return active_.erase(it);
}

Window::Session& Window::open(const std::string& key, const EventView& e, const Timestamp& t, bool* known) {
  const int64_t wall_ms = t.valid() ? t.wall_ms : 0;
  // One lookup: inserted first, then the oldest forgotten past the cap (the
  // new one is not in the list yet, so it is never the one forgotten).
  auto [found, inserted] = active_.try_emplace(key);
  *known = !inserted;
  if (*known) {
    unlink(&found->second);  // opened again: the youngest now
  } else {
    found->second.key = &found->first;
    while (active_.size() > options_.max_active && oldest_) {
      auto it = active_.find(*oldest_->key);
      // Forgotten, so the history must see it go as it saw it come.
      record(EventType::kServer, -1, wall_ms, it->second.who);
      if (peak_counts(it->second.who)) peak_close(it->second.who, t);
      erase_session(it);
      ++evicted_;
    }
  }
  Session& s = found->second;
  s.who = who_;
  s.since_ms = t.valid() ? t.sort_ms() : 0;
  s.since = t;
  s.pid = e.pid;
  s.via = e.via;
  s.order = next_order_++;
  s.record = records_before_ + dropped_ + history_.size();  // the connect's record comes next
  s.older = youngest_;
  (youngest_ ? youngest_->newer : oldest_) = &s;
  youngest_ = &s;
  return s;
}

void Window::add(const EventView& e) {
  add(e, Hint());
}

void Window::add(const EventView& e, const Hint& hint) {
  ++events_;
  Timestamp t;
  if (!e.ts.empty() && parse_time(e.ts, &t)) {
    if (!newest_.valid() || t.sort_ms() >= newest_.sort_ms()) newest_ = t;
  } else {
    t = newest_;  // no time: as the newest event so far
  }
  const int64_t wall = t.valid() ? t.wall_ms : 0;
  // A connect found in the process table (pgconn-parse --snapshot) has its
  // process's start time, maybe days before the log: not where the stream
  // begins.
  ServerView* server = server_view(e.server, e.snapshot == Flag::kTrue ? Timestamp() : t);
  if (server && (e.type == EventType::kConnect || e.type == EventType::kDisconnect ||
                 e.type == EventType::kUpdate))
    server->sessions = true;
  uint32_t ids[5];
  // Interned where the names count; a disconnect of a session held, with
  // the names it opened with (the usual case), reuses them.
  if (e.type != EventType::kServer && e.type != EventType::kDisconnect) {
    intern(e, hint, ids);
    // The hint's hash is the combination's when no name went to overflow.
    bool hashed = hint.set;
    for (uint32_t id : ids) hashed = hashed && id != NameTable::kOverflow;
    who_ = combo_of(ids, hashed ? &hint.combo : nullptr);
  }

  switch (e.type) {
    case EventType::kConnect: {
      prefetch_totals(who_);  // a cache miss, while the session is opened
      bool known = false;  // a repeated connect replaces it
      const Session& s = open(session_key(e), e, t, &known);
      if (!known) peak_open(who_, t, s.order);
      ++totals_for(who_).connects;
      record(EventType::kConnect, known ? 0 : 1, wall, who_);
      break;
    }
    case EventType::kDisconnect: {
      auto it = active_.find(session_key(e));
      int8_t delta = 0;
      if (it != active_.end() && same_names(it->second.who, e)) {
        who_ = it->second.who;  // with its connect's app when the disconnect has none
        prefetch_totals(who_);
      } else {
        intern(e, hint, ids);
        if (it != active_.end() && e.app.empty())  // counted under its connect's app
          ids[static_cast<int>(Dimension::kApp)] = name_id(it->second.who, Dimension::kApp);
        who_ = combo_of(ids);
      }
      if (it != active_.end()) {
        if (peak_counts(it->second.who)) peak_close(it->second.who, t);
        erase_session(it);
        delta = -1;
      } else if (e.matched == Flag::kFalse && server && !server->complete) {
        ++server->ended_before;  // a session from before the stream began
      }
      uint32_t index = 0;
      Totals& totals = totals_for(who_, &index);
      ++totals.disconnects;
      if (options_.durations && e.duration_ms >= 0 && peak_counts(who_)) add_duration(who_, e.duration_ms);
      if (keep_ends_) {
        EndTotals& ended = end_totals_[index];
        if (e.duration_ms >= 0) count_duration(&ended, e.duration_ms);
        if (options_.ends) ++ended.ends.bump(intern_reason(e.reason.empty() ? kNormalEnd : e.reason));
      }
      record(EventType::kDisconnect, delta, wall, who_);
      break;
    }
    case EventType::kReject: {
      auto it = active_.find(session_key(e));
      if (it != active_.end()) {  // a late reject closes the session it names
        // ... which never counted as open (window.hpp): the peak takes it
        // back, and neither its connect's record nor this one changes the
        // history's count.
        const Session& s = it->second;
        peak_retract(s.who, s.order, t);
        if (const size_t i = record_index(s.record); i != SIZE_MAX) {
          Record& r = history_[i];
          if (r.type == EventType::kConnect) r.delta = 0;
        }
        // Counted under the names the session had.
        if (fill_from(s.who, ids)) who_ = combo_of(ids);
        erase_session(it);
      }
      ++totals_for(who_).rejects.bump(intern_reason(e.reason.empty() ? std::string_view("other") : e.reason));
      record(EventType::kReject, 0, wall, who_);
      break;
    }
    case EventType::kServer: {
      const bool ready = e.state == "ready";
      if (ready || e.state == "crash" || e.state == "shutdown") end_sessions(e.server, e.via, wall, t);
      if (server && !server->complete && (ready || e.state == "crash" || e.state == "shutdown" ||
                                          e.state == "snapshot")) {
        server->complete = true;
        server->complete_from_ms = server->sessions ? wall : INT64_MIN;
      }
      break;
    }
    case EventType::kUpdate: {  // an open session's new names (SET application_name)
      auto it = active_.find(session_key(e));
      if (it == active_.end()) break;
      Session& s = it->second;
      // A name the update leaves out stays as it was.
      if (fill_from(s.who, ids)) who_ = combo_of(ids);
      if (who_ == s.who) break;
      // The history sees the session leave its old names and join the new
      // ones at this moment; so does a filtered peak.
      const bool counted = peak_counts(s.who), counts = peak_counts(who_);
      if (counted && !counts) peak_close(s.who, t);
      if (counts && !counted) peak_open(who_, t, s.order);
      record(EventType::kUpdate, -1, wall, s.who);
      record(EventType::kUpdate, 1, wall, who_);
      s.who = who_;
      break;
    }
  }
}

void Window::intern(const EventView& e, const Hint& hint, uint32_t (&ids)[5]) {
  const std::string_view names[5] = {e.db, e.user, e.app, e.host, e.server};
  if (hint.set) {
    for (int d = 0; d < 5; ++d) ids[d] = names_[d].intern(names[d], hint.name[d]);
  } else {
    for (int d = 0; d < 5; ++d) ids[d] = names_[d].intern(names[d]);
  }
}

bool Window::parse_time(std::string_view ts, Timestamp* t) {
  // The fast path: "…THH:MM:SS.fffZONE" like the last one but for its
  // seconds and milliseconds, the usual case in a stream (the date, hour,
  // minute and zone parsed once a minute). Exactly what parse_iso_time()
  // would give: the same wall clock plus the difference, the same zone.
  auto two = [](const char* p) { return (p[0] - '0') * 10 + (p[1] - '0'); };
  auto digits = [](const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
      if (p[i] < '0' || p[i] > '9') return false;
    return true;
  };
  const std::string& last = last_ts_;
  if (last_time_.valid() && ts.size() == last.size() && ts.size() >= 24 && ts[10] == 'T' && ts[19] == '.' &&
      std::memcmp(ts.data(), last.data(), 17) == 0 &&
      std::memcmp(ts.data() + 23, last.data() + 23, ts.size() - 23) == 0 && digits(ts.data() + 17, 2) &&
      digits(ts.data() + 20, 3) && ts[17] <= '5' && (ts.size() == 24 || ts[23] < '0' || ts[23] > '9')) {
    const int64_t now = two(ts.data() + 17) * 1000 + two(ts.data() + 20) * 10 + (ts[22] - '0');
    const int64_t then = two(last.data() + 17) * 1000 + two(last.data() + 20) * 10 + (last[22] - '0');
    *t = last_time_;
    t->wall_ms += now - then;
  } else if (!parse_iso_time(ts, t)) {
    return false;
  }
  last_ts_.assign(ts);
  last_time_ = *t;
  return true;
}

bool Window::same_names(uint32_t who, const EventView& e) const {
  const WhoView w = this->who(who);
  return same_name(w.user, e.user) && same_name(w.db, e.db) && same_name(w.host, e.host) &&
         same_name(w.server, e.server) && (e.app.empty() || same_name(w.app, e.app));
}

bool Window::fill_from(uint32_t who, uint32_t (&ids)[5]) const {
  // user, db, app and host; the server is the event's own.
  bool changed = false;
  for (int d = 0; d < 4; ++d) {
    if (ids[d] != NameTable::kEmpty) continue;
    const uint32_t theirs = combos_[who].id[d];
    if (theirs == NameTable::kEmpty) continue;
    ids[d] = theirs;
    changed = true;
  }
  return changed;
}

}  // namespace pgconn
