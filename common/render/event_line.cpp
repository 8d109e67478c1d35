#include "render/event_line.hpp"

#include <fmt/format.h>

#include "duration.hpp"
#include "render/render.hpp"
#include "timestamp.hpp"

namespace pgconn {

namespace {

// "10:23:45" from the event's own time, as logged.
std::string clock(std::string_view ts) {
  Timestamp t;
  if (ts.empty() || !parse_iso_time(ts, &t)) return "--:--:--";
  return wall_clock(t.wall_ms, false, true);
}

// "user: app_user, db: production" with what is known.
std::string who(const EventView& e, bool with_host) {
  std::string s;
  auto add = [&](std::string_view label, std::string_view v) {
    if (v.empty()) return;
    if (!s.empty()) s += ", ";
    s += fmt::format("{}: {}", label, display_safe(v));
  };
  add("user", e.user);
  add("db", e.db);
  if (with_host) add("host", e.host);
  add("via", e.via);  // a pooler's client (pgconn-events(5) `via`)
  return s;
}

}  // namespace

std::string_view end_phrase(std::string_view r) {
  struct P { std::string_view reason, phrase; };
  static constexpr P kPhrases[] = {
      {"terminated", "terminated by an administrator"},
      {"idle_timeout", "idle session timeout"},
      {"idle_in_transaction_timeout", "idle-in-transaction timeout"},
      {"transaction_timeout", "transaction timeout"},
      {"client_lost", "client connection lost"},
      {"query_wait_timeout", "waited too long for a server connection (query_wait_timeout)"},
      {"query_timeout", "query timeout"},
      {"shutdown", "server shutdown"},
      {"crash", "server crash"},
      {"lost", "its end was not logged"},
  };
  for (const P& p : kPhrases)
    if (p.reason == r) return p.phrase;
  return r;
}

void render_event_line(const EventView& e, const Palette& p, bool with_server, std::string* out) {
  auto it = std::back_inserter(*out);
  const fmt::text_style* style = &p.connect;
  std::string_view mark = "[+]";
  std::string text;
  const std::string app = display_name(e.app);
  switch (e.type) {
    case EventType::kConnect:
      text = fmt::format("{} connected from {}", app, e.host.empty() ? "unknown" : display_safe(e.host));
      if (e.replication == Flag::kTrue) text += " (replication)";
      if (std::string w = who(e, false); !w.empty()) text += " (" + w + ")";
      break;
    case EventType::kDisconnect: {
      style = &p.disconnect;
      mark = "[-]";
      text = app + " disconnected";
      if (!e.reason.empty()) text += fmt::format(": {}", display_safe(end_phrase(e.reason)));
      std::string details;
      if (e.duration_ms >= 0) details = "duration: " + format_duration(e.duration_ms);
      if (std::string w = who(e, false); !w.empty()) details += (details.empty() ? "" : ", ") + w;
      if (!details.empty()) text += " (" + details + ")";
      break;
    }
    case EventType::kReject:
      style = &p.reject;
      mark = "[!]";
      text = fmt::format("Connection failed: {}",
                         display_safe(reason_phrase(e.reason.empty() ? "other" : e.reason, e.via)));
      if (std::string w = who(e, true); !w.empty()) text += " (" + w + ")";
      break;
    case EventType::kServer:
      // Its own marker, so that `grep -c '^\[+\]'` counts connections
      // only; the colour still tells a start from an end.
      mark = "[*]";
      if (!e.via.empty()) {  // a pooler's process: its clients, not PostgreSQL's sessions
        const std::string who = display_safe(e.via);
        if (e.state == "crash") {
          style = &p.reject;
          text = who + " crashed: every client of it ended";
        } else if (e.state == "shutdown") {
          style = &p.disconnect;
          text = who + " stopped: every client of it ended";
        } else if (e.state == "ready") {
          text = who + " ready to accept connections";
        } else {
          text = fmt::format("{}: {}", who, display_safe(e.state));
        }
      } else if (e.state == "crash") {
        style = &p.reject;
        text = "Server crashed: every session ended";
      } else if (e.state == "shutdown") {
        style = &p.disconnect;
        text = "Server shut down: every session ended";
      } else if (e.state == "ready") {
        text = "Server ready to accept connections";
      } else if (e.state == "snapshot") {
        style = &p.dim;
        text = "Server: sessions checked against the process table";
      } else {
        text = fmt::format("Server: {}", display_safe(e.state));
      }
      break;
    case EventType::kUpdate:
      mark = "[~]";
      style = &p.dim;
      text = fmt::format("session is now {}", app);
      if (std::string w = who(e, false); !w.empty()) text += " (" + w + ")";
      break;
  }
  fmt::format_to(it, "{} {} ", fmt::styled(mark, *style), fmt::styled(clock(e.ts), p.dim));
  if (with_server) fmt::format_to(it, "{}: ", display_name(e.server));
  out->append(text);
  out->push_back('\n');
}

}  // namespace pgconn
