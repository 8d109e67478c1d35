#include "window/catch_up.hpp"

#include <algorithm>

namespace pgconn {

bool CatchUp::check(Clock::time_point now, bool live, const Timestamp& newest, int64_t wall_ms) {
  if (done_) return true;
  const bool idle = live && idle_since_ && now - *idle_since_ >= options_.idle;
  // Only a time with a known offset can be compared with the clock.
  const bool utc = newest.valid() && (newest.zone == Timestamp::Zone::kOffset || newest.zone == Timestamp::Zone::kUtc);
  const bool current = utc && newest.sort_ms() >= wall_ms - options_.current_ms &&
                       newest.sort_ms() <= wall_ms + options_.current_ms;
  done_ = idle || current || now - start_ >= options_.give_up;
  return done_;
}

int64_t CatchUp::wait_ms(Clock::time_point now, bool live) const {
  if (done_ || !live || !idle_since_) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*idle_since_ + options_.idle - now);
  return std::max<int64_t>(0, left.count());
}

}  // namespace pgconn
