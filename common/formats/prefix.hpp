// PrefixMatcher: reads the log_line_prefix part of a stderr log line.
//
// compile() turns the server's exact log_line_prefix (every % escape of
// pg-log-formats.md §2, padding such as %-10u, %q) into one anchored PCRE2
// pattern followed by "SEVERITY:  ". Fields whose text is free (%u %d %a
// %i %b) match lazily up to the fixed text that follows them, so names with
// spaces, '@', ':' or '=' are read whole as long as that fixed text does
// not occur inside them.
//
// generic() matches any line with a "SEVERITY:  " after some text, and
// picks the time, pid and session id out of that text by their shape; it is
// the fallback when no known prefix fits.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "formats/log_record.hpp"
#include "regex.hpp"
#include "result.hpp"

namespace pgconn {

class PrefixMatcher {
 public:
  // Fails on a prefix the matcher cannot be built for, quoting it.
  static Result<PrefixMatcher> compile(std::string_view log_line_prefix);
  static PrefixMatcher generic();

  // Reads `line` as <prefix><SEVERITY>:  <message>. On success fills the
  // prefix fields, severity and message of *r (other fields untouched) and
  // returns true. Views point into `line`.
  bool match(std::string_view line, LogRecord* r) const;

  // The log_line_prefix this was compiled from ("(generic)" for generic()).
  const std::string& source() const { return source_; }

  // True when the prefix carries the pid (%p); without it lines of
  // different backends can only be joined by order.
  bool has_pid() const { return has_pid_; }

  // True when the prefix carries the application name (%a).
  bool has_app() const { return has_app_; }

  // A cheap look at a line's pid and application name (%a) without the
  // regular expression, for the lines that are not read in full: each field
  // ends at the first occurrence of the fixed text after it, as the lazy
  // pattern reads it, and a severity must follow the prefix. Returns false
  // when it cannot tell (no %p or %a, padding, two fields with nothing
  // between them, a line of another shape): then match() must decide.
  // `*app` is empty for "[unknown]"; views point into `line`.
  bool probe(std::string_view line, int64_t* pid, std::string_view* app) const;

 private:
  enum class Field : uint8_t {
    kApp, kUser, kDb, kHostPort, kHost, kBackendType, kPid, kTime, kEpoch,
    kSession, kLineNum, kIgnored, kSeverity, kGenericPrefix,
  };
  PrefixMatcher(Regex re, std::vector<Field> fields, std::string source);
  void read_generic(std::string_view prefix, LogRecord* r) const;

  Regex re_;
  std::vector<Field> fields_;  // capture group i+1 holds fields_[i]
  std::string source_;
  bool has_pid_ = false;
  bool has_app_ = false;
  // probe(): the prefix as fixed texts and fields; empty when unusable.
  struct ProbeStep {
    char field = 0;        // 0: `text` is fixed text; else 'p', 'a', 't' (a time), '?' (other)
    std::string text;
  };
  std::vector<ProbeStep> probe_;
  void build_probe(std::string_view prefix);
  mutable std::vector<std::string_view> caps_;
};

}  // namespace pgconn
