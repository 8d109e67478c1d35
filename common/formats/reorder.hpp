// Reorderer: puts the lines of one backend back in order by their session
// line number (%l, csvlog session_line_num, jsonlog line_num, CloudNativePG's
// record.session_line_num) before the tracker sees them.
//
// Collected logs can arrive out of order (log shippers batch, Kubernetes
// and Cloud Logging merge streams). Within one backend (keyed by server and
// session id, else server and pid) the numbers count up from 1 with no gap
// in what PostgreSQL wrote; every numbered line, also a DETAIL or HINT line
// of a stderr log, must be shown to add() so a gap means a line still to
// come. A line past a gap is held until the missing line arrives or the
// settle window passes, then the backend's held lines leave in number order:
//   - on log time: a line logged `window_ms` or more after the first held
//     one (add() checks this on every line with a time);
//   - on a live stream: release_before(mark()) once the caller's wall-clock
//     window is over (LogParser::tick), release_all() when it goes idle and
//     at the end of an input.
// The first line seen of a backend starts its count, unless it is a line of
// a connection's set-up (`connection …`, a FATAL) past line 1: that one is
// held for the window too, in case `connection received` (line 1) comes
// late. A line whose number was already passed (it came later than the
// window) is handed on where it comes and counted in stats().late; a line 1
// there starts a new process with a reused pid when the key is the pid.
//
//
// Sparse mode (set_sparse(true)): the caller shows only some lines, those
// that can take part in a connection's lifecycle (a marker scan skipped the
// rest, LogParser), so gaps in a backend's numbers are the lines it
// skipped, not lines still to come. A line past a gap then leaves at once,
// except while the backend is setting up a connection (its lines so far end
// with `connection received` or `connection authenticated`): the lines that
// follow those are lifecycle lines, never skipped, so a gap there is a line
// still to come, and the line waits as above. A file written by one server
// has no late lines, and then both modes hand on the same lifecycle lines
// in the same order; on collected logs out of order, only the set-up lines
// are put back in order in this mode. A line keyed by pid whose number was
// passed is a new process there (its line 1 may have been skipped).
//
// Backends are keyed by numbers where they can be: the pid, or the start
// time and pid of a session id of PostgreSQL's form ("65e1a8c0.7d0", %c);
// a server name (syslog host, envelope instance) or a session id of
// another form is kept as text beside them.
//
// Memory is bounded (about 3 MB at most): at most max_per_session lines
// held per backend and max_held in all, each with the first max_message
// bytes of its message (enough for every lifecycle message); past either cap the backend that has waited longest is
// released as it is (number order, the gap skipped) and counted in
// stats().overflow. Once there are max_sessions backends, those with
// nothing held are forgotten down to half of that: first those that ended
// (their last line handed on a `disconnection` or a FATAL: a backend writes
// no line after those, and a client backend's ends with one of them when
// log_disconnections is on), then those seen least lately. A live backend
// forgotten loses its count: its next set-up line or FATAL past line 1
// would wait the window for a line 1 long gone (the bench's 1 M-line
// csvlog: an authentication timeout 60 s after its line 1, with more than
// max_sessions backends come and gone between).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "formats/log_record.hpp"

namespace pgconn {

struct ReorderOptions {
  int64_t window_ms = 1000;       // SPEC §2: a line logged >= 1 s later settles
  size_t max_per_session = 64;
  size_t max_held = 2048;
  size_t max_sessions = 16384;
  size_t max_message = 1024;      // a held report keeps this much of its message
};

struct ReorderStats {
  uint64_t held = 0;      // lines that waited for an earlier one
  uint64_t late = 0;      // lines that came after a later line had left
  uint64_t overflow = 0;  // backends released early at a cap
};

class Reorderer {
 public:
  // REQUIRES: `out` outlives the reorderer.
  explicit Reorderer(RecordSink* out, ReorderOptions options = {});
  ~Reorderer();

  // One numbered line: a report (`report`, handed on to `out`), or a
  // secondary line of one (DETAIL…; it only takes its place in the count).
  // A record without a line number or without a pid and session id is
  // handed on at once. A line that is handed on during this call without
  // being held is handed on as `r` itself (the same object; a held line
  // leaves as a copy), so the sink can tell it by its address. Returns
  // false once `out` said stop.
  bool add(const LogRecord& r, bool report);

  bool holding() const { return held_total_ > 0; }

  // Sparse mode on or off (see above); off by default. May change between
  // lines.
  void set_sparse(bool sparse) { sparse_ = sparse; }

  // A position in the order lines were held: release_before(mark())
  // later releases every backend holding a line now.
  uint64_t mark() const { return next_seq_; }
  bool release_before(uint64_t mark);
  bool release_all();

  // Releases everything held, then forgets every backend's count: the
  // numbers that come next belong to another sequence (csvlog, jsonlog and
  // %l each count a backend's lines on their own). Returns release_all().
  bool restart_counts();

  const ReorderStats& stats() const { return stats_; }

 private:
  // A held line, with its own copy of the record's text. The record's views
  // point into `text`, so a Held never moves (a short string moves with
  // its bytes): the vector holds pointers.
  struct Held {
    LogRecord r;
    std::string text;
    bool report = false;
  };
  struct Session {
    int64_t next = -1;        // the number expected next; -1: not known yet
    std::vector<std::unique_ptr<Held>> held;  // sorted by line number
    uint64_t since_seq = 0;   // when the current wait began (next_seq_)
    int64_t since_ms = 0;     // its log time (INT64_MIN: none)
    bool setup = false;       // the last line handed on was a set-up line
    bool ended = false;       // the last report handed on ended the backend
    uint64_t seen = 0;        // when a line of it last came (adds_)
  };
  // A backend: start -1, keyed by pid; start >= 0, by a session id of
  // PostgreSQL's form (its start time and pid); start -2, by `text` alone.
  // `text`: the server, and after a '\0' a session id of another form.
  struct Key {
    int64_t start = -1;
    int64_t pid = -1;
    std::string text;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Waiting {
    uint64_t seq;
    int64_t ms;
    Key key;
  };

  static void make_key(const LogRecord& r, Key* key);
  bool pass(const LogRecord& r, bool report);
  bool pass_line(Session& s, const LogRecord& r, bool report);
  bool gap_skipped(const Session& s) const { return sparse_ && !s.setup; }
  void hold(Session& s, const Key& key, const LogRecord& r, bool report);
  bool drain(Session& s);
  bool release(Session& s);
  bool live(const Waiting& w) const;
  void prune();
  bool release_front();
  void forget_idle();

  RecordSink* out_;
  ReorderOptions options_;
  ReorderStats stats_;
  bool stopped_ = false;
  bool sparse_ = false;
  std::unordered_map<Key, Session, KeyHash> sessions_;
  std::deque<Waiting> waiting_;  // sessions in the order their wait began; lazily pruned
  size_t held_total_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t adds_ = 0;  // lines add() took a key of
  Key key_;  // scratch
};

}  // namespace pgconn
