// GcpFormat: reads the Cloud Logging entries of Cloud SQL for PostgreSQL,
// one JSON object per line (a log sink's export, `gcloud logging read
// --format=json | jq -c '.[]'`; pg-log-formats.md §11):
//   {…,"resource":{"labels":{"database_id":"P:INSTANCE",…},…},
//    "textPayload":"[24667]: [2-1] db=shop,user=app LOG:  connection authorized: …",
//    "timestamp":"2020-05-02T13:00:20.38403Z"}
// The payload is a stderr line without its time: the pid, Cloud SQL's
// "[%l-1]" (N of "[N-M]" is the session line number), then the prefix
// "db=%d,user=%u " (or the --prefix given) and "SEVERITY:  message".
// `timestamp` gives the time, `resource.labels.database_id` the server.
// Continuation records (a payload that starts with a TAB) and entries
// without a PostgreSQL payload are skipped.
#pragma once

#include <string_view>

#include "json_reader.hpp"
#include "formats/log_record.hpp"
#include "formats/prefix.hpp"
#include "formats/stderr_format.hpp"

namespace pgconn {

class GcpFormat {
 public:
  // Cloud SQL's payload prefix after "[pid]: [N-M] ".
  static constexpr std::string_view kPayloadPrefix = "db=%d,user=%u ";

  // With `payload_prefix` the part of the payload after "[N-M] " is read
  // with it; without, with kPayloadPrefix or, failing that, any prefix
  // StderrFormat knows.
  GcpFormat();
  explicit GcpFormat(PrefixMatcher payload_prefix);

  // Reads one line; hands reports to out->on_record and their DETAIL…
  // lines to out->on_secondary. Returns false when `out` said stop.
  bool feed(std::string_view line, RecordSink* out);

  // True when `line` is a Cloud Logging entry.
  static bool looks_like(std::string_view line);

 private:
  JsonReader entry_, resource_, labels_;
  StderrFormat inner_;
  bool fixed_ = false;      // --prefix given: no fallback
  StderrFormat fallback_;   // any known prefix, for a payload kPayloadPrefix does not read
};

}  // namespace pgconn
