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
//   - a session the tracker holds open whose process is gone (or whose pid
//     now belongs to a process started over 2 s after the session's start
//     line: the pid was reused) ends with a `disconnect`, reason `lost`, at
//     the time of the scan;
//   - then a `server` event with state "snapshot": from here the view of
//     this server is complete.
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

#include "proc_table.hpp"
#include "result.hpp"
#include "tracker.hpp"

namespace pgconn {

struct SnapshotOptions {
  std::string proc_root = "/proc";
  int64_t postmaster = -1;        // --snapshot=PID; -1: find it
  int64_t ticks_per_second = 0;   // 0: sysconf(_SC_CLK_TCK)
};

struct SnapshotReport {
  int64_t postmaster = -1;
  uint64_t connects = 0;      // sessions the log had not shown
  uint64_t lost = 0;          // sessions the log held open that are gone
  uint64_t names_unknown = 0; // connects whose title's names were ambiguous
};

class Snapshot : public ProcessProbe {
 public:
  // REQUIRES: tracker outlives the snapshot. Installs itself as its probe.
  Snapshot(Tracker* tracker, SnapshotOptions options);
  ~Snapshot() override;

  // Reconciles (see above) as of `now_ms` (milliseconds since the epoch).
  // On error nothing is written and the message is the one-line warning
  // (the count then stays what the log shows).
  Result<SnapshotReport> reconcile(int64_t now_ms);

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
};

}  // namespace pgconn
