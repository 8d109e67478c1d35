#include "window/peak.hpp"

#include <climits>

namespace pgconn {

void PeakTracker::open(const Timestamp& t, uint64_t id) { add(Change{t.sort_ms(), 1, id, t}); }

void PeakTracker::close(const Timestamp& t, int64_t n) {
  if (n > 0) add(Change{t.sort_ms(), -n, 0, t});
}

void PeakTracker::retract(uint64_t id, const Timestamp& t) {
  // Still waiting (the usual case: the reject follows within milliseconds):
  // as if it never opened. Searched from the newest end, where it is.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->delta == 1 && it->id == id) {
      pending_.erase(std::next(it).base());
      return;
    }
  }
  // Counted for good already: it ends where the counting stands (see the
  // header), before every change still waiting.
  ++late_;
  if (!counted_any_) return;  // nothing was counted: cleared since
  count(Change{last_counted_.ms, -1, 0, last_counted_.t});
}

void PeakTracker::add(Change c) {
  if (c.ms > newest_ms_) newest_ms_ = c.ms;
  if (counted_any_ && before(c, last_counted_)) {
    // Too late to place: counted where the counting stands, the time of
    // the newest change counted for good, before every change waiting.
    ++late_;
    c.ms = last_counted_.ms;
    c.t = last_counted_.t;
    count(c);
    return;
  }
  // Mostly in order: insert from the back.
  auto it = pending_.end();
  while (it != pending_.begin() && before(c, *(it - 1))) --it;
  pending_.insert(it, std::move(c));
  release();
}

void PeakTracker::count(const Change& c) {
  count_ += c.delta;
  if (c.delta > 0 && count_ > peak_.active) {
    peak_.active = count_;
    peak_.at = c.t;
  }
  if (!counted_any_ || !before(c, last_counted_)) last_counted_ = c;
  counted_any_ = true;
}

void PeakTracker::release() {
  while (!pending_.empty() && (pending_.front().ms <= newest_ms_ - options_.horizon_ms ||
                               pending_.size() > options_.max_pending)) {
    count(pending_.front());
    pending_.pop_front();
  }
}

PeakTracker::Peak PeakTracker::peak() const {
  Peak p = peak_;
  int64_t n = count_;
  for (const Change& c : pending_) {
    n += c.delta;
    if (c.delta > 0 && n > p.active) {
      p.active = n;
      p.at = c.t;
    }
  }
  return p;
}

int64_t PeakTracker::current() const {
  int64_t n = count_;
  for (const Change& c : pending_) n += c.delta;
  return n;
}

void PeakTracker::clear() { *this = PeakTracker(options_); }

void PeakTracker::restart(const Timestamp& t, int64_t n) {
  clear();
  if (!t.valid()) return;
  count_ = n;
  if (n > 0) peak_ = Peak{n, t};
  // As if the n openings were counted for good at t: what comes later is
  // counted on top of them, in order; what is older than t is late (a
  // change at t itself is not: the lowest delta sorts before every one).
  last_counted_ = Change{t.sort_ms(), INT64_MIN, 0, t};
  counted_any_ = true;
  newest_ms_ = t.sort_ms();
}

}  // namespace pgconn
