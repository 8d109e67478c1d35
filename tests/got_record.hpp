// Owned copies of what a parser filled into a LogRecord, for readable
// failures in the format tests (prefix, stderr, jsonlog), and rfc() to
// compare a Timestamp as text.
#pragma once

#include <cstdint>
#include <string>

#include "formats/log_record.hpp"
#include "timestamp.hpp"

namespace pgconn_test {

struct Got {
  bool ok = false;
  std::string user, db, app, host, backend_type, session_id, severity, message;
  int32_t port = -1;
  int64_t pid = -1, line_num = -1;
  pgconn::Timestamp time;
};

// What `r` holds after a parse that returned `ok`.
inline Got got(bool ok, const pgconn::LogRecord& r) {
  Got g;
  g.ok = ok;
  g.user = r.user;
  g.db = r.db;
  g.app = r.app;
  g.host = r.host;
  g.backend_type = r.backend_type;
  g.session_id = r.session_id;
  g.severity = r.severity;
  g.message = r.message;
  g.port = r.port;
  g.pid = r.pid;
  g.line_num = r.line_num;
  g.time = r.time;
  return g;
}

// RFC 3339 text of `t`, or "(none)" when it is not set.
inline std::string rfc(const pgconn::Timestamp& t) {
  if (!t.valid()) return "(none)";
  std::string s;
  pgconn::append_rfc3339(t, &s);
  return s;
}

}  // namespace pgconn_test
