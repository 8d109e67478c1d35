// Finds the lines of a block that may be connection-lifecycle lines.
//
// Only about one line in ten of a busy server's log matters. Rather than
// split every line, the block is searched for a few markers that every
// lifecycle message contains (kMarkers), and only at a hit does the scanner
// look back to the start of the line. The search is one SSE2 pass for all
// markers at once (two rare bytes of each marker, 16 or 32 positions at a
// time; a full compare only where both match), so it runs at about grep's
// speed. A line without any marker cannot be a lifecycle line: the tests
// check every message of message.cpp against the markers. scan_block()
// also counts the block's newlines in the same pass (the line numbers of
// the candidates, and of the input, for warnings and totals).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace pgconn {

// "connection …", "disconnection", "… connections", FATALs, the postmaster's
// shutdown and crash lines.
inline constexpr std::string_view kMarkers[] = {"nection", "FATAL", "shut", "server processes"};
inline constexpr int kMarkerCount = sizeof kMarkers / sizeof kMarkers[0];

// Number of '\n' bytes in [p, p + n).
size_t count_newlines(const char* p, size_t n);

// Offset of the first marker in s[from, size) (size when there is none),
// like find_marker(), adding the number of '\n' bytes in s[from, offset) to
// *newlines: the same pass counts them.
size_t find_marker_counting(std::string_view s, size_t from, uint64_t* newlines);

// A line of a block that contains a marker (scan_block()).
struct Candidate {
  size_t begin;   // offset of its first byte in the block
  size_t end;     // offset of its '\n', or the block's size
  uint64_t line;  // '\n' bytes before it in the block: its line index
};

// What scan_block() found in a block: for_each_candidate()'s lines with
// their line indexes, and count_newlines() of the whole block.
struct BlockScan {
  std::vector<Candidate> candidates;
  uint64_t newlines = 0;
};

// Finds the lines of `block` that contain a marker, in order, and counts
// its newlines, in one pass (the vector loop that finds the markers counts
// the '\n' bytes it passes). `block` holds whole lines; its last line may
// lack the '\n'. Replaces what *out held (its memory is reused).
void scan_block(std::string_view block, BlockScan* out);

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
