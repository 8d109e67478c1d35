// SocketTable: the pooler clients' sockets (PoolerSocket, tracker.hpp) to
// a small value (the tracker's: the backend's key and address), in one array with open addressing: a busy pooler
// logs a login and a close per client, and a node-based map allocates and
// frees a node for each. Linear probing, deletion by backward shift (no
// tombstones); the array doubles at half full and never shrinks (it holds
// as many sockets as were open at once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pgconn {

template <typename Key, typename Hash, typename Value = uint64_t>
class SocketTable {
 public:
  // The value stored for `k`, or nullptr. Valid until the next set().
  Value* find(const Key& k) {
    if (size_ == 0) return nullptr;
    for (size_t i = home(k);; i = next(i)) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == k) return &s.value;
    }
  }

  // Inserts `k` or replaces its value.
  void set(const Key& k, Value v) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    for (size_t i = home(k);; i = next(i)) {
      Slot& s = slots_[i];
      if (!s.used) {
        s = Slot{k, v, true};
        ++size_;
        return;
      }
      if (s.key == k) {
        s.value = v;
        return;
      }
    }
  }

  void erase(const Key& k) {
    if (size_ == 0) return;
    size_t i = home(k);
    for (;; i = next(i)) {
      if (!slots_[i].used) return;
      if (slots_[i].key == k) break;
    }
    // Backward shift: move later members of the probe run into the hole
    // when their home is not between the hole and them.
    size_t hole = i;
    for (size_t j = next(i); slots_[j].used; j = next(j)) {
      size_t h = home(slots_[j].key);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole].used = false;
    --size_;
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    Key key{};
    Value value{};
    bool used = false;
  };
  size_t home(const Key& k) const { return Hash()(k) & (slots_.size() - 1); }
  size_t next(size_t i) const { return (i + 1) & (slots_.size() - 1); }
  void grow() {
    std::vector<Slot> old(slots_.empty() ? 1024 : slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old)
      if (s.used) set(s.key, s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace pgconn
