// LineReader: reads a file descriptor with read(2) into a rolling buffer and
// hands out whole lines, a block at a time.
//
// The buffer starts at 64 KiB and grows only while one line does not fit,
// up to kMaxLine; a longer line keeps its first kMaxLine bytes (as a line
// of its own, without '\n') and the rest up to its newline is skipped and
// counted in truncated(). Nothing else is ever dropped.
//
// fill() waits with poll(2), so a caller can flush its output before a read
// would block and give up waiting after a timeout (live streams).
#pragma once

#include <csignal>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pgconn {

class LineReader {
 public:
  static constexpr size_t kBufferSize = 64 * 1024;
  static constexpr size_t kMaxLine = 1024 * 1024;

  enum class Status { kData, kTimeout, kEof, kError, kInterrupted };

  // REQUIRES: fd is open for reading; the reader does not close it.
  explicit LineReader(int fd);

  // Waits up to `timeout_ms` (-1: no limit, 0: not at all) for input, then
  // reads once. kData: lines() has something new. kTimeout: nothing came.
  // kEof: the end; a last line without newline is in lines(). kInterrupted:
  // a signal arrived (EINTR). kError: see error(). The wait is ppoll(2)
  // with `wait_mask` as the signal mask (nullptr: the mask as it is), so a
  // caller that keeps its signals blocked gets them only while waiting.
  Status fill(int timeout_ms, const sigset_t* wait_mask = nullptr);

  // The complete lines read and not yet consumed, each ending with '\n'
  // except a last line cut at kMaxLine or ended by EOF. Valid until the
  // next fill() or consume().
  std::string_view lines() const {
    return std::string_view(buf_.data() + start_, ready_ - start_);
  }

  // Marks everything in lines() as used.
  void consume() { start_ = ready_; }

  // Every byte read and not consumed: lines() and the partial line after
  // it. Valid until the next fill() or consume(). (The read loop looks at
  // an input's first bytes here, before any line is handed out.)
  std::string_view unconsumed() const {
    return std::string_view(buf_.data() + start_, end_ - start_);
  }

  uint64_t truncated() const { return truncated_; }
  int error() const { return error_; }

 private:
  void find_ready(size_t from);

  int fd_;
  std::vector<char> buf_;
  size_t start_ = 0;  // first unconsumed byte
  size_t ready_ = 0;  // end of complete lines
  size_t end_ = 0;    // end of data
  bool skipping_ = false;  // inside the cut-off rest of a long line
  bool eof_ = false;
  uint64_t truncated_ = 0;
  int error_ = 0;
};

}  // namespace pgconn
