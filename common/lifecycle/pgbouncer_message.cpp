#include "lifecycle/pgbouncer_message.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>

#include "formats/log_record.hpp"
#include "lifecycle/message.hpp"

namespace pgconn {

namespace {

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A literal prefix: a compare of known length, which the compiler inlines
// (the runtime-length one above is a call to memcmp, per rule, per line).
template <size_t N>
bool starts(std::string_view s, const char (&p)[N]) {
  return s.size() >= N - 1 && std::memcmp(s.data(), p, N - 1) == 0;
}

// Compares the first letter without case: PgBouncer <= 1.8 wrote "No such
// database:", "Pooler Error:", "Unsupported startup parameter".
bool starts_nocase1(std::string_view s, std::string_view p) {
  if (s.size() < p.size() || p.empty()) return false;
  char a = s[0] >= 'A' && s[0] <= 'Z' ? static_cast<char>(s[0] - 'A' + 'a') : s[0];
  return a == p[0] && s.substr(1, p.size() - 1) == p.substr(1);
}

bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

struct Rule {
  std::string_view text;
  bool prefix;   // text is a prefix (else the whole reason)
  bool reject;
  std::string_view reason;
};

// Close reasons of client sockets (pgbouncer.md §3.3). First match wins.
constexpr Rule kRules[] = {
    {"client close request", false, false, ""},
    {"client unexpected eof", false, false, "client_lost"},
    {"client_idle_timeout", false, false, "idle_timeout"},
    {"query_wait_timeout", false, false, "query_wait_timeout"},
    {"query_timeout", false, false, "query_timeout"},
    {"query timeout", false, false, "query_timeout"},
    {"server shutting down", false, false, "shutdown"},
    {"admin forced disconnect", false, false, "terminated"},
    {"server conn crashed?", false, false, "crash"},
    {"idle transaction timeout", false, false, "idle_in_transaction_timeout"},
    {"transaction timeout", false, false, "transaction_timeout"},
    {"no more connections allowed (max_client_conn)", false, true, "too_many_clients"},
    {"client connections exceeded (max_db_client_connections)", false, true, "db_limit"},
    {"client connections exceeded (max_user_client_connections)", false, true, "role_limit"},
    {"SASL authentication failed", false, true, "auth_failed"},
    {"password authentication failed", false, true, "auth_failed"},
    {"\"trust\" authentication failed", false, true, "auth_failed"},
    {"LDAP authentication failed", false, true, "auth_failed"},
    {"PAM authentication failed", false, true, "auth_failed"},
    {"certificate authentication failed", false, true, "auth_failed"},
    {"unix socket login rejected", false, true, "auth_failed"},
    {"empty password returned by client", false, true, "auth_failed"},
    {"client selected an invalid SASL authentication mechanism", false, true, "auth_failed"},
    {"auth failed", false, true, "auth_failed"},
    {"no authentication method is found", false, true, "no_hba_entry"},
    {"login rejected", false, true, "hba_reject"},
    {"no such database", true, true, "no_database"},
    {"no such user", true, true, "no_role"},
    {"not allowed", false, true, "login_not_allowed"},
    {"pooler is shutting down", false, true, "shutting_down"},
    {"client_login_timeout (server down)", false, true, "server_unavailable"},
    {"client_login_timeout", false, true, "auth_timeout"},
    {"server login has been failing", true, true, "server_unavailable"},
    {"pgbouncer cannot connect to server", false, true, "server_unavailable"},
    {"server login failed", true, true, "server_unavailable"},
    {"bouncer config error", false, true, "other"},
    {"bouncer resources exhaustion", false, true, "other"},
    {"no memory for pool", false, true, "other"},
    {"unsupported startup parameter", true, true, "other"},
    {"SSL required", false, true, "other"},
    {"old V2 protocol not supported", false, true, "other"},
    {"no username supplied", false, true, "other"},
    {"username too long", false, true, "other"},
    {"password too long", false, true, "other"},
    {"bad packet header", true, true, "other"},
    {"invalid startup packet", true, true, "other"},
    {"client re-sent startup pkt", false, true, "other"},
    {"received unencrypted data after SSL request", false, true, "other"},
};

constexpr std::string_view kCancel[] = {
    "successfully sent cancel request", "failed cancel request", "bad cancel request",
    "cancel_wait_timeout", "failed to forward cancel request", "could not find peer",
};

}  // namespace

void classify_close_reason(std::string_view text, BouncerMessage* m) {
  m->text = text;
  // Most closes of a busy pooler: the first rule, and no cancel prefix.
  if (text == kRules[0].text) return;
  for (std::string_view c : kCancel) {
    if (starts(text, c)) {
      m->cancel = true;
      return;
    }
  }
  for (const Rule& r : kRules) {
    if (r.prefix ? starts_nocase1(text, r.text) : (text == r.text || (text.size() == r.text.size() &&
                                                                       starts_nocase1(text, r.text)))) {
      m->reject = r.reject;
      m->reason = r.reason;
      return;
    }
  }
  // PostgreSQL's own refusal of PgBouncer's login, relayed to the client
  // ("password authentication failed for user \"app\"").
  Message pg = classify_message("FATAL", text);
  if (pg.kind == MsgKind::kReject) {
    m->reject = true;
    m->reason = pg.reason;
    return;
  }
  m->reason = "terminated";  // some other end the pooler chose
}

namespace {
// Lower-case hex digits by character: their value, 16 for any other.
constexpr auto kHexDigit = [] {
  std::array<uint8_t, 256> t{};
  for (auto& d : t) d = 16;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 10);
  return t;
}();
}  // namespace

SocketId socket_id(std::string_view socket) {
  SocketId id;
  std::string_view hex = socket.substr(std::min<size_t>(socket.size(), 4));
  bool ok = socket.substr(0, 4) == "C-0x" && !hex.empty() && hex.size() <= 16;
  uint64_t v = 0;
  uint8_t bad = 0;  // 16 once any character is no lower-case hex digit
  for (size_t i = 0; ok && i < hex.size(); ++i) {
    const uint8_t d = kHexDigit[static_cast<unsigned char>(hex[i])];
    bad |= d;
    v = v << 4 | (d & 15);
  }
  if (ok && bad < 16) {
    id.pointer = v;
    id.digits = static_cast<uint8_t>(hex.size());
  } else {
    id.pointer = std::hash<std::string_view>()(socket);
    id.digits = 255;
  }
  return id;
}

BouncerMessage classify_pgbouncer(std::string_view severity, std::string_view socket,
                                  std::string_view message) {
  BouncerMessage m;
  // Here, not in the tracker: this runs ahead, on the reading thread.
  if (!socket.empty() && socket[0] == 'C') m.socket = socket_id(socket);
  if (severity == "DEBUG" || severity == "NOISE") {
    // Only with verbose >= 1, before the login attempt: the one place
    // PgBouncer names a client's application.
    if (!socket.empty() && socket[0] == 'C' && starts(message, "using application_name: ")) {
      m.kind = BouncerKind::kAppName;
      m.text = message.substr(24);
    }
    return m;
  }
  if (socket.empty()) {
    if (starts(message, "process up:")) {
      m.kind = BouncerKind::kProcessUp;
    } else if (contains(message, "fast exit") || message == "SHUTDOWN command issued" ||
               message == "server connections dropped, exiting" ||
               message == "client connections dropped, exiting") {
      m.kind = BouncerKind::kExit;
    } else if (starts_nocase1(message, "got SIGINT, shutting down") ||
               starts(message, "got SIGTERM, shutting down") ||
               starts(message, "SHUTDOWN WAIT_FOR")) {
      m.kind = BouncerKind::kShuttingDown;
    } else if (starts(message, "@src/") || (severity == "FATAL" && starts(message, "@"))) {
      m.kind = BouncerKind::kCrash;
    }
    return m;
  }
  if (socket[0] != 'C') return m;
  if (starts(message, "login attempt: ")) {
    std::string_view rest = message.substr(15);
    m.kind = BouncerKind::kLogin;
    // db=, user= and replication= ("key=VALUE" among space-separated
    // fields) in one pass: the first field that starts with each key.
    std::string_view rep;
    bool has_db = false, has_user = false, has_rep = false;
    for (size_t at = 0; at <= rest.size();) {
      size_t sp = rest.find(' ', at);
      if (sp == std::string_view::npos) sp = rest.size();
      std::string_view f = rest.substr(at, sp - at);
      if (!has_db && starts(f, "db=")) {
        m.db = f.substr(3);
        has_db = true;
      } else if (!has_user && starts(f, "user=")) {
        m.user = f.substr(5);
        has_user = true;
      } else if (!has_rep && starts(f, "replication=")) {
        rep = f.substr(12);
        has_rep = true;
      }
      at = sp + 1;
    }
    m.replication = rep == "yes" || rep == "database";
    return m;
  }
  if (starts(message, "closing because: ")) {
    std::string_view rest = message.substr(17);
    size_t age = rest.rfind(" (age=");
    if (age != std::string_view::npos && rest.back() == ')') {
      std::string_view n = rest.substr(age + 6, rest.size() - age - 7);
      if (!n.empty() && n.back() == 's') n.remove_suffix(1);
      m.age_s = parse_decimal(n);
      rest = rest.substr(0, age);
    }
    m.kind = BouncerKind::kClose;
    classify_close_reason(rest, &m);
    return m;
  }
  if (starts(message, "login failed: ") || starts_nocase1(message, "no such database")) {
    m.kind = BouncerKind::kRefusing;
    m.reason = "no_database";
  } else if (starts_nocase1(message, "no such user")) {
    m.kind = BouncerKind::kRefusing;
    m.reason = "no_role";
  } else if (severity == "ERROR" || contains(message, "authentication failed")) {
    m.kind = BouncerKind::kRefusing;
    m.reason = "auth_failed";
  }
  return m;
}

}  // namespace pgconn
