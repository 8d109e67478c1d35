#include "window/names.hpp"

#include <cstring>

namespace pgconn {

namespace {

inline uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

constexpr size_t kBlock = 16384;  // bytes of names per block (a longer name gets its own)

}  // namespace

namespace {

inline uint64_t load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t load4(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The 64 x 64 -> 128-bit product folded (wyhash's mixer).
inline uint64_t fold(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

constexpr uint64_t kSeed0 = 0xa0761d6478bd642fULL, kSeed1 = 0xe7037ed1a0b428dbULL;

}  // namespace

uint64_t hash_name(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  if (n <= 16) {
    // Names are short: two loads that overlap cover every byte of one of
    // up to 16 (with its length, they tell any two such names apart).
    uint64_t a = 0, b = 0;
    if (n >= 8) {
      a = load8(p);
      b = load8(p + n - 8);
    } else if (n >= 4) {
      a = load4(p);
      b = load4(p + n - 4);
    } else if (n > 0) {
      a = uint64_t{static_cast<unsigned char>(p[0])} << 16 | uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
          static_cast<unsigned char>(p[n - 1]);
    }
    return fold(kSeed1 ^ n, fold(a ^ kSeed1, b ^ kSeed0));
  }
  size_t left = n;
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0x100000001B3ULL);
  for (; left >= 8; left -= 8, p += 8) {
    h = (h ^ load8(p)) * 0x87c37b91114253d5ULL;
    h ^= h >> 31;
  }
  if (left > 0) h = (h ^ load8(p + left - 8)) * 0x4cf5ad432745937fULL;  // the last 8, overlapping
  return mix(h);
}

NameTable::NameTable(size_t max_names, std::string overflow_name)
    : max_names_(max_names), overflow_name_(std::move(overflow_name)) {
  clear();
}

void NameTable::clear() {
  names_.assign({std::string_view(), std::string_view(overflow_name_)});
  hashes_.assign({0, kOverflowHash});
  slots_.assign(64, 0);
  blocks_.clear();
  block_used_ = block_size_ = 0;
  last_id_ = kEmpty;
  overflowed_ = false;
}

std::string_view NameTable::store(std::string_view name) {
  if (name.size() > kBlock / 4) {  // a long name gets a block of its own; the current one goes on
    auto own = std::make_unique<char[]>(name.size());
    std::memcpy(own.get(), name.data(), name.size());
    std::string_view stored(own.get(), name.size());
    blocks_.insert(blocks_.end() - (blocks_.empty() ? 0 : 1), std::move(own));
    return stored;
  }
  if (name.size() > block_size_ - block_used_) {
    blocks_.push_back(std::make_unique<char[]>(kBlock));
    block_used_ = 0;
    block_size_ = kBlock;
  }
  char* at = blocks_.back().get() + block_used_;
  std::memcpy(at, name.data(), name.size());
  block_used_ += name.size();
  return std::string_view(at, name.size());
}

void NameTable::grow() {
  slots_.assign(slots_.size() * 2, 0);
  const size_t mask = slots_.size() - 1;
  for (uint32_t id = 2; id < names_.size(); ++id) {
    size_t i = hashes_[id] & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = uint64_t{hashes_[id]} << 32 | id;
  }
}

uint32_t NameTable::find(std::string_view name) const {
  if (name.empty()) return kEmpty;
  const uint32_t h = static_cast<uint32_t>(hash_name(name));
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return kNone;
    const auto id = static_cast<uint32_t>(slot);
    if ((slot >> 32) == h && same_name(names_[id], name)) return id;
  }
}

uint32_t NameTable::intern(std::string_view name, uint32_t h) {
  if (name.empty()) return kEmpty;
  if (last_id_ != kEmpty && hashes_[last_id_] == h && same_name(names_[last_id_], name)) return last_id_;
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) break;
    const auto id = static_cast<uint32_t>(slot);
    if ((slot >> 32) == h && same_name(names_[id], name)) return last_id_ = id;
  }
  if (names_.size() - 2 >= max_names_) {
    overflowed_ = true;
    return kOverflow;
  }
  const auto id = static_cast<uint32_t>(names_.size());
  names_.push_back(store(name));
  hashes_.push_back(h);
  slots_[i] = uint64_t{h} << 32 | id;
  if (names_.size() * 2 > slots_.size()) grow();  // at most half full
  return last_id_ = id;
}

}  // namespace pgconn
