// pgconn-agg: connection events in, live summaries and history out
// (SPEC.md §4). Flag parsing, wiring, the print schedule and the exit
// status; the work is in common/ (window, summary, render).
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli.hpp"
#include "diag.hpp"
#include "duration.hpp"
#include "event_codec.hpp"
#include "input_loop.hpp"
#include "output.hpp"
#include "render.hpp"
#include "summary.hpp"
#include "window.hpp"

using namespace pgconn;
using cli::kFailure;
using cli::kOk;

namespace {

constexpr const char* kUsageText =
    "usage: pgconn-agg [--by=db,user,app,host,server] [--history] [--bucket=15m] [--last=60m]\n"
    "                  [--durations] [--longest=N]\n"
    "                  [--db=NAME] [--user=NAME] [--app=NAME] [--host=ADDR] [--server=NAME]\n"
    "                  [--max-events=10000] [--interval=DURATION] [--json] [FILE...]";

volatile std::sig_atomic_t g_print_now = 0;  // SIGUSR1
volatile std::sig_atomic_t g_clear = 0;      // SIGHUP

void on_usr1(int) { g_print_now = 1; }
void on_hup(int) { g_clear = 1; }

int usage_error(const std::string& what) { return cli::usage_error(kUsageText, what); }

struct View {
  std::vector<Dimension> by;
  Filter filter;
  bool history = false, json = false;
  SummaryOptions summary;  // --durations, --longest
  int64_t bucket_ms = 15 * 60000, last_ms = 60 * 60000;
};

class AggHandler : public InputHandler {
 public:
  using Clock = std::chrono::steady_clock;

  AggHandler(Window* window, const View& view, int64_t interval_ms, WarningCounter* warnings)
      : window_(window), view_(view), interval_ms_(interval_ms), warnings_(warnings),
        redraw_(interval_ms > 0 && isatty(STDOUT_FILENO)) {
    next_ = Clock::now() + std::chrono::milliseconds(interval_ms);
  }

  void begin_input(std::string_view name, bool /*live*/) override {
    warnings_->set_input(name);
    line_no_ = 0;
  }

  bool on_lines(std::string_view block) override {
    size_t pos = 0;
    while (pos < block.size()) {
      size_t nl = block.find('\n', pos);
      size_t end = nl == std::string_view::npos ? block.size() : nl;
      ++line_no_;
      std::string_view why;
      switch (decode_event(block.substr(pos, end - pos), &event_view_, &event_, &why)) {
        case Decoded::kEvent: window_->add(event_view_); break;
        case Decoded::kMalformed: warnings_->on_malformed(line_no_, why); break;
        case Decoded::kSkip: break;
      }
      pos = end + 1;
    }
    return interval_ms_ <= 0 || Clock::now() < next_ || on_timeout();
  }

  int wait_ms() override {
    if (interval_ms_ <= 0) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_ - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
  }

  bool on_timeout() override {
    next_ = Clock::now() + std::chrono::milliseconds(interval_ms_);
    return print();
  }

  bool end_input(uint64_t truncated) override {
    warnings_->add_truncated(truncated, "input");
    return true;
  }

  void on_input_error(std::string_view name, std::string_view what) override {
    diag("{}: {}", name, what);
    failed_ = true;
  }

  bool on_wake() override {
    if (g_clear) {
      g_clear = 0;
      window_->reset_statistics();  // the open sessions stay (issue 13)
      diag_line("connection statistics cleared");
    }
    if (g_print_now) {
      g_print_now = 0;
      return print();
    }
    return true;
  }

  // Writes one summary (or history) and flushes it.
  bool print() {
    out_.clear();
    if (redraw_) out_ += "\033[H\033[2J";  // like top: redraw in place
    else if (printed_ && !view_.json) out_ += "\n";
    if (view_.history) {
      History h = history(*window_, view_.filter, view_.bucket_ms, view_.last_ms);
      if (view_.json) render_history_json(h, window_->newest(), &out_);
      else render_history_text(h, view_.filter, view_.last_ms, &out_);
    } else {
      Summary s = summarize(*window_, view_.filter, view_.by, view_.summary);
      if (view_.json) render_summary_json(s, &out_);
      else render_summary_text(s, view_.filter, &out_);
    }
    printed_ = true;
    return output_write(out_) && output_flush();
  }

  bool failed() const { return failed_; }

 private:
  Window* window_;
  const View& view_;
  int64_t interval_ms_;
  WarningCounter* warnings_;
  bool redraw_;
  bool printed_ = false;
  bool failed_ = false;
  uint64_t line_no_ = 0;
  EventView event_view_;
  Event event_;  // storage for lines the decoder cannot read in place
  std::string out_;
  Clock::time_point next_;
};

// A whole number from 1 to `max` (--longest, --max-events).
bool parse_count(const std::string& v, long long max, size_t* out) {
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used != v.size() || n <= 0 || n > max) return false;
    *out = static_cast<size_t>(n);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  diag_init("pgconn-agg");
  output_init();
  cxxopts::Options opts("pgconn-agg", "Connection events in, summaries and history out.");
  opts.add_options()
      ("by", "group active sessions by these, in order",
       cxxopts::value<std::string>()->default_value("db,user,app"))
      ("history", "connects, disconnects and active sessions over time, with leak markers")
      ("bucket", "history bucket", cxxopts::value<std::string>())
      ("last", "history span before the newest event", cxxopts::value<std::string>())
      ("durations", "session lengths per --by name: sessions, mean, median, p95, max")
      ("longest", "the N sessions open longest", cxxopts::value<std::string>())
      ("db", "only this database", cxxopts::value<std::string>())
      ("user", "only this user", cxxopts::value<std::string>())
      ("app", "only this application (\"unknown\": none set)", cxxopts::value<std::string>())
      ("host", "only this client address", cxxopts::value<std::string>())
      ("server", "only this server", cxxopts::value<std::string>())
      ("max-events", "events kept for --history", cxxopts::value<std::string>()->default_value("10000"))
      ("interval", "on a live stream, print every DURATION", cxxopts::value<std::string>())
      ("json", "one JSON object per summary")
      ("h,help", "print this help")
      ("version", "print the version")
      ("files", "event files", cxxopts::value<std::vector<std::string>>());
  opts.parse_positional({"files"});
  cxxopts::ParseResult args;
  if (auto done = cli::parse(opts, argc, argv, kUsageText, &args)) return *done;

  View view;
  view.history = args.count("history") > 0;
  view.json = args.count("json") > 0;
  std::string by = args["by"].as<std::string>();
  for (size_t pos = 0; pos <= by.size();) {
    size_t comma = by.find(',', pos);
    std::string name = by.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    Dimension d;
    if (!parse_dimension(name, &d))
      return usage_error("bad --by \"" + by + "\": unknown \"" + name +
                         "\" (expected db, user, app, host, server)");
    for (Dimension seen : view.by)
      if (seen == d) return usage_error("bad --by \"" + by + "\": \"" + name + "\" twice");
    view.by.push_back(d);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  for (const char* opt : {"bucket", "last"}) {
    if (!args.count(opt)) continue;
    if (!view.history) return usage_error(std::string("--") + opt + " needs --history");
    auto ms = parse_duration(std::string("--") + opt, args[opt].as<std::string>());
    if (!ms.ok()) return usage_error(ms.error());
    (opt[0] == 'b' ? view.bucket_ms : view.last_ms) = *ms;
  }
  if (view.last_ms < view.bucket_ms)
    return usage_error("--last (" + format_duration(view.last_ms) + ") is shorter than --bucket (" +
                       format_duration(view.bucket_ms) + ")");
  if (view.last_ms / view.bucket_ms > kMaxBuckets)
    return usage_error("--last (" + format_duration(view.last_ms) + ") is more than " +
                       std::to_string(kMaxBuckets) + " buckets of --bucket (" +
                       format_duration(view.bucket_ms) + ")");
  view.summary.durations = args.count("durations") > 0;
  if (args.count("longest")) {
    std::string v = args["longest"].as<std::string>();
    if (!parse_count(v, 100000, &view.summary.longest))
      return usage_error("bad --longest \"" + v + "\": expected a number from 1 to 100000");
  }
  for (const char* opt : {"durations", "longest"})
    if (view.history && args.count(opt))
      return usage_error(std::string("--") + opt + " is part of the summary, not of --history");
  const char* filters[] = {"db", "user", "app", "host", "server"};
  for (int i = 0; i < 5; ++i)
    if (args.count(filters[i])) view.filter.field[i] = args[filters[i]].as<std::string>();
  std::string max_events = args["max-events"].as<std::string>();
  WindowOptions wopts;
  wopts.durations = view.summary.durations;
  wopts.filter = view.filter;  // the peak is kept for what is shown
  if (!parse_count(max_events, 100000000, &wopts.max_events))
    return usage_error("bad --max-events \"" + max_events + "\": expected a number from 1 to 100000000");
  int64_t interval_ms = 0;
  if (args.count("interval")) {
    auto ms = parse_duration("--interval", args["interval"].as<std::string>());
    if (!ms.ok()) return usage_error(ms.error());
    interval_ms = *ms;
  }

  std::vector<std::string> files;
  if (args.count("files")) files = args["files"].as<std::vector<std::string>>();
  Window window(wopts);
  WarningCounter warnings;
  AggHandler handler(&window, view, interval_ms, &warnings);
  const volatile std::sig_atomic_t* stop = install_stop_signals();
  install_wake_signal(SIGUSR1, on_usr1);
  install_wake_signal(SIGHUP, on_hup);
  read_inputs(files, &handler, stop);
  if (!output_closed()) handler.print();  // the final summary, also after Ctrl+C
  if (auto done = cli::finish_output()) return *done;
  warnings.report();
  if (window.evicted() > 0)
    diag("warning: {} sessions were forgotten past {} open ones (is log_disconnections on?)",
         window.evicted(), wopts.max_active);
  return handler.failed() ? kFailure : kOk;
}
