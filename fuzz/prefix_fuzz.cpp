// Fuzz target: PrefixMatcher. The first line of the input is a
// log_line_prefix (as --prefix takes it), the other lines are log lines
// read with it and with the generic fallback matcher. Checks that what
// match() hands out points into the line it read.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "event_check.hpp"
#include "formats/prefix.hpp"

using namespace pgconn;

namespace {

bool inside(std::string_view part, std::string_view line) {
  return part.empty() ||
         (part.data() >= line.data() && part.data() + part.size() <= line.data() + line.size());
}

void read_line(const PrefixMatcher& m, std::string_view line) {
  LogRecord r;
  if (!m.match(line, &r)) return;
  std::string_view views[] = {r.session_id, r.user, r.db, r.app, r.host, r.backend_type,
                              r.severity, r.message};
  for (std::string_view v : views) FUZZ_CHECK(inside(v, line), line);
  FUZZ_CHECK(!r.severity.empty(), line);
  FUZZ_CHECK(r.port >= -1 && r.pid >= -1 && r.line_num >= -1, line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view prefix = in.substr(0, nl);
  std::string_view lines = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

  auto compiled = PrefixMatcher::compile(prefix);
  if (compiled.ok()) FUZZ_CHECK(compiled->source() == prefix, prefix);
  const PrefixMatcher generic = PrefixMatcher::generic();
  while (!lines.empty()) {
    size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    if (compiled.ok()) read_line(*compiled, line);
    read_line(generic, line);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 1);
  }
  return 0;
}
