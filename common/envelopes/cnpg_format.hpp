// CnpgFormat: reads CloudNativePG's instance logs (`kubectl logs POD`), one
// JSON object per line (pg-log-formats.md §11):
//   {"level":"info","ts":…,"logger":"postgres","msg":"record",
//    "logging_pod":"cluster-1","record":{"log_time":"…","process_id":"600",…}}
// Only "logger":"postgres" objects with a `record` are PostgreSQL's; their
// record carries the csvlog columns by name (as strings) and is read as a
// csvlog record (csvlog_record()). `logging_pod` becomes LogRecord::server.
// Everything else (the operator's own lines, wal-archive, other programs'
// output, text that is not JSON) is skipped without a word.
#pragma once

#include <string_view>

#include "json_reader.hpp"
#include "formats/log_record.hpp"

namespace pgconn {

class CnpgFormat {
 public:
  // Reads one line; hands a PostgreSQL record to `out`. Returns false when
  // `out` said stop.
  bool feed(std::string_view line, RecordSink* out);

  // True when `line` is a CloudNativePG log object (any logger).
  static bool looks_like(std::string_view line);

 private:
  JsonReader outer_, record_;
};

}  // namespace pgconn
