#include "lifecycle/tracker.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>

#include <fmt/format.h>

namespace pgconn {

Tracker::Tracker(EventSink* sink, TrackerOptions options)
    : sink_(sink), options_(std::move(options)) {}

namespace {
// Every field back to unknown, the strings keeping their capacity.
void reset(Event* e) {
  e->ts.clear();
  e->tz.clear();
  e->pid = -1;
  e->session.clear();
  e->user.clear();
  e->db.clear();
  e->app.clear();
  e->host.clear();
  e->port = -1;
  e->replication = Flag::kUnset;
  e->snapshot = Flag::kUnset;
  e->duration_ms = -1;
  e->reason.clear();
  e->message.clear();
  e->matched = Flag::kUnset;
  e->state.clear();
  e->server.clear();
  e->via.clear();
}

// Writes v in decimal at out (room for 20 digits); returns the end.
char* put_decimal(char* out, uint64_t v) { return std::to_chars(out, out + 20, v).ptr; }
}  // namespace

Tracker::~Tracker() = default;

uint32_t Tracker::find_server(std::string_view name, std::string_view via) {
  if (!options_.label.empty()) name = options_.label;
  for (uint32_t i = 0; i < servers_.size(); ++i)
    if (servers_[i].name == name && servers_[i].via == via) return i;
  servers_.push_back(Server{std::string(name), std::string(via)});
  return static_cast<uint32_t>(servers_.size() - 1);
}

uint64_t Tracker::key_for(const LogRecord& r, uint32_t server) const {
  return (uint64_t{server} << kServerShift) | (static_cast<uint64_t>(r.pid) & (kNoPidBit - 1));
}

Tracker::Backend* Tracker::find(uint64_t key) {
  if ((key & kPoolerBit) != 0)
    if (Backend* b = find_pooler(key)) return b;
  auto it = backends_.find(key);
  return it == backends_.end() ? nullptr : &it->second;
}

Tracker::Backend& Tracker::create(uint64_t key, uint32_t server, const LogRecord& r) {
  evict_if_full();
  auto [it, fresh] = backends_.try_emplace(key);
  Backend& b = it->second;
  if (!fresh) b = Backend();
  b.server = server;
  b.pid = r.pid;
  b.order = next_order_++;
  new_session_key(r, &b.session);
  fifo_.emplace_back(key, b.order);
  return b;
}

void Tracker::forget(uint64_t key) {
  if ((key & kPoolerBit) != 0) {
    const uint64_t i = key & kPoolerIndexMask;
    if (i < pooler_slots_.size() && pooler_slots_[i].key == key) {
      sockets_.erase(pooler_slots_[i].pooler.socket);
      pooler_slots_[i].key = 0;
      // Compact events still queued read its names: freed by the last (unref_slot).
      if (pooler_slots_[i].refs == 0) pooler_free_.push_back(static_cast<uint32_t>(i));
      --pooler_live_;
      return;
    }
  }
  auto it = backends_.find(key);
  if (it == backends_.end()) return;
  Backend& b = it->second;
  if ((key & kNoPidBit) && b.stage == Stage::kOpen) {
    auto erase = [key](std::unordered_multimap<std::string, uint64_t>* index, const std::string& k) {
      auto range = index->equal_range(k);
      for (auto i = range.first; i != range.second; ++i) {
        if (i->second == key) {
          index->erase(i);
          break;
        }
      }
    };
    erase(&nopid_open_, nopid_index_key(b.user, b.db, b.host, b.port));
    if (b.loose) erase(&nopid_loose_, nopid_index_key(b.user, b.db, {}, -1));
  }
  backends_.erase(it);
}

void Tracker::evict_if_full() {
  while (live_backends() >= options_.max_backends && !fifo_.empty()) {
    auto [key, order] = fifo_.front();
    fifo_.pop_front();
    Backend* b = find(key);
    if (b == nullptr || b->order != order) continue;  // already gone
    if (b->stage == Stage::kHeld) settle(*b);
    forget(key);
    ++stats_.evicted;
  }
  if (fifo_.size() > 2 * live_backends() + 1024) {  // drop stale entries: memory follows the table
    std::deque<std::pair<uint64_t, uint64_t>> live;
    for (auto& [key, order] : fifo_) {
      Backend* b = find(key);
      if (b != nullptr && b->order == order) live.emplace_back(key, order);
    }
    fifo_.swap(live);
  }
}

std::string Tracker::new_session_key(const LogRecord& r) {
  std::string key;
  new_session_key(r, &key);
  return key;
}

void Tracker::new_session_key(const LogRecord& r, std::string* out) {
  if (!r.session_id.empty()) {
    out->assign(r.session_id);
    return;
  }
  ++session_seq_;
  // session_seq_ in decimal, counted up in place (no conversion per key).
  size_t i = sizeof(seq_text_);
  while (i > seq_at_ && seq_text_[i - 1] == '9') seq_text_[--i] = '0';
  if (i == seq_at_) {
    seq_text_[--seq_at_] = '1';
  } else {
    ++seq_text_[i - 1];
  }
  // "PID-N" or "nN", without fmt's format-string parsing (a pooler's log
  // makes one per line); short enough for the string's own buffer. The
  // pid's text is kept for the next key (one pooler's pid, line after line).
  if (r.pid != key_pid_ || key_pid_len_ == 0) {
    char* p = key_text_;
    if (r.pid >= 0) {
      p = put_decimal(p, static_cast<uint64_t>(r.pid));
      *p++ = '-';
    } else {
      *p++ = 'n';
    }
    key_pid_ = r.pid;
    key_pid_len_ = static_cast<size_t>(p - key_text_);
  }
  const size_t digits = sizeof(seq_text_) - seq_at_;
  std::memcpy(key_text_ + key_pid_len_, seq_text_ + seq_at_, digits);
  out->assign(key_text_, key_pid_len_ + digits);
}

Event Tracker::base_event(EventType type, const LogRecord& r, const Backend* b) const {
  Event e;
  fill_base(&e, type, r, b);
  return e;
}

void Tracker::fill_base(Event* e, EventType type, const LogRecord& r, const Backend* b) const {
  reset(e);
  e->type = type;
  if (r.time.valid()) {
    append_rfc3339(r.time, &e->ts);
    if (r.time.zone == Timestamp::Zone::kAbbrev) e->tz = r.time.abbrev;
  }
  e->pid = r.pid;
  if (b != nullptr) {
    e->session = b->session;
    e->user = b->user;
    e->db = b->db;
    e->app = b->app;
    e->host = b->host;
    e->port = b->port;
    if (b->replication) e->replication = Flag::kTrue;
    e->server = servers_[b->server].name;
    e->via = servers_[b->server].via;
  }
}

Event& Tracker::push_event() {
  Queued& q = queue_.push_back();
  q.backend = 0;
  q.held_ms = 0;
  q.held = false;
  q.dropped = false;
  q.slot = -1;
  return q.event;
}

// With nothing held before it, the event leaves at once (as emit() does).
void Tracker::emit_pushed() {
  if (queue_.size() == 1) release();
}

void Tracker::hold_pushed(uint64_t key, const LogRecord& r) { hold_pushed(*find(key), key, r); }

void Tracker::hold_pushed(Backend& b, uint64_t key, const LogRecord& r) {
  b.stage = Stage::kHeld;
  b.held_seq = queue_base_ + queue_.size() - 1;
  Queued& q = queue_[queue_.size() - 1];
  q.backend = key;
  q.held_ms = r.time.valid() ? r.time.sort_ms() : INT64_MIN;
  q.held = true;
}

void Tracker::emit(Event&& e) {
  push_event() = std::move(e);
  emit_pushed();
}

void Tracker::hold(Event&& e, uint64_t key, const LogRecord& r) {
  push_event() = std::move(e);
  hold_pushed(key, r);
}

void Tracker::turn_into_reject(Backend& b, const Timestamp& t, std::string_view reason,
                               std::string_view message) {
  Queued& q = queue_[b.held_seq - queue_base_];
  if (q.slot >= 0) expand(q);
  q.held = false;
  Event& e = q.event;
  e.type = EventType::kReject;
  e.ts.clear();
  e.tz.clear();
  if (t.valid()) {
    append_rfc3339(t, &e.ts);
    if (t.zone == Timestamp::Zone::kAbbrev) e.tz = t.abbrev;
  }
  e.reason = reason;
  e.message = message;
  e.matched = Flag::kTrue;
  b.stage = Stage::kReceived;  // nothing left to settle; forgotten by the caller or pid reuse
  b.fatal.clear();
  if (b.pid < 0 && nopid_last_held_ == q.backend) nopid_last_held_ = 0;
}

void Tracker::settle(Backend& b) {
  if (b.stage != Stage::kHeld) return;
  if (!b.fatal.empty()) {
    turn_into_reject(b, b.fatal_time, b.fatal_reason.empty() ? "other" : b.fatal_reason, b.fatal);
    return;
  }
  b.stage = Stage::kOpen;
  queue_[b.held_seq - queue_base_].held = false;
  if (b.pid < 0) {
    uint64_t key = queue_[b.held_seq - queue_base_].backend;
    nopid_open_.emplace(nopid_index_key(b.user, b.db, b.host, b.port), key);
    if (b.loose) nopid_loose_.emplace(nopid_index_key(b.user, b.db, {}, -1), key);
    if (nopid_last_held_ == key) nopid_last_held_ = 0;
  }
}

void Tracker::release() {
  while (!queue_.empty()) {
    Queued& front = queue_.front();
    if (front.held) {
      if (queue_.size() <= options_.max_held) break;
      settle(*find(front.backend));
    }
    // The sink sees the event in its slot; the slot is reused later.
    queue_.pop_front();
    ++queue_base_;
    if (front.slot >= 0) {  // a pooler client's, compact
      if (!front.dropped) {
        ++stats_.events[static_cast<int>(front.type)];
        if (!stopped_) emit_ref(front);
      }
      unref_slot(front.slot);
      continue;
    }
    if (front.dropped) continue;
    ++stats_.events[static_cast<int>(front.event.type)];
    if (!stopped_ && !sink_->on_event(front.event)) stopped_ = true;
  }
}

void Tracker::settle_older_than(int64_t ms) {
  release();
  while (!queue_.empty() && queue_.front().held && queue_.front().held_ms != INT64_MIN &&
         queue_.front().held_ms <= ms) {
    settle(*find(queue_.front().backend));
    release();
  }
}

bool Tracker::settle_before(uint64_t mark) {
  for (uint64_t seq = queue_base_; seq < mark && seq - queue_base_ < queue_.size(); ++seq) {
    Queued& q = queue_[seq - queue_base_];
    if (q.held) settle(*find(q.backend));
  }
  release();
  return !stopped_;
}

bool Tracker::settle_all() {
  for (size_t i = 0; i < queue_.size(); ++i)
    if (queue_[i].held) settle(*find(queue_[i].backend));
  release();
  return !stopped_;
}

void Tracker::close_lost(Backend& b, const LogRecord& r) {
  Event e = base_event(EventType::kDisconnect, r, &b);
  e.pid = b.pid;
  e.reason = "lost";
  e.matched = Flag::kTrue;
  emit(std::move(e));
}

// The start lines of a session the snapshot opened (the process started
// before the scan, its lines were read after it) join that session.
bool Tracker::snapshot_join(const Backend* b, const LogRecord& r) {
  return b != nullptr && b->snapshot_ticks != 0 && b->stage == Stage::kOpen && probe_ != nullptr &&
         probe_->same_process(b->pid, b->snapshot_ticks, r.time);
}

void Tracker::on_received(uint64_t key, uint32_t server, const LogRecord& r, const Message& m) {
  if (Backend* b = find(key)) {
    if (snapshot_join(b, r)) return;
    settle(*b);
    if (b->stage == Stage::kOpen) close_lost(*b, r);
    forget(key);
  }
  Backend& b = create(key, server, r);
  b.host = m.host;
  b.port = m.port;
}

void Tracker::on_authorized(uint64_t key, uint32_t server, const LogRecord& r, const Message& m) {
  Backend* b = find(key);
  if (snapshot_join(b, r)) {
    // The names the title could not give; the session was counted already.
    b->snapshot_ticks = 0;
    bool changed = false;
    if (b->user.empty() && !m.user.empty()) b->user = m.user, changed = true;
    if (b->db.empty() && m.has_db && !m.db.empty()) b->db = m.db, changed = true;
    if (b->app.empty() && !m.app.empty()) b->app = m.app, changed = true;
    if (changed) emit(base_event(EventType::kUpdate, r, b));
    return;
  }
  if (b != nullptr && b->stage != Stage::kReceived) {  // pid reused, its start unlogged
    settle(*b);
    if (b->stage == Stage::kOpen) close_lost(*b, r);
    forget(key);
    b = nullptr;
  }
  if (b == nullptr) {  // no `connection received` (log started later, PG 18 options)
    b = &create(key, server, r);
    b->host = r.host;
    b->port = r.port;
  }
  b->user = m.user;
  b->db = m.has_db ? m.db : std::string_view();
  b->app = m.app;
  b->replication = m.replication;
  b->since_utc_ms = r.time.utc_ms();
  b->loose = r.pid < 0 && nopid_loose_next_;
  hold(base_event(EventType::kConnect, r, b), key, r);
}

void Tracker::on_ready(uint64_t key, uint32_t server, const LogRecord& r) {
  Backend* b = find(key);
  if (b != nullptr && b->stage != Stage::kReceived) {
    settle(*b);
    return;
  }
  // PG 18 with log_connections=setup_durations only: the first sign of it.
  if (b == nullptr) {
    b = &create(key, server, r);
    b->host = r.host;
    b->port = r.port;
  }
  b->user = r.user;
  b->db = r.db;
  b->app = r.app;
  b->stage = Stage::kOpen;
  b->since_utc_ms = r.time.utc_ms();
  emit(base_event(EventType::kConnect, r, b));
}

void Tracker::on_disconnection(uint64_t key, uint32_t server, const LogRecord& r,
                               const Message& m) {
  ++stats_.disconnection_lines;
  Backend* b = find(key);
  if (b != nullptr && b->stage == Stage::kHeld && !b->fatal.empty()) {
    b->fatal.clear();  // a disconnection: the FATAL ended a real session
    b->end_reason = {};
  }
  if (b != nullptr) {
    name_held(*b, r);
    settle(*b);
    check_app(*b, r);
  }  // the line's own %a: the session moves first
  Event e;
  if (b != nullptr && b->stage == Stage::kOpen) {
    e = base_event(EventType::kDisconnect, r, b);
    e.reason = b->end_reason;
    e.matched = Flag::kTrue;
  } else {
    e = base_event(EventType::kDisconnect, r, nullptr);
    e.session = b != nullptr ? b->session : new_session_key(r);
    e.server = servers_[server].name;
    e.app = r.app;
    if (b != nullptr && b->stage == Stage::kOrphan) e.reason = b->end_reason;
    e.matched = Flag::kFalse;
  }
  e.user = m.user;
  e.db = m.db;
  e.host = m.host;
  e.port = m.port;
  e.duration_ms = m.duration_ms;
  if (b != nullptr) forget(key);
  emit(std::move(e));
}

void Tracker::on_reject(uint64_t key, uint32_t server, const LogRecord& r, const Message& m) {
  Backend* b = find(key);
  if (b != nullptr && b->stage == Stage::kHeld) {  // the held connect was a reject all along
    Event& held = queue_[b->held_seq - queue_base_].event;
    if (held.user.empty()) held.user = m.user;  // the FATAL may name the role
    turn_into_reject(*b, r.time, m.reason, r.message);
    forget(key);
    release();
    return;
  }
  if (b != nullptr && b->stage == Stage::kOpen && !m.after_authorization) {
    close_lost(*b, r);  // the pid was reused; its session's end was not logged
    forget(key);
    b = nullptr;
  }
  // A refusal before `connection authorized` (b is kReceived, or unknown
  // when the stream missed the start), or a §4b refusal of a connection
  // already settled as open (its FATAL came after the settle rules let it
  // go): then the reject names that session, so that readers drop it.
  Event e = base_event(EventType::kReject, r, b);
  if (b == nullptr) {
    e.session = new_session_key(r);
    e.server = servers_[server].name;
  }
  if (e.user.empty()) e.user = !m.user.empty() ? m.user : r.user;
  if (e.db.empty()) e.db = !m.db.empty() ? m.db : r.db;
  if (e.app.empty()) e.app = r.app;
  if (e.host.empty()) {
    e.host = !m.host.empty() ? m.host : r.host;
    e.port = r.port;
  }
  if (m.replication) e.replication = Flag::kTrue;
  e.reason = m.reason;
  e.message = r.message;
  e.matched = b != nullptr && b->stage != Stage::kOrphan ? Flag::kTrue : Flag::kFalse;
  if (b != nullptr) forget(key);
  emit(std::move(e));
}

void Tracker::on_session_end(uint64_t key, const Message& m, uint32_t server, const LogRecord& r) {
  Backend* b = find(key);
  if (b == nullptr && m.reason == "crash") return;  // no disconnection follows a crash
  if (b == nullptr) {  // its start is not in this stream; keep why it ends
    b = &create(key, server, r);
    b->stage = Stage::kOrphan;
  }
  name_held(*b, r);
  settle(*b);
  check_app(*b, r);
  if (b->stage != Stage::kOpen && b->stage != Stage::kOrphan) return;
  b->end_reason = m.reason;
  if (m.reason == "terminated" && servers_[server].shutting_down) b->end_reason = "shutdown";
}

void Tracker::on_server_down(uint32_t server, const LogRecord& r, const char* state) {
  Server& s = servers_[server];
  s.shutting_down = false;
  if (s.down) return;
  s.down = true;
  for (size_t i = 0; i < queue_.size(); ++i)
    if (queue_[i].held && (queue_[i].backend >> kServerShift) == server) settle(*find(queue_[i].backend));
  Event e = base_event(EventType::kServer, r, nullptr);
  e.state = state;
  e.server = s.name;
  e.via = s.via;
  emit(std::move(e));
  forget_server(server);
}

void Tracker::forget_server(uint32_t server) {
  for (auto it = backends_.begin(); it != backends_.end();) {
    if (it->second.server == server) {
      uint64_t key = it->first;
      ++it;
      forget(key);
    } else {
      ++it;
    }
  }
  for (PoolerSlot& slot : pooler_slots_)
    if (slot.key != 0 && slot.backend.server == server) forget(slot.key);
  const uint64_t base = uint64_t{server} << kServerShift;
  if (nopid_last_received_ >> kServerShift == server) nopid_last_received_ = 0;
  if (nopid_last_held_ >> kServerShift == server) nopid_last_held_ = 0;
  std::erase_if(nopid_pending_, [&](uint64_t k) { return (k & ~((uint64_t{1} << kServerShift) - 1)) == base; });
}

void Tracker::on_server_ready(uint32_t server, const LogRecord& r, bool read_only) {
  Server& s = servers_[server];
  // A promotion: the standby's sessions stay. Any other `ready` follows a
  // start of the postmaster, after which no session of before is left (an
  // unclean death, SIGKILL or power loss, logs no crash line).
  const bool promotion = !read_only && s.standby && !s.down;
  s.standby = read_only;
  s.down = false;
  s.shutting_down = false;
  if (promotion) return;  // not a start: no event, readers keep the sessions
  // Held connections are settled first: they were sessions of the server
  // that just died, and readers drop them with the rest at `ready`.
  for (size_t i = 0; i < queue_.size(); ++i)
    if (queue_[i].held && (queue_[i].backend >> kServerShift) == server) settle(*find(queue_[i].backend));
  Event e = base_event(EventType::kServer, r, nullptr);
  e.state = "ready";
  e.server = s.name;
  emit(std::move(e));
  forget_server(server);
}

bool Tracker::app_moved(int64_t pid, std::string_view app) {
  if (app.empty() || pid < 0) return false;
  if (unnamed_server_ < 0) unnamed_server_ = server_index({});  // indexes never move
  LogRecord r;
  r.pid = pid;
  const Backend* b = find(key_for(r, static_cast<uint32_t>(unnamed_server_)));
  // A held connection: its next line settles it, and may move it at once.
  return b != nullptr && (b->stage == Stage::kHeld || (b->stage == Stage::kOpen && b->app != app));
}

// A held connection whose `connection authorized` named no application
// (PostgreSQL 11 and older) takes the one its next line shows (%a): the
// connect, not yet written, carries it.
void Tracker::name_held(Backend& b, const LogRecord& r) {
  if (b.stage != Stage::kHeld || !b.app.empty() || r.app.empty()) return;
  b.app.assign(r.app);
  queue_[b.held_seq - queue_base_].event.app = b.app;
}

// A line of an open session names its application as it is now: when that
// differs from what the session had, the session moves to it. An empty
// name (%a printed "[unknown]", or a format without it) says nothing.
void Tracker::check_app(Backend& b, const LogRecord& r) {
  if (r.app.empty() || b.stage != Stage::kOpen || r.app == b.app) return;
  b.app.assign(r.app);
  emit(base_event(EventType::kUpdate, r, &b));
}

bool Tracker::add(const LogRecord& r, const Message* classified) {
  if (stopped_) return false;
  if (!r.via.empty()) return add_pooler(r, classify_pgbouncer(r.severity, r.socket, r.message));
  if (r.pid < 0 && !r.session_id.empty()) {
    // A session id but no pid (Azure's "%t-%c-"): the id carries the pid.
    if (int64_t pid = pid_from_session_id(r.session_id); pid >= 0) {
      LogRecord with_pid = r;
      with_pid.pid = pid;
      return add(with_pid, classified);
    }
  }
  const uint32_t server = server_index(r.server);
  const Message m = classified != nullptr ? *classified : classify_message(r.severity, r.message);
  const bool has_pid = r.pid >= 0;
  if (has_pid) {
    last_server_ = server;
    if (recent_pids_.empty() || recent_pids_.back() != r.pid) {
      recent_pids_.push_back(r.pid);
      if (recent_pids_.size() > 256) recent_pids_.pop_front();
    }
  }
  if (r.time.valid()) last_time_ = r.time;
  if (!has_pid && m.kind != MsgKind::kNone && m.kind != MsgKind::kMalformed) saw_pidless_ = true;
  uint64_t key = has_pid ? key_for(r, server) : 0;

  if (m.kind == MsgKind::kMalformed) {
    ++stats_.malformed;
    return true;
  }
  if (m.kind != MsgKind::kNone) ++stats_.lifecycle_lines;

  if (!has_pid && m.kind != MsgKind::kNone) key = nopid_key(r, m, server);

  switch (m.kind) {
    case MsgKind::kNone:
      if (Backend* b = has_pid ? find(key) : nullptr) {
        if (r.severity == "FATAL" && b->stage == Stage::kReceived) {
          Message other;  // an unknown FATAL during set-up still refuses it
          other.kind = MsgKind::kReject;
          other.reason = "other";
          on_reject(key, server, r, other);
        } else if (r.severity == "FATAL" && b->stage == Stage::kHeld && b->fatal.empty()) {
          // A set-up failure, or the end of a session whose statements this
          // stream skipped: the next line of the backend tells.
          b->fatal.assign(r.message);
          b->fatal_time = r.time;
        } else {
          name_held(*b, r);
          settle(*b);  // the backend's next line: it got through set-up
          check_app(*b, r);
        }
      }
      break;
    case MsgKind::kReceived:
      on_received(key, server, r, m);
      break;
    case MsgKind::kAuthenticated:
      break;
    case MsgKind::kAuthorized:
      on_authorized(key, server, r, m);
      break;
    case MsgKind::kReady:
      if (has_pid) on_ready(key, server, r);
      break;
    case MsgKind::kDisconnection:
      on_disconnection(key, server, r, m);
      break;
    case MsgKind::kReject:
      on_reject(key, server, r, m);
      break;
    case MsgKind::kSessionEnd:
      if (has_pid) on_session_end(key, m, server, r);
      break;
    case MsgKind::kServerReady:
      on_server_ready(server, r, m.read_only);
      break;
    case MsgKind::kShutdownRequest:
      servers_[server].shutting_down = true;
      break;
    case MsgKind::kServerShutdown:
      on_server_down(server, r, "shutdown");
      break;
    case MsgKind::kServerCrash:
      on_server_down(server, r, "crash");
      break;
    case MsgKind::kMalformed:
      break;
  }
  finish_add(r);
  return !stopped_;
}

void Tracker::finish_add(const LogRecord& r) {
  // Only now the time rule: the backend's own line (above) comes first, so
  // a FATAL logged in the next second still turns its connection into a
  // reject. With whole-second times a second more is needed to be sure.
  if (r.time.valid())
    settle_older_than(r.time.sort_ms() - options_.settle_ms - (r.time.has_ms ? 0 : 1000));
  release();
}

}  // namespace pgconn
