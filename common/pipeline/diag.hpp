// The only writer to stderr: errors and warnings in the err(3) shape,
// "pgconn-parse: FILE: No such file or directory".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "sink.hpp"

namespace pgconn {

// Sets the program name that starts every line. Call once in main().
void diag_init(std::string_view program);

// Writes "<program>: <text>\n" to stderr.
void diag_line(std::string_view text);

template <typename... Args>
void diag(fmt::format_string<Args...> f, Args&&... args) {
  diag_line(fmt::format(f, std::forward<Args>(args)...));
}

// An option parser's message in the house style: lower-case start, plain
// double quotes ("Option ‘x’ does not exist" -> "option \"x\" does not exist").
std::string house_style(std::string_view message);

// Counts damaged input (a Reporter) and says it once, at the end:
// "warning: 3 lines skipped (2 malformed connection lines, …); first: FILE:17".
class WarningCounter : public Reporter {
 public:
  // The name of the input now being read, for the location of the first.
  void set_input(std::string_view name) { input_ = name; }
  void on_malformed(uint64_t line_no, std::string_view what) override;
  // Lines the reader cut at its length cap.
  void add_truncated(uint64_t n, std::string_view input);
  uint64_t total() const { return malformed_ + truncated_ + other_; }
  // Writes the one warning line, if anything was counted.
  void report() const;

 private:
  void remember(uint64_t line_no, std::string_view what);
  std::string input_;
  uint64_t malformed_ = 0, truncated_ = 0, other_ = 0;
  std::string first_;
};

}  // namespace pgconn
