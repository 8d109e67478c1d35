// What the four tools' main() share: exit statuses, the usage error, the
// option-parsing prologue (--help, --version, a bad option), the
// write-error epilogue, and the input handling pgconn-agg and pgconn-watch
// share (EventInputHandler). Only tools/ include cxxopts; common/ never does.
#pragma once

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <cxxopts.hpp>

#include "pipeline/diag.hpp"
#include "pipeline/input_loop.hpp"
#include "codec/output.hpp"
#include "version.hpp"

namespace pgconn::cli {

enum Exit { kOk = 0, kFailure = 1, kUsage = 2 };

// "<program>: <what>" and the usage line(s) on stderr; returns kUsage.
inline int usage_error(const char* usage, const std::string& what) {
  diag_line(what);
  std::fprintf(stderr, "%s\n", usage);
  return kUsage;
}

// Parses argv into *args. Returns the exit status when main() is done
// already (--help or --version printed, or a bad option reported).
inline std::optional<int> parse(cxxopts::Options& opts, int argc, char** argv, const char* usage,
                                cxxopts::ParseResult* args) {
  try {
    *args = opts.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    return usage_error(usage, house_style(e.what()));
  }
  if (args->count("help")) {
    std::string help = opts.help();  // description, its own usage, options
    size_t list = help.find("\n\n");
    std::printf("%s\n\n%s", usage, list == std::string::npos ? "" : help.c_str() + list + 2);
    return kOk;
  }
  if (args->count("version")) {
    std::printf("%s %s\n", opts.program().c_str(), kVersion);
    return kOk;
  }
  return std::nullopt;
}

// Flushes stdout. Returns the exit status when main() is done: a write
// error (reported, 1) or a reader that went away (quietly, 0).
inline std::optional<int> finish_output() {
  output_flush();
  if (output_error() != 0) {
    diag("write error: {}", std::strerror(output_error()));
    return kFailure;
  }
  if (output_closed()) return kOk;
  return std::nullopt;
}

// An InputHandler's shared part for the tools that read event streams:
// each input's damaged and cut lines counted in a WarningCounter, and an
// input that cannot be read reported ("PROGRAM: NAME: WHAT") and
// remembered for the exit status (failed()).
class EventInputHandler : public InputHandler {
 public:
  explicit EventInputHandler(WarningCounter* warnings) : warnings_(warnings) {}

  bool end_input(uint64_t truncated) override {
    warnings_->add_truncated(truncated, "input");
    return true;
  }
  void on_input_error(std::string_view name, std::string_view what) override {
    diag("{}: {}", name, what);
    failed_ = true;
  }
  // An input could not be read: the exit status is kFailure.
  bool failed() const { return failed_; }

 protected:
  WarningCounter* warnings_;

 private:
  bool failed_ = false;
};

}  // namespace pgconn::cli
