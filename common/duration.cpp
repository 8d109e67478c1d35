#include "duration.hpp"

#include <fmt/format.h>

namespace pgconn {

Result<int64_t> parse_duration(std::string_view what, std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(fmt::format("bad {} \"{}\": {}", what, text, why));
  };
  if (text.empty()) return bad("expected a number and a unit (ms, s, m, h, d), like \"15m\"");
  if (text[0] == '-') return bad("must be positive");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i++] - '0');
      if (n > int64_t{1} << 40) return bad("too large");
    }
    if (i == start) return bad("expected a number and a unit (ms, s, m, h, d), like \"15m\"");
    size_t u = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    std::string_view unit = text.substr(u, i - u);
    int64_t scale;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m" || unit == "min") scale = 60000;
    else if (unit == "h") scale = 3600000;
    else if (unit == "d") scale = 86400000;
    else if (unit.empty()) return bad("a unit is missing (ms, s, m, h, d)");
    else return bad(fmt::format("unknown unit \"{}\"", unit));
    if (n > (int64_t{1} << 50) / scale) return bad("too large");
    total += n * scale;
    if (total > int64_t{1} << 50) return bad("too large");
  }
  if (total <= 0) return bad("must be positive");
  return total;
}

std::string format_duration(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60000) return fmt::format("{}.{}s", ms / 1000, ms / 100 % 10);
  int64_t s = ms / 1000;
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
  return fmt::format("{}d{:02}h", s / 86400, s / 3600 % 24);
}

}  // namespace pgconn
