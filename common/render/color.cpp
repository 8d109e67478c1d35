#include "render/color.hpp"

#include <fmt/format.h>

namespace pgconn {

Result<ColorMode> parse_color_mode(std::string_view text) {
  if (text == "auto") return ColorMode::kAuto;
  if (text == "always") return ColorMode::kAlways;
  if (text == "never") return ColorMode::kNever;
  return make_error(fmt::format("bad --color \"{}\": expected auto, always or never", text));
}

Palette make_palette(ColorMode mode, bool stdout_is_tty, const char* no_color, const char* term) {
  bool on;
  if (mode != ColorMode::kAuto) {
    on = mode == ColorMode::kAlways;
  } else if (no_color != nullptr && no_color[0] != '\0') {
    on = false;
  } else if (term == nullptr || std::string_view(term) == "dumb") {
    on = false;
  } else {
    on = stdout_is_tty;
  }
  Palette p;
  if (!on) return p;
  p.enabled = true;
  p.connect = fmt::fg(fmt::terminal_color::green);
  p.disconnect = fmt::fg(fmt::terminal_color::yellow);
  p.reject = fmt::fg(fmt::terminal_color::red);
  p.dim = fmt::emphasis::faint;
  return p;
}

}  // namespace pgconn
