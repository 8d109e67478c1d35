// Fuzz target: the option values pgconn-agg and pgconn-watch take, through
// the helpers in common/ that read them (the flag loop itself lives in
// tools/). Input lines: --bucket, --last, --interval, --by, --color,
// --input. Durations must parse to a positive bounded value or fail with a
// message naming the option; a --bucket/--last pair pgconn-agg accepts must
// give a history() of bounded size.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "render/color.hpp"
#include "duration.hpp"
#include "event_check.hpp"
#include "pipeline/log_parser.hpp"
#include "window/summary.hpp"
#include "window/window.hpp"

using namespace pgconn;

namespace {

// The next line of *in (consumed); empty once *in is used up.
std::string_view next_line(std::string_view* in) {
  size_t end = in->find('\n');
  std::string_view line = in->substr(0, end);
  in->remove_prefix(end == std::string_view::npos ? in->size() : end + 1);
  return line;
}

// Parses a duration option; -1 when it is rejected.
int64_t duration(std::string_view option, std::string_view text) {
  auto ms = parse_duration(option, text);
  if (!ms.ok()) {
    FUZZ_CHECK(ms.error().rfind("bad " + std::string(option) + " \"", 0) == 0, ms.error());
    return -1;
  }
  FUZZ_CHECK(*ms > 0 && *ms <= int64_t{1} << 50, text);
  FUZZ_CHECK(!format_duration(*ms).empty(), text);
  return *ms;
}

// A window with one session, for history().
const Window& sample_window() {
  static const Window* w = [] {
    auto* win = new Window(WindowOptions{});
    Event e;
    e.ts = "2024-05-01T10:07:00.000Z";
    e.session = "a";
    win->add(e);
    return win;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  int64_t bucket = duration("--bucket", next_line(&in));
  int64_t last = duration("--last", next_line(&in));
  duration("--interval", next_line(&in));

  // --by: comma-separated dimensions, as pgconn-agg splits them.
  std::string_view by = next_line(&in);
  std::vector<Dimension> dims;
  for (size_t pos = 0; pos <= by.size();) {
    size_t comma = by.find(',', pos);
    Dimension d;
    if (parse_dimension(by.substr(pos, comma - pos), &d)) {
      FUZZ_CHECK(dimension_name(d) == by.substr(pos, comma - pos), by);
      dims.push_back(d);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  parse_color_mode(next_line(&in));
  parse_input_format(next_line(&in));

  if (bucket > 0 && last >= bucket) {  // what pgconn-agg accepts
    History h = history(sample_window(), Filter{}, bucket, last);
    FUZZ_CHECK(!h.buckets.empty() && h.from_ms < h.to_ms, "history");
    summarize(sample_window(), Filter{}, dims);
  }
  return 0;
}
