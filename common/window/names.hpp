// NameTable: the names of one dimension (user, db, app, host or server),
// each stored once and known by a small number, with a cap on how many.
//
// pgconn-agg sees the same few thousand names millions of times: interning
// them turns every later event's names into a hash probe over bytes already
// in cache, with no allocation (issue 15), and lets sessions, history
// records and totals hold numbers instead of strings.
//
// Ids: kEmpty (0) is the empty name ("unknown": not logged); kOverflow (1)
// stands for every name past the cap (max_names distinct names besides the
// two); real names get 2, 3, ... in the order first seen. A name is never
// forgotten until clear().
//
// The overflow name (overflow_name()) is what kOverflow is shown as:
// "⟨other apps⟩", "⟨other users⟩", "⟨other databases⟩", "⟨other hosts⟩",
// "⟨other servers⟩". It is kept apart from every real name by its id, so
// the counts never mix; as text it was chosen so that no name a server
// logs can be spelled so:
//   - application_name: PostgreSQL replaces every byte outside printable
//     ASCII (0x20-0x7E) with '?' (before 16) or \xHH (16 and later), so an
//     application name it logs never holds U+27E8 "⟨";
//   - host: an IP address, "[local]" or a DNS name (letters, digits, '-',
//     '.'; international names travel as punycode), ASCII too;
//   - user and database: PostgreSQL accepts any UTF-8 there, so a client
//     could send "⟨other users⟩" as its user name. Such a name still gets
//     its own id and counts, and the lists of the text view (render.hpp
//     list_name()) show a real name that is spelled like an overflow name
//     with its first character escaped (\xe2\x9f\xa8other users⟩), so the
//     two rows never read alike (in --json both are the same key);
//   - server: chosen by whoever runs pgconn-parse (--server, file names).
// Past the cap the tool warns once (overflowed()).
//
// Not thread-safe. Hashing is not keyed: like std::hash, a stream built to
// collide costs time, never memory past the cap.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pgconn {

// 64-bit hash of bytes (not keyed): up to 16 bytes in two loads that
// overlap and one 128-bit multiply, longer names 8 bytes at a time.
uint64_t hash_name(std::string_view s);

// a == b, inline for names of up to 16 bytes (two loads per side that
// overlap; no call).
inline bool same_name(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  auto eq = [](const char* x, const char* y, size_t k) {  // k = 4 or 8: a fixed-size compare
    return k == 8 ? __builtin_memcmp(x, y, 8) == 0 : __builtin_memcmp(x, y, 4) == 0;
  };
  if (n >= 8 && n <= 16) return eq(p, q, 8) && eq(p + n - 8, q + n - 8, 8);
  if (n >= 4 && n < 8) return eq(p, q, 4) && eq(p + n - 4, q + n - 4, 4);
  if (n < 4) {
    for (size_t i = 0; i < n; ++i)
      if (p[i] != q[i]) return false;
    return true;
  }
  return __builtin_memcmp(p, q, n) == 0;
}

class NameTable {
 public:
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kOverflow = 1;
  static constexpr uint32_t kNone = UINT32_MAX;  // find(): not there

  // REQUIRES: max_names >= 1.
  NameTable(size_t max_names, std::string overflow_name);
  NameTable(NameTable&&) = default;
  NameTable& operator=(NameTable&&) = default;

  // The id of `name`, adding it when new: kEmpty for "", kOverflow when it
  // is new and max_names names are known already (overflowed() turns true).
  uint32_t intern(std::string_view name) {
    if (last_id_ != kEmpty && same_name(names_[last_id_], name)) return last_id_;  // not even hashed
    return intern(name, hash(name));
  }
  // The same with hash(name) already computed (so an event's names are
  // hashed once for prefetch() and intern()). REQUIRES: h == hash(name).
  uint32_t intern(std::string_view name, uint32_t h);
  // The id of `name` without adding it: kEmpty for "", kNone when unknown.
  // Never kOverflow: the overflow name is not a name of the log.
  uint32_t find(std::string_view name) const;

  // The name of an id: "" for kEmpty, overflow_name() for kOverflow. Valid
  // until clear() or the table's end. REQUIRES: id < size().
  std::string_view name(uint32_t id) const { return names_[id]; }
  // Ids in use: the two reserved ones and the real names.
  size_t size() const { return names_.size(); }
  const std::string& overflow_name() const { return overflow_name_; }
  size_t max_names() const { return max_names_; }
  // A new name was refused at the cap since the start or clear().
  bool overflowed() const { return overflowed_; }

  // The hash a name is filed under: hash_name()'s low 32 bits, 0 for "".
  static uint32_t hash(std::string_view name) {
    return name.empty() ? 0 : static_cast<uint32_t>(hash_name(name));
  }
  // The hash of an id's name (hash()), kOverflowHash for kOverflow.
  // REQUIRES: id < size().
  uint32_t hash_of(uint32_t id) const { return hashes_[id]; }
  static constexpr uint32_t kOverflowHash = 0x9E3779B9;
  // Asks the cache for the slot a name of hash `h` is looked up in, ahead
  // of intern() (no effect on what it returns).
  void prefetch(uint32_t h) const {
    if (h != 0) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }
  // Then (once that slot is in the cache): the id that the first name of
  // hash `h` has, kNone when none, asking the cache for its entry; and then
  // for the bytes of an id's name (kNone: nothing). Hints only: a name of
  // the same hash may be another name.
  uint32_t prefetch_entry(uint32_t h) const {
    if (h == 0) return kNone;
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask, probe = 0; probe < 4; ++probe, i = (i + 1) & mask) {
      const uint64_t slot = slots_[i];
      if (slot == 0) return kNone;
      if ((slot >> 32) != h) continue;
      const auto id = static_cast<uint32_t>(slot);
      __builtin_prefetch(&names_[id]);
      return id;
    }
    return kNone;
  }
  void prefetch_bytes(uint32_t id) const {
    if (id < names_.size()) __builtin_prefetch(names_[id].data());
  }

  // Forgets every name (the ids are handed out again from 2).
  void clear();

 private:
  void grow();
  std::string_view store(std::string_view name);

  size_t max_names_;
  std::string overflow_name_;
  std::vector<std::string_view> names_;  // by id
  std::vector<uint32_t> hashes_;         // by id: hash() of each name
  // Open addressing: hash << 32 | id, 0 for a free slot (the hash in the
  // slot spares a look at names_ for every other name probed).
  std::vector<uint64_t> slots_;
  uint32_t last_id_ = kEmpty;  // the last name interned: streams repeat names
  std::vector<std::unique_ptr<char[]>> blocks_;  // the bytes of the names
  size_t block_used_ = 0, block_size_ = 0;
  bool overflowed_ = false;
};


}  // namespace pgconn
