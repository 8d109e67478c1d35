// What every event the pipeline emits must satisfy (SPEC.md §2), checked by
// the fuzz targets on everything they see go by: its NDJSON line is one
// line of valid UTF-8 with no raw control characters, and that line and
// the TSV line decode back to an event that encodes to the same bytes.
// A violation prints the line and aborts, which libFuzzer reports as a
// crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "event.hpp"
#include "codec/event_codec.hpp"
#include "utf8.hpp"

namespace pgconn::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz invariant broken: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

#define FUZZ_CHECK(cond, detail) \
  do {                           \
    if (!(cond)) ::pgconn::fuzz::fail(#cond, (detail)); \
  } while (0)

// True when `s` is valid UTF-8 without control characters (what jq and a
// line-oriented reader need).
inline bool clean_utf8_line(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

inline std::string json_of(const Event& e) {
  std::string s;
  encode_json(e, &s);
  return s;
}

// Encodes `e` both ways and checks the invariants above.
inline void check_event(const Event& e) {
  std::string line = json_of(e);
  FUZZ_CHECK(!line.empty() && line.back() == '\n', line);
  std::string_view body(line.data(), line.size() - 1);
  FUZZ_CHECK(body.size() >= 2 && body.front() == '{' && body.back() == '}', line);
  FUZZ_CHECK(clean_utf8_line(body), line);

  Event back;
  std::string_view why;
  FUZZ_CHECK(decode_event(body, &back, &why) == Decoded::kEvent, line);
  FUZZ_CHECK(json_of(back) == line, line);

  std::string tsv;
  encode_tsv(e, &tsv);
  FUZZ_CHECK(!tsv.empty() && tsv.back() == '\n', tsv);
  std::string_view tsv_body(tsv.data(), tsv.size() - 1);
  FUZZ_CHECK(tsv_body.find('\n') == std::string_view::npos, tsv);
  FUZZ_CHECK(decode_event(tsv_body, &back, &why) == Decoded::kEvent, tsv);
  FUZZ_CHECK(json_of(back) == line, tsv);
}

}  // namespace pgconn::fuzz
