// pgconn-tail: the log of a PostgreSQL server as one uninterrupted stream
// of lines, through every rotation. Flag parsing, wiring and the exit
// status; the work is in common/ (follow, log_locator, backlog, tail_file).
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli.hpp"
#include "pipeline/diag.hpp"
#include "duration.hpp"
#include "tail/follow.hpp"
#include "pipeline/input_loop.hpp"
#include "tail/log_locator.hpp"
#include "codec/output.hpp"

using namespace pgconn;
using cli::kFailure;
using cli::kOk;

namespace {

constexpr const char* kUsageText =
    "usage: pgconn-tail [--from-start | -n N] [--format=stderr|csvlog|jsonlog]\n"
    "                   [--poll=DURATION] PATH";

int usage_error(const std::string& what) { return cli::usage_error(kUsageText, what); }

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// SIGINT and SIGTERM are blocked except while the follower waits; a long
// read (a backlog of weeks) looks for them between blocks.
bool stop_pending() {
  sigset_t pending;
  return sigpending(&pending) == 0 &&
         (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1);
}

// Lines to stdout (flushed before every wait), warnings to stderr.
class TailOutput : public FollowSink {
 public:
  bool on_lines(std::string_view block) override { return !stop_pending() && output_write(block); }
  bool flush() override { return output_flush(); }
  void on_warning(std::string_view text) override { diag("warning: {}", text); }
};

}  // namespace

int main(int argc, char** argv) {
  diag_init("pgconn-tail");
  output_init();
  cxxopts::Options opts("pgconn-tail",
                        "Follow a PostgreSQL server's log through every rotation.");
  opts.add_options()
      ("from-start", "first the rotated files, oldest first, then the whole live file")
      ("n", "start N lines back in the live file", cxxopts::value<std::string>(), "N")
      ("format", "which log: stderr, csvlog or jsonlog", cxxopts::value<std::string>(), "FORMAT")
      ("poll", "look every DURATION instead of using inotify", cxxopts::value<std::string>(),
       "DURATION")
      ("h,help", "print this help")
      ("version", "print the version")
      ("path", "a log file, a log directory or a data directory",
       cxxopts::value<std::vector<std::string>>());
  opts.parse_positional({"path"});
  cxxopts::ParseResult args;
  if (auto done = cli::parse(opts, argc, argv, kUsageText, &args)) return *done;

  std::vector<std::string> paths;
  if (args.count("path")) paths = args["path"].as<std::vector<std::string>>();
  if (paths.size() != 1)
    return usage_error(paths.empty() ? "a PATH is needed" : "one PATH only");

  FollowOptions fopts;
  if (args.count("from-start")) {
    if (args.count("n")) return usage_error("--from-start and -n exclude each other");
    fopts.start = FollowOptions::Start::kBeginning;
    fopts.backlog = true;
  }
  if (args.count("n")) {
    std::string n = args["n"].as<std::string>();
    if (n.empty() || n.size() > 18 || n.find_first_not_of("0123456789") != std::string::npos)
      return usage_error("bad -n \"" + n + "\": expected a number of lines");
    fopts.start = FollowOptions::Start::kLines;
    fopts.lines = std::stoull(n);
  }
  if (args.count("format")) {
    auto f = parse_log_format(args["format"].as<std::string>());
    if (!f.ok()) return usage_error(f.error());
    fopts.format = *f;
  }
  if (args.count("poll")) {
    auto d = parse_duration("--poll", args["poll"].as<std::string>());
    if (!d.ok()) return usage_error(d.error());
    fopts.poll_ms = static_cast<int>(std::min<int64_t>(*d, 3600000));
  }

  const volatile std::sig_atomic_t* stop = install_stop_signals();
  TailOutput out;
  Follower follower(paths[0], fopts, &out);
  auto started = follower.start(now_ms());
  if (!started.ok()) {
    diag_line(started.error());
    return kFailure;
  }
  if (*started) follow(&follower, fopts.poll_ms, &out, stop);
  if (auto done = cli::finish_output()) return *done;
  return kOk;
}
