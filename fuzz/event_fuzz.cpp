// Fuzz target: decode_event(), as pgconn-agg and pgconn-watch read their
// input, one line at a time (NDJSON or TSV). Both decoders (into an Event,
// and into an EventView with its fast path) must agree on every line, and
// every event they accept must satisfy check_event().
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "event_check.hpp"

using namespace pgconn;

namespace {

// An owned copy of a view, to encode and compare.
Event copy(const EventView& v) {
  Event e;
  e.type = v.type;
  e.ts = v.ts;
  e.tz = v.tz;
  e.pid = v.pid;
  e.session = v.session;
  e.user = v.user;
  e.db = v.db;
  e.app = v.app;
  e.host = v.host;
  e.port = v.port;
  e.replication = v.replication;
  e.duration_ms = v.duration_ms;
  e.reason = v.reason;
  e.message = v.message;
  e.matched = v.matched;
  e.state = v.state;
  e.server = v.server;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Reused across lines, as the tools reuse them.
  Event event, storage;
  EventView view;
  while (true) {
    size_t end = in.find('\n');
    std::string_view line = in.substr(0, end);
    std::string_view why_event, why_view;
    Decoded d_event = decode_event(line, &event, &why_event);
    Decoded d_view = decode_event(line, &view, &storage, &why_view);
    FUZZ_CHECK(d_event == d_view, line);
    if (d_event == Decoded::kMalformed) FUZZ_CHECK(why_event == why_view && !why_event.empty(), line);
    if (d_event == Decoded::kEvent) {
      FUZZ_CHECK(fuzz::json_of(event) == fuzz::json_of(copy(view)), line);
      fuzz::check_event(event);
    }
    if (end == std::string_view::npos) break;
    in.remove_prefix(end + 1);
  }
  return 0;
}
