// The text of a file or standard input, decompressed when its first bytes
// say it is gzip, bzip2, xz or zstd (decompress.hpp). Two layers:
//
//   TextInput      open a path or fd, read() its text. Blocking; for a
//                  program that reads files to their end (pgconn-tail's
//                  rotated backlog).
//   BackgroundDecoder  the decoding behind it: a thread that reads the
//                  compressed fd and writes the text into a pipe, so that a
//                  reader can poll() it like any input (the tools' read
//                  loop, input_loop.cpp, puts a LineReader on it).
//
// Why a thread: `zcat FILE | pgconn-parse` decompresses on one core while
// parsing on the other. Decoding in the reading thread would add the two
// times; the thread overlaps them, at the cost of the same pipe copy the
// shell pipeline makes. A plain (uncompressed) input never goes through
// the thread or the pipe: its bytes are read as before.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "read/decompress.hpp"
#include "result.hpp"

namespace pgconn {

class BackgroundDecoder {
 public:
  // Starts decoding `fd` as `c` in a new thread. `head`: bytes already read
  // from `fd` (to detect the format on a pipe); they are decoded first.
  // The thread blocks every signal (they stay the caller's).
  // REQUIRES: c != kNone; `fd` stays open until finish() or destruction.
  // Fails (a message) if no pipe or thread could be made.
  static Result<std::unique_ptr<BackgroundDecoder>> start(int fd, Compression c,
                                                         std::string head);

  // Stops the thread (it ends at its next read or write) and waits for it.
  ~BackgroundDecoder();

  // The text: read(2) and poll(2) it. End of file once the compressed data
  // ended, cleanly or not (then finish() says why). Owned by this object.
  int fd() const { return read_fd_; }

  // Waits for the thread and returns how the data ended: "" when cleanly,
  // else one message in err(3) style without the name: "gzip data is
  // truncated", "xz data is damaged: corrupt data", "trailing garbage after
  // gzip data", or a read error's strerror(). The text decoded before the
  // damage has come through fd() first. Call after fd() reached its end;
  // before that the thread is stopped and the answer is "".
  std::string finish();

 private:
  BackgroundDecoder() = default;
  void run(int in_fd, std::unique_ptr<Decoder> d, std::string head);

  int read_fd_ = -1;
  int write_fd_ = -1;  // the thread's; closed by it when it ends
  std::thread thread_;
  std::string error_;  // written by the thread, read after join()
};

// The format the first bytes of a regular file say, read with pread(2) at
// its current offset: nothing is consumed. kNone if they cannot be read
// (the reader that follows meets the error).
// REQUIRES: `fd` is a regular file open for reading (on a pipe pread fails:
// kNone).
Compression peek_compression(int fd);

// Opens an input and reads its text, decompressed if its magic says so.
//
//   auto in = TextInput::open(path);          // or from_fd(fd, name)
//   if (!in.ok()) die(path, in.error());
//   char buf[65536];
//   while (true) {
//     auto n = (*in)->read(buf, sizeof buf);
//     if (!n.ok()) { warn(path, n.error()); break; }  // text before it came
//     if (*n == 0) break;
//     use(buf, *n);
//   }
class TextInput {
 public:
  // Opens `path` read-only ("-": standard input, not closed at the end) and
  // looks at its first bytes: a regular file with pread(2) (nothing
  // consumed), a pipe by reading up to kMagicBytes bytes, blocking until
  // they come or the input ends. Fails with strerror() of open/read, or
  // BackgroundDecoder::start's message.
  static Result<std::unique_ptr<TextInput>> open(const std::string& path);

  // The same on an open descriptor, which the TextInput does not close.
  // REQUIRES: `fd` stays open while the TextInput lives.
  static Result<std::unique_ptr<TextInput>> from_fd(int fd);

  ~TextInput();

  // kNone: the input is read as it is.
  Compression compression() const { return compression_; }

  // Like read(2) on the text: up to `n` bytes into `buf`, 0 at the end
  // (EINTR is retried). An error is a message (strerror() of a failed read,
  // or how the compressed data ended, see BackgroundDecoder::finish()),
  // given once, after all the text before it; read() returns 0 after it.
  Result<size_t> read(char* buf, size_t n);

 private:
  TextInput() = default;

  int fd_ = -1;
  bool owns_fd_ = false;
  Compression compression_ = Compression::kNone;
  std::string pending_;  // bytes read to detect the format, not yet handed out
  size_t pending_pos_ = 0;
  std::unique_ptr<BackgroundDecoder> decoder_;
  bool ended_ = false;
};

}  // namespace pgconn
