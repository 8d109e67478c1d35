// pgconn-agg's options: their declaration (for --help) and their checks,
// turned into what main() wires together. Only tools/ include cxxopts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "render/atomic_file.hpp"
#include "cli.hpp"
#include "duration.hpp"
#include "render/prom.hpp"
#include "render/render.hpp"
#include "window/summary.hpp"
#include "window/window.hpp"

namespace pgconn::agg {

constexpr const char* kUsageText =
    "usage: pgconn-agg [--by=db,user,app,host,server] [--history] [--bucket=15m] [--last=60m]\n"
    "                  [--durations] [--longest=N] [--top=20]\n"
    "                  [--db=NAME] [--user=NAME] [--app=NAME] [--host=ADDR] [--server=NAME]\n"
    "                  [--max-events=10000] [--interval=DURATION] [--json]\n"
    "                  [--prom] [--prom-file=PATH] [--prom-labels=db,user,app,host]\n"
    "                  [--prom-max-series=500] [FILE...]";

// The write interval of --prom-file when --interval is not given.
constexpr int64_t kPromFileIntervalMs = 15000;

struct View {
  std::vector<Dimension> by;
  Filter filter;
  bool history = false, json = false, prom = false;
  SummaryOptions summary;  // --durations, --longest
  size_t top = kDefaultTop;  // --top: rows per list of the text summary, 0 all
  int64_t bucket_ms = 15 * 60000, last_ms = 60 * 60000;
};

struct Options {
  View view;
  WindowOptions window;
  int64_t interval_ms = 0;  // 0: no interval
  std::string prom_file;    // empty: none
  PromOptions prom;
  bool to_stdout = true;    // false: --prom-file alone
};

inline void declare(cxxopts::Options* opts) {
  opts->add_options()
      ("by", "group active sessions by these, in order",
       cxxopts::value<std::string>()->default_value("db,user,app"))
      ("history", "connects, disconnects and active sessions over time, with leak markers")
      ("bucket", "history bucket", cxxopts::value<std::string>())
      ("last", "history span before the newest event", cxxopts::value<std::string>())
      ("durations", "session lengths per --by name: sessions, mean, median, p95, max")
      ("longest", "the N sessions open longest", cxxopts::value<std::string>())
      ("top", "rows per list of the text summary, then one for the rest (0: all)",
       cxxopts::value<std::string>()->default_value("20"))
      ("db", "only this database", cxxopts::value<std::string>())
      ("user", "only this user", cxxopts::value<std::string>())
      ("app", "only this application (\"unknown\": none set)", cxxopts::value<std::string>())
      ("host", "only this client address", cxxopts::value<std::string>())
      ("server", "only this server", cxxopts::value<std::string>())
      ("max-events", "events kept for --history", cxxopts::value<std::string>()->default_value("10000"))
      ("interval", "on a live stream, print every DURATION", cxxopts::value<std::string>())
      ("json", "one JSON object per summary")
      ("prom", "the summary as Prometheus metrics (text format 0.0.4)")
      ("prom-file", "write the Prometheus metrics to PATH atomically (every --interval, "
                    "default 15s; on SIGUSR1; at the end)", cxxopts::value<std::string>())
      ("prom-labels", "identity labels of the metrics", cxxopts::value<std::string>()->default_value("db,user,app"))
      ("prom-max-series", "label sets per metric before the overflow series",
       cxxopts::value<std::string>()->default_value("500"))
      ("h,help", "print this help")
      ("version", "print the version")
      ("files", "event files", cxxopts::value<std::vector<std::string>>());
  opts->parse_positional({"files"});
}

// A whole number from 1 to `max` (--longest, --max-events, --prom-max-series).
inline bool parse_count(const std::string& v, long long max, size_t* out) {
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

inline int usage_error(const std::string& what) { return cli::usage_error(kUsageText, what); }

// A comma list of dimension names, each once, none outside `allowed`.
inline std::optional<int> parse_dimensions(const char* opt, const std::string& list, std::string_view allowed,
                                           std::vector<Dimension>* out) {
  for (size_t pos = 0; pos <= list.size();) {
    size_t comma = list.find(',', pos);
    std::string name = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    Dimension d;
    if (!parse_dimension(name, &d) || (d == Dimension::kServer && allowed.find("server") == std::string_view::npos))
      return usage_error("bad --" + std::string(opt) + " \"" + list + "\": unknown \"" + name + "\" (expected " +
                         std::string(allowed) + ")");
    for (Dimension seen : *out)
      if (seen == d) return usage_error("bad --" + std::string(opt) + " \"" + list + "\": \"" + name + "\" twice");
    out->push_back(d);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return std::nullopt;
}

// Checks the options into *o. Returns the exit status when they are bad
// (reported: one line and the usage).
inline std::optional<int> parse(const cxxopts::ParseResult& args, Options* o) {
  View& view = o->view;
  view.history = args.count("history") > 0;
  view.json = args.count("json") > 0;
  view.prom = args.count("prom") > 0;
  if (auto bad = parse_dimensions("by", args["by"].as<std::string>(), "db, user, app, host, server", &view.by))
    return bad;
  for (const char* opt : {"json", "history"})
    if (view.prom && args.count(opt)) return usage_error(std::string("--prom cannot be used with --") + opt);
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
                       std::to_string(kMaxBuckets) + " buckets of --bucket (" + format_duration(view.bucket_ms) +
                       ")");
  view.summary.durations = args.count("durations") > 0;
  if (args.count("longest")) {
    std::string v = args["longest"].as<std::string>();
    if (!parse_count(v, 100000, &view.summary.longest))
      return usage_error("bad --longest \"" + v + "\": expected a number from 1 to 100000");
  }
  if (args.count("top")) {
    std::string v = args["top"].as<std::string>();
    size_t top = 0;
    if (v != "0" && !parse_count(v, 1000000, &top))
      return usage_error("bad --top \"" + v + "\": expected a number from 0 to 1000000");
    view.top = top;
    for (const char* opt : {"json", "prom", "history"})
      if (args.count(opt))
        return usage_error(std::string("--top is part of the text summary, not of --") + opt +
                           (opt[0] == 'j' ? " (which lists every name)" : ""));
  }
  for (const char* opt : {"durations", "longest"}) {
    if (view.history && args.count(opt))
      return usage_error(std::string("--") + opt + " is part of the summary, not of --history");
    if (view.prom && args.count(opt))
      return usage_error(std::string("--") + opt + " is part of the text summary, not of --prom");
  }
  const char* filters[] = {"db", "user", "app", "host", "server"};
  for (int i = 0; i < 5; ++i)
    if (args.count(filters[i])) view.filter.field[i] = args[filters[i]].as<std::string>();
  std::string max_events = args["max-events"].as<std::string>();
  o->window.durations = view.summary.durations;
  o->window.durations_by = view.by;  // kept only for the names shown
  o->window.filter = view.filter;  // the peak is kept for what is shown
  if (!parse_count(max_events, 100000000, &o->window.max_events))
    return usage_error("bad --max-events \"" + max_events + "\": expected a number from 1 to 100000000");
  if (args.count("interval")) {
    auto ms = parse_duration("--interval", args["interval"].as<std::string>());
    if (!ms.ok()) return usage_error(ms.error());
    o->interval_ms = *ms;
  }

  // Prometheus.
  o->prom.labels.clear();
  if (auto bad = parse_dimensions("prom-labels", args["prom-labels"].as<std::string>(), "db, user, app, host",
                                  &o->prom.labels))
    return bad;
  std::string max_series = args["prom-max-series"].as<std::string>();
  if (!parse_count(max_series, 1000000, &o->prom.max_series))
    return usage_error("bad --prom-max-series \"" + max_series + "\": expected a number from 1 to 1000000");
  if (view.filter.field[4]) o->prom.servers.push_back(*view.filter.field[4]);
  if (args.count("prom-file")) {
    o->prom_file = args["prom-file"].as<std::string>();
    auto ok = check_writable(o->prom_file);
    if (!ok.ok()) return usage_error("bad --prom-file: " + ok.error());
    if (!args.count("interval")) o->interval_ms = kPromFileIntervalMs;
    o->to_stdout = view.json || view.prom || view.history;
  }
  if (view.prom || !o->prom_file.empty()) PromExporter::configure(&o->window);
  return std::nullopt;
}

}  // namespace pgconn::agg
