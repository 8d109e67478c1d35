#include "event.hpp"

namespace pgconn {

namespace {
constexpr std::string_view kNames[] = {"connect", "disconnect", "reject", "server", "update"};
constexpr int kCount = sizeof(kNames) / sizeof(kNames[0]);
}

std::string_view event_type_name(EventType t) { return kNames[static_cast<int>(t)]; }

bool parse_event_type(std::string_view name, EventType* out) {
  for (int i = 0; i < kCount; ++i) {
    if (kNames[i] == name) {
      *out = static_cast<EventType>(i);
      return true;
    }
  }
  return false;
}

}  // namespace pgconn
