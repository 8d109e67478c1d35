// Event: one connection-lifecycle event, the unit of the stream that
// pgconn-parse writes and pgconn-agg and pgconn-watch read (SPEC.md §2).
//
// Every optional field is "unknown" when empty (strings), negative (numbers)
// or kUnset (flags); unknown fields are left out of the encoded line.
// EventView and EventRef hold the same fields as views and as references.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgconn {

// kUpdate: an open session's names changed (its application_name, as
// pg_stat_activity shows it); it carries the session key and the new names.
enum class EventType { kConnect, kDisconnect, kReject, kServer, kUpdate };

// Three-valued flag for `replication`, `snapshot` and `matched`.
enum class Flag : int8_t { kUnset = -1, kFalse = 0, kTrue = 1 };

struct Event {
  EventType type = EventType::kConnect;
  std::string ts;       // RFC 3339, as logged (see timestamp.hpp)
  std::string tz;       // unresolved zone abbreviation, else empty
  int64_t pid = -1;
  std::string session;  // %c when logged, else a key unique in this stream
  std::string user, db, app, host;
  int32_t port = -1;
  Flag replication = Flag::kUnset;  // written only when true
  Flag snapshot = Flag::kUnset;     // connect from the process table; only true
  int64_t duration_ms = -1;
  std::string reason;   // reject category or disconnect reason
  std::string message;  // reject: PostgreSQL's text of the FATAL line
  Flag matched = Flag::kUnset;
  std::string state;    // server: ready, shutdown, crash
  std::string server;   // --label or the syslog host
  std::string via;      // the pooler a client session went through ("pgbouncer")
};

// The same fields as views, for readers that only look: the event stream's
// decoder hands these out without copying the line's strings. Views point
// into the decoded line or into an Event; they live as long as those.
struct EventView {
  EventType type = EventType::kConnect;
  std::string_view ts, tz;
  int64_t pid = -1;
  std::string_view session, user, db, app, host;
  int32_t port = -1;
  Flag replication = Flag::kUnset;
  Flag snapshot = Flag::kUnset;
  int64_t duration_ms = -1;
  std::string_view reason, message;
  Flag matched = Flag::kUnset;
  std::string_view state, server, via;

  EventView() = default;
  // Views into `e` (implicit: every reader of an Event can read this).
  EventView(const Event& e)
      : type(e.type), ts(e.ts), tz(e.tz), pid(e.pid), session(e.session), user(e.user),
        db(e.db), app(e.app), host(e.host), port(e.port), replication(e.replication),
        snapshot(e.snapshot), duration_ms(e.duration_ms), reason(e.reason), message(e.message),
        matched(e.matched), state(e.state), server(e.server), via(e.via) {}
};

// A pooler client's connect or disconnect as the tracker keeps it (its
// names stay in the client's slot): the strings are referenced, not
// copied. The fields an Event has and this lacks are unknown (snapshot,
// message, state). Valid only during the sink call that receives it.
// REQUIRES: every pointer set.
struct EventRef {
  EventType type = EventType::kConnect;
  const std::string* ts = nullptr;
  const std::string* tz = nullptr;
  int64_t pid = -1;
  const std::string* session = nullptr;
  const std::string* user = nullptr;
  const std::string* db = nullptr;
  const std::string* app = nullptr;
  const std::string* host = nullptr;
  int32_t port = -1;
  Flag replication = Flag::kUnset;
  int64_t duration_ms = -1;
  std::string_view reason;
  Flag matched = Flag::kUnset;
  const std::string* server = nullptr;
  const std::string* via = nullptr;
};

// The Event `r` stands for, into *e (every field set).
inline void assign_ref(const EventRef& r, Event* e) {
  e->type = r.type;
  e->ts = *r.ts;
  e->tz = *r.tz;
  e->pid = r.pid;
  e->session = *r.session;
  e->user = *r.user;
  e->db = *r.db;
  e->app = *r.app;
  e->host = *r.host;
  e->port = r.port;
  e->replication = r.replication;
  e->snapshot = Flag::kUnset;
  e->duration_ms = r.duration_ms;
  e->reason = r.reason;
  e->message.clear();
  e->matched = r.matched;
  e->state.clear();
  e->server = *r.server;
  e->via = *r.via;
}

// "connect", "disconnect", "reject", "server", "update".
std::string_view event_type_name(EventType t);

// Parses a name of event_type_name(); false when it is none of them.
bool parse_event_type(std::string_view name, EventType* out);

}  // namespace pgconn
