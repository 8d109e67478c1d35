// ProcTitle: what a PostgreSQL server process says it is in its process
// title (/proc/PID/cmdline), parsed without I/O.
//
// PostgreSQL (ps_status.c, every version from 9.6 to 18) writes the title as
//   "postgres: " [cluster_name ": "] FIXED " " ACTIVITY
// where FIXED is, for a client backend (postmaster.c's BackendInitialize,
// backend_startup.c from 18),
//   USER " " DB " " HOST["(" PORT ")"]          HOST is "[local]" for a Unix
//                                               socket, an IPv4 or IPv6
//                                               address, or a name with
//                                               log_hostname
// and for a walsender (streaming replication)
//   "wal sender process " USER " " HOST(PORT)   9.6
//   "walsender " USER " " HOST(PORT)            10 to 16
//   "walsender " USER [" " DB] " " HOST(PORT)   17 and 18 (DB: logical)
// ACTIVITY is the state: "authentication" (<= 12) or "initializing" (>= 13)
// while the connection is set up, then "startup", "idle", "idle in
// transaction", "idle in transaction (aborted)", "fastpath function call",
// a command tag ("SELECT", "INSERT", "BIND", ...) possibly followed by
// " waiting", or for a walsender "streaming 0/3000060", "catchup". With
// update_process_title = off the fixed part is still written once
// (init_ps_display forces it) and the activity stays empty.
//
// The other processes are not sessions: "checkpointer[ process]",
// "background writer", "writer process", "walwriter", "wal writer process",
// "autovacuum launcher", "autovacuum worker[ process] DB", "stats
// collector", "logger", "archiver ...", "startup ...", "walreceiver ...",
// "wal receiver process ...", "walsummarizer", "io worker N", "slotsync
// worker", "logical replication launcher|worker ...", "parallel worker for
// PID N", "bgworker: NAME" (<= 10), any background worker's own name.
//
// Names with spaces. The title does not quote user and database names, so
// the parser anchors on the host token: the LAST space-separated token that
// is "[local]" or "HOST(PORT)" (the activity never contains one). What lies
// before it, once the cluster prefix is taken off, is "USER DB": with
// exactly one space the split is certain; with more (a user or a database
// name holding a space) it is not, and the title is still a client session
// (it is counted) but `names_known` is false and user and db are empty. A
// cluster_name is taken off as the prefix the caller passes (read from the
// server's checkpointer title, cluster_prefix()); without one, a first
// token ending in ':' is a cluster name only when at least two more tokens
// come before the host. Known limits, by construction of the title: a user
// named "walsender" (or "wal") reads as a walsender, and a user
// "autovacuum" connected to a database "worker" as an autovacuum worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgconn {

struct ProcTitle {
  enum class Kind : uint8_t {
    kNotPostgres,  // no "postgres: " prefix (the postmaster's own argv, other programs)
    kClient,       // a client backend: a session
    kReplication,  // a walsender: a replication session
    kSettingUp,    // a client backend still authenticating ("authentication", "initializing")
    kOther,        // a server process that is not a session (checkpointer, workers, ...)
  };
  Kind kind = Kind::kNotPostgres;
  bool names_known = false;  // kClient/kReplication/kSettingUp: user (and db) are certain
  std::string user, db, host;  // db empty for a physical walsender
  int32_t port = -1;           // -1 for [local] or when not logged
  std::string state;           // the activity: "idle", "SELECT waiting", "" (titles off)
  bool is_session() const { return kind == Kind::kClient || kind == Kind::kReplication; }
};

// Parses one title (the cmdline up to its first NUL). `cluster_prefix`:
// the "CLUSTER: " text every title of this server starts with after
// "postgres: ", when known (cluster_prefix()); nullopt when not known.
ProcTitle parse_proc_title(std::string_view title,
                           std::optional<std::string_view> cluster_prefix = std::nullopt);

// The cluster prefix of a server from its checkpointer's title: "" for
// "postgres: checkpointer", "16/main: " for "postgres: 16/main: checkpointer"
// (9.6 and 10: "checkpointer process"). nullopt when `title` is not a
// checkpointer's.
std::optional<std::string> cluster_prefix(std::string_view title);

}  // namespace pgconn
