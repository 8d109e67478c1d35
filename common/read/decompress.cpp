#include "read/decompress.hpp"

#include <bzlib.h>
#include <cctype>
#include <climits>
#include <cstring>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

namespace pgconn {

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kGzip: return "gzip";
    case Compression::kBzip2: return "bzip2";
    case Compression::kXz: return "xz";
    case Compression::kZstd: return "zstd";
    case Compression::kNone: break;
  }
  return "text";
}

namespace {

// `head` against a magic whose byte i is free where mask[i] is 0.
enum class Match { kNo, kYes, kPrefix };
Match match(std::string_view head, std::string_view magic, std::string_view mask = {}) {
  for (size_t i = 0; i < magic.size(); ++i) {
    if (i == head.size()) return Match::kPrefix;
    unsigned char m = mask.empty() ? 0xff : static_cast<unsigned char>(mask[i]);
    if ((static_cast<unsigned char>(head[i]) & m) != (static_cast<unsigned char>(magic[i]) & m))
      return Match::kNo;
  }
  return Match::kYes;
}

using namespace std::string_view_literals;

}  // namespace

std::optional<Compression> detect_compression(std::string_view head, bool complete) {
  struct Magic {
    std::string_view bytes, mask;
    Compression c;
  };
  static const Magic kMagics[] = {
      {"\x1f\x8b\x08"sv, {}, Compression::kGzip},
      {"BZh1\x31\x41\x59\x26\x53\x59"sv, "\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff"sv,
       Compression::kBzip2},
      {"BZh1\x17\x72\x45\x38\x50\x90"sv, "\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff"sv,
       Compression::kBzip2},
      {"\xfd" "7zXZ\x00"sv, {}, Compression::kXz},
      {"\x28\xb5\x2f\xfd"sv, {}, Compression::kZstd},
      {"\x50\x2a\x4d\x18"sv, "\xf0\xff\xff\xff"sv, Compression::kZstd},
  };
  bool maybe = false;
  for (const Magic& m : kMagics) {
    Match r = match(head, m.bytes, m.mask);
    if (r == Match::kYes) {
      // The bzip2 level digit: the mask let any byte through.
      if (m.c == Compression::kBzip2 && (head[3] < '1' || head[3] > '9')) continue;
      return m.c;
    }
    if (r == Match::kPrefix) {
      if (m.c == Compression::kBzip2 && head.size() > 3 && (head[3] < '1' || head[3] > '9'))
        continue;
      maybe = true;
    }
  }
  if (maybe && !complete) return std::nullopt;
  return Compression::kNone;
}

namespace {

std::string damaged(const char* format, const char* what) {
  std::string msg = std::string(format) + " data is damaged";
  if (what != nullptr && *what != '\0') {
    msg += ": ";
    msg += what;
    msg[msg.size() - std::strlen(what)] = static_cast<char>(
        std::tolower(static_cast<unsigned char>(what[0])));
  }
  return msg;
}

std::string trailing_garbage(const char* format) {
  return std::string("trailing garbage after ") + format + " data";
}

// zlib, gzip members one after the other.
class GzipDecoder : public Decoder {
 public:
  GzipDecoder() { ok_ = inflateInit2(&z_, 15 + 16) == Z_OK; }
  ~GzipDecoder() override {
    if (ok_) inflateEnd(&z_);
  }
  bool ok() const { return ok_; }

  Step step(std::string_view in, char* out, size_t cap, bool /*at_end*/,
            std::string* error) override {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT_MAX));
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(std::min<size_t>(cap, UINT_MAX));
    while (z_.avail_out > 0) {
      if (!in_member_) {
        if (z_.avail_in == 0) break;
        // After a member only another may follow (gzip(1) would warn too).
        if (members_ > 0 &&
            (z_.next_in[0] != 0x1f || (z_.avail_in > 1 && z_.next_in[1] != 0x8b))) {
          *error = trailing_garbage("gzip");
          break;
        }
        in_member_ = true;
      }
      uInt before_in = z_.avail_in, before_out = z_.avail_out;
      int r = inflate(&z_, Z_NO_FLUSH);
      if (r == Z_STREAM_END) {
        ++members_;
        in_member_ = false;
        inflateReset(&z_);
        continue;
      }
      if (r == Z_BUF_ERROR) break;  // wants more input (or room)
      if (r != Z_OK) {
        *error = damaged("gzip", r == Z_MEM_ERROR ? "out of memory" : z_.msg);
        break;
      }
      if (z_.avail_in == before_in && z_.avail_out == before_out) break;
      if (z_.avail_in == 0) break;
    }
    return Step{in.size() - z_.avail_in, cap - z_.avail_out};
  }

  bool at_clean_end() const override { return !in_member_; }
  const char* name() const override { return "gzip"; }

 private:
  z_stream z_ = {};
  bool ok_ = false;
  bool in_member_ = false;  // bytes of a member read, its end not yet
  uint64_t members_ = 0;
};

// libbz2, streams one after the other (pbzip2 writes many).
class Bzip2Decoder : public Decoder {
 public:
  Bzip2Decoder() { ok_ = BZ2_bzDecompressInit(&b_, 0, 0) == BZ_OK; }
  ~Bzip2Decoder() override {
    if (ok_) BZ2_bzDecompressEnd(&b_);
  }
  bool ok() const { return ok_; }

  Step step(std::string_view in, char* out, size_t cap, bool /*at_end*/,
            std::string* error) override {
    b_.next_in = const_cast<char*>(in.data());
    b_.avail_in = static_cast<unsigned>(std::min<size_t>(in.size(), UINT_MAX));
    b_.next_out = out;
    b_.avail_out = static_cast<unsigned>(std::min<size_t>(cap, UINT_MAX));
    while (b_.avail_out > 0) {
      if (!in_stream_) {
        if (b_.avail_in == 0) break;
        if (streams_ > 0 && b_.next_in[0] != 'B') {
          *error = trailing_garbage("bzip2");
          break;
        }
        in_stream_ = true;
      }
      unsigned before_in = b_.avail_in, before_out = b_.avail_out;
      int r = BZ2_bzDecompress(&b_);
      if (r == BZ_STREAM_END) {
        ++streams_;
        in_stream_ = false;
        // A new stream needs a fresh state; keep the buffers' positions.
        bz_stream next = {};
        BZ2_bzDecompressEnd(&b_);
        next.next_in = b_.next_in;
        next.avail_in = b_.avail_in;
        next.next_out = b_.next_out;
        next.avail_out = b_.avail_out;
        b_ = next;
        ok_ = BZ2_bzDecompressInit(&b_, 0, 0) == BZ_OK;
        if (!ok_) {
          *error = damaged("bzip2", "out of memory");
          break;
        }
        continue;
      }
      if (r != BZ_OK) {
        if (r == BZ_DATA_ERROR_MAGIC)
          *error = streams_ > 0 ? trailing_garbage("bzip2") : damaged("bzip2", "bad magic");
        else if (r == BZ_DATA_ERROR)
          *error = damaged("bzip2", "bad block or checksum");
        else
          *error = damaged("bzip2", r == BZ_MEM_ERROR ? "out of memory" : nullptr);
        break;
      }
      if (b_.avail_in == before_in && b_.avail_out == before_out) break;
      if (b_.avail_in == 0) break;
    }
    return Step{in.size() - b_.avail_in, cap - b_.avail_out};
  }

  bool at_clean_end() const override { return !in_stream_; }
  const char* name() const override { return "bzip2"; }

 private:
  bz_stream b_ = {};
  bool ok_ = false;
  bool in_stream_ = false;
  uint64_t streams_ = 0;
};

// liblzma; LZMA_CONCATENATED reads streams one after the other and says
// at LZMA_FINISH whether the last one was whole.
class XzDecoder : public Decoder {
 public:
  XzDecoder() { ok_ = lzma_stream_decoder(&s_, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK; }
  ~XzDecoder() override { lzma_end(&s_); }
  bool ok() const { return ok_; }

  Step step(std::string_view in, char* out, size_t cap, bool at_end,
            std::string* error) override {
    s_.next_in = reinterpret_cast<const uint8_t*>(in.data());
    s_.avail_in = in.size();
    s_.next_out = reinterpret_cast<uint8_t*>(out);
    s_.avail_out = cap;
    if (!done_) {
      lzma_ret r = lzma_code(&s_, at_end ? LZMA_FINISH : LZMA_RUN);
      if (r == LZMA_STREAM_END) {
        done_ = true;
      } else if (r == LZMA_MEM_ERROR) {
        *error = damaged("xz", "out of memory");
      } else if (r == LZMA_DATA_ERROR || r == LZMA_FORMAT_ERROR) {
        *error = damaged("xz", r == LZMA_FORMAT_ERROR ? "not in xz format" : "corrupt data");
      } else if (r == LZMA_OPTIONS_ERROR) {
        *error = damaged("xz", "unsupported options");
      } else if (r != LZMA_OK && r != LZMA_BUF_ERROR) {
        *error = damaged("xz", nullptr);
      }
    }
    return Step{in.size() - s_.avail_in, cap - s_.avail_out};
  }

  bool at_clean_end() const override { return done_; }
  const char* name() const override { return "xz"; }

 private:
  lzma_stream s_ = LZMA_STREAM_INIT;
  bool ok_ = false;
  bool done_ = false;
};

// libzstd; ZSTD_decompressStream goes from frame to frame by itself and
// returns 0 exactly where one ends.
class ZstdDecoder : public Decoder {
 public:
  ZstdDecoder() : d_(ZSTD_createDStream()) {
    if (d_ != nullptr) ZSTD_initDStream(d_);
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(d_); }
  bool ok() const { return d_ != nullptr; }

  Step step(std::string_view in, char* out, size_t cap, bool /*at_end*/,
            std::string* error) override {
    ZSTD_inBuffer i{in.data(), in.size(), 0};
    ZSTD_outBuffer o{out, cap, 0};
    while (o.pos < o.size) {
      if (i.pos == i.size && at_boundary_) break;
      size_t before_in = i.pos, before_out = o.pos;
      bool was_boundary = at_boundary_;
      size_t r = ZSTD_decompressStream(d_, &o, &i);
      if (ZSTD_isError(r)) {
        *error = was_boundary && frames_ > 0 ? trailing_garbage("zstd")
                                             : damaged("zstd", ZSTD_getErrorName(r));
        break;
      }
      at_boundary_ = r == 0;
      if (at_boundary_) ++frames_;
      if (i.pos == before_in && o.pos == before_out) break;
      if (i.pos == i.size && o.pos < o.size) break;
    }
    return Step{i.pos, o.pos};
  }

  bool at_clean_end() const override { return at_boundary_; }
  const char* name() const override { return "zstd"; }

 private:
  ZSTD_DStream* d_;
  bool at_boundary_ = true;  // between frames
  uint64_t frames_ = 0;
};

template <typename D>
std::unique_ptr<Decoder> make() {
  auto d = std::make_unique<D>();
  if (!d->ok()) return nullptr;
  return d;
}

}  // namespace

Result<Decoder::Step> Decoder::decode(std::string_view in, char* out, size_t cap, bool at_end) {
  if (!error_.empty()) return make_error(error_);
  std::string error;
  Step s = step(in, out, cap, at_end, &error);
  if (!error.empty()) {
    error_ = std::move(error);
    if (s.produced == 0) return make_error(error_);
  }
  return s;
}

std::string Decoder::finish() {
  if (!error_.empty()) return error_;
  return at_clean_end() ? "" : std::string(name()) + " data is truncated";
}

std::unique_ptr<Decoder> Decoder::create(Compression c) {
  switch (c) {
    case Compression::kGzip: return make<GzipDecoder>();
    case Compression::kBzip2: return make<Bzip2Decoder>();
    case Compression::kXz: return make<XzDecoder>();
    case Compression::kZstd: return make<ZstdDecoder>();
    case Compression::kNone: break;
  }
  return nullptr;
}

}  // namespace pgconn
