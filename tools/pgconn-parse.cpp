// pgconn-parse: PostgreSQL log lines in, connection events out (SPEC.md §3).
// Flag parsing, wiring and the exit status; the work is in common/.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli.hpp"
#include "pipeline/diag.hpp"
#include "codec/event_codec.hpp"
#include "pipeline/input_loop.hpp"
#include "pipeline/log_parser.hpp"
#include "codec/output.hpp"
#include "lifecycle/snapshot.hpp"
#include "lifecycle/tracker.hpp"

using namespace pgconn;
using cli::kFailure;
using cli::kOk;

namespace {

constexpr const char* kUsageText =
    "usage: pgconn-parse [--format=json|tsv]\n"
    "                    [--input=auto|stderr|csv|json|syslog|rfc5424|cnpg|gcp|journald|azure|cloudwatch|heroku|pgbouncer]\n"
    "                    [--prefix=LOG_LINE_PREFIX] [--label=NAME] [--header]\n"
    "                    [--snapshot[=PID]] [FILE...]";

// Milliseconds on a monotonic clock, for the live settle rules.
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int usage_error(const std::string& what) { return cli::usage_error(kUsageText, what); }

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --snapshot: reconciled once, at the live end of the input (snapshot.hpp).
// A pipe counts as at its end after kQuietMs with nothing to read, so that
// a writer that is merely slower than us (tail -n +1 -F on a big file) does
// not have it done mid-file. Later idle moments do not look again: from
// here the log itself tells every start and end. On a pipe, the sessions
// found gone then wait for their grace (Snapshot::tick).
class SnapshotStep {
 public:
  static constexpr int64_t kQuietMs = 200;
  SnapshotStep(Tracker* tracker, LogParser* parser, SnapshotOptions options)
      : snapshot_(tracker, std::move(options)), parser_(parser) {}
  bool pending() const { return pending_; }
  void saw_input(int64_t now) { last_input_ms_ = now; }
  int64_t due_in(int64_t now) const {
    return pending_ ? std::max<int64_t>(0, last_input_ms_ + kQuietMs - now)
                    : snapshot_.next_tick_ms(now);
  }
  // Live: the reconcile once quiet, then the end of the grace.
  bool on_time(int64_t now) {
    if (pending_) return run(now);
    return parser_->idle() && snapshot_.tick(now) && (output_flush() || !output_closed());
  }
  bool tick(int64_t now) { return pending_ || snapshot_.tick(now); }
  // End of input or a signal: the sessions in their grace end now.
  void finish() { snapshot_.end_grace(); }
  // `clock`: now_ms() on a live stream; -1 at the end of the input.
  bool run(int64_t clock) {
    pending_ = false;
    if (!parser_->idle()) return false;
    auto report = snapshot_.reconcile(wall_now_ms(), clock);
    if (!report.ok()) {
      diag("warning: --snapshot: {}; the counts are only what the log shows", report.error());
    } else if (report->names_unknown > 0) {
      diag("warning: --snapshot: {} session{} hold a space in their user or database name: "
           "shown without names", report->names_unknown, report->names_unknown == 1 ? "" : "s");
    }
    return output_flush() || !output_closed();
  }

 private:
  Snapshot snapshot_;
  LogParser* parser_;
  bool pending_ = true;
  int64_t last_input_ms_ = 0;
};

class ParseHandler : public InputHandler {
 public:
  ParseHandler(LogParser* parser, WarningCounter* warnings, SnapshotStep* snapshot,
               bool reference)
      : parser_(parser), warnings_(warnings), snapshot_(snapshot), reference_(reference) {}

  void begin_input(std::string_view name, bool live) override {
    name_ = name;
    live_ = live;
    warnings_->set_input(name);
    parser_->begin_input();
    if (snapshot_ != nullptr) snapshot_->saw_input(now_ms());  // the quiet time starts now
  }
  // A held connection settles after ~20 ms: of silence (on_timeout), or of
  // waiting while lines keep coming (tick).
  bool on_lines(std::string_view block) override {
    if (snapshot_ != nullptr) snapshot_->saw_input(now_ms());
    return parser_->feed(block) && (!live_ || parser_->tick(now_ms())) &&
           (snapshot_ == nullptr || snapshot_->tick(now_ms()));
  }
  // A regular file is read and scanned ahead on a second thread, except
  // on the reference path (one thread).
  bool read_ahead() override { return !reference_; }
  void steer_ahead(ScanAhead* ahead) override {
    ahead->want_scan(parser_->wants_scan());
    ahead->read_with(parser_->prefix_ahead());
    size_t columns = 0;
    const AheadFormat format = parser_->records_ahead(&columns);
    ahead->frame_records(format, columns);
    ahead->want_pooler(parser_->wants_pooler());
  }
  bool on_block(const ScanAhead::Block& b) override {
    if (snapshot_ != nullptr) snapshot_->saw_input(now_ms());
    // A regular file: not live, no tick.
    return b.scanned ? parser_->feed(b.text(), &b.scan, &b.read, &b.records)
                     : parser_->feed(b.text(), nullptr, nullptr, &b.records,
                                     b.pooled ? &b.pooler : nullptr);
  }
  int wait_ms() override {
    int64_t now = now_ms(), wait = parser_->next_tick_ms(now);
    int64_t snap = live_ && snapshot_ != nullptr ? snapshot_->due_in(now) : -1;
    return static_cast<int>(wait < 0 || (snap >= 0 && snap < wait) ? snap : wait);
  }
  bool on_timeout() override {
    if (int64_t now = now_ms(); live_ && snapshot_ != nullptr && snapshot_->due_in(now) == 0)
      return snapshot_->on_time(now);
    return parser_->idle() && output_flush();
  }
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
  SnapshotStep* snapshot_;  // nullptr without --snapshot
  bool reference_;          // PGCONN_PARSE_REFERENCE=1
  std::string name_;
  bool live_ = false;  // a regular file settles by log time alone
  bool failed_ = false;
};

void print_hints(const LogParser& parser, const Tracker& tracker) {
  const TrackerStats& s = tracker.stats();
  // An unclaimed envelope was already named by the warning.
  const bool explained = parser.unclaimed_inputs() > 0;
  if (!explained && parser.pooler_lines() > 0 && s.lifecycle_lines == 0 && s.malformed == 0) {
    diag("no client connection lines found in {} lines of PgBouncer's log: set "
         "log_connections = 1 and log_disconnections = 1 in pgbouncer.ini",
         parser.lines());
  } else if (!explained && parser.lines() > 0 && s.lifecycle_lines == 0 && s.malformed == 0) {
    diag("no connection lines found in {} lines: set log_connections = on and "
         "log_disconnections = on, and lc_messages to English ('C' or 'en_US.UTF-8')",
         parser.lines());
  } else if (uint64_t started = s.events[static_cast<int>(EventType::kConnect)] -
                                s.snapshot_connects;
             started >= 2 && s.disconnection_lines == 0) {
    diag("hint: {} sessions started and none ended: is log_disconnections on?", started);
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
                "azure, cloudwatch, heroku, pgbouncer",
       cxxopts::value<std::string>()->default_value("auto"))
      ("prefix", "the server's log_line_prefix", cxxopts::value<std::string>())
      ("label", "server name for every event", cxxopts::value<std::string>())
      ("header", "with --format=tsv: print the column names first")
      ("snapshot", "at the live end, reconcile with the server's processes (postmaster PID)",
       cxxopts::value<std::string>()->implicit_value(""))
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
  if (const char* ref = std::getenv("PGCONN_PARSE_REFERENCE"); ref != nullptr && *ref == '1')
    popts.reference = true;

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

  std::optional<SnapshotStep> snapshot;
  if (args.count("snapshot")) {
    SnapshotOptions sopts;
    std::string pid = args["snapshot"].as<std::string>();
    if (!pid.empty()) {
      char* end = nullptr;
      long long v = std::strtoll(pid.c_str(), &end, 10);
      if (*end != '\0' || v <= 0 || pid[0] == '+' || pid[0] == ' ')
        return usage_error("bad --snapshot \"" + pid + "\": expected a process id");
      sopts.postmaster = v;
    }
    if (const char* root = std::getenv("PGCONN_PROC_ROOT"); root != nullptr && *root != '\0')
      sopts.proc_root = root;
    snapshot.emplace(&tracker, parser->get(), std::move(sopts));
  }

  const volatile std::sig_atomic_t* stop = install_stop_signals();
  ParseHandler handler(parser->get(), &warnings, snapshot ? &*snapshot : nullptr,
                       popts.reference);
  InputEnd end = read_inputs(files, &handler, stop);
  // The end of the last file is the live end (if no pipe reached one).
  if (snapshot && snapshot->pending() && end == InputEnd::kDone) snapshot->run(-1);
  (*parser)->idle();  // end of input (or Ctrl+C): settle and write what is owed
  if (snapshot) snapshot->finish();  // nothing more can end a session in its grace
  if (auto done = cli::finish_output()) return *done;
  warnings.report();
  print_hints(**parser, tracker);
  return handler.failed() ? kFailure : kOk;
}
