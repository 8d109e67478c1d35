// The Tracker's half for connection poolers (PgBouncer, pgbouncer.md §4-§5):
// client sessions keyed by (server, pooler pid, socket), checked against
// the client's address and port since the socket's pointer is reused at
// once. Shares the held-event queue with the PostgreSQL half, so settling
// and ordering work the same way; a client's connect and disconnect wait
// there compact (Tracker::Queued::slot), read from its slot when written.

#include "lifecycle/tracker.hpp"

#include <cstring>

namespace pgconn {

namespace {

// "unix(26341)" / "unix" -> "[local]" without a port; names "(nodb)",
// "(nouser)" -> unknown.
void display_peer(const LogRecord& r, std::string* host, int32_t* port) {
  if (r.host.substr(0, 4) == "unix") {
    host->assign("[local]");
    *port = -1;
  } else {
    host->assign(r.host);
    *port = r.port;
  }
}

// A DEBUG line of the authentication exchange (SCRAM, passwords, secrets).
bool about_auth(std::string_view m) {
  for (std::string_view w : {"scram", "SCRAM", "SASL", "auth", "password", "secret"})
    if (m.find(w) != std::string_view::npos) return true;
  return false;
}

std::string_view known_name(std::string_view s) {
  return s == "(nodb)" || s == "(nouser)" ? std::string_view() : s;
}

}  // namespace

Tracker::Backend& Tracker::create_pooler(uint32_t server, const LogRecord& r, uint64_t* key) {
  evict_if_full();
  uint32_t i;
  if (!pooler_free_.empty()) {
    i = pooler_free_.back();
    pooler_free_.pop_back();
  } else {
    i = static_cast<uint32_t>(pooler_slots_.size());
    pooler_slots_.emplace_back();
  }
  PoolerSlot& slot = pooler_slots_[i];
  // Keys are never 0 (kPoolerBit), and the generation tells a slot's
  // clients apart (a stale key finds nothing).
  slot.key = (uint64_t{server} << kServerShift) | kPoolerBit |
             ((++pooler_seq_ << kPoolerIndexBits) & kPoolerGenMask) | i;
  ++pooler_live_;
  *key = slot.key;
  // Every field of Backend() (the strings keep their capacity).
  Backend& b = slot.backend;
  b.stage = Stage::kReceived;
  b.replication = false;
  b.loose = false;
  b.port = -1;
  b.held_seq = 0;
  b.since_utc_ms = INT64_MIN;
  b.snapshot_ticks = 0;
  b.end_reason = {};
  b.user.clear();
  b.db.clear();
  b.app.clear();
  b.host.clear();
  b.fatal.clear();
  b.fatal_time = Timestamp();
  b.fatal_reason = {};
  b.pooler = &slot.pooler;
  slot.pooler.start = Timestamp();
  slot.pooler.index = i;
  b.server = server;
  b.pid = r.pid;
  b.order = next_order_++;
  new_session_key(r, &b.session);
  fifo_.emplace_back(slot.key, b.order);
  return b;
}

PoolerSocket Tracker::pooler_socket(uint32_t server, const LogRecord& r, const BouncerMessage& m) {
  PoolerSocket k;
  k.server = server;
  k.pid = r.pid;
  k.pointer = m.socket.pointer;
  k.digits = m.socket.digits;
  return k;
}

void Tracker::fill_pooler_event(Event& e, EventType type, const Timestamp& t, const Backend* b,
                                uint32_t server) {
  // Every field set once (a busy pooler's log makes one event per line), but
  // for pid (the pooler's is no backend's) and the server, always `server`.
  e.type = type;
  e.ts.clear();
  e.tz.clear();
  if (t.valid()) {
    append_rfc3339(t, &e.ts);
    if (t.zone == Timestamp::Zone::kAbbrev) e.tz = t.abbrev;
  }
  e.pid = -1;
  if (b != nullptr) {
    e.session = b->session;
    e.user = b->user;
    e.db = b->db;
    e.app = b->app;
    e.host = b->host;
    e.port = b->port;
    e.replication = b->replication ? Flag::kTrue : Flag::kUnset;
  } else {
    e.session.clear();
    e.user.clear();
    e.db.clear();
    e.app.clear();
    e.host.clear();
    e.port = -1;
    e.replication = Flag::kUnset;
  }
  e.snapshot = Flag::kUnset;
  e.duration_ms = -1;
  e.reason.clear();
  e.message.clear();
  e.matched = Flag::kUnset;
  e.state.clear();
  e.server = servers_[server].name;
  e.via = servers_[server].via;
}

Event& Tracker::push_pooler_event(EventType type, const LogRecord& r, const Backend* b,
                                  uint32_t server) {
  Event& e = push_event();  // fill_base()'s event, for a pooler client
  fill_pooler_event(e, type, r.time, b, server);
  return e;
}

Tracker::Queued& Tracker::push_pooler_ref(EventType type, const LogRecord& r, const Backend& b) {
  Queued& q = queue_.push_back();
  q.backend = 0;
  q.held_ms = 0;
  q.held = false;
  q.dropped = false;
  q.type = type;
  q.slot = static_cast<int32_t>(b.pooler->index);
  q.matched = Flag::kUnset;
  q.duration_ms = -1;
  q.reason = {};
  q.time = r.time;
  ++pooler_slots_[b.pooler->index].refs;
  return q;
}

void Tracker::expand(Queued& q) {
  const Backend& b = pooler_slots_[q.slot].backend;
  fill_pooler_event(q.event, q.type, q.time, &b, b.server);
  q.event.duration_ms = q.duration_ms;
  q.event.reason = q.reason;
  q.event.matched = q.matched;
  unref_slot(q.slot);
  q.slot = -1;
}

void Tracker::unref_slot(int32_t slot) {
  PoolerSlot& s = pooler_slots_[slot];
  if (--s.refs == 0 && s.key == 0) pooler_free_.push_back(static_cast<uint32_t>(slot));
}

void Tracker::set_ref_time(const Timestamp& t) {
  // Within the second of the last one, with the same zone: only the
  // milliseconds differ (a busy pooler writes hundreds of events a second).
  // The zone's abbreviation compared as its 8 bytes (what follows the NUL
  // may differ for the same name: then it is written anew, alike).
  const int64_t sec = t.wall_ms >= 0 ? t.wall_ms / 1000 : (t.wall_ms - 999) / 1000;
  const Timestamp& last = ref_time_;
  if (ref_ms_at_ != 0 && sec == ref_sec_ && t.valid() && t.has_ms && t.zone == last.zone &&
      t.offset_min == last.offset_min &&
      std::memcmp(t.abbrev, last.abbrev, sizeof(t.abbrev)) == 0) {
    const unsigned ms = static_cast<unsigned>(t.wall_ms - sec * 1000);
    ref_ts_[ref_ms_at_] = static_cast<char>('0' + ms / 100);
    ref_ts_[ref_ms_at_ + 1] = static_cast<char>('0' + ms / 10 % 10);
    ref_ts_[ref_ms_at_ + 2] = static_cast<char>('0' + ms % 10);
    return;
  }
  ref_ts_.clear();
  ref_tz_.clear();
  ref_ms_at_ = 0;
  ref_time_ = t;
  ref_sec_ = sec;
  if (!t.valid()) return;
  append_rfc3339(t, &ref_ts_);
  if (t.zone == Timestamp::Zone::kAbbrev) ref_tz_ = t.abbrev;
  if (t.has_ms) {  // "...:SS.mmm" then the zone, if any
    const size_t dot = ref_ts_.find('.');
    if (dot != std::string::npos && dot + 4 <= ref_ts_.size()) ref_ms_at_ = dot + 1;
  }
}

void Tracker::emit_ref(const Queued& q) {
  // push_pooler_event()'s fields, read where they are kept.
  const Backend& b = pooler_slots_[q.slot].backend;
  set_ref_time(q.time);
  EventRef e;
  e.type = q.type;
  e.ts = &ref_ts_;
  e.tz = &ref_tz_;
  e.session = &b.session;
  e.user = &b.user;
  e.db = &b.db;
  e.app = &b.app;
  e.host = &b.host;
  e.port = b.port;
  e.replication = b.replication ? Flag::kTrue : Flag::kUnset;
  e.duration_ms = q.duration_ms;
  e.reason = q.reason;
  e.matched = q.matched;
  e.server = &servers_[b.server].name;
  e.via = &servers_[b.server].via;
  if (!sink_->on_event_ref(e)) stopped_ = true;
}

void Tracker::pooler_lost(Backend& b, const LogRecord& r) {
  if (b.stage == Stage::kHeld && b.fatal.empty()) {
    // Its socket went to another client before anything settled it: it
    // left during its login (psql asking for a password; PgBouncer 1.15+
    // logs no close then). Never a session, as a PostgreSQL connection
    // that is received but never authorized.
    Queued& q = queue_[b.held_seq - queue_base_];
    q.held = false;
    q.dropped = true;
    b.stage = Stage::kReceived;
    return;
  }
  settle(b);
  if (b.stage != Stage::kOpen) return;
  Queued& q = push_pooler_ref(EventType::kDisconnect, r, b);
  q.reason = "lost";
  q.matched = Flag::kTrue;
  emit_pushed();
}

bool Tracker::add_pooler(const LogRecord& r, const BouncerMessage& m) {
  const uint32_t server = server_index(r.server, r.via);
  // The time rule first: a line a second later settles a held login even
  // when it is the socket's next client (whose login would otherwise drop
  // it as one that never got through).
  if (r.time.valid())
    settle_older_than(r.time.sort_ms() - options_.settle_ms - (r.time.has_ms ? 0 : 1000));
  switch (m.kind) {
    case BouncerKind::kProcessUp: {
      ++stats_.lifecycle_lines;
      // A start: whatever the previous process left open is gone.
      bool open = false;
      for (const auto& [key, b] : backends_) open = open || b.server == server;
      for_each_pooler([&](uint64_t, const Backend& b) { open = open || b.server == server; });
      if (open) on_server_down(server, r, "shutdown");
      servers_[server].down = false;
      servers_[server].shutting_down = false;
      Event& e = push_pooler_event(EventType::kServer, r, nullptr, server);
      e.pid = r.pid;
      e.state = "ready";
      emit_pushed();
      break;
    }
    case BouncerKind::kExit:
      ++stats_.lifecycle_lines;
      on_server_down(server, r, "shutdown");
      break;
    case BouncerKind::kCrash:
      ++stats_.lifecycle_lines;
      on_server_down(server, r, "crash");
      break;
    case BouncerKind::kShuttingDown:
      servers_[server].shutting_down = true;
      break;
    default:
      if (m.socket.digits != 0) pooler_client(server, r, m);  // a client's socket ("C…")
      break;
  }
  finish_add(r);
  return !stopped_;
}

void Tracker::pooler_client(uint32_t server, const LogRecord& r, const BouncerMessage& m) {
  const PoolerSocket sk = pooler_socket(server, r, m);
  Backend* b = nullptr;
  uint64_t key = 0;  // b's
  if (const PoolerRef* ref = sockets_.find(sk)) {
    key = ref->key;
    b = ref->backend;
  }
  if (b != nullptr && (b->pooler->peer_port != r.port ||
                       (b->pooler->peer_kept ? b->pooler->peer_host : b->host) != r.host)) {
    // The socket was freed and handed to another client: the earlier one
    // ended without a line (a client leaving during authentication, a log
    // switched off by RELOAD).
    pooler_lost(*b, r);
    forget(key);
    b = nullptr;
  }
  auto create_client = [&]() -> Backend& {
    Backend& nb = create_pooler(server, r, &key);
    nb.pooler->socket = sk;
    nb.pooler->peer_port = r.port;
    display_peer(r, &nb.host, &nb.port);
    nb.pooler->peer_kept = nb.host != r.host;
    if (nb.pooler->peer_kept) nb.pooler->peer_host = r.host;
    sockets_.set(sk, PoolerRef{key, &nb});
    return nb;
  };
  switch (m.kind) {
    case BouncerKind::kLogin: {
      ++stats_.lifecycle_lines;
      servers_[server].down = false;  // up again, its start line or not: its exit ends these
      if (b != nullptr && b->stage != Stage::kReceived) {  // a second login on one client
        pooler_lost(*b, r);
        forget(key);
        b = nullptr;
      }
      if (b == nullptr) b = &create_client();
      b->user = !m.user.empty() ? m.user : known_name(r.user);
      b->db = !m.db.empty() ? m.db : known_name(r.db);
      b->replication = m.replication;
      b->pooler->start = r.time;
      push_pooler_ref(EventType::kConnect, r, *b);
      hold_pushed(*b, key, r);
      break;
    }
    case BouncerKind::kRefusing:
      if (b == nullptr) {
        b = &create_client();  // "no such user" comes before the login
        b->stage = Stage::kReceived;
      }
      if (b->stage == Stage::kReceived) {
        if (b->fatal_reason.empty()) b->fatal_reason = m.reason;
      } else if (b->stage == Stage::kHeld && b->fatal.empty()) {
        b->fatal.assign(r.message);
        b->fatal_time = r.time;
        if (b->fatal_reason != "no_role") b->fatal_reason = m.reason;
      }
      break;
    case BouncerKind::kClose:
      ++stats_.lifecycle_lines;
      ++stats_.disconnection_lines;
      pooler_close(server, b, key, r, m);
      break;
    case BouncerKind::kAppName:
      if (b == nullptr) {
        b = &create_client();
        b->stage = Stage::kReceived;
      }
      if (b->stage == Stage::kReceived) b->app = m.text;
      break;
    default:
      // The client's next line: it got through its login. (Not a verbose
      // log's DEBUG line about authentication: those come before a
      // refusal too.)
      if (b != nullptr && b->stage == Stage::kHeld && r.severity != "ERROR" &&
          !((r.severity == "DEBUG" || r.severity == "NOISE") && about_auth(r.message)))
        settle(*b);
      break;
  }
}

// `key`: b's (when b is not nullptr).
void Tracker::pooler_close(uint32_t server, Backend* b, uint64_t key, const LogRecord& r,
                           const BouncerMessage& m) {
  std::string_view hint;
  if (b != nullptr && b->stage == Stage::kReceived) {  // only a hint was seen
    hint = b->fatal_reason;
    forget(key);
    b = nullptr;
  }
  if (m.cancel) {  // a cancel request's own connection: never a session
    if (b != nullptr) {
      pooler_lost(*b, r);
      forget(key);
    }
    return;
  }
  std::string_view reason = m.reason;
  if (b != nullptr && b->fatal_reason == "no_role") hint = "no_role";
  if (m.reject && hint == "no_role" && reason == "auth_failed") reason = hint;
  if (b != nullptr && b->stage == Stage::kHeld) {
    if (m.reject) {
      turn_into_reject(*b, r.time, reason, m.text);
      forget(key);
      return;
    }
    settle(*b);
    if (b->stage != Stage::kOpen) {  // an ERROR before it made it a reject
      forget(key);
      return;
    }
  }
  if (b != nullptr && b->stage == Stage::kOpen) {
    // A refusal after the login settled: a login timeout or a server that
    // never came (the session never was: a late reject retracts it); a
    // protocol error ends a session that was.
    const bool reject = m.reject && reason != "other";
    if (m.reject && !reject) reason = "terminated";
    if (reject) {  // its message is the line's: copied into an Event
      Event& e = push_pooler_event(EventType::kReject, r, b, server);
      e.reason = reason;
      e.matched = Flag::kTrue;
      e.message = m.text;
    } else {
      Queued& q = push_pooler_ref(EventType::kDisconnect, r, *b);
      q.reason = reason;
      q.matched = Flag::kTrue;
      const Timestamp& start = b->pooler->start;
      const bool exact = r.time.valid() && start.valid() && r.time.has_ms && start.has_ms;
      if (exact) {
        q.duration_ms = std::max<int64_t>(0, r.time.sort_ms() - start.sort_ms());
      } else if (m.age_s >= 0) {
        q.duration_ms = m.age_s * 1000;
      } else if (r.time.valid() && start.valid()) {
        q.duration_ms = std::max<int64_t>(0, r.time.sort_ms() - start.sort_ms());
      }
    }
    forget(key);
    emit_pushed();
    return;
  }
  // No login in this stream: refused before it (max_client_conn, unknown
  // database in 1.12-1.16, protocol errors), or the start was not logged.
  Event& e = push_pooler_event(m.reject ? EventType::kReject : EventType::kDisconnect, r, nullptr, server);
  new_session_key(r, &e.session);
  e.user = known_name(r.user);
  e.db = known_name(r.db);
  // "no such user: NAME", "No such database: NAME" (<= 1.16, no login line)
  if (size_t colon = m.text.find(": "); colon != std::string_view::npos) {
    if (reason == "no_role" && e.user.empty()) e.user = m.text.substr(colon + 2);
    if (reason == "no_database" && e.db.empty()) e.db = m.text.substr(colon + 2);
  }
  display_peer(r, &e.host, &e.port);
  e.reason = reason;
  if (m.reject) {
    e.message = m.text;
  } else {
    e.matched = Flag::kFalse;
    if (m.age_s >= 0) e.duration_ms = m.age_s * 1000;
  }
  emit_pushed();
}

}  // namespace pgconn
