#include "regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

namespace pgconn {

namespace {
// Generous for a log line (a prefix match needs a few hundred steps), small
// enough that a hostile 1 MiB line costs milliseconds, not minutes.
constexpr uint32_t kMatchLimit = 200000;
constexpr uint32_t kDepthLimit = 5000;
}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  bool jitted = false;  // pcre2_jit_compile() tried (at the first match)
  ~Impl() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

Result<Regex> Regex::compile(std::string_view pattern) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   0, &err, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    return make_error(fmt::format("bad regular expression \"{}\": {} at offset {}", pattern,
                                  reinterpret_cast<const char*>(buf), offset));
  }
  Regex re;
  re.impl_ = std::make_unique<Impl>();
  re.impl_->code = code;
  re.impl_->data = pcre2_match_data_create_from_pattern(code, nullptr);
  re.impl_->context = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(re.impl_->context, kMatchLimit);
  pcre2_set_depth_limit(re.impl_->context, kDepthLimit);
  uint32_t n = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n);
  re.groups_ = static_cast<int>(n);
  return re;
}

bool Regex::match(std::string_view subject, std::vector<std::string_view>* caps) const {
  // JIT-compiled at the first match, not at compile(): most patterns
  // compiled at start (every known log_line_prefix, for detection) are
  // never matched on a given input, and the JIT compile is what costs.
  if (!impl_->jitted) {
    impl_->jitted = true;
    pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter on failure
  }
  int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(),
                       0, 0, impl_->data, impl_->context);
  if (rc <= 0) return false;  // no match, or a limit was hit
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(impl_->data);
  caps->assign(static_cast<size_t>(groups_) + 1, std::string_view());
  for (int i = 0; i < rc && i <= groups_; ++i) {
    if (ov[2 * i] == PCRE2_UNSET) continue;
    (*caps)[i] = subject.substr(ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
  }
  return true;
}

}  // namespace pgconn
