// TailFile: one open log file, read from an offset to its current end in
// whole lines (pgconn-tail's unit of following).
//
// Reads with pread(2) at its own offset into a 64 KiB buffer; complete lines
// go to a LineSink as they are read, a partial last line waits in the
// object until its newline comes (a line longer than kMaxLine is cut: its
// first kMaxLine bytes become a line, the rest up to its newline is skipped
// and counted in truncated()). Memory: the buffer and one partial line.
//
// It also remembers the last bytes before its offset, so that a file
// truncated or rewritten in place (copytruncate, log_truncate_on_rotation)
// is recognised even when it has grown past the offset again, and so that
// copytruncate's copy can be recognised as "this file, longer".
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sink.hpp"

namespace pgconn {

class TailFile {
 public:
  static constexpr size_t kBufferSize = 64 * 1024;
  static constexpr size_t kMaxLine = 1024 * 1024;
  static constexpr size_t kRecent = 64;  // bytes remembered before the offset

  // Opens `path` read-only at offset 0. nullptr with *err = errno on failure.
  static std::unique_ptr<TailFile> open(const std::string& path, int* err);
  ~TailFile();
  TailFile(const TailFile&) = delete;
  TailFile& operator=(const TailFile&) = delete;

  const std::string& name() const { return name_; }
  bool same_file(const struct stat& st) const { return st.st_dev == dev_ && st.st_ino == ino_; }
  off_t offset() const { return offset_; }
  int fd() const { return fd_; }

  // Moves the offset to the start of the n-th complete line from the end
  // (0: after the last complete line), as `tail -n` counts; a partial last
  // line is then read whole once its newline comes. Fewer lines: offset 0.
  void start_lines_back(uint64_t n);

  enum class Read { kQuiet, kGrew, kStopped, kError };
  // Reads from the offset to the end of the file as it is now; whole lines
  // go to `sink`. kQuiet: nothing new. kGrew: something was read. kStopped:
  // the sink returned false. kError: see error().
  Read read_to_end(LineSink* sink);

  // True when the file no longer holds what was read: it is shorter than
  // the offset, or the bytes just before the offset differ.
  bool rewritten() const;

  // True when the file open as `fd` has the same bytes before this file's
  // offset as were read here (copytruncate's copy of this file).
  bool continues_in(int fd) const;

  // Reads on in `other` from this file's offset (taking over its
  // descriptor, name and identity), keeping the partial line. For reading
  // copytruncate's copy from where the truncated file left off.
  void adopt(std::unique_ptr<TailFile> other);

  // Back to offset 0 (the file was truncated); a partial line is kept, to
  // be finished (or ended) by flush_partial().
  void restart();

  // Writes a pending partial line with a '\n' added (its file ended for
  // good). Returns false when the sink stopped.
  bool flush_partial(LineSink* sink);

  uint64_t truncated() const { return truncated_; }
  int error() const { return error_; }

 private:
  TailFile(int fd, std::string name, const struct stat& st);
  bool emit(std::string_view chunk, LineSink* sink);
  void remember(std::string_view chunk);

  int fd_;
  std::string name_;
  dev_t dev_;
  ino_t ino_;
  off_t offset_ = 0;
  std::string partial_;  // bytes of an unfinished line
  std::string recent_;   // the last <= kRecent bytes before offset_
  bool skipping_ = false;  // inside the cut-off rest of an over-long line
  uint64_t truncated_ = 0;
  int error_ = 0;
  std::unique_ptr<char[]> buf_;
};

}  // namespace pgconn
