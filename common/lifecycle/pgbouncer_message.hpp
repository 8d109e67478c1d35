// Classifies the message of one PgBouncer line (pgbouncer.md §3): a client's
// login attempt, the close of a connection and why, the lines that tell a
// refusal is coming, and the process's start and end. Pure string work: no
// state, no I/O, no allocation.
//
// The reason lists here are the single place where PgBouncer's close texts
// become the stream's reasons (reject categories and disconnect reasons,
// pgconn-events(5)).
#pragma once

#include <cstdint>
#include <string_view>

namespace pgconn {

enum class BouncerKind : uint8_t {
  kNone,         // nothing about a client's lifecycle (stats:, S- lines, …)
  kLogin,        // C-: login attempt: db=… user=… [tls=…] [replication=…]
  kClose,        // C-: closing because: REASON (age=N[s])
  kRefusing,     // C-: a line that comes before a refusing close (ERROR auth
                 // detail, "login failed: …", "no such user: …"); `reason`
  kProcessUp,    // process up: … (a start)
  kShuttingDown, // got SIGINT/SIGTERM, shutting down … (clients may still close)
  kExit,         // fast exit, SHUTDOWN command issued, … dropped, exiting
  kCrash,        // FATAL @src/…: the process died
  kAppName,      // C-, DEBUG (verbose >= 1): using application_name: NAME (`text`)
};

// A client's socket prefix ("C-0x55d8f18f9e30") as a number: `pointer`
// the value of its hex digits and `digits` their count (which tells "0x0f"
// from "0xf"). A prefix that is not "C-0x" and 1 to 16 lower-case hex
// digits: `pointer` a hash of its text, `digits` 255.
struct SocketId {
  uint64_t pointer = 0;
  uint8_t digits = 0;
};
SocketId socket_id(std::string_view socket);

struct BouncerMessage {
  BouncerKind kind = BouncerKind::kNone;
  SocketId socket;            // a client's line (socket "C…"): socket_id(socket)
  std::string_view db, user;  // kLogin: db= and user= as the client asked
  bool replication = false;   // kLogin: replication=yes|database (1.23+)
  std::string_view text;      // kClose: the reason as logged
  int64_t age_s = -1;         // kClose: (age=N), seconds since accept
  bool reject = false;        // kClose: a refusal (reason is a reject category)
  bool cancel = false;        // kClose: a cancel-request connection, no session
  // kClose: reject category ("too_many_clients", …) or disconnect reason
  // ("client_lost", …, empty for a normal close); kRefusing: the category
  // the coming refusal has.
  std::string_view reason;
};

// `severity` as logged ("LOG", …; empty from syslog); `socket` the socket
// prefix ("C-0x…", empty for process lines); `message` what follows it.
BouncerMessage classify_pgbouncer(std::string_view severity, std::string_view socket,
                                  std::string_view message);

// Classifies a close reason (the text of "closing because: TEXT (age=…)").
void classify_close_reason(std::string_view text, BouncerMessage* m);

}  // namespace pgconn
