#include "pipeline/diag.hpp"

#include <cstdio>

#include "read/line_reader.hpp"
#include "codec/output.hpp"

namespace pgconn {

namespace {
std::string g_program = "pgconn";

std::string plural(uint64_t n, std::string_view one) {
  return fmt::format("{} {}{}", n, one, n == 1 ? "" : "s");
}
}  // namespace

void diag_init(std::string_view program) { g_program = program; }

std::string house_style(std::string_view m) {
  std::string out;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m.substr(i, 3) == "\u2018" || m.substr(i, 3) == "\u2019") {
      out.push_back('"');
      i += 2;
    } else {
      out.push_back(m[i]);
    }
  }
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

void diag_line(std::string_view text) {
  output_flush();  // keep stdout and stderr in order on a terminal
  std::string line = fmt::format("{}: {}\n", g_program, text);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void WarningCounter::remember(uint64_t line_no, std::string_view what) {
  if (first_.empty()) first_ = fmt::format("{}:{}: {}", input_, line_no, what);
}

void WarningCounter::on_malformed(uint64_t line_no, std::string_view what) {
  if (what == "malformed connection line") {
    ++malformed_;
  } else {
    ++other_;
  }
  remember(line_no, what);
}

void WarningCounter::add_truncated(uint64_t n, std::string_view input) {
  if (n == 0) return;
  truncated_ += n;
  if (first_.empty())
    first_ = fmt::format("{}: a line longer than {} bytes", input, LineReader::kMaxLine);
}

void WarningCounter::report() const {
  if (total() == 0) return;
  std::string parts;
  auto add = [&](uint64_t n, std::string_view one) {
    if (n == 0) return;
    if (!parts.empty()) parts += ", ";
    parts += plural(n, one);
  };
  add(malformed_, "malformed connection line");
  add(truncated_, "over-long line cut");
  add(other_, "damaged record");
  diag("warning: {} could not be fully used ({}); first: {}", plural(total(), "line"), parts,
       first_);
}

}  // namespace pgconn
