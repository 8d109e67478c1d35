// A RecordSink that keeps what it is given, as strings, for the format
// tests of the envelope readers.
#pragma once

#include <string>
#include <vector>

#include "formats/log_record.hpp"

namespace pgconn_test {

struct Rec {
  std::string time, user, db, app, host, severity, message, server, session, via;
  int64_t pid = -1, line_num = -1;
  int32_t port = -1;
  bool secondary = false;
};

class Collect : public pgconn::RecordSink {
 public:
  bool on_record(const pgconn::LogRecord& r) override { return keep(r, false); }
  bool on_secondary(const pgconn::LogRecord& r) override { return keep(r, true); }
  std::vector<Rec> records;
  size_t stop_after = SIZE_MAX;

 private:
  bool keep(const pgconn::LogRecord& r, bool secondary) {
    Rec c;
    if (r.time.valid()) pgconn::append_rfc3339(r.time, &c.time);
    c.user = r.user, c.db = r.db, c.app = r.app, c.host = r.host, c.severity = r.severity;
    c.message = r.message, c.server = r.server, c.session = r.session_id, c.via = r.via;
    c.port = r.port, c.pid = r.pid, c.line_num = r.line_num, c.secondary = secondary;
    records.push_back(c);
    return records.size() < stop_after;
  }
};

}  // namespace pgconn_test
