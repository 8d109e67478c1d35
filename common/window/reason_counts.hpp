// ReasonCounts: counts by reason (a reject's or a disconnect's), in
// ascending order of reason, for one Totals of pgconn-agg's Window. There
// is one Totals per name combination (up to 65,536) and nearly every one
// that counts a reason counts just one: that one is kept inline, and only a
// second reason makes a sorted array. The reasons are views of names the
// Window interned (Window::intern_reason()), so no count holds a string.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace pgconn {

class ReasonCounts {
 public:
  struct Entry {
    std::string_view reason;
    uint64_t n = 0;
  };

  // The count of `reason`, created at 0. REQUIRES: `reason` is not empty
  // and its bytes outlive this (an interned name).
  uint64_t& bump(std::string_view reason) {
    if (!many_) {
      if (one_.reason.data() == nullptr) {
        one_.reason = reason;
        return one_.n;
      }
      if (one_.reason == reason) return one_.n;
      many_ = std::make_unique<std::vector<Entry>>(1, one_);
    }
    auto it = std::lower_bound(many_->begin(), many_->end(), reason,
                               [](const Entry& e, std::string_view r) { return e.reason < r; });
    if (it == many_->end() || it->reason != reason) it = many_->insert(it, Entry{reason, 0});
    return it->n;
  }

  bool empty() const { return begin() == end(); }
  size_t size() const { return static_cast<size_t>(end() - begin()); }
  // The count of `reason`. REQUIRES: it was counted (std::out_of_range
  // otherwise).
  uint64_t at(std::string_view reason) const {
    for (const Entry& e : *this)
      if (e.reason == reason) return e.n;
    throw std::out_of_range("no such reason");
  }

  // The (reason, n) entries, reasons in ascending order; valid until the
  // next bump().
  const Entry* begin() const { return many_ ? many_->data() : &one_; }
  const Entry* end() const {
    if (many_) return many_->data() + many_->size();
    return &one_ + (one_.reason.data() != nullptr ? 1 : 0);
  }

 private:
  Entry one_;                                  // the only one while many_ is null
  std::unique_ptr<std::vector<Entry>> many_;  // all of them, from the second on
};

}  // namespace pgconn
