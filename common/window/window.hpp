// Window: what pgconn-agg knows about the connections of an event stream.
//
//   - the active sessions, exact over the whole stream: a `connect` opens
//     one (keyed by server and session), its `disconnect` or a `reject`
//     naming it closes it, a `server` ready, crash or shutdown closes every
//     session of that server (nothing survives a restart, even one after an
//     unclean death that logged no crash); an `update` moves an open session
//     to its new names (its app), and one for a session it does not hold is
//     ignored; a disconnect for a session it does not hold is counted but
//     changes nothing (never negative);
//   - per server, whether its view is complete (servers()): whether every
//     session open on it is known, because the stream showed it start
//     (`ready`), empty (`crash`, `shutdown`) or reconciled with the process
//     table (`snapshot`, pgconn-parse --snapshot). Until then, sessions
//     opened before the stream's first line are invisible: the active
//     counts are a lower bound;
//   - session totals: connects, disconnects, rejects by reason, kept per
//     (user, db, app, host, server) so that filters apply to them too;
//   - the last max_events changes, oldest dropped first, for --history;
//   - the peak of sessions open at once, exact in event time over the whole
//     stream (peak.hpp), counting only the sessions options.filter matches:
//     a peak cannot be summed from parts, so it is kept for what is shown;
//   - with options.durations, the session lengths of the disconnects
//     (duration_ms) in a LogHistogram per name of each dimension of
//     options.durations_by (pgconn-agg's --by), counting only the sessions
//     options.filter matches: like the peak, kept for what is shown. One
//     per name, not per name combination: the 60,000 combinations of a
//     fleet's stream took 58 MB in histograms, where one per name of the
//     dimensions shown holds the same buckets (the merge is exact) in a few
//     MB.
//
// A `reject` naming a session that is open (a connection rejected right
// after `connection authorized`) closes it, and that session never counts
// as open: the peak takes its opening back, and its connect's history
// record (when still kept) and the reject's record change nothing, so the
// history's active and peak never count it either.
//
// Names are interned (names.hpp): each distinct name is stored once per
// dimension and sessions, records and totals hold a combination number
// (who()), so that an event in the steady state costs hash probes and no
// allocation (but the open session's entry in active()). With tens of
// thousands of name combinations those probes miss the cache; prefetch()
// lets a caller that has a batch of events at hand overlap the misses of
// one event with those of the others (issue 15).
//
// Pure: no I/O, no clock; times come from the events. Memory is bounded:
// max_active sessions (the oldest is forgotten past it, counted in
// evicted()), max_events records, max_names names per dimension (past it a
// new name of that dimension is counted under its overflow name, "⟨other
// apps⟩", while the other dimensions keep their names: names_overflowed()),
// kMaxReasons reasons, and max_totals name combinations, a backstop that
// only a stream with many names in several dimensions reaches: past it a
// new combination has its names (but the server) replaced by the overflow
// names, the most diverse dimension first, until it is one already counted
// (totals_overflow() counts them).
#pragma once

#include <climits>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chunked.hpp"
#include "event.hpp"
#include "window/names.hpp"
#include "window/peak.hpp"
#include "window/reason_counts.hpp"
#include "window/sketch.hpp"
#include "timestamp.hpp"

namespace pgconn {

// The names a session or event is counted under.
struct Who {
  std::string user, db, app, host, server;
};

// The same names as views (into a Who, or Window::who()).
struct WhoView {
  std::string_view user, db, app, host, server;
  WhoView() = default;
  WhoView(const Who& w) : user(w.user), db(w.db), app(w.app), host(w.host), server(w.server) {}
  explicit WhoView(const EventView& e)
      : user(e.user), db(e.db), app(e.app), host(e.host), server(e.server) {}
};

enum class Dimension : uint8_t { kDb, kUser, kApp, kHost, kServer };

// Every dimension, in that order.
inline std::vector<Dimension> all_dimensions() {
  std::vector<Dimension> all;
  for (int d = 0; d < 5; ++d) all.push_back(static_cast<Dimension>(d));
  return all;
}

// "db", "user", "app", "host", "server".
std::string_view dimension_name(Dimension d);
bool parse_dimension(std::string_view name, Dimension* out);
std::string_view who_field(const WhoView& w, Dimension d);

// Exact, case-sensitive, ANDed; an unset field matches everything. The value
// "unknown" also matches an empty name (which is how it is shown).
struct Filter {
  std::optional<std::string> field[5];  // by Dimension

  bool empty() const;
  bool matches(const WhoView& w) const;
};

// The overflow name of each dimension (names.hpp), e.g. "⟨other apps⟩".
std::string_view overflow_name(Dimension d);

struct WindowOptions {
  size_t max_events = 10000;
  size_t max_active = 100000;
  size_t max_names = 20000;   // distinct names per dimension
  size_t max_totals = 65536;  // name combinations
  bool durations = false;  // keep durations() (--durations)
  // The dimensions durations() are kept for (pgconn-agg: --by).
  std::vector<Dimension> durations_by = all_dimensions();
  Filter filter;  // the sessions the peak and durations() count (what is shown)
  // For the Prometheus exposition (prom.hpp), all off by default:
  //   - ends: count the disconnects by reason in EndTotals::ends;
  //   - duration_edges_ms (ascending, no repeats): count each disconnect's
  //     duration_ms exactly into EndTotals::edge_counts;
  //   - peak_by_server: keep a peak per server too (server_peaks()).
  bool ends = false;
  std::vector<int64_t> duration_edges_ms;
  bool peak_by_server = false;
};

// A disconnect's reason as EndTotals::ends counts it: "normal" when none was
// logged (the client said goodbye).
inline constexpr std::string_view kNormalEnd = "normal";

class Window {
 public:
  struct Session {
    uint32_t who = 0;      // its names (Window::who())
    int64_t since_ms = 0;  // Timestamp::sort_ms() of its connect
    Timestamp since;       // its connect's time (invalid when it had none)
    int64_t pid = -1;
    uint64_t order = 0;    // unique since the start or clear()
    uint64_t record = 0;   // its connect's record (see record_index())
    std::string via;       // the pooler it was made to, empty for PostgreSQL's own
    // The Window's own: the sessions in the order they opened (the oldest
    // is the one forgotten at max_active), and this one's key.
    Session* older = nullptr;
    Session* newer = nullptr;
    const std::string* key = nullptr;
  };
  // What the stream showed of one server.
  struct ServerView {
    // Every session open on it is known: a `ready`, `crash`, `shutdown` or
    // `snapshot` came. Stays true (a later event cannot hide a session).
    bool complete = false;
    // Wall clock (Timestamp::wall_ms) from which its counts are exact:
    // INT64_MIN when the stream showed it complete before any session
    // event of it (the stream begins with its start), else the time of the
    // event that made it complete. Meaningful only when complete.
    int64_t complete_from_ms = INT64_MIN;
    Timestamp first;             // its oldest event's time, "snapshot":true
                                 // connects left out (invalid: none had one)
    uint64_t ended_before = 0;   // disconnects "matched":false while incomplete
    bool sessions = false;       // a connect, disconnect or update of it came
  };
  // One change kept for --history.
  struct Record {
    int64_t wall_ms = 0;     // local wall clock of the event
    EventType type = EventType::kConnect;
    int8_t delta = 0;        // +1 opened a session, -1 closed one
    uint32_t who = 0;        // its names (Window::who())
  };
  struct Totals {
    uint32_t who = 0;  // its names (Window::who()), one Totals per combination
    uint64_t connects = 0, disconnects = 0;
    ReasonCounts rejects;  // by reason
  };
  // What the Prometheus exposition (prom.hpp) counts besides, per Totals
  // (end_totals()): kept apart, and only with options.ends or
  // options.duration_edges_ms, so that a Totals fits one cache line and
  // 65,536 of them take 3.7 MB, not 8.4.
  struct EndTotals {
    // options.ends: disconnects by reason (kNormalEnd when none was logged).
    ReasonCounts ends;
    // options.duration_edges_ms (n edges): edge_counts[i] counts the
    // disconnects with edge[i-1] < duration_ms <= edge[i] (edge[-1] = -1),
    // edge_counts[n] those above every edge; empty until the first one.
    // duration_n and duration_sum_ms: their number and their sum, exact.
    std::vector<uint64_t> edge_counts;
    uint64_t duration_n = 0, duration_sum_ms = 0;
  };

  explicit Window(WindowOptions options);
  Window(const Window&) = delete;  // sessions point at each other
  Window& operator=(const Window&) = delete;

  // What prefetch() works out of an event ahead of add(): its names'
  // hashes (so that add() hashes none again) and guesses at where its
  // names and counts are.
  struct Hint {
    // Whether prefetch() worked it out: not while the Window is small
    // enough for the cache (kPrefetchFrom), where it would cost more than
    // it spares; then add() hashes the names it needs itself.
    bool set = false;
    uint32_t name[5] = {};  // NameTable::hash() of each name, by Dimension
    uint64_t combo = 0;     // the hash its name combination is filed under
    uint32_t id[5] = {};    // step 1: each name's id, if guessed (else kNone)
    uint32_t totals = UINT32_MAX;  // step 1: its Totals, if guessed
  };

  // Applies one event, in stream order.
  void add(const EventView& e);
  void add(const Event& e) { add(EventView(e)); }
  // The same with the hint prefetch() filled for it. REQUIRES: `hint` was
  // filled by prefetch(e, hint, 0) (any time before: what a hint holds
  // besides the hashes of `e`'s own names is only ever used as an address
  // to prefetch, so it never goes stale).
  void add(const EventView& e, const Hint& hint);

  // Batching (pgconn-agg reads events a block at a time): asks the cache
  // for what add(e) will look up, in kPrefetchSteps steps, each reading
  // what the one before asked for. Step 0 fills `hint` and asks for the
  // slots of the event's names and of their combination; step 1 for each
  // name's entry, for its Totals and, for a disconnect counted in
  // durations(), for its names' histograms; step 2 for each name's bytes
  // and the histograms' buckets. Run a step
  // for every event of the batch before the next step, then add() them in
  // order. Nothing add() computes changes: these only read, and a wrong
  // guess (a new name or combination) costs a wasted load.
  static constexpr int kPrefetchSteps = 3;
  static constexpr size_t kPrefetchFrom = 4096;  // name combinations
  void prefetch(const EventView& e, Hint* hint, int step) const;

  // options.durations: the session lengths of the disconnects of each name
  // of `d` (indexed by name id; ids past size() have none), counting the
  // sessions options.filter matches; empty for a dimension not in
  // options.durations_by.
  const Chunked<LogHistogram>& durations(Dimension d) const { return durations_[static_cast<int>(d)]; }

  // Forgets everything, the open sessions too.
  void clear();

  // SIGHUP, the seeds' `clear` (SPEC.md §4): forgets what was accumulated
  // (totals, rejections, history, durations(), the peak) and keeps the
  // sessions open now and what is known of each server (servers()), so the
  // active count stays right; the peak starts again from the sessions open
  // now (those it counts), at the newest event's time.
  void reset_statistics();

  const std::unordered_map<std::string, Session>& active() const { return active_; }
  const std::deque<Record>& history() const { return history_; }
  // The totals of each name combination counted since the start or the
  // last reset (any order; Totals::who says whose).
  const Chunked<Totals>& totals() const { return totals_; }
  // The EndTotals of totals()[i]; nullptr unless options.ends or
  // options.duration_edges_ms.
  const EndTotals* end_totals(size_t i) const { return keep_ends_ ? &end_totals_[i] : nullptr; }
  // The totals of these names, nullptr when none (names past a cap are
  // looked up as their overflow name).
  const Totals* find_totals(const WhoView& names) const;
  // The names of a combination (Session::who, Record::who, Totals::who):
  // views valid until clear(). Its name ids per dimension: name_id().
  WhoView who(uint32_t combo) const;
  uint32_t name_id(uint32_t combo, Dimension d) const { return combos_[combo].id[static_cast<int>(d)]; }
  size_t combinations() const { return combos_.size(); }
  // The names of one dimension, by id (NameTable::name()).
  const NameTable& names(Dimension d) const { return names_[static_cast<int>(d)]; }
  // Whether a dimension had more than max_names names (the rest counted
  // under its overflow name) since the start or clear().
  bool names_overflowed(Dimension d) const { return names(d).overflowed(); }
  // At most this many distinct reject and end reasons are told apart (the
  // event format has about 30); past it a new one is counted as "other".
  static constexpr size_t kMaxReasons = 1024;
  // Every server seen (by its `server` name; "" is the one unnamed server).
  // At most options.max_totals of them; past it, servers_overflow() is true
  // and the view is never complete.
  const std::map<std::string, ServerView, std::less<>>& servers() const { return servers_; }
  bool servers_overflow() const { return servers_overflow_; }

  // Any event at all since the start or the last clear().
  bool empty() const { return events_ == 0; }
  uint64_t events() const { return events_; }
  // The newest event's time, and the zone its `ts` was written in.
  const Timestamp& newest() const { return newest_; }
  uint64_t evicted() const { return evicted_; }
  // History records dropped at max_events since the start or clear().
  uint64_t dropped() const { return dropped_; }
  // Events whose name combination was past max_totals (see above).
  uint64_t totals_overflow() const { return totals_overflow_; }
  // Sessions open at once (see above).
  const PeakTracker& peak() const { return peak_; }
  // options.peak_by_server: the same per server (the sessions the filter
  // counts), for every server that had a session since the start or clear().
  const std::map<std::string, PeakTracker, std::less<>>& server_peaks() const { return server_peaks_; }
  const WindowOptions& options() const { return options_; }

 private:
  struct Combo {
    uint32_t id[5];  // name ids by Dimension
  };
  const std::string& session_key(const EventView& e);
  // Opens (or, `*known`, opens again) the session of `key`.
  Session& open(const std::string& key, const EventView& e, const Timestamp& t, bool* known);
  using ActiveIt = std::unordered_map<std::string, Session>::iterator;
  ActiveIt erase_session(ActiveIt it);
  void unlink(Session* s);
  // The combination of these name ids (adding it; see max_totals).
  // `hash`: combo_hash(ids) when the caller has it.
  uint32_t combo_of(uint32_t (&ids)[5], const uint64_t* hash = nullptr);
  // REQUIRES: hash == combo_hash(ids).
  uint32_t find_combo(const uint32_t (&ids)[5], uint64_t hash, size_t* slot) const;
  // The hash a combination is filed under: of its names' hashes (not of
  // its ids), so that prefetch() can work it out before interning.
  uint64_t combo_hash(const uint32_t (&ids)[5]) const;
  // Whether the peak counts a session of these names.
  bool peak_counts(uint32_t who) const { return peak_all_ || counts_[who]; }
  std::string_view server_of(uint32_t who) const {
    return names_[4].name(combos_[who].id[4]);
  }
  // The peak and, with options.peak_by_server, its server's peak, of a
  // session of these names.
  void peak_open(uint32_t who, const Timestamp& t, uint64_t id);
  void peak_close(uint32_t who, const Timestamp& t, int64_t n = 1);
  void peak_retract(uint32_t who, uint64_t id, const Timestamp& t);
  void count_duration(EndTotals* totals, int64_t ms) const;
  // options.durations: adds a disconnect's length to its names' histograms.
  void add_duration(uint32_t who, int64_t ms);
  void record(EventType type, int8_t delta, int64_t wall_ms, uint32_t who);
  // The history_ index of a record number, or SIZE_MAX when it is no longer kept.
  size_t record_index(uint64_t record) const;
  ServerView* server_view(std::string_view server, const Timestamp& t);
  void end_sessions(std::string_view server, std::string_view via, int64_t wall, const Timestamp& t);
  // The Totals of `who`, made when it has none (and its EndTotals), and
  // its index in totals_.
  Totals& totals_for(uint32_t who, uint32_t* index = nullptr);
  // Asks the cache for the totals of `who` ahead of totals_for().
  void prefetch_totals(uint32_t who) const {
    const uint32_t i = combo_totals_[who];
    if (i != UINT32_MAX) __builtin_prefetch(&totals_[i]);
  }
  // The event's name ids, interned (with the hashes of `hint` when set).
  void intern(const EventView& e, const Hint& hint, uint32_t (&ids)[5]);
  // parse_iso_time(), with the last time kept to parse the next faster.
  bool parse_time(std::string_view ts, Timestamp* t);
  // Whether the event names the same user, db, host and server as `who`,
  // and its app or none.
  bool same_names(uint32_t who, const EventView& e) const;
  // Fills the ids left empty (user, db, app, host) with those of `who`;
  // whether any changed.
  bool fill_from(uint32_t who, uint32_t (&ids)[5]) const;
  // `reason` as stored in reasons_ (kMaxReasons: "other" past it).
  std::string_view intern_reason(std::string_view reason);

  WindowOptions options_;
  bool peak_all_;  // no filter: the peak counts every session
  std::unordered_map<std::string, Session> active_;
  Session* oldest_ = nullptr;   // the list of Session::older/newer
  Session* youngest_ = nullptr;
  uint64_t next_order_ = 0;
  std::deque<Record> history_;
  Chunked<Totals> totals_;  // chunked: growing never copies (chunked.hpp)
  bool keep_ends_;               // options.ends or options.duration_edges_ms
  Chunked<EndTotals> end_totals_;  // one per Totals, by index, when keep_ends_
  Chunked<LogHistogram> durations_[5];  // by Dimension, by name id (durations())
  bool durations_of_[5] = {};           // the dimensions of options.durations_by
  // The reasons Totals count (ReasonCounts holds views of them), until clear().
  std::set<std::string, std::less<>> reasons_;
  NameTable names_[5];              // by Dimension
  // By combination, apart from the names so that an event touches few
  // cache lines: its index in totals_ (or none since the last reset), and
  // whether the peak counts its sessions (options.filter).
  std::vector<Combo> combos_;
  std::vector<uint32_t> combo_totals_;
  std::vector<bool> counts_;
  // Open addressing over the combinations: the top of its hash and
  // combo + 1 (0 for a free slot), 8 bytes, so that the table of tens of
  // thousands stays in the cache; a tag that matches is checked against
  // combos_ (prefetch(), which has no ids yet, goes by the tag alone).
  struct ComboSlot {
    uint32_t tag;
    uint32_t combo;
  };
  std::vector<ComboSlot> combo_slots_;
  std::string last_server_;         // server_view()'s last answer, for the next event
  ServerView* last_view_ = nullptr;
  uint64_t events_ = 0;
  uint64_t evicted_ = 0;
  uint64_t totals_overflow_ = 0;
  uint64_t dropped_ = 0;
  uint64_t records_before_ = 0;  // records forgotten by reset_statistics()
  std::map<std::string, ServerView, std::less<>> servers_;
  bool servers_overflow_ = false;
  Timestamp newest_;
  PeakTracker peak_;
  std::map<std::string, PeakTracker, std::less<>> server_peaks_;
  std::string key_;  // the current event's session key, reused
  uint32_t who_ = 0;  // the current event's names
  std::string last_ts_;  // parse_time(): the last `ts` parsed and its time
  Timestamp last_time_;
};

}  // namespace pgconn
