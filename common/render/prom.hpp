// The Prometheus exposition of what a Window knows (pgconn-agg --prom and
// --prom-file): text format 0.0.4, the format node_exporter's textfile
// collector reads (../shared/metrics.md §1.1; never OpenMetrics, no
// timestamps on samples).
//
// Metrics, in the order written (every one with HELP and TYPE first):
//
//   pgconn_build_info{version}                      gauge, always 1
//   pgconn_stats_reset_timestamp_seconds            gauge, wall clock
//   pgconn_sessions_active{server,ID}               gauge
//   pgconn_sessions_active_peak{server}             gauge
//   pgconn_connects_total{server,ID}                counter
//   pgconn_disconnects_total{server,ID,reason}      counter ("normal": none logged)
//   pgconn_rejects_total{server,reason}             counter, every reason of
//                                                   kRejectReasons from the start
//   pgconn_session_duration_seconds{server,application_name}  histogram
//   pgconn_sessions_evicted_total                   counter
//   pgconn_view_complete{server}                    gauge (Window::servers())
//
// ID: the identity labels of PromOptions::labels (datname, usename,
// application_name by default; client_addr only when asked). An unset name
// is the empty value (which Prometheus stores as no label).
//
// Bounded cardinality: each metric gives at most PromOptions::max_series
// label sets a series of their own (per metric; the disconnects count
// identity and reason, the rejects and the peak count servers), first come
// first served in sorted order within one render, and a label set keeps
// its series for the exporter's life: a series never moves between named
// and overflow, so counters never go backwards. The rest are summed into
// one series labelled overflow="true" (with reason or le where the metric
// has them); a peak cannot be summed, so a server past the cap has none.
// The names a Window counts under its overflow names ("⟨other apps⟩",
// window.hpp: past its cap of names per dimension) go to that overflow
// series too, never to a label value: `overflow="true"` stays the one way
// the exposition says "and the rest", whichever cap was reached.
//
// A label set once written is written in every later render, at 0 when
// the Window no longer has it. So after Window::clear() (SIGHUP) every
// counter is written at 0, and Prometheus sees each one reset (increase()
// stays right) instead of a series that vanishes and comes back lower or
// higher.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "window/window.hpp"

namespace pgconn {

// Appends `v` as a label value: `\`, `"` and line feed become `\\`, `\"`
// and `\n` (the only three escapes Prometheus reads); every other byte is
// written as is, except that invalid UTF-8 becomes U+FFFD.
void prom_label_value(std::string_view v, std::string* out);

// Appends `v` as HELP text: `\` and line feed escaped.
void prom_help_text(std::string_view v, std::string* out);

// Appends `v` in the shortest form that reads back the same (never %g's six
// digits): "0.005", "4000.5", "1796357000.25"; NaN, +Inf, -Inf spelled so.
void prom_number(double v, std::string* out);

// The upper bounds of pgconn_session_duration_seconds's buckets, in
// milliseconds (5 ms to 7 days), and their `le` values as written.
struct PromBucket {
  int64_t ms;
  std::string_view le;
};
extern const std::vector<PromBucket> kPromDurationBuckets;

// Which label sets of one metric have a series of their own (see above).
class SeriesSlots {
 public:
  explicit SeriesSlots(size_t max) : max_(max) {}
  // Whether `labels` has, or now gets, a series of its own. False: it is
  // past the cap, and overflowed() is true from now on.
  bool admit(const std::string& labels);
  const std::set<std::string>& admitted() const { return admitted_; }
  bool overflowed() const { return overflowed_; }
  // Marks the overflow series as in use without a label set (one holding
  // a Window overflow name, which never gets a series of its own).
  void spill() { overflowed_ = true; }
  void clear();

 private:
  size_t max_;
  std::set<std::string> admitted_;
  bool overflowed_ = false;
};

struct PromOptions {
  // Identity labels, in this order: kDb (datname), kUser (usename), kApp
  // (application_name), kHost (client_addr); kServer is never one of them
  // (`server` always comes first).
  std::vector<Dimension> labels = {Dimension::kDb, Dimension::kUser, Dimension::kApp};
  size_t max_series = 500;  // label sets per metric
  // Servers whose rejects (all reasons at 0) and peak are written before
  // any of their events (pgconn-agg --server). With none here and no
  // server in the input yet, the server "" is, as a placeholder that stops
  // at the first event and has no pgconn_view_complete.
  std::vector<std::string> servers;
};

// "datname", "usename", "application_name", "client_addr", "server".
std::string_view prom_label_name(Dimension d);

class PromExporter {
 public:
  explicit PromExporter(PromOptions options);

  // Turns on what the exposition needs in a Window (disconnect reasons,
  // the exact duration buckets, a peak per server).
  static void configure(WindowOptions* window);

  // Appends the exposition of the sessions `f` matches to *out. `reset_s`:
  // the wall-clock Unix time of the start or the last clear(), seconds.
  // REQUIRES: `w` was built with options configure() changed.
  void render(const Window& w, const Filter& f, double reset_s, std::string* out);

 private:
  // `server="…",datname="…",…` of one combination of names (Window::who());
  // false when the server or a label holds a Window overflow name.
  bool identity(const Window& w, uint32_t combo, std::string* out) const;

  PromOptions options_;
  SeriesSlots active_, connects_, disconnects_, durations_, servers_;
  std::map<std::string, std::string> server_names_;  // admitted server label -> server
  std::set<std::string> over_end_reasons_;           // reasons of the disconnects' overflow
};

}  // namespace pgconn
