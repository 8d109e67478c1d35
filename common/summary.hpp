// The numbers pgconn-agg shows, computed from a Window and a Filter. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "window.hpp"

namespace pgconn {

// A name and its count, e.g. ("production", 32). Lists are sorted biggest
// first, ties by name.
struct Count {
  std::string name;
  int64_t n = 0;
};

struct Summary {
  int64_t active = 0;
  std::vector<std::pair<Dimension, std::vector<Count>>> by;  // in --by order
  uint64_t connects = 0, disconnects = 0, rejected = 0;
  std::vector<Count> rejects;  // by reason
  bool no_data = false;        // no event at all
  bool no_match = false;       // events, but none the filter matches
};

// Active sessions grouped by each of `by`; an unset name counts as "" (the
// renderer shows "unknown").
Summary summarize(const Window& w, const Filter& f, const std::vector<Dimension>& by);

struct Bucket {
  int64_t start_ms = 0;   // wall clock, aligned to a multiple of the bucket
  int64_t active = 0;     // open sessions after its last moment
  int64_t delta = 0;      // change from the bucket before (the first: from its start)
  uint64_t connects = 0, disconnects = 0;
  bool leak = false;
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
};

// The most buckets a history has: 1-minute buckets over 69 days. Past it
// the rows (and the memory and time to build them) would grow with --last
// alone; pgconn-agg refuses such a --last/--bucket pair.
inline constexpr int64_t kMaxBuckets = 100000;

// The buckets of `bucket_ms` that end with the one holding the newest event,
// `last_ms / bucket_ms` of them (at least one, at most kMaxBuckets: the
// newest ones). Leak rule (SPEC.md §4): a
// bucket is marked when it is the third or later rising bucket in a row,
// or when it rose with no disconnect in it.
History history(const Window& w, const Filter& f, int64_t bucket_ms, int64_t last_ms);

}  // namespace pgconn
