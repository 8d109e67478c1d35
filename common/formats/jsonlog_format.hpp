// JsonlogFormat: reads jsonlog (PostgreSQL 15+, log_destination = jsonlog),
// one JSON object per line with the keys of pg-log-formats.md §8.
#pragma once

#include <cstdint>
#include <string_view>

#include "json_reader.hpp"
#include "formats/log_record.hpp"

namespace pgconn {

class JsonlogFormat {
 public:
  // Reads one line. Returns false when it is not a jsonlog object (then *r
  // is unspecified); views in *r are valid until the next call.
  bool parse(std::string_view line, LogRecord* r);

  // True when `line` starts like a jsonlog object.
  static bool looks_like(std::string_view line);

  // Reads only the pid and application name of a jsonlog line, as parse()
  // would give them (an absent name is empty), without reading the rest:
  // for the marker-first scan, which reads a line in full only when it can
  // move a session's application (LogParser). False when it cannot tell (no
  // pid, an escaped name, not a line PostgreSQL writes); `app` points into
  // `line`.
  static bool probe(std::string_view line, int64_t* pid, std::string_view* app);

 private:
  JsonReader json_;
};

}  // namespace pgconn
