// CloudwatchFormat: reads Amazon RDS / Aurora PostgreSQL logs as CloudWatch
// Logs gives them (cloud-envelopes.md §1). Text lines:
//   `aws logs tail` (detailed): 2024-05-01T10:00:00.123000+00:00 mydb.0 <RDS line>
//   `aws logs tail --format short`: 2024-05-01T10:00:00 <RDS line>
//   an export to S3: 2024-05-01T10:00:00.123Z <RDS line>
// and JSON documents (one a line, pretty-printed, or back to back):
//   `aws logs filter-log-events` / `get-log-events`: {"events":[{"logStreamName":…,"timestamp":…,"message":…}],…}
//   a subscription payload, decoded: {"messageType":"DATA_MESSAGE","logGroup":…,"logStream":…,"logEvents":[{"id","timestamp","message"}]}
//   one event a line (`jq -c '.logEvents[]'`): {"timestamp":…,"message":…}
// The message is the server's line, read with the log_line_prefix (RDS's
// `%t:%r:%u@%d:[%p]:` is detected as in a plain log). The time is the
// line's unless it has none or whole seconds only, then the event's
// (milliseconds); the server is the log stream's name (logStream,
// logStreamName, the detailed text's second field) as written.
// CONTROL_MESSAGE payloads and lines of no known shape are skipped.
#pragma once

#include <string>
#include <string_view>

#include "json_reader.hpp"
#include "envelopes/json_stream.hpp"
#include "formats/log_record.hpp"
#include "formats/stderr_format.hpp"

namespace pgconn {

class CloudwatchFormat {
 public:
  explicit CloudwatchFormat(StderrFormat inner);

  bool feed(std::string_view line, RecordSink* out);
  bool feed_document(std::string_view doc, RecordSink* out);

  // True when the parsed object is a CloudWatch Logs document or event.
  static bool claims(const JsonReader& object);

  // Splits a text line into the envelope's time, stream ("" for the short
  // and export forms) and message; false when it has none of the shapes.
  static bool split_text(std::string_view line, Timestamp* time, std::string_view* stream,
                         std::string_view* message);

 private:
  bool message(const Timestamp& time, std::string_view stream, std::string_view text,
               RecordSink* out);
  bool events(std::string_view array, std::string_view stream, RecordSink* out);

  StderrFormat inner_;
  JsonStream stream_;
  JsonReader doc_, event_;
  std::string stream_name_;
};

}  // namespace pgconn
