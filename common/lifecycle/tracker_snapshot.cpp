// Tracker, its side of the process-table snapshot (snapshot.hpp): the
// backends it knows, and the events a reconcile writes through it. Declared
// in tracker.hpp; kept apart so that tracker.cpp stays the log's rules.
#include "lifecycle/tracker.hpp"

namespace pgconn {

std::string Tracker::current_server() const {
  if (!options_.label.empty()) return options_.label;
  return last_server_ < servers_.size() ? servers_[last_server_].name : std::string();
}

std::vector<TrackedBackend> Tracker::tracked(std::string_view server) const {
  std::vector<TrackedBackend> out;
  for (uint32_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i].name != server) continue;
    auto add = [&](uint64_t key, const Backend& b) {
      if (b.server != i || (key & kNoPidBit) || b.pid < 0) return;
      out.push_back(TrackedBackend{b.pid, b.stage == Stage::kOpen, b.since_utc_ms,
                                   b.snapshot_ticks, b.session});
    };
    for (const auto& [key, b] : backends_) add(key, b);
    for_each_pooler(add);
  }
  return out;
}

bool Tracker::snapshot_connect(std::string_view server, uint64_t start_ticks, Event e) {
  const uint32_t s = server_index(server);
  LogRecord r;
  r.pid = e.pid;
  uint64_t key = key_for(r, s);
  if (Backend* old = find(key)) {  // a stale entry of the same pid (its end unlogged)
    settle(*old);
    forget(key);
  }
  Backend& b = create(key, s, r);
  b.stage = Stage::kOpen;
  b.user = e.user;
  b.db = e.db;
  b.host = e.host;
  b.port = e.port;
  b.replication = e.replication == Flag::kTrue;
  b.snapshot_ticks = start_ticks;
  e.type = EventType::kConnect;
  e.session = b.session;
  e.server = servers_[s].name;
  e.snapshot = Flag::kTrue;
  ++stats_.snapshot_connects;
  emit(std::move(e));
  release();
  return !stopped_;
}

bool Tracker::snapshot_lost(std::string_view server, int64_t pid, std::string_view session,
                            std::string_view ts, std::string_view tz) {
  const uint32_t s = server_index(server);
  LogRecord r;
  r.pid = pid;
  uint64_t key = key_for(r, s);
  Backend* b = find(key);
  if (b == nullptr || b->stage != Stage::kOpen || b->session != session) return !stopped_;
  Event e = base_event(EventType::kDisconnect, r, b);
  e.ts = ts;
  e.tz = tz;
  e.reason = b->end_reason.empty() ? std::string_view("lost") : b->end_reason;
  e.matched = Flag::kTrue;
  forget(key);
  emit(std::move(e));
  release();
  return !stopped_;
}

bool Tracker::snapshot_done(std::string_view server, std::string_view ts,
                            std::string_view tz) {
  const uint32_t s = server_index(server);
  Event e;
  e.type = EventType::kServer;
  e.ts = ts;
  e.tz = tz;
  e.state = "snapshot";
  e.server = servers_[s].name;
  emit(std::move(e));
  release();
  return !stopped_;
}

}  // namespace pgconn
