#include "window.hpp"

#include <algorithm>
#include <cstdint>

namespace pgconn {

namespace {
constexpr std::string_view kDimensionNames[] = {"db", "user", "app", "host", "server"};
}

std::string_view dimension_name(Dimension d) { return kDimensionNames[static_cast<int>(d)]; }

bool parse_dimension(std::string_view name, Dimension* out) {
  for (int i = 0; i < 5; ++i) {
    if (kDimensionNames[i] == name) {
      *out = static_cast<Dimension>(i);
      return true;
    }
  }
  return false;
}

namespace {

// A name's length before its bytes (LEB128: one byte below 128), so that a
// name may hold any byte: with NUL separators, a name with a NUL in it (JSON
// "x\u0000y") shifted the names after it into the wrong fields.
void put_length(size_t n, std::string* out) {
  for (; n >= 0x80; n >>= 7) out->push_back(static_cast<char>((n & 0x7F) | 0x80));
  out->push_back(static_cast<char>(n));
}

}  // namespace

void pack_who(const EventView& e, std::string* out) {
  out->clear();
  for (std::string_view name : {e.user, e.db, e.app, e.host, e.server}) {
    put_length(name.size(), out);
    out->append(name);
  }
}

WhoView unpack_who(std::string_view packed) {
  WhoView w;
  std::string_view* parts[] = {&w.user, &w.db, &w.app, &w.host, &w.server};
  size_t pos = 0;
  for (std::string_view* p : parts) {
    size_t n = 0;
    for (int shift = 0; pos < packed.size() && shift < 64; shift += 7) {
      const auto b = static_cast<unsigned char>(packed[pos++]);
      n |= static_cast<size_t>(b & 0x7F) << shift;
      if (b < 0x80) break;
    }
    n = std::min(n, packed.size() - pos);
    *p = packed.substr(pos, n);
    pos += n;
  }
  return w;
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

Window::Window(WindowOptions options) : options_(options), peak_all_(options_.filter.empty()) {}

void Window::clear() {
  active_.clear();
  fifo_.clear();
  history_.clear();
  totals_.clear();
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

void Window::peak_open(std::string_view packed, const Timestamp& t, uint64_t id) {
  if (!t.valid() || !peak_counts(packed)) return;
  peak_.open(t, id);
  if (!options_.peak_by_server) return;
  const std::string_view server = unpack_who(packed).server;
  auto it = server_peaks_.find(server);
  if (it == server_peaks_.end()) it = server_peaks_.emplace(std::string(server), PeakTracker()).first;
  it->second.open(t, id);
}

void Window::peak_close(std::string_view packed, const Timestamp& t, int64_t n) {
  if (!t.valid() || n == 0) return;
  peak_.close(t, n);
  if (!options_.peak_by_server) return;
  auto it = server_peaks_.find(unpack_who(packed).server);
  if (it != server_peaks_.end()) it->second.close(t, n);
}

void Window::peak_retract(std::string_view packed, uint64_t id, const Timestamp& t) {
  if (!peak_counts(packed)) return;
  peak_.retract(id, t);
  if (!options_.peak_by_server) return;
  auto it = server_peaks_.find(unpack_who(packed).server);
  if (it != server_peaks_.end()) it->second.retract(id, t);
}

void Window::count_duration(Totals* totals, int64_t ms) const {
  const std::vector<int64_t>& edges = options_.duration_edges_ms;
  if (edges.empty()) return;
  if (totals->edge_counts.empty()) totals->edge_counts.assign(edges.size() + 1, 0);
  // Integer comparison with the edges: the bucket counts are exact.
  ++totals->edge_counts[static_cast<size_t>(std::lower_bound(edges.begin(), edges.end(), ms) - edges.begin())];
  ++totals->duration_n;
  totals->duration_sum_ms += static_cast<uint64_t>(ms);
}

void Window::reset_statistics() {
  // The sessions stay, so their record numbers must not be reused: the
  // numbering goes on past the forgotten records.
  records_before_ += dropped_ + history_.size();
  history_.clear();
  dropped_ = 0;
  totals_.clear();
  totals_overflow_ = 0;
  int64_t open = 0;
  std::map<std::string_view, int64_t> open_by_server;
  if (newest_.valid())
    for (const auto& [key, s] : active_) {
      const bool counts = s.since.valid() && peak_counts(s.who);
      open += counts;
      if (counts) ++open_by_server[unpack_who(s.who).server];
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
  auto it = servers_.find(server);
  if (it == servers_.end()) {
    if (servers_.size() >= options_.max_totals) {
      servers_overflow_ = true;
      return nullptr;
    }
    it = servers_.emplace(std::string(server), ServerView{}).first;
  }
  ServerView& v = it->second;
  if (t.valid() && (!v.first.valid() || t.sort_ms() < v.first.sort_ms())) v.first = t;
  return &v;
}

void Window::end_sessions(std::string_view server, std::string_view via, int64_t wall,
                          const Timestamp& t) {
  int64_t ended = 0;  // for the peak
  for (auto it = active_.begin(); it != active_.end();) {
    // A pooler's restart ends its clients only, and PostgreSQL's its own.
    if (unpack_who(it->second.who).server == server && it->second.via == via) {
      record(EventType::kServer, -1, wall, it->second.who);
      ended += peak_counts(it->second.who);
      it = active_.erase(it);
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


std::string Window::session_key(const EventView& e) {
  // A pooler and a PostgreSQL server of one name are two servers.
  std::string key(e.server);
  key.push_back('\0');
  if (!e.via.empty()) {
    key += e.via;
    key.push_back('\0');
  }
  if (!e.session.empty()) {
    key += e.session;
  } else {  // an event stream without session keys: the pid stands in
    key += "pid:";
    key += std::to_string(e.pid);
  }
  return key;
}

Window::Totals& Window::totals_for(const std::string& packed) {
  auto it = totals_.find(packed);
  if (it != totals_.end()) return it->second;
  if (totals_.size() >= options_.max_totals) {
    ++totals_overflow_;
    return totals_[std::string(5, '\0')];  // five empty names
  }
  return totals_[packed];
}

void Window::record(EventType type, int8_t delta, int64_t wall_ms, const std::string& who) {
  if (history_.size() >= options_.max_events) {
    ++dropped_;
    // Reuse the oldest record's storage for the newest.
    Record r = std::move(history_.front());
    history_.pop_front();
    r.wall_ms = wall_ms;
    r.type = type;
    r.delta = delta;
    r.who.assign(who);
    history_.push_back(std::move(r));
    return;
  }
  history_.push_back(Record{wall_ms, type, delta, who});
}

Window::Session& Window::open(std::string key, const EventView& e, const Timestamp& t) {
  const int64_t wall_ms = t.valid() ? t.wall_ms : 0;
  while (active_.size() >= options_.max_active && active_.count(key) == 0 && !fifo_.empty()) {
    auto [old, order] = fifo_.front();
    fifo_.pop_front();
    auto it = active_.find(old);
    if (it == active_.end() || it->second.order != order) continue;  // already gone
    // Forgotten, so the history must see it go as it saw it come.
    record(EventType::kServer, -1, wall_ms, it->second.who);
    if (peak_counts(it->second.who)) peak_close(it->second.who, t);
    active_.erase(it);
    ++evicted_;
  }
  if (fifo_.size() > 2 * active_.size() + 1024) {  // drop stale entries: memory follows the live table
    std::deque<std::pair<std::string, uint64_t>> live;
    for (auto& [k, order] : fifo_) {
      auto it = active_.find(k);
      if (it != active_.end() && it->second.order == order) live.emplace_back(std::move(k), order);
    }
    fifo_.swap(live);
  }
  Session& s = active_[key];
  s.who = packed_;
  s.since_ms = t.valid() ? t.sort_ms() : 0;
  s.since = t;
  s.pid = e.pid;
  s.via = e.via;
  s.order = next_order_++;
  s.record = records_before_ + dropped_ + history_.size();  // the connect's record comes next
  fifo_.emplace_back(std::move(key), s.order);
  return s;
}

void Window::add(const EventView& e) {
  ++events_;
  Timestamp t;
  if (!e.ts.empty() && parse_iso_time(e.ts, &t)) {
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
  pack_who(e, &packed_);

  switch (e.type) {
    case EventType::kConnect: {
      std::string key = session_key(e);
      bool known = active_.count(key) != 0;  // a repeated connect replaces it
      const Session& s = open(std::move(key), e, t);
      if (!known) peak_open(packed_, t, s.order);
      ++totals_for(packed_).connects;
      record(EventType::kConnect, known ? 0 : 1, wall, packed_);
      break;
    }
    case EventType::kDisconnect: {
      auto it = active_.find(session_key(e));
      int8_t delta = 0;
      if (it != active_.end()) {
        std::string_view app = unpack_who(it->second.who).app;
        if (e.app.empty() && !app.empty()) {  // counted under its connect's app
          EventView named = e;
          named.app = app;
          pack_who(named, &packed_);
        }
        if (peak_counts(it->second.who)) peak_close(it->second.who, t);
        active_.erase(it);
        delta = -1;
      } else if (e.matched == Flag::kFalse && server && !server->complete) {
        ++server->ended_before;  // a session from before the stream began
      }
      Totals& totals = totals_for(packed_);
      ++totals.disconnects;
      if (options_.durations && e.duration_ms >= 0) totals.durations.add(e.duration_ms);
      if (e.duration_ms >= 0) count_duration(&totals, e.duration_ms);
      if (options_.ends) ++totals.ends[e.reason.empty() ? std::string(kNormalEnd) : std::string(e.reason)];
      record(EventType::kDisconnect, delta, wall, packed_);
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
        EventView named = e;  // counted under the names the session had
        const WhoView w = unpack_who(it->second.who);
        for (auto [mine, theirs] : {std::pair{&named.user, w.user}, std::pair{&named.db, w.db},
                                    std::pair{&named.app, w.app}, std::pair{&named.host, w.host}})
          if (mine->empty()) *mine = theirs;
        pack_who(named, &packed_);
        active_.erase(it);
      }
      ++totals_for(packed_).rejects[e.reason.empty() ? std::string("other") : std::string(e.reason)];
      record(EventType::kReject, 0, wall, packed_);
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
      EventView named = e;  // a name the update leaves out stays as it was
      const WhoView w = unpack_who(s.who);
      for (auto [mine, theirs] : {std::pair{&named.user, w.user}, std::pair{&named.db, w.db},
                                  std::pair{&named.app, w.app}, std::pair{&named.host, w.host}})
        if (mine->empty()) *mine = theirs;
      pack_who(named, &packed_);
      if (packed_ == s.who) break;
      // The history sees the session leave its old names and join the new
      // ones at this moment; so does a filtered peak.
      const bool counted = peak_counts(s.who), counts = peak_counts(packed_);
      if (counted && !counts) peak_close(s.who, t);
      if (counts && !counted) peak_open(packed_, t, s.order);
      record(EventType::kUpdate, -1, wall, s.who);
      record(EventType::kUpdate, 1, wall, packed_);
      s.who = packed_;
      break;
    }
  }
}

}  // namespace pgconn
