// Finds the lines of a block that may be connection-lifecycle lines.
//
// Only about one line in ten of a busy server's log matters. Rather than
// split every line, the block is searched for a few markers that every
// lifecycle message contains (kMarkers), and only at a hit does the scanner
// look back to the start of the line. The search is one SSE2 pass for all
// markers at once (two rare bytes of each marker, 16 or 32 positions at a
// time; a full compare only where both match), so it runs at about grep's
// speed. A line without any marker cannot be a lifecycle line: the tests
// check every message of message.cpp against the markers.
#pragma once

#include <cstring>
#include <string_view>

namespace pgconn {

// "connection …", "disconnection", "… connections", FATALs, the postmaster's
// shutdown and crash lines.
inline constexpr std::string_view kMarkers[] = {"nection", "FATAL", "shut", "server processes"};
inline constexpr int kMarkerCount = sizeof kMarkers / sizeof kMarkers[0];

// Number of '\n' bytes in [p, p + n).
size_t count_newlines(const char* p, size_t n);

// True when `line` contains a marker.
bool has_marker(std::string_view line);

// Offset of the first marker in s[from, size), or size when there is none.
size_t find_marker(std::string_view s, size_t from);

// Calls f(line) (without its '\n') for every line of `block` that contains
// a marker, in order. `block` holds whole lines; its last line may lack the
// '\n'. Stops and returns false when f returns false.
template <typename F>
bool for_each_candidate(std::string_view block, F&& f) {
  const char* base = block.data();
  const size_t size = block.size();
  size_t pos = 0;
  while (pos < size) {
    size_t hit = find_marker(block, pos);
    if (hit >= size) return true;
    const void* nl_before = memrchr(base + pos, '\n', hit - pos);
    size_t begin = nl_before == nullptr ? pos : static_cast<const char*>(nl_before) - base + 1;
    const void* nl_after = std::memchr(base + hit, '\n', size - hit);
    size_t end = nl_after == nullptr ? size : static_cast<const char*>(nl_after) - base;
    if (!f(block.substr(begin, end - begin))) return false;
    pos = end + 1;
  }
  return true;
}

}  // namespace pgconn
