// Compressed input: which format the first bytes say (gzip, bzip2, xz,
// zstd), and a streaming Decoder for each. No I/O here; text_input.hpp runs
// a Decoder on a file descriptor.
//
// The libraries are the formats' own, called directly: zlib, libbz2,
// liblzma and libzstd (Debian's zlib1g, libbz2-1.0, liblzma5, libzstd1,
// already on every Debian system as dependencies of dpkg and apt). libarchive
// would read all four through one API, but it hides what a reader of a log
// needs: where one gzip member or zstd frame ends (so that concatenated
// members are read on and an end of file between them is a clean end, while
// an end inside one is "truncated"), and the library's own words for damage.
// It also adds a copy and its own read-ahead. Each format here is ~40 lines.
//
// Detection is by magic bytes only, never by file name (`zgrep` does the
// same): a file named .gz that holds text is read as text.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "result.hpp"

namespace pgconn {

enum class Compression { kNone, kGzip, kBzip2, kXz, kZstd };

// "gzip", "bzip2", "xz", "zstd" ("text" for kNone).
const char* compression_name(Compression c);

// The most bytes detect_compression() looks at.
constexpr size_t kMagicBytes = 10;

// What the first bytes of an input say. `head` is the input's beginning
// (any length); `complete` means there are no more bytes than these (the
// input ended). nullopt: `head` is too short to tell (it is a beginning of a
// magic) and more bytes may come; read on and ask again.
//
//   gzip   1f 8b 08 (deflate, the only method gzip writes)
//   bzip2  "BZh" '1'-'9' then a block magic 31 41 59 26 53 59 or the
//          end-of-stream magic 17 72 45 38 50 90 (empty file): a text line
//          may start with "BZh", ten bytes of it never match by accident
//   xz     fd "7zXZ" 00
//   zstd   28 b5 2f fd, or a skippable frame 5? 2a 4d 18
// Anything else is text (kNone), including the empty input.
std::optional<Compression> detect_compression(std::string_view head, bool complete);

// A streaming decompressor for one format. Feed it the compressed bytes in
// order, in pieces of any size; it writes the text out.
//
// Concatenated streams are one stream: gzip members (what
// `gzip -c a >>f; gzip -c b >>f` makes), bzip2 streams, xz streams, zstd
// frames. An input that ends between two of them ends cleanly.
class Decoder {
 public:
  virtual ~Decoder() = default;

  // kNone yields nullptr; the others a decoder, or nullptr if the library
  // could not allocate its state.
  static std::unique_ptr<Decoder> create(Compression c);

  struct Step {
    size_t consumed = 0;  // bytes of `in` used
    size_t produced = 0;  // bytes written to `out`
  };

  // Decodes from `in` into out[0, cap). `at_end`: `in` is the last of the
  // input (possibly empty); call again while it produces (the library may
  // hold more text than `cap`). An error is the damage in the library's
  // words, prefixed with the format: "gzip data is damaged: invalid block
  // type", "trailing garbage after gzip data". The text decoded before the
  // damage is handed out first: the error comes from the next call. After
  // an error the decoder is spent.
  // REQUIRES: cap > 0.
  Result<Step> decode(std::string_view in, char* out, size_t cap, bool at_end);

  // Call once the input has ended and decode(..., at_end = true) produces
  // no more. An empty string when the data ended cleanly; else
  // "<format> data is truncated" (or the damage decode() found).
  std::string finish();

 protected:
  // One decode() of the format: sets `error` on damage, with what it
  // decoded before it in the Step.
  virtual Step step(std::string_view in, char* out, size_t cap, bool at_end,
                    std::string* error) = 0;
  // Whether the data seen so far ends cleanly here.
  virtual bool at_clean_end() const = 0;
  virtual const char* name() const = 0;

 private:
  std::string error_;  // found by step(), not yet returned
};

}  // namespace pgconn
