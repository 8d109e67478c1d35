// JsonlogFormat: reads jsonlog (PostgreSQL 15+, log_destination = jsonlog),
// one JSON object per line with the keys of pg-log-formats.md §8.
#pragma once

#include <string_view>

#include "json_reader.hpp"
#include "log_record.hpp"

namespace pgconn {

class JsonlogFormat {
 public:
  // Reads one line. Returns false when it is not a jsonlog object (then *r
  // is unspecified); views in *r are valid until the next call.
  bool parse(std::string_view line, LogRecord* r);

  // True when `line` starts like a jsonlog object.
  static bool looks_like(std::string_view line);

 private:
  JsonReader json_;
};

}  // namespace pgconn
