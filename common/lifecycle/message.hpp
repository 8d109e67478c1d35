// Classifies the message text of one PostgreSQL report: is it a line of the
// connection lifecycle (pg-log-formats.md §3-§6), and what does it say?
// Pure string work: no state, no I/O, no allocation.
#pragma once

#include <cstdint>
#include <string_view>

namespace pgconn {

enum class MsgKind : uint8_t {
  kNone,              // not a lifecycle line
  kReceived,          // connection received: host=… [port=…]
  kAuthenticated,     // connection authenticated: … (14+): no event
  kAuthorized,        // [replication ]connection authorized: user=… …
  kReady,             // connection ready: setup total=… (18)
  kDisconnection,     // disconnection: session time: …
  kReject,            // a FATAL that refuses a connection; `reason` is its category
  kSessionEnd,        // why the session's disconnection line will follow; `reason`
  kServerReady,       // database system is ready to accept [read-only ]connections
  kShutdownRequest,   // received smart/fast shutdown request
  kServerShutdown,    // received immediate shutdown request, database system is shut down
  kServerCrash,       // terminating any other active server processes, …reinitializing
  kMalformed,         // starts like a lifecycle line but does not parse
};

struct Message {
  MsgKind kind = MsgKind::kNone;
  // Names the message itself carries; views into the message text.
  std::string_view user, db, app, host;
  int32_t port = -1;
  int64_t duration_ms = -1;   // kDisconnection
  bool replication = false;   // kAuthorized: a walsender
  bool has_db = false;        // kAuthorized/kDisconnection: a database= was logged
  bool read_only = false;     // kServerReady: "read-only connections" (a hot standby)
  // kReject: "too_many_clients", "auth_failed", …; kSessionEnd: "terminated", …
  std::string_view reason;
  // kReject: true for the checks PostgreSQL makes after logging `connection
  // authorized` (role, database, limits, reserved slots: §4b).
  bool after_authorization = false;
};

// Every reject category classify_message() and PgBouncer's log
// (pgbouncer_message) give, in the order of pgconn-events(5). A new
// category goes here too: pgconn-agg --prom writes a series for each from
// the start (tests/prom_cli_test.sh checks that every category of
// message.cpp and pgbouncer_message.cpp is in this list).
inline constexpr std::string_view kRejectReasons[] = {
    "too_many_clients", "reserved_slots",     "role_limit",  "db_limit",           "auth_failed",
    "no_hba_entry",     "hba_reject",         "no_database", "db_not_accepting",   "no_role",
    "login_not_allowed", "starting_up",       "shutting_down", "recovery",         "auth_timeout",
    "server_unavailable", "other"};

// REQUIRES: `message` has no SQLSTATE prefix (strip_sqlstate). `severity` is
// the report's severity word ("LOG", "FATAL", ...): rejects and session ends
// are only FATAL (and a few LOG/WARNING) reports.
Message classify_message(std::string_view severity, std::string_view message);

}  // namespace pgconn
