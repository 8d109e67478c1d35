// StderrFormat: reads the lines of a stderr log (log_destination = stderr,
// also what a syslog message or a journal entry carries after its header).
//
// With a prefix given (--prefix) every line is read with it. Without one the
// prefix is detected as lines come, so a live stream needs no look-ahead:
// every known prefix (pg-log-formats.md §2: PostgreSQL's defaults old and
// new, Debian, Amazon RDS, pgBadger's, Azure, SUSE, %c and %l variants) is
// tried in order, most specific first;
// the first (most specific) survivor that reads the line wins, and those
// before it that could not read it are dropped. A prefix none
// of them reads falls back to PrefixMatcher::generic().
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "formats/log_record.hpp"
#include "formats/prefix.hpp"

namespace pgconn {

class StderrFormat {
 public:
  // Auto-detection.
  StderrFormat();
  // A fixed prefix: lines it does not read are not reports.
  explicit StderrFormat(PrefixMatcher fixed);
  // Auto-detection that tries a platform's own prefixes (Heroku's) before
  // the known ones. REQUIRES: each compiles.
  explicit StderrFormat(const std::vector<std::string_view>& first);

  StderrFormat(StderrFormat&&) noexcept;
  ~StderrFormat();

  // Reads one line (no newline). Returns false when it is not the first line
  // of a report (a continuation line, another program's output, garbage).
  bool parse(std::string_view line, LogRecord* r);

  // Back to the state it was made in: nothing detected, every known
  // prefix possible (what a new StderrFormat of the same prefixes is,
  // without compiling them again).
  void restart();

  // The log_line_prefix in use: the fixed one, the detected one, or
  // "(generic)"; empty before the first report line.
  std::string_view detected() const;

  // The prefix parse() tries first and whose match alone decides a line it
  // reads: the fixed or detected one. Empty before the first report line
  // and while only the generic matcher reads the lines.
  std::string_view first_prefix() const {
    return last_ >= 0 ? std::string_view(candidates_[last_].source()) : std::string_view();
  }

  // parse() of a line that a PrefixMatcher compiled from first_prefix()
  // read as `r` (ahead, on another thread: stderr_ahead.hpp): the answer
  // and the change of state parse() would give, without matching again.
  // REQUIRES: first_prefix() is still the one `r` was read with; the line
  // is not empty and does not start with '\t'.
  bool parsed_ahead(const LogRecord& r) {
    generic_only_ = 0;
    return is_report_severity(r.severity);
  }

  // True when the prefix in use (fixed or detected) carries %a.
  bool has_app() const { return last_ >= 0 && candidates_[last_].has_app(); }

  // PrefixMatcher::probe() with the prefix in use.
  bool probe(std::string_view line, int64_t* pid, std::string_view* app) const {
    return last_ >= 0 && candidates_[last_].probe(line, pid, app);
  }

 private:
  std::vector<PrefixMatcher> candidates_;
  uint64_t alive_ = 0;      // bit i: candidates_[i] is still possible
  int last_ = -1;           // candidate that read the last report line
  bool fixed_ = false;
  uint64_t generic_only_ = 0;  // report lines no known prefix read
  PrefixMatcher generic_;
};

// The log_line_prefix values auto-detection knows, most specific first.
const std::vector<std::string_view>& known_prefixes();

}  // namespace pgconn
