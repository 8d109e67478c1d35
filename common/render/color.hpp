// Colour: turns --color, NO_COLOR, TERM and "is stdout a terminal" into a
// Palette, decided once (STYLE.md): always/never win; otherwise a non-empty
// NO_COLOR means off; otherwise TERM unset or "dumb" means off; otherwise
// colour when stdout is a terminal. With colour off every style is empty,
// so rendering code never branches on it. Pure: the caller passes the
// environment in.
#pragma once

#include <string_view>

#include <fmt/color.h>

#include "result.hpp"

namespace pgconn {

enum class ColorMode { kAuto, kAlways, kNever };

// "auto", "always", "never"; the error quotes the bad value.
Result<ColorMode> parse_color_mode(std::string_view text);

struct Palette {
  fmt::text_style connect;     // [+] green
  fmt::text_style disconnect;  // [-] yellow
  fmt::text_style reject;      // [!] red
  fmt::text_style dim;         // times
  bool enabled = false;
};

// `no_color` and `term` are the variables' values, nullptr when unset.
Palette make_palette(ColorMode mode, bool stdout_is_tty, const char* no_color, const char* term);

}  // namespace pgconn
