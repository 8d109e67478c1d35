#include "formats/jsonlog_format.hpp"

#include <cstring>

namespace pgconn {

bool JsonlogFormat::looks_like(std::string_view line) {
  return line.substr(0, 14) == "{\"timestamp\":\"";
}

// A key is found by `,"key":` : a '"' after a ',' cannot be inside a JSON
// string (there every '"' is escaped), so the match is the object's key.
bool JsonlogFormat::probe(std::string_view line, int64_t* pid, std::string_view* app) {
  static constexpr std::string_view kPid = ",\"pid\":";
  static constexpr std::string_view kApp = ",\"application_name\":\"";
  if (!looks_like(line) || line.back() != '}') return false;
  size_t at = line.find(kPid);
  if (at == std::string_view::npos) return false;
  size_t digits = at + kPid.size(), end = digits;
  while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
  *pid = parse_decimal(line.substr(digits, end - digits));
  if (*pid < 0 || end >= line.size() || (line[end] != ',' && line[end] != '}')) return false;
  // The name is one of the last keys: look for it from the end.
  *app = {};
  at = line.size();
  do {  // back from ',' to ',': the name is among the last keys
    const void* comma = memrchr(line.data(), ',', at);
    if (comma == nullptr) return true;
    at = static_cast<const char*>(comma) - line.data();
  } while (line.substr(at, kApp.size()) != kApp);
  size_t from = at + kApp.size();
  size_t close = line.find('"', from);
  if (close == std::string_view::npos) return false;
  *app = known(line.substr(from, close - from));
  return app->find('\\') == std::string_view::npos;  // escaped: parse() would unescape
}

bool JsonlogFormat::parse(std::string_view line, LogRecord* r) {
  if (!json_.parse(line)) return false;
  *r = LogRecord();
  if (!parse_pg_time(json_.string("timestamp"), &r->time)) return false;
  r->severity = json_.string("error_severity");
  if (!is_report_severity(r->severity)) return false;
  r->message = json_.string("message");
  r->user = known(json_.string("user"));
  r->db = known(json_.string("dbname"));
  r->app = known(json_.string("application_name"));
  r->pid = json_.integer("pid");
  r->host = known(json_.string("remote_host"));
  int64_t port = json_.integer("remote_port");
  r->port = port >= 0 && port <= 65535 ? static_cast<int32_t>(port) : -1;
  r->session_id = json_.string("session_id");
  r->line_num = json_.integer("line_num");
  r->backend_type = json_.string("backend_type");
  return true;
}

}  // namespace pgconn
