// ProcTable: the PostgreSQL servers running on this host and their client
// backends, read from /proc (Linux). Any user can read another user's
// /proc/PID/{cmdline,stat,status} unless /proc is mounted with hidepid.
//
// A scan reads, for every process: its title (cmdline up to the first NUL,
// proc_title.hpp), its parent pid and start time in clock ticks since boot
// (stat fields 4 and 22), its command name (stat field 2) and its pid in
// its own pid namespace (the last number of NSpid in status: the pid a
// PostgreSQL in a container writes in its log). btime in <root>/stat turns
// the start into a wall-clock time (to ~1 s: btime is whole seconds).
//
// The root is a parameter so that tests can point it at a directory of fake
// files laid out like /proc. Nothing here prints; problems come back as
// Result errors whose text is the tool's one-line warning.
#pragma once

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lifecycle/proc_title.hpp"
#include "result.hpp"

namespace pgconn {

struct ProcEntry {
  int64_t pid = -1;        // in /proc's pid namespace
  int64_t ppid = -1;
  int64_t ns_pid = -1;     // in the process's own namespace (= pid without NSpid)
  uint64_t start_ticks = 0;
  std::string comm;        // "postgres"
  std::string title;       // cmdline up to its first NUL
};

struct ProcScan {
  std::vector<ProcEntry> procs;   // sorted by pid
  int64_t boot_ms = 0;            // boot time, ms since the epoch (btime; to the
                                  // millisecond from the clocks for the real /proc)
  int64_t ticks_per_second = 100;
  uint64_t unreadable = 0;        // entries listed but not readable (hidepid=1)
  bool hidepid = false;           // <root>/self/mountinfo shows hidepid on /proc

  // The entry of `pid` (this namespace), or nullptr.
  const ProcEntry* find(int64_t pid) const;
  // Milliseconds since the epoch at which `e` started.
  int64_t start_ms(const ProcEntry& e) const {
    return boot_ms + static_cast<int64_t>(e.start_ticks) * 1000 / ticks_per_second;
  }
};

// Reads one process (`pid` in /proc's namespace); nullopt when it is gone
// or cannot be read.
std::optional<ProcEntry> read_proc(const std::string& root, int64_t pid);

// Reads every process under `root` ("/proc"). Processes that end during
// the scan are skipped. For the root "/proc" the boot time comes from
// CLOCK_REALTIME - CLOCK_BOOTTIME (btime is whole seconds, which would make
// every start up to a second early). Fails only when <root>/stat has no btime (no
// /proc at all).
Result<ProcScan> scan_proc(const std::string& root, int64_t ticks_per_second);

// One client backend of a server (a session: ProcTitle::is_session()).
struct ServerBackend {
  int64_t pid = -1;        // as the server's log writes it (its own namespace)
  int64_t host_pid = -1;   // in /proc's namespace
  uint64_t start_ticks = 0;
  int64_t start_ms = 0;
  ProcTitle title;
};

struct ServerView {
  int64_t postmaster = -1;         // in /proc's namespace
  std::string cluster_prefix;      // "16/main: " or ""
  std::vector<ServerBackend> sessions;
  uint64_t setting_up = 0;         // backends still authenticating (not sessions yet)
  uint64_t names_unknown = 0;      // sessions whose title's names are ambiguous
};

// Picks the server and lists its sessions:
//  - `explicit_pid` >= 0 (--snapshot=PID): that postmaster, or one of its
//    children (this namespace's pid);
//  - else the postmaster whose children (or itself) carry the most of
//    `log_pids` (pids as the log wrote them, newest first): a tie is an
//    error naming the candidates;
//  - else, with no log pids, the only postmaster on the host;
//  - else, when no process of the log runs any more (a current log file
//    whose sessions have all ended; the pool's sessions are older than
//    it), the only postmaster on the host if it started before the log's
//    newest line (`log_newest_ms`, ms since the epoch; INT64_MIN: not
//    known). Several postmasters, or one started after that line: an error.
// A postmaster is a process named postgres (or postmaster) whose parent is
// not; its children with titles that do not start with "postgres: " make
// an error (titles not set: --snapshot cannot tell sessions from workers).
Result<ServerView> find_server(const ProcScan& scan, const std::vector<int64_t>& log_pids,
                               int64_t explicit_pid, int64_t log_newest_ms = INT64_MIN);

}  // namespace pgconn
