// ReasonCounts: counts by reason (a reject's or a disconnect's), ordered by
// reason, that take one pointer until the first count. Most name
// combinations never see a rejection, and pgconn-agg keeps one Totals per
// combination (up to 65,536): two empty std::maps there took 96 bytes each
// time, this takes 16.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgconn {

class ReasonCounts {
 public:
  using Map = std::map<std::string, uint64_t, std::less<>>;

  // The count of `reason`, created at 0.
  uint64_t& bump(std::string_view reason) {
    if (!map_) map_ = std::make_unique<Map>();
    auto it = map_->find(reason);
    if (it == map_->end()) it = map_->emplace(std::string(reason), 0).first;
    return it->second;
  }

  bool empty() const { return !map_ || map_->empty(); }
  size_t size() const { return map_ ? map_->size() : 0; }
  // REQUIRES: the reason was counted (std::out_of_range otherwise).
  uint64_t at(std::string_view reason) const {
    if (map_) {
      auto it = map_->find(reason);
      if (it != map_->end()) return it->second;
    }
    throw std::out_of_range("no such reason");
  }

  // (reason, count) pairs, reasons in ascending order.
  Map::const_iterator begin() const { return map_ ? map_->begin() : kEmpty.begin(); }
  Map::const_iterator end() const { return map_ ? map_->end() : kEmpty.end(); }

 private:
  static inline const Map kEmpty{};
  std::unique_ptr<Map> map_;
};

}  // namespace pgconn
