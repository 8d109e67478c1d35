// HerokuFormat: reads Heroku Postgres logs (cloud-envelopes.md §3) in the
// three shapes they come in:
//   `heroku logs -p postgres`:
//     2019-03-14T00:22:56+00:00 app[postgres.4882]: [GREEN] [15-1]  sql_error_code = 00000 LOG:  …
//   a syslog drain receiver's file:
//     2021-09-07T04:01:27+00:00 d.af28b93f-… app[postgres.5925] [AQUA] [921320-1]  sql_error_code = …
//   an HTTPS drain's body (RFC 6587 octet-counted RFC 5424 frames):
//     451 <134>1 2023-06-05T19:33:14+00:00 host app postgres.1105947 - [YELLOW] [12-1]  sql_error_code = 00000 time_ms = "…" pid="1991397" … LOG:  …
// The attachment name ([GREEN]) becomes LogRecord::server. The message
// after "[N-M]" goes to SyslogFormat with Heroku's log_line_prefix values
// tried first (2022+: time_ms, pid, log_line …; before: sql_error_code
// only; hobby tier): the pid is pid="…" when the prefix has it, else N of
// postgres.N; the time is time_ms when present, else the header's.
// Lines of other processes (router, web dynos, heroku-postgres metrics
// samples, other add-ons) are skipped; metrics samples are counted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/log_record.hpp"
#include "formats/stderr_format.hpp"
#include "envelopes/syslog_format.hpp"

namespace pgconn {

class HerokuFormat {
 public:
  // Heroku's log_line_prefix values, newest first (pganalyze's
  // LogPrefixHeroku2, LogPrefixHeroku1, hobby).
  static const std::vector<std::string_view>& prefixes();

  // `inner`: StderrFormat(prefixes()) unless --prefix was given.
  HerokuFormat(StderrFormat inner, int year);

  bool feed(std::string_view line, RecordSink* out);
  bool flush(RecordSink* out) { return syslog_.flush(out); }
  bool holding() const { return syslog_.holding(); }

  // True for a Heroku Postgres line or frame (app[postgres.N] / APP-NAME
  // "app" with PROCID postgres.N or heroku-postgres).
  static bool looks_like(std::string_view line);

  // heroku-postgres metrics frames and lines skipped.
  uint64_t metrics_skipped() const { return metrics_; }

 private:
  bool frame(std::string_view text, RecordSink* out);
  bool text_line(std::string_view line, RecordSink* out);

  SyslogFormat syslog_;
  int64_t skip_bytes_ = 0;
  uint64_t metrics_ = 0;
};

}  // namespace pgconn
