#include "envelopes/gcp_format.hpp"

#include "envelopes/syslog_format.hpp"

namespace pgconn {

namespace {

// "[24667]: " at the start of a payload: the pid, and the payload after it.
bool split_pid(std::string_view* payload, int64_t* pid) {
  std::string_view p = *payload;
  size_t close = p.find("]: ");
  if (p.empty() || p[0] != '[' || close == std::string_view::npos) return false;
  *pid = parse_decimal(p.substr(1, close - 1));
  if (*pid < 0) return false;
  payload->remove_prefix(close + 3);
  return true;
}

}  // namespace

GcpFormat::GcpFormat() : inner_(std::move(*PrefixMatcher::compile(kPayloadPrefix))) {}

GcpFormat::GcpFormat(PrefixMatcher payload_prefix)
    : inner_(std::move(payload_prefix)), fixed_(true) {}

bool GcpFormat::looks_like(std::string_view line) {
  if (line.empty() || line[0] != '{') return false;
  JsonReader json;
  return json.parse(line) && (json.find("textPayload") != nullptr ||
                              (json.find("logName") != nullptr && json.find("resource") != nullptr));
}

bool GcpFormat::feed(std::string_view line, RecordSink* out) {
  if (line.empty() || line[0] != '{' || !entry_.parse(line)) return true;
  std::string_view payload = entry_.string("textPayload");
  int64_t pid = -1, n = -1, m = 1;
  if (!split_pid(&payload, &pid)) return true;  // a continuation (TAB) or not PostgreSQL's
  if (parse_sequence(&payload, &n, &m) && m > 1) return true;  // the rest of a split message
  LogRecord r;
  bool report = inner_.parse(payload, &r);
  if (!report && r.severity.empty() && !fixed_) report = fallback_.parse(payload, &r);
  if (!report && r.severity.empty()) return true;
  if (r.pid < 0) r.pid = pid;
  if (r.line_num < 0) r.line_num = n;
  if (!r.time.valid()) parse_iso_time(entry_.string("timestamp"), &r.time);
  const JsonReader::Member* resource = entry_.find("resource");
  if (resource != nullptr && resource->type == JsonReader::Type::kObject &&
      resource_.parse(resource->value)) {
    const JsonReader::Member* labels = resource_.find("labels");
    if (labels != nullptr && labels->type == JsonReader::Type::kObject && labels_.parse(labels->value))
      r.server = labels_.string("database_id");
  }
  return report ? out->on_record(r) : out->on_secondary(r);
}

}  // namespace pgconn
