// Chunked<T>: a growing array kept in fixed chunks of kChunk elements, so
// that growing never copies what is there and never holds the old and new
// copies at once. A std::vector of large elements doubles: at 65,536
// name combinations pgconn-agg's totals took 15 MB, plus 7.6 MB for the
// old copy while it moved (issue 15's 32 MB budget, make soak). Here the
// memory is at most one chunk more than size() elements, and an element
// never moves: references stay valid until clear().
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <vector>

namespace pgconn {

template <typename T, size_t kChunk = 256>
class Chunked {
  static_assert((kChunk & (kChunk - 1)) == 0, "kChunk is a power of two");

 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // REQUIRES: i < size().
  T& operator[](size_t i) { return chunks_[i / kChunk][i % kChunk]; }
  const T& operator[](size_t i) const { return chunks_[i / kChunk][i % kChunk]; }

  // A new element at the end, value-initialised.
  T& emplace_back() {
    if (size_ % kChunk == 0) {
      chunks_.emplace_back();
      chunks_.back().reserve(kChunk);  // never reallocates: at most kChunk
    }
    ++size_;
    return chunks_.back().emplace_back();
  }

  // Removes every element and frees the chunks.
  void clear() {
    chunks_.clear();
    size_ = 0;
  }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;
    const_iterator(const Chunked* c, size_t i) : c_(c), i_(i) {}
    const T& operator*() const { return (*c_)[i_]; }
    const T* operator->() const { return &(*c_)[i_]; }
    const_iterator& operator++() { ++i_; return *this; }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }

   private:
    const Chunked* c_;
    size_t i_;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  std::vector<std::vector<T>> chunks_;
  size_t size_ = 0;
};

}  // namespace pgconn
