// The numbers pgconn-agg shows, computed from a Window and a Filter. Pure.
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "window/window.hpp"

namespace pgconn {

// A name and its count, e.g. ("production", 32). Lists are sorted biggest
// first, ties by name.
struct Count {
  std::string name;
  int64_t n = 0;
  bool overflow = false;  // the name is a Window overflow name ("⟨other apps⟩")
};

// Session lengths of one name (--durations), from the disconnects'
// duration_ms: n and max exact, mean exact, median and p95 nearest-rank
// within 0.4% (sketch.hpp).
struct DurationStats {
  std::string name;
  uint64_t n = 0;
  double mean_ms = 0;
  int64_t p50_ms = 0, p95_ms = 0, max_ms = 0;
  bool overflow = false;  // as in Count
};

// An open session (--longest).
struct OpenSession {
  std::string user, db, app, host, server;
  Timestamp since;      // its connect's time
  int64_t open_ms = 0;  // from `since` to the newest event
  int64_t pid = -1;
};

struct SummaryOptions {
  bool durations = false;  // fill Summary::durations
  size_t longest = 0;      // fill Summary::longest with this many sessions
};

struct Summary {
  int64_t active = 0;
  // The most sessions open at once and when, over the whole stream (the
  // Window's peak: REQUIRES the Window was built with the same filter).
  PeakTracker::Peak peak;
  Timestamp newest;  // the newest event's time
  std::vector<std::pair<Dimension, std::vector<Count>>> by;  // in --by order
  uint64_t connects = 0, disconnects = 0, rejected = 0;
  std::vector<Count> rejects;  // by reason
  bool no_data = false;        // no event at all
  bool no_match = false;       // a filter, events, but none it matches
  // SummaryOptions::durations: per `by` dimension (in its order), per name,
  // most sessions first, ties by name. The Window's (Window::durations():
  // REQUIRES the Window was built with the same filter, and with `by`
  // among its durations_by, else that dimension's list is empty).
  bool with_durations = false;
  std::vector<std::pair<Dimension, std::vector<DurationStats>>> durations;
  // SummaryOptions::longest: the sessions open longest, oldest first, ties
  // by pid; at most that many.
  size_t with_longest = 0;
  std::vector<OpenSession> longest;
  // Whether the counts are exact (equal pg_stat_activity's): every server
  // shown (the filter's --server, else every server seen) is complete
  // (Window::ServerView). False with no event at all. When false, `active`
  // and the lists are a lower bound: sessions opened before `since` are
  // not seen.
  bool complete = false;
  // The oldest event time of the servers shown, RFC 3339 as in the stream
  // (append_rfc3339); "" when no event had a time. `since_at` is the same
  // time, parsed.
  std::string since;
  Timestamp since_at;
  // Sessions from before `since` seen ending (disconnects "matched":false)
  // on the servers shown that are not complete.
  uint64_t ended_before = 0;
};

// Active sessions grouped by each of `by`; an unset name counts as "" (the
// renderer shows "unknown"). Every name the Window kept is listed (its
// overflow name too, marked): cutting lists short is the text view's job.
// Durations need a Window with WindowOptions::durations.
Summary summarize(const Window& w, const Filter& f, const std::vector<Dimension>& by,
                  const SummaryOptions& options = {});

struct Bucket {
  int64_t start_ms = 0;   // wall clock, aligned to a multiple of the bucket
  int64_t active = 0;     // open sessions after its last moment
  int64_t delta = 0;      // change from the bucket before (the first: from its start)
  int64_t peak = 0;       // most open at any moment in it, those open at its start included
  uint64_t connects = 0, disconnects = 0;
  bool leak = false;
  // The view was complete for its whole span (History::view_from_ms <= its
  // start); when false its counts are a lower bound.
  bool complete = true;
};

struct History {
  int64_t from_ms = 0, to_ms = 0;  // wall clock: first bucket's start, last bucket's end
  int64_t bucket_ms = 0;
  uint64_t connects = 0, disconnects = 0;
  int64_t net = 0;                 // connects - disconnects
  std::vector<Bucket> buckets;     // oldest first
  // Net sessions opened over the history, per name, positive ones only.
  std::vector<std::pair<Dimension, std::vector<Count>>> growth;
  bool no_data = false, no_match = false;
  // False when --max-events dropped changes inside the history: counts
  // before `complete_from_ms` (the oldest change kept) are short.
  bool complete = true;
  int64_t complete_from_ms = 0;
  // The wall-clock time from which the view of the servers shown is
  // complete (Summary::complete): INT64_MIN when it always was, INT64_MAX
  // when it never became so. Buckets starting before it are marked.
  int64_t view_from_ms = INT64_MAX;
  // As in Summary, for the servers shown: the view is complete now, the
  // oldest event time (invalid: none), and the sessions from before it
  // seen ending.
  bool view_complete = false;
  Timestamp since_at;
  uint64_t ended_before = 0;
};

// Fills s.complete, s.since, s.since_at and s.ended_before from the
// servers of `w` that `f` shows (summarize() calls it).
void view_completeness(const Window& w, const Filter& f, Summary* s);

// The most buckets a history has: 1-minute buckets over 69 days. Past it
// the rows (and the memory and time to build them) would grow with --last
// alone; pgconn-agg refuses such a --last/--bucket pair.
inline constexpr int64_t kMaxBuckets = 100000;

// The buckets of `bucket_ms` that end with the one holding the newest event,
// `last_ms / bucket_ms` of them (at least one, at most kMaxBuckets: the
// newest ones). Leak rule (SPEC.md §4): a
// bucket is marked when it is the third or later rising bucket in a row,
// or when it rose with no disconnect in it. A bucket's peak is counted from
// the kept changes in time order, ends before starts at the same instant.
History history(const Window& w, const Filter& f, int64_t bucket_ms, int64_t last_ms);

}  // namespace pgconn
