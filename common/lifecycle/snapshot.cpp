#include "lifecycle/snapshot.hpp"

#include <algorithm>
#include <climits>
#include <ctime>
#include <unordered_set>

#include <unistd.h>

#include <fmt/format.h>

namespace pgconn {

namespace {

// A process whose start and a log line's time differ by less than this are
// taken for one: btime is whole seconds and %t prints whole seconds.
constexpr int64_t kSameStartMs = 2000;

}  // namespace

Snapshot::Snapshot(Tracker* tracker, SnapshotOptions options)
    : tracker_(tracker), options_(std::move(options)) {
  if (options_.ticks_per_second <= 0) options_.ticks_per_second = sysconf(_SC_CLK_TCK);
  tracker_->set_probe(this);
}

Snapshot::~Snapshot() { tracker_->set_probe(nullptr); }

Snapshot::EventTime Snapshot::format_time(int64_t utc_ms) const {
  const Timestamp& last = tracker_->last_time();
  std::time_t secs = static_cast<std::time_t>(utc_ms / 1000);
  std::tm local{};
  localtime_r(&secs, &local);
  Timestamp t;
  t.has_ms = true;
  EventTime out;
  if (last.valid() && last.zone == Timestamp::Zone::kUtc) {
    t.zone = Timestamp::Zone::kUtc;
  } else if (last.valid() && last.zone == Timestamp::Zone::kOffset) {
    t.zone = Timestamp::Zone::kOffset;
    t.offset_min = last.offset_min;
  } else if (last.valid() && last.zone == Timestamp::Zone::kAbbrev && local.tm_zone != nullptr &&
             std::string_view(local.tm_zone) == last.abbrev) {
    t.zone = Timestamp::Zone::kAbbrev;  // the log's own form: wall clock and tz
    t.offset_min = static_cast<int32_t>(local.tm_gmtoff / 60);
    out.tz = last.abbrev;
  } else {
    t.zone = Timestamp::Zone::kOffset;
    t.offset_min = static_cast<int32_t>(local.tm_gmtoff / 60);
  }
  if (t.zone == Timestamp::Zone::kOffset && t.offset_min == 0) t.zone = Timestamp::Zone::kUtc;
  t.wall_ms = utc_ms + int64_t{t.offset_min} * 60000;
  append_rfc3339(t, &out.ts);
  return out;
}

Result<SnapshotReport> Snapshot::reconcile(int64_t now_ms, int64_t clock_ms) {
  tracker_->settle_all();
  if (tracker_->saw_pidless())
    return make_error("the log's lines name no process (no %p in log_line_prefix): "
                      "--snapshot cannot join them to the process table");
  Result<ProcScan> scan = scan_proc(options_.proc_root, options_.ticks_per_second);
  if (!scan.ok()) return make_error(scan.error());
  const std::deque<int64_t>& recent = tracker_->recent_pids();
  std::vector<int64_t> log_pids(recent.rbegin(), recent.rend());
  Result<ServerView> view =
      find_server(*scan, log_pids, options_.postmaster, tracker_->last_time().utc_ms());
  if (!view.ok()) return make_error(view.error());

  SnapshotReport report;
  report.postmaster = view->postmaster;
  server_ = tracker_->current_server();
  scan_time_ = format_time(now_ms);
  const EventTime& now = scan_time_;
  std::unordered_map<int64_t, const ServerBackend*> live;
  for (const ServerBackend& b : view->sessions) live.emplace(b.pid, &b);

  std::unordered_set<int64_t> known;
  for (TrackedBackend& t : tracker_->tracked(server_)) {
    auto it = live.find(t.pid);
    if (t.open && it == live.end() && clock_ms >= 0) {  // its end may be on the way
      waiting_.push_back(Waiting{t.pid, std::move(t.session)});
      ++report.waiting;
      continue;
    }
    bool gone = it == live.end();
    if (!gone && t.open) {
      const ServerBackend& b = *it->second;
      if (t.snapshot_ticks != 0) {
        gone = t.snapshot_ticks != b.start_ticks;
      } else if (t.since_utc_ms != INT64_MIN) {
        gone = b.start_ms > t.since_utc_ms + kSameStartMs;  // the pid was reused
      }
    }
    // A reused pid ends its old session now: its new process opens next.
    if (t.open && gone) {
      tracker_->snapshot_lost(server_, t.pid, t.session, now.ts, now.tz);
      ++report.lost;
      continue;
    }
    known.insert(t.pid);
  }
  for (const ServerBackend& b : view->sessions) {
    if (known.count(b.pid)) continue;
    Event e;
    e.type = EventType::kConnect;
    EventTime start = format_time(b.start_ms);
    e.ts = std::move(start.ts);
    e.tz = std::move(start.tz);
    e.pid = b.pid;
    e.user = b.title.user;
    e.db = b.title.db;
    e.host = b.title.host;
    e.port = b.title.port;
    if (b.title.kind == ProcTitle::Kind::kReplication) e.replication = Flag::kTrue;
    if (!b.title.names_known) ++report.names_unknown;
    seen_[b.pid] = Seen{b.host_pid, b.start_ms};
    tracker_->snapshot_connect(server_, b.start_ticks, std::move(e));
    ++report.connects;
  }
  if (!waiting_.empty()) {
    grace_end_ms_ = clock_ms + kLostGraceMs;
    return report;
  }
  tracker_->snapshot_done(server_, now.ts, now.tz);
  return report;
}

bool Snapshot::tick(int64_t clock_ms) {
  return grace_end_ms_ < 0 || clock_ms < grace_end_ms_ || end_grace();
}

int64_t Snapshot::next_tick_ms(int64_t clock_ms) const {
  return grace_end_ms_ < 0 ? -1 : std::max<int64_t>(0, grace_end_ms_ - clock_ms);
}

bool Snapshot::end_grace() {
  if (grace_end_ms_ < 0) return true;
  grace_end_ms_ = -1;
  // The tracker ends only a session still open under its key: one the log
  // ended in the grace is gone or, its pid reused, another session.
  for (const Waiting& w : waiting_)
    tracker_->snapshot_lost(server_, w.pid, w.session, scan_time_.ts, scan_time_.tz);
  waiting_.clear();
  return tracker_->snapshot_done(server_, scan_time_.ts, scan_time_.tz);
}

bool Snapshot::same_process(int64_t pid, uint64_t start_ticks, const Timestamp& line_time) {
  auto it = seen_.find(pid);
  if (it == seen_.end()) return false;
  if (std::optional<ProcEntry> e = read_proc(options_.proc_root, it->second.host_pid))
    return e->ns_pid == pid && e->start_ticks == start_ticks;
  // Gone already: the line is its start if written when it started.
  int64_t line_ms = line_time.utc_ms();
  if (line_ms == INT64_MIN) return true;
  int64_t diff = line_ms - it->second.start_ms;
  return diff > -kSameStartMs && diff < kSameStartMs;
}

}  // namespace pgconn
