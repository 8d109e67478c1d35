// pgconn-parse: PostgreSQL log lines in, connection events out (SPEC.md §3).
// Flag parsing, wiring and the exit status; the work is in common/.
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli.hpp"
#include "diag.hpp"
#include "event_codec.hpp"
#include "input_loop.hpp"
#include "log_parser.hpp"
#include "output.hpp"
#include "tracker.hpp"

using namespace pgconn;
using cli::kFailure;
using cli::kOk;

namespace {

constexpr const char* kUsageText =
    "usage: pgconn-parse [--format=json|tsv]\n"
    "                    [--input=auto|stderr|csv|json|syslog|rfc5424|cnpg|gcp|journald|azure|cloudwatch|heroku]\n"
    "                    [--prefix=LOG_LINE_PREFIX] [--label=NAME] [--header] [FILE...]";

// Milliseconds on a monotonic clock, for the live settle rules.
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int usage_error(const std::string& what) { return cli::usage_error(kUsageText, what); }

class ParseHandler : public InputHandler {
 public:
  ParseHandler(LogParser* parser, WarningCounter* warnings)
      : parser_(parser), warnings_(warnings) {}

  void begin_input(std::string_view name, bool live) override {
    name_ = name;
    live_ = live;
    warnings_->set_input(name);
    parser_->begin_input();
  }
  // A held connection settles after ~20 ms: of silence (on_timeout), or of
  // waiting while lines keep coming (tick).
  bool on_lines(std::string_view block) override {
    return parser_->feed(block) && (!live_ || parser_->tick(now_ms()));
  }
  int wait_ms() override { return static_cast<int>(parser_->next_tick_ms(now_ms())); }
  bool on_timeout() override { return parser_->idle() && output_flush(); }
  bool end_input(uint64_t truncated) override {
    warnings_->add_truncated(truncated, name_);
    return parser_->end_input();
  }
  void on_input_error(std::string_view name, std::string_view what) override {
    diag("{}: {}", name, what);
    failed_ = true;
  }
  bool failed() const { return failed_; }

 private:
  LogParser* parser_;
  WarningCounter* warnings_;
  std::string name_;
  bool live_ = false;  // a regular file settles by log time alone
  bool failed_ = false;
};

void print_hints(const LogParser& parser, const Tracker& tracker) {
  const TrackerStats& s = tracker.stats();
  if (parser.pgbouncer_skipped() > 0)
    diag("note: {} PgBouncer record{} (Azure category PostgreSQLFlexPGBouncer) skipped: "
         "only PostgreSQL's own log is read", parser.pgbouncer_skipped(),
         parser.pgbouncer_skipped() == 1 ? "" : "s");
  // An unclaimed envelope was already named by the warning; a PgBouncer
  // log has no PostgreSQL connection lines to miss.
  const bool explained =
      parser.unclaimed_inputs() > 0 || (parser.pgbouncer_skipped() > 0 && s.lifecycle_lines == 0);
  if (!explained && parser.lines() > 0 && s.lifecycle_lines == 0 && s.malformed == 0) {
    diag("no connection lines found in {} lines: set log_connections = on and "
         "log_disconnections = on, and lc_messages to English ('C' or 'en_US.UTF-8')",
         parser.lines());
  } else if (s.events[static_cast<int>(EventType::kConnect)] >= 2 && s.disconnection_lines == 0) {
    diag("hint: {} sessions started and none ended: is log_disconnections on?",
         s.events[static_cast<int>(EventType::kConnect)]);
  }
  const ReorderStats& o = parser.reorder_stats();
  if (o.late > 0)
    diag("warning: {} line{} came out of order later than the settle window and {} read where "
         "{} came: events of {} sessions may be wrong (see README, Managed PostgreSQL)",
         o.late, o.late == 1 ? "" : "s", o.late == 1 ? "was" : "were", o.late == 1 ? "it" : "they",
         o.late == 1 ? "its" : "their");
  if (o.overflow > 0)
    diag("warning: {} time{} more lines waited for an earlier line than the cap allows; "
         "they were read without it", o.overflow, o.overflow == 1 ? "" : "s");
  if (s.evicted > 0)
    diag("warning: {} sessions never ended in the log and were forgotten (table cap {})",
         s.evicted, TrackerOptions().max_backends);
}

}  // namespace

int main(int argc, char** argv) {
  diag_init("pgconn-parse");
  output_init();
  cxxopts::Options opts("pgconn-parse", "PostgreSQL log lines in, connection events out.");
  opts.add_options()
      ("format", "output format: json or tsv", cxxopts::value<std::string>()->default_value("json"))
      ("input", "input format: auto, stderr, csv, json, syslog, rfc5424, cnpg, gcp, journald, "
                "azure, cloudwatch, heroku",
       cxxopts::value<std::string>()->default_value("auto"))
      ("prefix", "the server's log_line_prefix", cxxopts::value<std::string>())
      ("label", "server name for every event", cxxopts::value<std::string>())
      ("header", "with --format=tsv: print the column names first")
      ("h,help", "print this help")
      ("version", "print the version")
      ("files", "log files", cxxopts::value<std::vector<std::string>>());
  opts.parse_positional({"files"});
  cxxopts::ParseResult args;
  if (auto done = cli::parse(opts, argc, argv, kUsageText, &args)) return *done;

  std::string format = args["format"].as<std::string>();
  if (format != "json" && format != "tsv")
    return usage_error("bad --format \"" + format + "\": expected json or tsv");
  if (args.count("header") && format != "tsv") return usage_error("--header needs --format=tsv");
  auto input = parse_input_format(args["input"].as<std::string>());
  if (!input.ok()) return usage_error(input.error());

  ParserOptions popts;
  popts.format = *input;
  if (args.count("prefix")) {
    popts.prefix = args["prefix"].as<std::string>();
    popts.has_prefix = true;
  }
  std::time_t now = std::time(nullptr);
  std::tm tm_now{};
  gmtime_r(&now, &tm_now);
  popts.year = tm_now.tm_year + 1900;

  TrackerOptions topts;
  if (args.count("label")) topts.label = args["label"].as<std::string>();
  EventWriter writer(format == "tsv" ? EventWriter::Format::kTsv : EventWriter::Format::kJson);
  Tracker tracker(&writer, topts);
  WarningCounter warnings;
  auto parser = LogParser::create(popts, &tracker, &warnings);
  if (!parser.ok()) return usage_error(parser.error());

  std::vector<std::string> files;
  if (args.count("files")) files = args["files"].as<std::vector<std::string>>();
  if (args.count("header")) output_write(std::string(kTsvHeader) + "\n");

  const volatile std::sig_atomic_t* stop = install_stop_signals();
  ParseHandler handler(parser->get(), &warnings);
  read_inputs(files, &handler, stop);
  (*parser)->idle();  // end of input (or Ctrl+C): settle and write what is owed
  if (auto done = cli::finish_output()) return *done;
  warnings.report();
  print_hints(**parser, tracker);
  return handler.failed() ? kFailure : kOk;
}
