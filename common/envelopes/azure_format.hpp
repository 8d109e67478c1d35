// AzureFormat: reads Azure Database for PostgreSQL logs as its diagnostic
// settings deliver them (cloud-envelopes.md §2): records of category
// "PostgreSQLLogs", one JSON object per line (a storage account's PT1H.json
// blob), in Event Hub batches ({"records":[…]}), or pretty-printed and
// concatenated (JsonStream).
//
//   {"category":"PostgreSQLLogs","operationName":"LogEvent","properties":
//    {"timestamp":"2026-07-02 03:00:09.437 UTC","processId":1381383,
//     "errorLevel":"LOG","message":"2026-07-02 03:00:09 UTC-6a45d439.151407-LOG:  connection received: …"},
//    "resourceId":"/SUBSCRIPTIONS/…/FLEXIBLESERVERS/HSOSTARUATSEA","LogicalServerName":"hsostaruatsea",…}
//
// properties.message is the server's line, read with the log_line_prefix
// (detected, or --prefix); a single server's record, whose message lacks
// the prefix and severity, is read as properties.prefix + errorLevel +
// ":  " + message. The pid is the prefix's, else properties.processId; the
// time the prefix's unless it has none or whole seconds only, then
// properties.timestamp (milliseconds); the server is LogicalServerName,
// else the last element of resourceId in lower case.
// PostgreSQLFlexPGBouncer records (the built-in PgBouncer's line in `log`)
// are read as PgBouncer's log (pgbouncer_format.hpp), with the same server
// name; their events say "via":"pgbouncer", so the two tiers never mix.
// Records of other categories are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "json_reader.hpp"
#include "envelopes/json_stream.hpp"
#include "formats/log_record.hpp"
#include "formats/stderr_format.hpp"

namespace pgconn {

class AzureFormat {
 public:
  explicit AzureFormat(StderrFormat inner);

  // Feeds one line. Returns false when `out` said stop.
  bool feed(std::string_view line, RecordSink* out);

  // Reads one whole JSON document: a record or a {"records":[…]} batch.
  bool feed_document(std::string_view doc, RecordSink* out);

  // True when the parsed object is an Azure diagnostic record of a
  // PostgreSQL category, or an Event Hub batch.
  static bool claims(const JsonReader& object);

  // Records of category PostgreSQLFlexPGBouncer seen.
  uint64_t pgbouncer_records() const { return pgbouncer_; }

 private:
  bool record(std::string_view text, RecordSink* out);
  // The record's server: LogicalServerName, else resourceId's last element
  // in lower case. Valid until the next call.
  std::string_view server_name();

  StderrFormat inner_;
  JsonStream stream_;
  JsonReader batch_, record_, properties_;
  std::string rebuilt_, server_;
  uint64_t pgbouncer_ = 0;
};

}  // namespace pgconn
