// Snapshot: reconciles the tracker's sessions with the server's running
// client backends, read from the process table (proc_table.hpp), for
// pgconn-parse --snapshot. No database login is needed: /proc is enough.
//
// reconcile(), called once when the input reaches its live end:
//   - settles what the tracker holds (every held connection becomes open);
//   - a session backend (client or walsender, past authentication) whose
//     pid the tracker does not know becomes a `connect` with
//     "snapshot": true, ts = the process start, user/db/host/port from its
//     title, app unknown;
//   - a session the tracker holds open whose pid now belongs to a process
//     started over 2 s after the session's start line (the pid was reused)
//     ends at once with a `disconnect`, reason `lost`, at the time of the
//     scan (the new process is then opened as above);
//   - a session the tracker holds open whose process is gone waits for its
//     grace (below), then, if the log has not ended it meanwhile, ends with
//     a `disconnect` at the time of the scan: reason `lost`, or the reason
//     of a FATAL that ended it (`terminated`, ...) if one was read and no
//     `disconnection` line followed (log_disconnections off);
//   - then, once no session waits, a `server` event with state "snapshot",
//     at the time of the scan: from here the view of this server is
//     complete.
//
// The grace. A backend writes its `disconnection` line (or the FATAL that
// ends it) into the logging collector's pipe and exits; the collector
// writes it to the file a little later, and the reader in front of us
// (tail -F, pgconn-tail) hands it on later still. A session that ended a
// few milliseconds before the scan thus has its process gone while its
// last line is on the way: ended as `lost` at once, it would get the wrong
// reason and time, and its real line would then come as an unmatched
// disconnect. So it waits kLostGraceMs of the caller's clock from the
// scan; a line of the log that ends it within that time (its
// `disconnection`, with the real reason and duration; a reject; a crash; a
// new session of its pid) stands, and nothing more is written for it.
// 1.5 s: the collector writes each line as it reads it (line-buffered),
// within milliseconds unless the host starves it; pgconn-tail follows with
// inotify (else a 100 ms poll) and `tail -F` with inotify (else a 1 s
// poll). So 1.5 s covers a polling tail plus half a second of a starved
// collector, and a longer grace would only keep a count too high longer.
// A gone session never waits when nothing more can be read (a regular
// file's end: reconcile() without a clock), and end_grace() ends every
// waiting one at once (end of input, SIGINT/SIGTERM): nothing is left out.
// The caller ticks after each block of the live stream and when its wait
// times out (as LogParser::tick, in the same input loop; no thread), so
// the grace ends on time on a busy stream too. The log's lines reach the
// tracker within LogParser::kLiveSettleMs, far inside the grace.
//
// The "snapshot" event tells pgconn-agg that its count is exact, so it is
// written only once no session waits: at once when none is gone, else at
// the end of the grace. Until then agg's count may be high by the waiting
// sessions and it shows the view incomplete: for at most the grace.
// A pid reused during the grace (the old session ended by the new
// session's `connection received`) does not end the new session: a waiting
// session is known by its session key, not its pid.
//
// Backends the tracker knows in any stage (being set up, ending) are left
// to the log. Backends still authenticating are not sessions yet: their
// `connection authorized` line, written after the scan, opens them.
//
// Afterwards the snapshot is the tracker's ProcessProbe: a `connection
// received`/`authorized` line of a pid the snapshot opened joins that
// session (no second connect) when the pid's process is still the one the
// scan saw (same start in /proc/PID/stat), or, if it is gone, when the
// line's time is within 2 s of that process's start.
//
// Times are written as the log's newest line has them: in UTC, at its
// offset, or, for a zone abbreviation that is the host's own ("CEST"), as
// local wall-clock time with that `tz`; with no line yet, or another
// abbreviation, at the host's local offset.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "lifecycle/proc_table.hpp"
#include "result.hpp"
#include "lifecycle/tracker.hpp"

namespace pgconn {

struct SnapshotOptions {
  std::string proc_root = "/proc";
  int64_t postmaster = -1;        // --snapshot=PID; -1: find it
  int64_t ticks_per_second = 0;   // 0: sysconf(_SC_CLK_TCK)
};

struct SnapshotReport {
  int64_t postmaster = -1;
  uint64_t connects = 0;      // sessions the log had not shown
  uint64_t lost = 0;          // sessions the log held open, ended `lost` at once
  uint64_t waiting = 0;       // sessions the log held open that are gone: in their grace
  uint64_t names_unknown = 0; // connects whose title's names were ambiguous
};

class Snapshot : public ProcessProbe {
 public:
  // REQUIRES: tracker outlives the snapshot. Installs itself as its probe.
  Snapshot(Tracker* tracker, SnapshotOptions options);
  ~Snapshot() override;

  // How long a session whose process is gone waits for its end to be read.
  static constexpr int64_t kLostGraceMs = 1500;

  // Reconciles (see above) as of `now_ms` (milliseconds since the epoch).
  // `clock_ms`: the caller's monotonic clock (ms) on a live stream, from
  // which the grace runs; -1: nothing more will be read, gone sessions end
  // at once. On error nothing is written and the message is the one-line
  // warning (the count then stays what the log shows).
  // REQUIRES: called at most once.
  Result<SnapshotReport> reconcile(int64_t now_ms, int64_t clock_ms = -1);

  // Sessions are waiting for their grace (the "snapshot" event is not
  // written yet).
  bool waiting() const { return grace_end_ms_ >= 0; }
  // At `clock_ms` (the clock of reconcile()): once the grace is over, ends
  // the waiting sessions the log has not ended and writes the "snapshot"
  // event. Call after each feed of the live stream and when a wait times
  // out. Returns false once the event sink said stop.
  bool tick(int64_t clock_ms);
  // Milliseconds until tick() has something to do; -1: nothing waits.
  int64_t next_tick_ms(int64_t clock_ms) const;
  // Ends the grace now (end of input, a signal): as tick() at its end.
  bool end_grace();

  bool same_process(int64_t pid, uint64_t start_ticks, const Timestamp& line_time) override;

 private:
  struct EventTime {
    std::string ts, tz;
  };
  EventTime format_time(int64_t utc_ms) const;

  struct Seen {
    int64_t host_pid;
    int64_t start_ms;
  };
  Tracker* tracker_;
  SnapshotOptions options_;
  std::unordered_map<int64_t, Seen> seen_;  // log pid -> its process at the scan
  // The grace: the sessions gone at the scan, by pid and session key.
  struct Waiting {
    int64_t pid;
    std::string session;
  };
  std::vector<Waiting> waiting_;
  std::string server_;     // of the scan
  EventTime scan_time_;    // the time their events carry
  int64_t grace_end_ms_ = -1;  // -1: nothing waits
};

}  // namespace pgconn
