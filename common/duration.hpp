// Durations as the tools' options take them ("15m", "90s", "1h30m",
// "500ms", "2d") and as humans read them ("850ms", "2.3s", "4m12s", "3h02m").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "result.hpp"

namespace pgconn {

// Parses a positive duration: one or more <number><unit> parts, units ms,
// s, m, h, d. `what` names the value in the error, e.g. "--bucket":
// `bad --bucket "abc": expected a number and a unit (ms, s, m, h, d), like "15m"`.
Result<int64_t> parse_duration(std::string_view what, std::string_view text);

// "850ms", "2.3s", "59.9s", "4m12s", "3h02m", "2d03h".
std::string format_duration(int64_t ms);

}  // namespace pgconn
