// Tracker: joins the reports of one backend into connection events.
//
// It keeps a table of backends keyed by (server, pid), and turns their
// lifecycle lines into the events of SPEC.md §2:
//   - `connection authorized` is held until it is settled (the backend's
//     next line, a line logged >= settle_ms later, settle_all(), finish()):
//     a §4b FATAL turns it into a `reject`, anything else into a `connect`;
//   - a pid that logs a new `connection received` while its session is open
//     closes that session (`disconnect`, reason `lost`);
//   - a crash or shutdown writes a `server` event and forgets the server's
//     backends; so does `ready` (the postmaster started: after an unclean
//     death no crash line was logged, and nothing survives a restart), but
//     for a hot standby's promotion (`ready to accept connections` after
//     `ready to accept read-only connections`), whose sessions live on and
//     which writes no event;
//   - a later line of an open session that shows another application name
//     (%a, csvlog, jsonlog) writes an `update` event and moves the session
//     to that name, as pg_stat_activity does;
// A connection pooler's lines (LogRecord::via, PgBouncer's: pgbouncer.md)
// are joined by the pooler's pid and client socket instead (tracker_pooler.cpp):
// a `login attempt` is held like `connection authorized`, `closing because`
// ends it (or refuses it), a new login on a socket still open ends the
// earlier client (`lost`), and the pooler's restart or exit is a `server`
// event for its clients only. Pooler events carry `via`; a pooler and a
// PostgreSQL server of the same name are two servers here.
// Events leave in log order: events after a held connection wait for it.
// The table is capped; past the cap the oldest backend is forgotten and
// counted in stats().evicted.
#pragma once

#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "event.hpp"
#include "formats/log_record.hpp"
#include "lifecycle/message.hpp"
#include "lifecycle/pgbouncer_message.hpp"
#include "ring.hpp"
#include "lifecycle/socket_table.hpp"
#include "sink.hpp"
#include "timestamp.hpp"

namespace pgconn {

struct TrackerOptions {
  std::string label;             // `server` of every event; else LogRecord::server
  size_t max_backends = 65536;   // table cap; REQUIRES: below 2^26 (a pooler key holds a slot index of 26 bits)
  int64_t settle_ms = 1000;      // a line this much later settles a held connection
  size_t max_held = 100000;      // events queued behind held connections
};

// Tells whether a line that starts a session of `pid` (its `connection
// received` or `authorized`) comes from the very process a process-table
// snapshot saw (started `start_ticks` after boot): the line was written
// before the scan but read after it. Implemented by snapshot.hpp.
class ProcessProbe {
 public:
  virtual ~ProcessProbe() = default;
  virtual bool same_process(int64_t pid, uint64_t start_ticks, const Timestamp& line_time) = 0;
};

// A backend the tracker knows, for the snapshot's reconciling.
struct TrackedBackend {
  int64_t pid = -1;
  bool open = false;                 // a session (else being set up, or ending)
  int64_t since_utc_ms = INT64_MIN;  // its start line's time, when the zone is known
  uint64_t snapshot_ticks = 0;       // nonzero: opened by a snapshot, its process start
  std::string session;               // its session key
};

struct TrackerStats {
  uint64_t lifecycle_lines = 0;   // reports classified as lifecycle lines
  uint64_t disconnection_lines = 0;
  uint64_t events[5] = {0, 0, 0, 0, 0};  // by EventType
  uint64_t evicted = 0;           // backends forgotten at the cap
  uint64_t malformed = 0;         // lifecycle-looking lines that did not parse
  uint64_t snapshot_connects = 0; // connects from the process table (in events[] too)
};

// A pooler client's socket as a key: server index, the pooler's pid and its
// socket prefix ("C-0x55d8f18f9e30"), the pointer read as a number (no
// string per line). `digits` tells "0x0f" from "0xf"; a prefix that is not
// "C-0x" and at most 16 lower-case hex digits is keyed by a hash of its
// text (digits 255).
struct PoolerSocket {
  uint64_t pointer = 0;
  int64_t pid = -1;
  uint32_t server = 0;
  uint8_t digits = 0;
  bool operator==(const PoolerSocket&) const = default;
  struct Hash {
    size_t operator()(const PoolerSocket& s) const {
      uint64_t h = s.pointer * 0x9E3779B97F4A7C15ull;
      h ^= (static_cast<uint64_t>(s.pid) << 20) ^ (uint64_t{s.server} << 8) ^ s.digits;
      return static_cast<size_t>(h ^ (h >> 29));
    }
  };
};

class Tracker {
 public:
  // REQUIRES: sink outlives the tracker.
  Tracker(EventSink* sink, TrackerOptions options);
  ~Tracker();

  // Feeds one report, in log order. Returns false once the sink said stop.
  // `classified`: classify_message(r.severity, r.message) when the caller
  // made it already (ahead, on another thread: stderr_ahead.hpp).
  bool add(const LogRecord& r, const Message* classified = nullptr);
  // add() for a PgBouncer record (via set) whose message the caller
  // classified already: m is classify_pgbouncer(r.severity, r.socket,
  // r.message) (ahead, on another thread: pgbouncer_ahead.hpp).
  bool add_pooled(const LogRecord& r, const BouncerMessage& m) {
    return stopped_ ? false : add_pooler(r, m);
  }

  // Settles every held connection and writes all queued events; call when a
  // live stream has been idle (~20 ms) and at end of input.
  bool settle_all();

  // True while a connection is held (the caller then waits with a timeout).
  bool holding() const { return !queue_.empty(); }

  // A position in the output queue: settle_before(mark()) later settles
  // everything held now, and nothing held after.
  uint64_t mark() const { return queue_base_ + queue_.size(); }
  bool settle_before(uint64_t mark);

  const TrackerStats& stats() const { return stats_; }

  // --- Reconciling with the process table (snapshot.hpp) ---
  // The server the newest record named (the --label when given).
  std::string current_server() const;
  // The backends of `server` that have a pid.
  std::vector<TrackedBackend> tracked(std::string_view server) const;
  // The pids of the newest records, oldest first (at most 256; repeats
  // are kept: they weigh the choice of the server).
  const std::deque<int64_t>& recent_pids() const { return recent_pids_; }
  // The time of the newest record with one (its zone tells how to write times).
  const Timestamp& last_time() const { return last_time_; }
  // True once a lifecycle line without a pid was read (empty prefix).
  bool saw_pidless() const { return saw_pidless_; }
  // Opens a session the log did not show: `e` is a connect with ts, pid,
  // user, db, host, port (and replication) filled in; the tracker gives it
  // its session key, server and "snapshot": true, and writes it.
  bool snapshot_connect(std::string_view server, uint64_t start_ticks, Event e);
  // Ends the open session of `pid` whose key is `session` (another
  // session of the pid, or none open: nothing), whose process is gone: a
  // disconnect at `ts` (`tz`: its zone abbreviation, or empty), reason
  // `lost`, or the reason a FATAL of it gave when no disconnection line
  // followed (log_disconnections off).
  bool snapshot_lost(std::string_view server, int64_t pid, std::string_view session,
                     std::string_view ts, std::string_view tz);
  // Writes the `server` event with state "snapshot" at `ts`.
  bool snapshot_done(std::string_view server, std::string_view ts, std::string_view tz);
  // REQUIRES: probe outlives the tracker (nullptr: none).
  void set_probe(ProcessProbe* probe) { probe_ = probe; }
  // True when the pid has an open session (of the unnamed server, or the
  // label's) whose application name is not `app`, a non-empty name (then a
  // line of it that shows `app` would move the session: an `update`), or a
  // held connection (which its next line settles).
  bool app_moved(int64_t pid, std::string_view app);

 private:
  // kOrphan: a session whose start this stream never saw, known only by a
  // line that tells why it is ending.
  enum class Stage : uint8_t { kReceived, kHeld, kOpen, kOrphan };
  // create_pooler() resets each field of a reused slot: add new ones there.
  struct Backend {
    Stage stage = Stage::kReceived;
    bool replication = false;
    bool loose = false;        // no pid: its address may be another backend's
    int32_t port = -1;
    uint32_t server = 0;
    int64_t pid = -1;
    uint64_t held_seq = 0;     // kHeld: its connect's place in queue_
    uint64_t order = 0;        // insertion order, for eviction
    int64_t since_utc_ms = INT64_MIN;  // kOpen: its start line's time, zone known
    uint64_t snapshot_ticks = 0;       // opened by a snapshot: its process start
    std::string_view end_reason;  // static text (message.cpp), or empty
    std::string session, user, db, app, host;
    // kHeld: an unknown FATAL came before the connection settled. If the
    // backend's next line is its `disconnection`, it was a session after
    // all (set-up failures log none); otherwise it is a reject `other`.
    std::string fatal;
    Timestamp fatal_time;
    std::string_view fatal_reason;  // static; the reject category (pooler), else "other"
    // Pooler clients only: their part in the same slot of pooler_slots_
    // (PostgreSQL's backends, the table's bulk, stay small). nullptr for
    // PostgreSQL's backends.
    struct Pooler {
      Timestamp start;         // the login's time
      PoolerSocket socket;     // its key in sockets_
      // The address and port as logged: the join key with the socket. The
      // address is the client's host but for a Unix socket ("unix(26341)",
      // host "[local]"): kept in peer_host only when it is not (no copy per
      // client).
      std::string peer_host;   // peer_kept only
      int32_t peer_port = -1;
      bool peer_kept = false;
      uint32_t index = 0;      // its slot in pooler_slots_
    };
    Pooler* pooler = nullptr;
  };
  // Slots of queue_ are reused (Ring): whoever takes one sets every field.
  // A pooler client's connect or disconnect is kept compact: `slot` names
  // its client's slot of pooler_slots_ (which holds its names and is not
  // reused while such events refer to it), `type`, `time`, `duration_ms`,
  // `reason` and `matched` the rest; `event` is then unused. slot -1: the
  // event is in `event`.
  struct Queued {
    Event event;
    uint64_t backend = 0;  // held connects: the backend key
    int64_t held_ms = 0;   // held connects: sort time of the authorized line
    bool held = false;
    bool dropped = false;  // a pooler login that never got through: no event
    EventType type = EventType::kConnect;  // compact (slot >= 0) only, as the rest here
    int32_t slot = -1;
    Flag matched = Flag::kUnset;
    int64_t duration_ms = -1;
    std::string_view reason;  // static text
    Timestamp time;
  };
  struct Server {
    std::string name;
    std::string via;             // a pooler's name, empty for PostgreSQL
    bool shutting_down = false;  // smart/fast shutdown requested
    bool down = false;           // crash or shutdown event written
    bool standby = false;        // ready for read-only connections (hot standby)
  };

  // Keys: server index in the top bits, then the pid; logs without a pid
  // get synthetic keys with bit 39 set so they never meet a real pid.
  static constexpr int kServerShift = 40;
  static constexpr uint64_t kNoPidBit = uint64_t{1} << 39;
  // Without pids (tracker_nopid.cpp).
  static std::string nopid_index_key(std::string_view user, std::string_view db,
                                     std::string_view host, int32_t port);
  uint64_t nopid_key(const LogRecord& r, const Message& m, uint32_t server);

  uint64_t key_for(const LogRecord& r, uint32_t server) const;
  // The index of the server (name, via) in servers_ (added when new). The
  // last one found is tried first, inline (a log's lines name one server).
  uint32_t server_index(std::string_view name, std::string_view via = {}) {
    if (options_.label.empty() && found_server_ < servers_.size()) {
      const Server& s = servers_[found_server_];
      if (s.name.size() == name.size() && s.via.size() == via.size() &&
          (name.empty() || std::memcmp(s.name.data(), name.data(), name.size()) == 0) &&
          (via.empty() || std::memcmp(s.via.data(), via.data(), via.size()) == 0))
        return found_server_;
    }
    return found_server_ = find_server(name, via);
  }
  uint32_t find_server(std::string_view name, std::string_view via);
  uint32_t found_server_ = UINT32_MAX;
  Backend* find(uint64_t key);
  Backend& create(uint64_t key, uint32_t server, const LogRecord& r);
  void forget(uint64_t key);
  void evict_if_full();

  Event base_event(EventType type, const LogRecord& r, const Backend* b) const;
  // base_event() into *e, every field set (a reused Event keeps its strings'
  // capacity).
  void fill_base(Event* e, EventType type, const LogRecord& r, const Backend* b) const;
  std::string new_session_key(const LogRecord& r);
  void new_session_key(const LogRecord& r, std::string* out);
  void emit(Event&& e);
  void hold(Event&& e, uint64_t key, const LogRecord& r);
  // An event built in place at the back of the queue: take it with
  // push_event(), fill it (no other event may be pushed meanwhile), then
  // emit_pushed() or hold_pushed(). What emit()/hold() do, without a copy.
  Event& push_event();
  void emit_pushed();
  void hold_pushed(uint64_t key, const LogRecord& r);
  void hold_pushed(Backend& b, uint64_t key, const LogRecord& r);
  void settle(Backend& b);
  void turn_into_reject(Backend& b, const Timestamp& t, std::string_view reason,
                        std::string_view message);
  void release();
  void settle_older_than(int64_t ms);

  void on_received(uint64_t key, uint32_t server, const LogRecord& r, const Message& m);
  void on_authorized(uint64_t key, uint32_t server, const LogRecord& r, const Message& m);
  void on_ready(uint64_t key, uint32_t server, const LogRecord& r);
  void on_disconnection(uint64_t key, uint32_t server, const LogRecord& r, const Message& m);
  void on_reject(uint64_t key, uint32_t server, const LogRecord& r, const Message& m);
  void on_session_end(uint64_t key, const Message& m, uint32_t server, const LogRecord& r);
  void on_server_down(uint32_t server, const LogRecord& r, const char* state);
  void on_server_ready(uint32_t server, const LogRecord& r, bool read_only);
  void forget_server(uint32_t server);
  void check_app(Backend& b, const LogRecord& r);
  void name_held(Backend& b, const LogRecord& r);
  uint64_t nopid_pair_authorized(uint32_t server, bool* loose);
  void close_lost(Backend& b, const LogRecord& r);
  bool snapshot_join(const Backend* b, const LogRecord& r);

  // The pooler's half (tracker_pooler.cpp).
  // m: classify_pgbouncer(r.severity, r.socket, r.message), as add_pooled()'s.
  bool add_pooler(const LogRecord& r, const BouncerMessage& m);
  void pooler_client(uint32_t server, const LogRecord& r, const BouncerMessage& m);
  void pooler_close(uint32_t server, Backend* b, uint64_t key, const LogRecord& r,
                    const BouncerMessage& m);
  void pooler_lost(Backend& b, const LogRecord& r);
  // Every field of a pooler client's event of time `t`: its names from `b`
  // (none when nullptr), no pid, the server `server`.
  void fill_pooler_event(Event& e, EventType type, const Timestamp& t, const Backend* b, uint32_t server);
  Event& push_pooler_event(EventType type, const LogRecord& r, const Backend* b, uint32_t server);
  // push_pooler_event() of a client's connect or disconnect, kept compact
  // (Queued::slot): set its reason, matched and duration_ms in the result,
  // then emit_pushed() or hold_pushed(). REQUIRES: b is a pooler client.
  Queued& push_pooler_ref(EventType type, const LogRecord& r, const Backend& b);
  // The Event of a compact queued event, into q.event (q no longer compact).
  void expand(Queued& q);
  // A compact queued event leaves: its slot's hold on its client drops.
  void unref_slot(int32_t slot);
  // Writes a compact queued event to the sink.
  void emit_ref(const Queued& q);
  static PoolerSocket pooler_socket(uint32_t server, const LogRecord& r, const BouncerMessage& m);
  void finish_add(const LogRecord& r);

  EventSink* sink_;
  TrackerOptions options_;
  TrackerStats stats_;
  bool stopped_ = false;
  std::unordered_map<uint64_t, Backend> backends_;
  std::deque<std::pair<uint64_t, uint64_t>> fifo_;  // (key, order), lazily pruned
  uint64_t next_order_ = 0;
  Ring<Queued> queue_;
  uint64_t queue_base_ = 0;   // sequence number of queue_.front()
  std::vector<Server> servers_;
  int64_t unnamed_server_ = -1;  // app_moved(): server_index({}) once known
  uint64_t session_seq_ = 0;
  // new_session_key()'s text: session_seq_ in decimal at seq_text_[seq_at_..]
  // (none yet: 0), and the "PID-" (or "n") of the pid of the last key,
  // key_pid_, in key_text_'s first key_pid_len_ bytes.
  char seq_text_[20] = {};
  size_t seq_at_ = sizeof(seq_text_);
  char key_text_[48] = {};
  int64_t key_pid_ = -1;
  size_t key_pid_len_ = 0;
  // Logs without a pid (empty prefix): lines are joined by order.
  uint64_t nopid_seq_ = 0;
  uint64_t nopid_last_received_ = 0;  // key of the newest unauthorized backend
  // Backends whose `connection received` no line has followed yet (newest
  // last; probes that hang up stay here until pushed out).
  std::deque<uint64_t> nopid_pending_;
  uint64_t nopid_last_held_ = 0;      // key of the newest held connection
  bool nopid_loose_next_ = false;     // the authorized line being handled was paired by a guess
  uint32_t nopid_received_since_ = 0; // `connection received` lines since a set-up last ended
  std::deque<std::string_view> nopid_end_reasons_;  // session ends waiting for their disconnections
  std::unordered_multimap<std::string, uint64_t> nopid_open_;  // user/db/host/port -> key
  uint32_t last_server_ = 0;
  std::deque<int64_t> recent_pids_;
  Timestamp last_time_;
  bool saw_pidless_ = false;
  ProcessProbe* probe_ = nullptr;
  // Open sessions paired with their `connection received` by a guess
  // (several set-ups interleaved): user/db -> key, for a disconnection
  // whose address no session has.
  std::unordered_multimap<std::string, uint64_t> nopid_loose_;
  // Pooler clients: (server, pooler pid, socket) -> backend key and the
  // backend itself (a slot of pooler_slots_: its address holds until
  // forget(), which erases the socket first), so a close finds its client
  // without a second lookup.
  struct PoolerRef {
    uint64_t key = 0;
    Backend* backend = nullptr;
  };
  SocketTable<PoolerSocket, PoolerSocket::Hash, PoolerRef> sockets_;
  // Pooler clients live here, not in backends_: a busy pooler's log opens
  // and closes a client every other line, and a slot reused from a free
  // list costs no node, no allocation and no hashing. Their keys: the
  // server index on top, then kPoolerBit, a generation (kPoolerGenBits)
  // and the slot's index (kPoolerIndexBits). find(), forget() and the
  // table's size (live_backends()) cover both.
  static constexpr uint64_t kPoolerBit = uint64_t{1} << 38;
  static constexpr int kPoolerIndexBits = 26;
  static constexpr uint64_t kPoolerIndexMask = (uint64_t{1} << kPoolerIndexBits) - 1;
  static constexpr uint64_t kPoolerGenMask = (kPoolerBit - 1) & ~kPoolerIndexMask;
  struct PoolerSlot {
    Backend backend;
    Backend::Pooler pooler;
    uint64_t key = 0;   // 0: free, or forgotten and still referred to (refs)
    uint32_t refs = 0;  // compact events in queue_ that refer to it: not reused until 0
  };
  std::deque<PoolerSlot> pooler_slots_;     // addresses stay (deque)
  std::vector<uint32_t> pooler_free_;       // free slots' indexes
  size_t pooler_live_ = 0;
  uint64_t pooler_seq_ = 0;                 // generations
  // emit_ref()'s time: ref_ts_ and ref_tz_ written for ref_time_ (its
  // second ref_sec_; later times of that second and zone: only the
  // milliseconds changed, at ref_ms_at_, 0: none).
  std::string ref_ts_, ref_tz_;
  Timestamp ref_time_;
  int64_t ref_sec_ = 0;
  size_t ref_ms_at_ = 0;
  void set_ref_time(const Timestamp& t);
  // A new pooler client (its key in *key): create() for pooler_slots_.
  Backend& create_pooler(uint32_t server, const LogRecord& r, uint64_t* key);
  Backend* find_pooler(uint64_t key) {
    const uint64_t i = key & kPoolerIndexMask;
    return i < pooler_slots_.size() && pooler_slots_[i].key == key ? &pooler_slots_[i].backend
                                                                  : nullptr;
  }
  size_t live_backends() const { return backends_.size() + pooler_live_; }
  // Calls f(key, backend) for every pooler client.
  template <typename F>
  void for_each_pooler(F f) const {
    for (const PoolerSlot& s : pooler_slots_)
      if (s.key != 0) f(s.key, s.backend);
  }
};

}  // namespace pgconn
