#include "pipeline/stderr_ahead.hpp"

namespace pgconn {

void StderrAhead::read(std::string_view prefix, std::string_view block, const BlockScan& scan,
                       LinesAhead* out, const std::atomic<bool>* hurry) {
  out->prefix.clear();
  if (prefix.empty()) {
    out->lines.clear();
    return;
  }
  if (!matcher_ || source_ != prefix) {  // compiled once per prefix
    matcher_.reset();
    source_ = prefix;
    auto m = PrefixMatcher::compile(prefix);
    if (!m.ok()) return;
    matcher_.emplace(std::move(*m));
  }
  out->prefix = source_;
  out->lines.clear();  // keeps its memory: one element a line read, as it is read
  for (const Candidate& c : scan.candidates) {
    if (hurry != nullptr && hurry->load(std::memory_order_relaxed)) return;
    std::string_view text = block.substr(c.begin, c.end - c.begin);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);  // as LogParser::line
    LineAhead& a = out->lines.emplace_back();
    a.matched = !text.empty() && text[0] != '\t' && matcher_->match(text, &a.record);
    if (a.matched) a.message = classify_message(a.record.severity, a.record.message);
  }
}

}  // namespace pgconn
