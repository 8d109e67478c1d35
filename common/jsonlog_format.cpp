#include "jsonlog_format.hpp"

namespace pgconn {

bool JsonlogFormat::looks_like(std::string_view line) {
  return line.substr(0, 14) == "{\"timestamp\":\"";
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
