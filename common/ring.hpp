// Ring<T>: a first-in first-out queue over a power-of-two array whose slots
// are reused. pop_front() does not destroy the element: push_back() hands
// the slot out again as it was left, so an element's strings keep their
// capacity and a queue that cycles allocates nothing (std::deque frees and
// allocates a block for every few large elements). The caller resets what
// it takes from push_back(). Grows by doubling; never shrinks.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace pgconn {

template <typename T>
class Ring {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // REQUIRES: i < size(). References stay valid until the next push_back().
  T& operator[](size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const T& operator[](size_t i) const { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  T& front() { return (*this)[0]; }

  // A slot at the back, holding whatever it held before.
  T& push_back() {
    if (size_ == slots_.size()) grow();
    ++size_;
    return (*this)[size_ - 1];
  }

  // REQUIRES: !empty().
  void pop_front() {
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }

 private:
  void grow() {
    std::vector<T> bigger(slots_.empty() ? 64 : slots_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace pgconn
