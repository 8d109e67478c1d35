#include "formats/stderr_format.hpp"

namespace pgconn {

namespace {
// After this many report lines that only the generic matcher read, the
// known prefixes are not tried again.
constexpr uint64_t kGiveUpAfter = 1000;
}  // namespace

const std::vector<std::string_view>& known_prefixes() {
  static const std::vector<std::string_view> kPrefixes = {
      "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",  // pgBadger, older
      "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
      "%t [%p]: user=%u,db=%d,app=%a,client=%h ",         // pgBadger
      "%m [%p]: user=%u,db=%d,app=%a,client=%h ",
      "%t:%r:%u@%d:[%p]:",                                // Amazon RDS / Aurora
      "%m [%p] %c ",                                      // with session id
      "%m [%p-%l] %q%u@%d ",                              // Debian's with line number
      "%t [%p-%l] %q%u@%d ",
      "%m [%p-%l] ",                                      // with line number
      "%t [%p-%l] ",
      "%m [%p] %q%u@%d ",                                 // Debian / Ubuntu
      "%t [%p] %q%u@%d ",
      "%m %d %u [%p]",                                    // SUSE
      "%t-%c-",                                           // Azure
      "%m [%p] ",                                         // PostgreSQL 10+ default
      "%t [%p] ",
      "",                                                 // PostgreSQL 9.6 default
  };
  return kPrefixes;
}

StderrFormat::StderrFormat() : generic_(PrefixMatcher::generic()) {
  for (std::string_view p : known_prefixes()) candidates_.push_back(std::move(*PrefixMatcher::compile(p)));
  alive_ = (uint64_t{1} << candidates_.size()) - 1;
}

StderrFormat::StderrFormat(const std::vector<std::string_view>& first)
    : generic_(PrefixMatcher::generic()) {
  for (std::string_view p : first) candidates_.push_back(std::move(*PrefixMatcher::compile(p)));
  for (std::string_view p : known_prefixes()) candidates_.push_back(std::move(*PrefixMatcher::compile(p)));
  alive_ = (uint64_t{1} << candidates_.size()) - 1;
}

StderrFormat::StderrFormat(PrefixMatcher fixed)
    : fixed_(true), generic_(PrefixMatcher::generic()) {
  candidates_.push_back(std::move(fixed));
  alive_ = 1;
}

void StderrFormat::restart() {
  alive_ = fixed_ ? 1 : (uint64_t{1} << candidates_.size()) - 1;
  last_ = -1;
  generic_only_ = 0;
}

StderrFormat::StderrFormat(StderrFormat&&) noexcept = default;
StderrFormat::~StderrFormat() = default;

std::string_view StderrFormat::detected() const {
  if (last_ >= 0) return candidates_[last_].source();
  if (last_ == -2) return generic_.source();
  return {};
}

bool StderrFormat::parse(std::string_view line, LogRecord* r) {
  if (line.empty() || line[0] == '\t') return false;  // continuation of a report
  if (fixed_) {
    *r = LogRecord();
    if (!candidates_[0].match(line, r)) return false;
    last_ = 0;
    return is_report_severity(r->severity);
  }
  // Known prefixes in priority order; the first that reads the line wins,
  // and the ones before it that could not read it are dropped for good.
  uint64_t failed = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const uint64_t bit = uint64_t{1} << i;
    if (!(alive_ & bit)) continue;
    *r = LogRecord();
    if (candidates_[i].match(line, r)) {
      alive_ &= ~failed;
      last_ = static_cast<int>(i);
      generic_only_ = 0;
      return is_report_severity(r->severity);  // DETAIL, HINT, ... belong to the line before
    }
    failed |= bit;
  }
  *r = LogRecord();
  if (!generic_.match(line, r)) return false;
  if (++generic_only_ >= kGiveUpAfter && alive_ != 0) alive_ = 0;  // a custom prefix
  last_ = -2;
  return is_report_severity(r->severity);
}

}  // namespace pgconn
