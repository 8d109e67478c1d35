// pgconn-watch: connection events in, one coloured line per event out
// (SPEC.md §5). Flag parsing, wiring and the exit status; the lines are
// drawn by common/render/event_line.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "render/color.hpp"
#include "cli.hpp"
#include "pipeline/diag.hpp"
#include "codec/event_codec.hpp"
#include "render/event_line.hpp"
#include "pipeline/input_loop.hpp"
#include "codec/output.hpp"
#include "render/render.hpp"
#include "window/window.hpp"

using namespace pgconn;
using cli::kFailure;
using cli::kOk;

namespace {

constexpr const char* kUsageText =
    "usage: pgconn-watch [--db=NAME] [--user=NAME] [--app=NAME] [--host=ADDR] [--server=NAME]\n"
    "                    [--color=auto|always|never] [app=NAME ...] [FILE...]";

int usage_error(const std::string& what) { return cli::usage_error(kUsageText, what); }

class WatchHandler : public cli::EventInputHandler {
 public:
  WatchHandler(const Filter& filter, const Palette& palette, WarningCounter* warnings)
      : EventInputHandler(warnings), filter_(filter), palette_(palette) {}

  void begin_input(std::string_view name, bool /*live*/) override {
    warnings_->set_input(name);
    line_no_ = 0;
  }

  bool on_lines(std::string_view block) override {
    out_.clear();
    size_t pos = 0;
    while (pos < block.size()) {
      size_t nl = block.find('\n', pos);
      size_t end = nl == std::string_view::npos ? block.size() : nl;
      ++line_no_;
      std::string_view why;
      switch (decode_event(block.substr(pos, end - pos), &view_, &event_, &why)) {
        case Decoded::kEvent: show(); break;
        case Decoded::kMalformed: warnings_->on_malformed(line_no_, why); break;
        case Decoded::kSkip: break;
      }
      pos = end + 1;
    }
    // Written, and flushed by the read loop before it waits again.
    return out_.empty() || output_write(out_);
  }

  int wait_ms() override { return -1; }
  bool on_timeout() override { return true; }

 private:
  void show() {
    const EventView& e = view_;
    if (!e.server.empty() && servers_.size() < 2) servers_.emplace(e.server);
    // A server event concerns every session of its server: shown unless
    // the filter names another server.
    if (e.type == EventType::kServer) {
      const auto& s = filter_.field[static_cast<int>(Dimension::kServer)];
      if (s && *s != e.server) return;
    } else if (!filter_.matches(WhoView(e))) {
      return;
    }
    render_event_line(e, palette_, servers_.size() > 1, &out_);
  }

  const Filter& filter_;
  const Palette& palette_;
  EventView view_;
  Event event_;  // storage for lines the decoder cannot read in place
  std::string out_;
  std::set<std::string, std::less<>> servers_;
  uint64_t line_no_ = 0;
};

// "application: myapp, user: admin"
std::string describe(const Filter& f) {
  static const char* kWords[] = {"database", "user", "application", "host", "server"};
  std::string d;
  for (int i = 0; i < 5; ++i) {
    if (!f.field[i]) continue;
    if (!d.empty()) d += ", ";
    d += std::string(kWords[i]) + ": " + display_safe(*f.field[i]);
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  diag_init("pgconn-watch");
  output_init();
  cxxopts::Options opts("pgconn-watch", "Connection events in, one line per event out.");
  opts.add_options()
      ("db", "only this database", cxxopts::value<std::string>())
      ("user", "only this user", cxxopts::value<std::string>())
      ("app", "only this application (\"unknown\": none set)", cxxopts::value<std::string>())
      ("host", "only this client address", cxxopts::value<std::string>())
      ("server", "only this server", cxxopts::value<std::string>())
      ("color", "auto, always or never", cxxopts::value<std::string>()->default_value("auto"))
      ("history", "not a watch option (pgconn-agg --history)")
      ("h,help", "print this help")
      ("version", "print the version")
      ("args", "filters NAME=VALUE and event files", cxxopts::value<std::vector<std::string>>());
  opts.parse_positional({"args"});
  cxxopts::ParseResult args;
  if (auto done = cli::parse(opts, argc, argv, kUsageText, &args)) return *done;
  if (args.count("history"))
    return usage_error("cannot use --history and --watch together: use pgconn-agg --history");
  auto mode = parse_color_mode(args["color"].as<std::string>());
  if (!mode.ok()) return usage_error(mode.error());

  Filter filter;
  const char* names[] = {"db", "user", "app", "host", "server"};
  for (int i = 0; i < 5; ++i)
    if (args.count(names[i])) filter.field[i] = args[names[i]].as<std::string>();
  // The seeds' positional form: app=NAME (also db=, user=, host=, server=).
  std::vector<std::string> files;
  if (args.count("args")) {
    for (const std::string& a : args["args"].as<std::vector<std::string>>()) {
      size_t eq = a.find('=');
      Dimension d;
      if (eq != std::string::npos && parse_dimension(a.substr(0, eq), &d)) {
        filter.field[static_cast<int>(d)] = a.substr(eq + 1);
      } else {
        files.push_back(a);
      }
    }
  }

  const bool tty = isatty(STDOUT_FILENO);
  Palette palette = make_palette(*mode, tty, std::getenv("NO_COLOR"), std::getenv("TERM"));
  if (tty) {
    std::string d = describe(filter);
    output_write(d.empty() ? "Watching connections (Ctrl+C to exit)\n"
                           : "Watching connections for " + d + " (Ctrl+C to exit)\n");
    output_flush();
  }
  WarningCounter warnings;
  WatchHandler handler(filter, palette, &warnings);
  const volatile std::sig_atomic_t* stop = install_stop_signals();
  InputEnd end = read_inputs(files, &handler, stop);
  if (auto done = cli::finish_output()) return *done;
  if (end == InputEnd::kInterrupted) {
    if (tty) {
      output_write("Exited watch mode.\n");
      output_flush();
    } else {
      diag_line("exited watch mode");
    }
  }
  warnings.report();
  return handler.failed() ? kFailure : kOk;
}
