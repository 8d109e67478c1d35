// One event as one line for people (pgconn-watch, SPEC.md §5):
//   [+] 10:23:45 rails connected from 10.0.1.5 (user: app_user, db: production)
//   [-] 10:23:47 psql disconnected (duration: 2.3s, user: admin, db: test)
//   [!] 10:23:49 Connection failed: too many connections (user: app_user)
//   [~] 10:23:50 session is now worker-7 (user: app_user, db: production)
//   [*] 10:24:00 Server crashed: every session ended
// [+] [-] [!] are connections only; a `server` event (ready, shutdown,
// crash, snapshot, any other state) is always [*], its colour telling a
// start (green) from an end (yellow, red).
// Names pass through display_safe(): nothing from the log reaches a
// terminal raw. No I/O.
#pragma once

#include <string>
#include <string_view>

#include "render/color.hpp"
#include "event.hpp"

namespace pgconn {

// Appends the line for `e` and a newline. `with_server`: name the server
// (the stream carries several).
void render_event_line(const EventView& e, const Palette& p, bool with_server, std::string* out);

// A readable phrase for a disconnect reason ("terminated by an
// administrator"); the reason itself for one this version does not know.
std::string_view end_phrase(std::string_view reason);

}  // namespace pgconn
