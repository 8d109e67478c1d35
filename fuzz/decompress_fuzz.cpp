// Fuzz target: compressed input (decompress.hpp). The bytes are told apart
// by detect_compression() and decoded with the format it names, in pieces
// of a size taken from the input and into a small output buffer; bytes that
// are no known format go through every decoder. The decoders must never
// crash, loop without progress, or write past their buffer; an error or a
// truncation is an answer like any other.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "read/decompress.hpp"

namespace {

void decode(pgconn::Compression c, std::string_view data, size_t piece) {
  std::unique_ptr<pgconn::Decoder> d = pgconn::Decoder::create(c);
  if (d == nullptr) return;
  char out[97];
  size_t next = 0;
  std::string held;
  // Each round consumes or produces something, or ends: bound the rounds by
  // what the input could ever yield (a small input can expand a lot).
  for (size_t rounds = 0; rounds < 1000000; ++rounds) {
    bool at_end = next >= data.size();
    if (!at_end && held.size() < piece) {
      held.append(data.substr(next, piece));
      next += piece;
      at_end = next >= data.size();
    }
    auto s = d->decode(held, out, sizeof out, at_end);
    if (!s.ok()) return;
    if (s->consumed > held.size() || s->produced > sizeof out) std::abort();
    held.erase(0, s->consumed);
    if (at_end && s->produced == 0 && (held.empty() || s->consumed == 0)) {
      (void)d->finish();
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  size_t piece = 1 + bytes[0] % 64 * 37;
  std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  for (size_t n = 0; n <= std::min(data.size(), pgconn::kMagicBytes); ++n)
    (void)pgconn::detect_compression(data.substr(0, n), n == data.size());
  auto c = pgconn::detect_compression(data, true);
  if (c && *c != pgconn::Compression::kNone) {
    decode(*c, data, piece);
  } else {
    for (auto f : {pgconn::Compression::kGzip, pgconn::Compression::kBzip2,
                   pgconn::Compression::kXz, pgconn::Compression::kZstd})
      decode(f, data, piece);
  }
  return 0;
}
