#include "lifecycle/message.hpp"

#include "formats/log_record.hpp"

namespace pgconn {

namespace {

using sv = std::string_view;

bool starts(sv s, sv p) { return s.substr(0, p.size()) == p; }
bool ends(sv s, sv p) { return s.size() >= p.size() && s.substr(s.size() - p.size()) == p; }

// The text between `head` and `tail` when s == head + X + tail.
bool between(sv s, sv head, sv tail, sv* out) {
  if (s.size() < head.size() + tail.size() || !starts(s, head) || !ends(s, tail)) return false;
  *out = s.substr(head.size(), s.size() - head.size() - tail.size());
  return true;
}

int32_t parse_port(sv s) { return s.size() > 5 ? -1 : static_cast<int32_t>(parse_decimal(s, 65535)); }

// "H:MM:SS.mmm" (hours uncapped) to milliseconds; -1 when malformed.
int64_t parse_session_time(sv s) {
  size_t i = 0;
  int64_t h = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i < 9) h = h * 10 + (s[i++] - '0');
  if (i == 0 || s.size() != i + 10 || s[i] != ':' || s[i + 3] != ':' || s[i + 6] != '.') return -1;
  int v[3] = {0, 0, 0};
  const size_t at[3] = {i + 1, i + 4, i + 7};
  const int width[3] = {2, 2, 3};
  for (int k = 0; k < 3; ++k) {
    for (int j = 0; j < width[k]; ++j) {
      char c = s[at[k] + j];
      if (c < '0' || c > '9') return -1;
      v[k] = v[k] * 10 + (c - '0');
    }
  }
  if (v[0] > 59 || v[1] > 59) return -1;
  return ((h * 60 + v[0]) * 60 + v[1]) * 1000 + v[2];
}

// "host=H port=P" or "host=H" (Unix socket).
bool parse_received(sv rest, Message* m) {
  if (!starts(rest, "host=")) return false;
  rest.remove_prefix(5);
  size_t p = rest.rfind(" port=");
  if (p != sv::npos) {
    m->port = parse_port(rest.substr(p + 6));
    if (m->port < 0) return false;
    rest = rest.substr(0, p);
  }
  if (rest.empty()) return false;
  m->host = rest;
  return true;
}

// Removes a trailing " SSL enabled (…)" / " GSS (…)" (either or both).
sv strip_security_suffix(sv s) {
  for (int round = 0; round < 2 && ends(s, ")"); ++round) {
    size_t ssl = s.rfind(" SSL enabled (protocol=");
    size_t gss = s.rfind(" GSS (authenticated=");
    size_t cut = ssl == sv::npos ? gss : gss == sv::npos ? ssl : (ssl > gss ? ssl : gss);
    if (cut == sv::npos) break;
    s = s.substr(0, cut);
  }
  return s;
}

// "user=U[ database=D][ application_name=A][ SSL…][ GSS…]". Names are raw:
// the user ends at the first " database=", the database at the first
// " application_name=" (pg-log-formats.md §3).
bool parse_authorized(sv rest, Message* m) {
  if (!starts(rest, "user=")) return false;
  rest = strip_security_suffix(rest.substr(5));
  size_t a = rest.find(" application_name=");
  if (a != sv::npos) {
    m->app = rest.substr(a + 18);
    rest = rest.substr(0, a);
  }
  size_t d = rest.find(" database=");
  if (d != sv::npos) {
    m->db = rest.substr(d + 10);
    m->has_db = true;
    rest = rest.substr(0, d);
  }
  m->user = rest;
  return true;
}

// "session time: H:MM:SS.mmm user=U database=D host=H[ port=P]".
bool parse_disconnection(sv rest, Message* m) {
  if (!starts(rest, "session time: ")) return false;
  rest.remove_prefix(14);
  size_t u = rest.find(" user=");
  if (u == sv::npos) return false;
  m->duration_ms = parse_session_time(rest.substr(0, u));
  if (m->duration_ms < 0) return false;
  rest.remove_prefix(u + 6);
  size_t d = rest.find(" database=");
  size_t h = rest.rfind(" host=");
  if (d == sv::npos || h == sv::npos || h < d) return false;
  m->user = rest.substr(0, d);
  m->db = rest.substr(d + 10, h - d - 10);
  m->has_db = true;
  sv host = rest.substr(h + 6);
  size_t p = host.rfind(" port=");
  if (p != sv::npos) {
    m->port = parse_port(host.substr(p + 6));
    if (m->port < 0) return false;
    host = host.substr(0, p);
  }
  m->host = host;
  return true;
}

Message reject(sv reason, bool after_auth = false) {
  Message m;
  m.kind = MsgKind::kReject;
  m.reason = reason;
  m.after_authorization = after_auth;
  return m;
}

Message session_end(sv reason) {
  Message m;
  m.kind = MsgKind::kSessionEnd;
  m.reason = reason;
  return m;
}

// `… for host "H", user "U"[, database "D"][, encryption]` of the pg_hba
// messages; names may contain quotes, so cut at the fixed separators.
void parse_hba_names(sv s, Message* m) {
  size_t h = s.find("host \"");
  if (h == sv::npos) return;
  s.remove_prefix(h + 6);
  size_t u = s.find("\", user \"");
  if (u == sv::npos) return;
  m->host = s.substr(0, u);
  s.remove_prefix(u + 9);
  size_t d = s.find("\", database \"");
  if (d != sv::npos) {
    m->user = s.substr(0, d);
    s.remove_prefix(d + 13);
  }
  size_t q = s.rfind('"');
  if (q == sv::npos) return;
  (d != sv::npos ? m->db : m->user) = s.substr(0, q);
}

// FATAL reports: rejects of §4 and session ends of §5.
Message classify_fatal(sv msg) {
  sv name;
  // §4b: after `connection authorized`.
  if (between(msg, "role \"", "\" does not exist", &name)) {
    Message m = reject("no_role", true);
    m.user = name;
    return m;
  }
  if (between(msg, "role \"", "\" is not permitted to log in", &name)) {
    Message m = reject("login_not_allowed", true);
    m.user = name;
    return m;
  }
  if (between(msg, "too many connections for role \"", "\"", &name)) {
    Message m = reject("role_limit", true);
    m.user = name;
    return m;
  }
  if (starts(msg, "remaining connection slots are reserved for ")) return reject("reserved_slots", true);
  if (between(msg, "too many connections for database \"", "\"", &name)) {
    Message m = reject("db_limit", true);
    m.db = name;
    return m;
  }
  if (starts(msg, "database \"") || starts(msg, "permission denied for database \"") ||
      starts(msg, "cannot connect to invalid database \"")) {
    Message m;
    if (between(msg, "database \"", "\" does not exist", &name)) {
      m = reject("no_database", true);
    } else if (between(msg, "database \"", "\" is not currently accepting connections", &name)) {
      m = reject("db_not_accepting", true);  // datallowconn false: template0, ALTER DATABASE
    } else if (between(msg, "database \"", "\" has disappeared from pg_database", &name) ||
               between(msg, "permission denied for database \"", "\"", &name) ||
               between(msg, "cannot connect to invalid database \"", "\"", &name)) {
      m = reject("other", true);
    } else {
      return Message();
    }
    m.db = name;
    return m;
  }

  // §4a: before it.
  if (msg == "sorry, too many clients already") return reject("too_many_clients");
  if (starts(msg, "the database system is ")) {
    sv rest = msg.substr(23);
    if (rest == "starting up") return reject("starting_up");
    if (rest == "shutting down") return reject("shutting_down");
    if (rest == "in recovery mode" || rest == "not yet accepting connections" ||
        rest == "not accepting connections")
      return reject("recovery");
    return Message();
  }
  if (starts(msg, "pg_hba.conf rejects ")) {
    Message m = reject("hba_reject");
    m.replication = starts(msg, "pg_hba.conf rejects replication ");
    parse_hba_names(msg, &m);
    return m;
  }
  if (starts(msg, "no pg_hba.conf entry for ")) {
    Message m = reject("no_hba_entry");
    m.replication = starts(msg, "no pg_hba.conf entry for replication ");
    parse_hba_names(msg, &m);
    return m;
  }
  if (starts(msg, "authentication failed for user \"")) {
    Message m = reject(ends(msg, "\": host rejected") ? "hba_reject" : "other");
    size_t q = msg.rfind("\": ");
    if (q > 32) m.user = msg.substr(32, q - 32);
    return m;
  }
  size_t af = msg.find("authentication failed for user \"");
  if (af != sv::npos) {  // password, Ident, Peer, LDAP, "trust", certificate, …
    Message m = reject("auth_failed");
    sv rest = msg.substr(af + 32);
    size_t q = rest.rfind("\": ");
    if (q == sv::npos && ends(rest, "\"")) q = rest.size() - 1;
    if (q != sv::npos) m.user = rest.substr(0, q);
    return m;
  }
  if (msg == "connection requires a valid client certificate") return reject("auth_failed");
  if (msg == "canceling authentication due to timeout") return reject("auth_timeout");
  if (msg == "no PostgreSQL user name specified in startup packet" ||
      starts(msg, "unsupported frontend protocol ") ||
      starts(msg, "expected password response, got message type ") ||
      starts(msg, "expected SASL response, got message type ") ||
      starts(msg, "expected GSS response, got message type ") ||
      msg == "invalid length of startup packet")
    return reject("other");

  // §5: a session's end, logged before its disconnection line.
  if (starts(msg, "terminating connection due to ")) {
    sv why = msg.substr(30);
    if (why == "administrator command" || why == "conflict with recovery" ||
        starts(why, "conflict with recovery"))
      return session_end("terminated");
    if (why == "idle-in-transaction timeout") return session_end("idle_in_transaction_timeout");
    if (why == "idle-session timeout") return session_end("idle_timeout");
    if (why == "transaction timeout") return session_end("transaction_timeout");
    if (why == "unexpected postmaster exit") return session_end("crash");
    if (why == "immediate shutdown command") return session_end("shutdown");
    return Message();
  }
  if (msg == "connection to client lost" ||
      msg == "terminating connection because protocol synchronization was lost" ||
      starts(msg, "unexpected EOF on client connection"))
    return session_end("client_lost");
  return Message();
}

// LOG reports: lifecycle lines and postmaster lines.
Message classify_log(sv msg) {
  Message m;
  Message malformed;
  malformed.kind = MsgKind::kMalformed;
  if (starts(msg, "connection ")) {
    sv rest = msg.substr(11);
    if (starts(rest, "received: ")) {
      m.kind = MsgKind::kReceived;
      return parse_received(rest.substr(10), &m) ? m : malformed;
    }
    if (starts(rest, "authorized: ")) {
      m.kind = MsgKind::kAuthorized;
      return parse_authorized(rest.substr(12), &m) ? m : malformed;
    }
    if (starts(rest, "authenticated: ")) {
      m.kind = MsgKind::kAuthenticated;
      return m;
    }
    if (starts(rest, "ready: ")) {
      m.kind = MsgKind::kReady;
      return m;
    }
    return Message();
  }
  if (starts(msg, "replication connection authorized: ")) {
    m.kind = MsgKind::kAuthorized;
    m.replication = true;
    return parse_authorized(msg.substr(35), &m) ? m : malformed;
  }
  if (starts(msg, "disconnection: ")) {
    m.kind = MsgKind::kDisconnection;
    return parse_disconnection(msg.substr(15), &m) ? m : malformed;
  }
  // "could not receive data from client: Connection reset by peer" (or
  // "…timed out"); other errno texts are rare and carry no scanner marker.
  if (starts(msg, "unexpected EOF on client connection") ||
      starts(msg, "could not receive data from client: Connection "))
    return session_end("client_lost");
  if (starts(msg, "database system is ready to accept ")) {
    sv rest = msg.substr(35);
    if (rest == "connections" || rest == "read-only connections") m.kind = MsgKind::kServerReady;
    m.read_only = rest == "read-only connections";
    return m;
  }
  if (msg == "received smart shutdown request" || msg == "received fast shutdown request") {
    m.kind = MsgKind::kShutdownRequest;
  } else if (msg == "received immediate shutdown request" || msg == "database system is shut down") {
    m.kind = MsgKind::kServerShutdown;
  } else if (msg == "terminating any other active server processes" ||
             msg == "all server processes terminated; reinitializing") {
    m.kind = MsgKind::kServerCrash;
  }
  return m;
}

}  // namespace

Message classify_message(std::string_view severity, std::string_view message) {
  if (severity == "LOG") return classify_log(message);
  if (severity == "FATAL") return classify_fatal(message);
  if (severity == "WARNING" && starts(message, "terminating connection because of crash"))
    return session_end("crash");
  return Message();
}

}  // namespace pgconn
