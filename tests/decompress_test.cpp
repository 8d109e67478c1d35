#include <catch2/catch.hpp>

#include <string>

#include "compressed.hpp"
#include "read/decompress.hpp"

using namespace pgconn;
using namespace pgconn_test;
using namespace std::string_literals;

namespace {

std::string compress(Compression c, const std::string& text) {
  switch (c) {
    case Compression::kGzip: return gzip(text);
    case Compression::kBzip2: return bzip2(text);
    case Compression::kXz: return xz(text);
    case Compression::kZstd: return zstd(text);
    case Compression::kNone: break;
  }
  return text;
}

struct Decoded {
  std::string text;
  std::string error;  // decode()'s error, else finish()'s message
};

// Feeds `data` in pieces of `piece` bytes with a small output buffer, as
// a reader of a pipe would.
Decoded decode_all(Compression c, const std::string& data, size_t piece = 4096,
                   size_t cap = 1000) {
  std::unique_ptr<Decoder> d = Decoder::create(c);
  REQUIRE(d != nullptr);
  Decoded r;
  std::string out(cap, '\0');
  std::string held;  // fed and not consumed
  size_t next = 0;
  for (int guard = 0; guard < 10000000; ++guard) {
    bool at_end = next >= data.size();
    if (!at_end && held.size() < piece) {
      held += data.substr(next, piece);
      next += piece;
      at_end = next >= data.size();
    }
    Result<Decoder::Step> s = d->decode(held, out.data(), out.size(), at_end);
    if (!s.ok()) {
      r.error = s.error();
      return r;
    }
    held.erase(0, s->consumed);
    r.text.append(out.data(), s->produced);
    if (at_end && s->produced == 0 && (held.empty() || s->consumed == 0)) {
      r.error = d->finish();
      return r;
    }
  }
  FAIL("the decoder made no progress");
  return r;
}

// A text long enough for several deflate blocks and bzip2/zstd blocks.
std::string log_text(int lines) {
  std::string t;
  for (int i = 0; i < lines; ++i)
    t += "2024-03-01 10:00:" + std::to_string(10 + i % 50) + ".123 UTC [" + std::to_string(4000 + i) +
         "] LOG:  connection authorized: user=app" + std::to_string(i % 7) + " database=db\n";
  return t;
}

const Compression kAll[] = {Compression::kGzip, Compression::kBzip2, Compression::kXz,
                            Compression::kZstd};

}  // namespace

TEST_CASE("detect_compression tells the four formats by their first bytes", "[decompress]") {
  std::string text = "hello\n";
  for (Compression c : kAll) {
    std::string data = compress(c, text);
    CHECK(detect_compression(data, true) == c);
    CHECK(detect_compression(data.substr(0, kMagicBytes), false) == c);
  }
  CHECK(detect_compression("\x28\xb5\x2f\xfd"s, false) == Compression::kZstd);
  // A zstd skippable frame first (zstd(1) reads these).
  CHECK(detect_compression("\x5a\x2a\x4d\x18\x04\x00\x00\x00"s, false) == Compression::kZstd);
  CHECK(detect_compression("\xfd" "7zXZ\x00\x00\x04"s, false) == Compression::kXz);
  // An empty bzip2 stream: the end-of-stream magic right after the header.
  CHECK(detect_compression(bzip2(""), true) == Compression::kBzip2);
}

TEST_CASE("detect_compression: text is text, even when it starts like a magic",
          "[decompress]") {
  CHECK(detect_compression("2024-03-01 10:00:00 UTC [1] LOG:  x\n", false) == Compression::kNone);
  CHECK(detect_compression("2", false) == Compression::kNone);  // no magic starts so
  CHECK(detect_compression("", true) == Compression::kNone);
  // "BZh" starts words: ten bytes must match, not three.
  CHECK(detect_compression("BZh is not bzip2\n", false) == Compression::kNone);
  CHECK(detect_compression("BZh9 and more text\n", false) == Compression::kNone);
  CHECK(detect_compression("BZh0\x31\x41\x59\x26\x53\x59"s, false) == Compression::kNone);
  CHECK(detect_compression("BZh91AY&SX"s, false) == Compression::kNone);
  CHECK(detect_compression("\x1f\x8b\x07"s, false) == Compression::kNone);  // not deflate
  CHECK(detect_compression("\x1f\x8b"s, true) == Compression::kNone);     // ended there
  CHECK(detect_compression("\xfd" "7zXY"s, false) == Compression::kNone);
}

TEST_CASE("detect_compression asks for more bytes only inside a magic", "[decompress]") {
  CHECK(detect_compression("", false) == std::nullopt);
  CHECK(detect_compression("B", false) == std::nullopt);
  CHECK(detect_compression("BZh", false) == std::nullopt);
  CHECK(detect_compression("BZh9\x31\x41\x59\x26\x53"s, false) == std::nullopt);
  CHECK(detect_compression("BZh9\x31\x41\x59\x26\x53"s, true) == Compression::kNone);
  CHECK(detect_compression("BZhx", false) == Compression::kNone);
  CHECK(detect_compression("\x1f"s, false) == std::nullopt);
  CHECK(detect_compression("\x28\xb5"s, false) == std::nullopt);
}

TEST_CASE("Decoder round-trips each format, in pieces of any size", "[decompress]") {
  std::string text = log_text(3000);
  for (Compression c : kAll) {
    INFO(compression_name(c));
    std::string data = compress(c, text);
    for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, data.size()}) {
      INFO("piece " << piece);
      Decoded d = decode_all(c, data, piece, piece == 1 ? 3 : 1000);
      CHECK(d.error == "");
      CHECK(d.text == text);
    }
  }
}

TEST_CASE("Decoder reads concatenated streams as one (multi-member gzip, zstd frames)",
          "[decompress]") {
  std::string a = log_text(200), b = "2024-03-02 00:00:00 UTC [9] LOG:  second member\n";
  for (Compression c : kAll) {
    INFO(compression_name(c));
    std::string data = compress(c, a) + compress(c, b) + compress(c, "");
    Decoded d = decode_all(c, data, 333);
    CHECK(d.error == "");
    CHECK(d.text == a + b);
  }
}

TEST_CASE("Decoder says a truncated input is truncated, after the text it could decode",
          "[decompress]") {
  std::string text = log_text(5000);
  for (Compression c : kAll) {
    INFO(compression_name(c));
    std::string data = compress(c, text);
    std::string truncated = std::string(compression_name(c)) + " data is truncated";
    Decoded d = decode_all(c, data.substr(0, data.size() / 2));
    CHECK(d.error == truncated);
    CHECK(d.text.size() < text.size());
    CHECK(text.compare(0, d.text.size(), d.text) == 0);
    // Only the trailer is missing: all the text, and still truncated.
    Decoded tail = decode_all(c, data.substr(0, data.size() - 1));
    CHECK(tail.error == truncated);
    CHECK(text.compare(0, tail.text.size(), tail.text) == 0);
    // Cut between two members: a clean end.
    Decoded whole = decode_all(c, data + compress(c, "x\n"), 100);
    CHECK(whole.error == "");
  }
  // Cut inside the first header.
  CHECK(decode_all(Compression::kGzip, gzip(text).substr(0, 5)).error == "gzip data is truncated");
}

TEST_CASE("Decoder says where data is damaged, in the library's words", "[decompress]") {
  std::string text = log_text(5000);
  for (Compression c : kAll) {
    INFO(compression_name(c));
    std::string data = compress(c, text);
    for (size_t i = data.size() / 2; i < data.size() / 2 + 64; ++i) data[i] ^= 0x5a;
    Decoded d = decode_all(c, data);
    std::string want = std::string(compression_name(c)) + " data is damaged";
    CHECK(d.error.substr(0, want.size()) == want);
    // The text before the damage came out (what follows it may be wrong
    // until the library sees the damage: gzip(1) writes it too).
    REQUIRE(d.text.size() >= 10000);
    CHECK(text.compare(0, 10000, d.text, 0, 10000) == 0);
  }
  std::string bad = gzip(text);
  bad[bad.size() - 6] ^= 1;  // the CRC-32 of the text
  CHECK(decode_all(Compression::kGzip, bad).error == "gzip data is damaged: incorrect data check");
}

TEST_CASE("Decoder: something else after the last stream is trailing garbage", "[decompress]") {
  std::string text = "2024-03-01 10:00:00 UTC [1] LOG:  x\n";
  CHECK(decode_all(Compression::kGzip, gzip(text) + "junk").error ==
        "trailing garbage after gzip data");
  CHECK(decode_all(Compression::kBzip2, bzip2(text) + "junk").error ==
        "trailing garbage after bzip2 data");
  CHECK(decode_all(Compression::kZstd, zstd(text) + "junkjunk").error ==
        "trailing garbage after zstd data");
  // liblzma does not say where its last stream ended.
  Decoded x = decode_all(Compression::kXz, xz(text) + "junkjunkjunkjunk");
  CHECK(x.error.substr(0, 16) == "xz data is damag");
  CHECK(x.text == text);
}
