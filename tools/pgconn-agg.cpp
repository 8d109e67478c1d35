// pgconn-agg: connection events in, live summaries and history out
// (SPEC.md §4) and Prometheus metrics. Wiring, the print schedule and the
// exit status; the options are checked in agg_options.hpp, the work is in
// common/ (window, summary, render, prom, atomic_file).
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "agg_options.hpp"
#include "render/atomic_file.hpp"
#include "window/catch_up.hpp"
#include "cli.hpp"
#include "pipeline/diag.hpp"
#include "duration.hpp"
#include "codec/event_codec.hpp"
#include "pipeline/input_loop.hpp"
#include "codec/output.hpp"
#include "render/prom.hpp"
#include "render/render.hpp"
#include "window/summary.hpp"
#include "window/window.hpp"

using namespace pgconn;
using cli::kFailure;
using cli::kOk;
using agg::View;

namespace {

volatile std::sig_atomic_t g_print_now = 0;  // SIGUSR1
volatile std::sig_atomic_t g_clear = 0;      // SIGHUP

void on_usr1(int) { g_print_now = 1; }
void on_hup(int) { g_clear = 1; }

class AggHandler : public cli::EventInputHandler {
 public:
  using Clock = std::chrono::steady_clock;

  AggHandler(Window* window, const agg::Options& o, WarningCounter* warnings)
      : EventInputHandler(warnings), window_(window), view_(o.view), interval_ms_(o.interval_ms),
        redraw_(o.interval_ms > 0 && !o.view.json && !o.view.prom && isatty(STDOUT_FILENO)),
        to_stdout_(o.to_stdout), prom_file_(o.prom_file),
        catch_up_({std::chrono::milliseconds(250), 5000, 10 * std::chrono::milliseconds(o.interval_ms)},
                  Clock::now()) {
    next_ = Clock::now() + std::chrono::milliseconds(interval_ms_);
    if (o.view.prom || !prom_file_.empty()) prom_ = std::make_unique<PromExporter>(o.prom);
    reset_s_ = wall_seconds();
  }

  void begin_input(std::string_view name, bool live) override {
    warnings_->set_input(name);
    line_no_ = 0;
    live_ = live;
  }

  bool on_lines(std::string_view block) override {
    size_t pos = 0;
    while (pos < block.size()) {
      // Up to kBatch events decoded, then looked up step by step before
      // they are added in order: the cache misses of one event's lookups
      // overlap those of the others (Window::prefetch()).
      size_t n = 0;
      while (n < kBatch && pos < block.size()) {
        size_t nl = block.find('\n', pos);
        size_t end = nl == std::string_view::npos ? block.size() : nl;
        ++line_no_;
        std::string_view why;
        switch (decode_event(block.substr(pos, end - pos), &views_[n], &events_[n], &why)) {
          case Decoded::kEvent: window_->prefetch(views_[n], &hints_[n], 0); ++n; break;
          case Decoded::kMalformed: warnings_->on_malformed(line_no_, why); break;
          case Decoded::kSkip: break;
        }
        pos = end + 1;
      }
      for (int step = 1; step < Window::kPrefetchSteps; ++step)
        for (size_t i = 0; i < n; ++i) window_->prefetch(views_[i], &hints_[i], step);
      for (size_t i = 0; i < n; ++i) window_->add(views_[i], hints_[i]);
    }
    warn_overflow();
    catch_up_.on_data();
    check_caught_up();
    return interval_ms_ <= 0 || Clock::now() < next_ || tick();
  }

  int wait_ms() override {
    int64_t left = -1;
    if (interval_ms_ > 0) left = std::max<int64_t>(0, ms_until(next_));
    const int64_t idle = prom_file_.empty() ? -1 : catch_up_.wait_ms(Clock::now(), live_);
    if (idle >= 0 && (left < 0 || idle < left)) left = idle;  // to see the input idle long enough
    return static_cast<int>(left);
  }

  bool on_timeout() override {
    check_caught_up();
    return interval_ms_ <= 0 || Clock::now() < next_ || tick();
  }

  void on_caught_up() override {
    catch_up_.on_would_block(Clock::now());
    check_caught_up();
  }

  bool tick() {
    next_ = Clock::now() + std::chrono::milliseconds(interval_ms_);
    return print(caught_up_);
  }

  bool on_wake() override {
    if (g_clear) {
      g_clear = 0;
      window_->reset_statistics();  // the open sessions stay (issue 13)
      reset_s_ = wall_seconds();
      diag_line("connection statistics cleared");
    }
    if (g_print_now) {
      g_print_now = 0;
      return print();
    }
    return true;
  }

  // Writes one summary (or history) and flushes it, and the metrics file
  // when `to_file`. The first metrics file waits until the input has caught
  // up (check_caught_up(), or its end): a file written halfway through a
  // replay of the log after a restart would show Prometheus a counter reset
  // that is none (../shared/metrics.md §4).
  bool print(bool to_file = true) {
    out_.clear();
    prom_text_.clear();
    if (prom_ && (view_.prom || (to_file && !prom_file_.empty())))
      prom_->render(*window_, view_.filter, reset_s_, &prom_text_);
    if (to_file && !prom_file_.empty()) write_prom_file();
    if (!to_stdout_) return true;
    if (view_.prom) return output_write(prom_text_) && output_flush();
    if (redraw_) out_ += "\033[H\033[2J";  // like top: redraw in place
    else if (printed_ && !view_.json) out_ += "\n";
    if (view_.history) {
      History h = history(*window_, view_.filter, view_.bucket_ms, view_.last_ms);
      if (view_.json) render_history_json(h, window_->newest(), &out_);
      else render_history_text(h, view_.filter, view_.last_ms, &out_);
    } else {
      Summary s = summarize(*window_, view_.filter, view_.by, view_.summary);
      // Written as it grows: at the caps of names it is megabytes.
      const Spill spill = [](std::string* part) {
        output_write(*part);
        part->clear();
      };
      if (view_.json) render_summary_json(s, &out_, spill);
      else render_summary_text(s, view_.filter, &out_, view_.top, spill);
    }
    printed_ = true;
    return output_write(out_) && output_flush();
  }

 private:
  // Once per dimension, when it first has more names than the Window
  // keeps (window.hpp): the rest are counted under its overflow name.
  void warn_overflow() {
    for (int d = 0; d < 5; ++d) {
      const auto dim = static_cast<Dimension>(d);
      if (warned_[d] || !window_->names_overflowed(dim)) continue;
      warned_[d] = true;
      diag("warning: more than {} {} names: the others are counted as \"{}\"",
           window_->options().max_names, dimension_name(dim), overflow_name(dim));
    }
  }

  static int64_t ms_until(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  }

  // The first metrics file, once the input has caught up (catch_up.hpp).
  void check_caught_up() {
    if (caught_up_ || prom_file_.empty()) return;
    const int64_t now_ms = static_cast<int64_t>(wall_seconds() * 1000);
    if (!catch_up_.check(Clock::now(), live_, window_->newest(), now_ms)) return;
    caught_up_ = true;
    prom_text_.clear();
    prom_->render(*window_, view_.filter, reset_s_, &prom_text_);
    write_prom_file();
  }

  static double wall_seconds() {
    using namespace std::chrono;
    return static_cast<double>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()) /
           1000.0;
  }

  // A failed write is a warning (once while the same error repeats): the
  // file keeps its last content and the next interval tries again.
  void write_prom_file() {
    auto done = write_atomically(prom_file_, prom_text_);
    if (done.ok()) {
      write_error_.clear();
    } else if (done.error() != write_error_) {
      write_error_ = done.error();
      diag("warning: {} (trying again every interval)", write_error_);
    }
  }

  Window* window_;
  const View& view_;
  int64_t interval_ms_;
  bool redraw_;
  bool to_stdout_;
  std::string prom_file_;
  std::unique_ptr<PromExporter> prom_;
  double reset_s_ = 0;
  bool caught_up_ = false;
  bool live_ = false;
  CatchUp catch_up_;
  std::string prom_text_;
  std::string write_error_;  // of the last write, while it fails
  bool printed_ = false;
  bool warned_[5] = {};  // warn_overflow(), by Dimension
  uint64_t line_no_ = 0;
  static constexpr size_t kBatch = 16;
  EventView views_[kBatch];      // views into the block, or into events_
  Event events_[kBatch];         // storage for lines the decoder cannot read in place
  Window::Hint hints_[kBatch];
  std::string out_;
  Clock::time_point next_;
};

}  // namespace

int main(int argc, char** argv) {
  diag_init("pgconn-agg");
  output_init();
  cxxopts::Options opts("pgconn-agg", "Connection events in, summaries and history out.");
  agg::declare(&opts);
  cxxopts::ParseResult args;
  if (auto done = cli::parse(opts, argc, argv, agg::kUsageText, &args)) return *done;
  agg::Options o;
  if (auto bad = agg::parse(args, &o)) return *bad;

  std::vector<std::string> files;
  if (args.count("files")) files = args["files"].as<std::vector<std::string>>();
  Window window(o.window);
  WarningCounter warnings;
  AggHandler handler(&window, o, &warnings);
  const volatile std::sig_atomic_t* stop = install_stop_signals();
  install_wake_signal(SIGUSR1, on_usr1);
  install_wake_signal(SIGHUP, on_hup);
  read_inputs(files, &handler, stop);
  if (!output_closed()) handler.print();  // the final summary, also after Ctrl+C
  if (auto done = cli::finish_output()) return *done;
  warnings.report();
  if (window.totals_overflow() > 0)
    diag("warning: more than {} name combinations: {} events were counted under overflow names",
         o.window.max_totals, window.totals_overflow());
  if (window.evicted() > 0)
    diag("warning: {} sessions were forgotten past {} open ones (is log_disconnections on?)",
         window.evicted(), o.window.max_active);
  return handler.failed() ? kFailure : kOk;
}
