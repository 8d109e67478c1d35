#include "envelopes/azure_format.hpp"

#include "formats/pgbouncer_format.hpp"

namespace pgconn {

namespace {

// A single server altered two lifecycle messages (pganalyze's
// input/system/azure/logs.go undoes the same): "connection received: …
// port=38850 pid=3312" gained the pid, and "connection authorized:
// user=postgresdatabase=postgres" lost the space before database=.
void undo_single_server_edits(std::string* line) {
  size_t at = line->find("connection received: ");
  size_t pid = line->rfind(" pid=");
  if (at != std::string::npos && pid != std::string::npos && pid > at &&
      parse_decimal(std::string_view(*line).substr(pid + 5)) >= 0)
    line->resize(pid);
  at = line->find("connection authorized: user=");
  if (at == std::string::npos) return;
  size_t user = at + 28;
  size_t db = line->find("database=", user);
  size_t space = line->find(' ', user);
  if (db != std::string::npos && db > user && (space == std::string::npos || space > db))
    line->insert(db, " ");
}

}  // namespace

std::string_view AzureFormat::server_name() {
  server_.assign(record_.string("LogicalServerName"));
  if (server_.empty()) {
    std::string_view id = record_.string("resourceId");
    size_t slash = id.rfind('/');
    server_.assign(slash == std::string_view::npos ? id : id.substr(slash + 1));
    for (char& c : server_)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return server_;
}

AzureFormat::AzureFormat(StderrFormat inner) : inner_(std::move(inner)) {}

bool AzureFormat::claims(const JsonReader& o) {
  const JsonReader::Member* records = o.find("records");
  if (records != nullptr && records->type == JsonReader::Type::kArray) return true;
  std::string_view category = o.string("category");
  return o.find("resourceId") != nullptr &&
         (category == "PostgreSQLLogs" || category.substr(0, 14) == "PostgreSQLFlex");
}

bool AzureFormat::feed(std::string_view line, RecordSink* out) {
  JsonStream::Fed fed =
      stream_.feed(line, [&](std::string_view doc) { return feed_document(doc, out); });
  return fed != JsonStream::Fed::kStopped;
}

bool AzureFormat::feed_document(std::string_view doc, RecordSink* out) {
  if (!batch_.parse(doc)) return true;
  const JsonReader::Member* records = batch_.find("records");
  if (records == nullptr) return record(doc, out);
  if (records->type != JsonReader::Type::kArray) return true;
  // record() reuses batch_'s sibling readers only: the array's text lives
  // in `doc`, so the elements stay valid.
  bool go_on = true;
  for_each_json_element(records->value, [&](std::string_view element) {
    go_on = record(element, out);
    return go_on;
  });
  return go_on;
}

bool AzureFormat::record(std::string_view text, RecordSink* out) {
  if (!record_.parse(text)) return true;
  std::string_view category = record_.string("category");
  if (category == "PostgreSQLFlexPGBouncer") {  // the built-in PgBouncer's line
    LogRecord r;
    ++pgbouncer_;
    if (!parse_pgbouncer_line(record_.string("log"), &r)) return true;
    r.server = server_name();
    return out->on_record(r);
  }
  if (category != "PostgreSQLLogs") return true;
  const JsonReader::Member* props = record_.find("properties");
  if (props == nullptr || props->type != JsonReader::Type::kObject || !properties_.parse(props->value))
    return true;
  std::string_view message = properties_.string("message");
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.remove_suffix(1);
  size_t nl = message.find('\n');  // a multi-line report: its first line
  if (nl != std::string_view::npos) message = message.substr(0, nl);
  LogRecord r;
  bool report = inner_.parse(message, &r);
  if (!report && r.severity.empty()) {
    // A single server's record: prefix and severity in their own fields.
    std::string_view prefix = properties_.string("prefix");
    std::string_view level = properties_.string("errorLevel");
    if (prefix.empty() || level.empty()) return true;
    rebuilt_.assign(prefix).append(level).append(":  ").append(message);
    undo_single_server_edits(&rebuilt_);
    report = inner_.parse(rebuilt_, &r);
    if (!report && r.severity.empty()) return true;
  }
  if (r.pid < 0) r.pid = properties_.integer("processId");
  Timestamp t;
  if ((!r.time.valid() || !r.time.has_ms) && parse_pg_time(properties_.string("timestamp"), &t) &&
      t.has_ms)
    r.time = t;
  r.server = server_name();
  return report ? out->on_record(r) : out->on_secondary(r);
}

}  // namespace pgconn
