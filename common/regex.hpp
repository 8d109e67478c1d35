// Regex: a compiled PCRE2 pattern (JIT when available, compiled at the first
// match) with bounded matching.
//
// Matching is limited (match and depth limits), so no pattern can
// backtrack for long on any subject: a match that hits a limit is reported
// as no match. One Regex must not be used by two threads at once (it owns
// its match data, and its first match compiles it to machine code).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace pgconn {

class Regex {
 public:
  // Compiles `pattern` (PCRE2 syntax, UTF off: log lines are bytes).
  // Fails with `bad regular expression "P": <pcre2 message> at offset N`.
  static Result<Regex> compile(std::string_view pattern);

  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  ~Regex();

  // Number of capture groups.
  int groups() const { return groups_; }

  // Matches at the start of `subject` or anywhere, as the pattern says.
  // On success `*caps` holds group 0 (the whole match) and every group;
  // an unset group is an empty view with data() == nullptr. Views point
  // into `subject`.
  bool match(std::string_view subject, std::vector<std::string_view>* caps) const;

 private:
  Regex() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int groups_ = 0;
};

}  // namespace pgconn
