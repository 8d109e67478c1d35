#include "tail/tail_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace pgconn {

std::unique_ptr<TailFile> TailFile::open(const std::string& path, int* err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *err = errno;
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *err = errno;
    close(fd);
    return nullptr;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    *err = EISDIR;
    return nullptr;
  }
  return std::unique_ptr<TailFile>(new TailFile(fd, path, st));
}

TailFile::TailFile(int fd, std::string name, const struct stat& st)
    : fd_(fd), name_(std::move(name)), dev_(st.st_dev), ino_(st.st_ino),
      buf_(new char[kBufferSize]) {}

TailFile::~TailFile() {
  if (fd_ >= 0) close(fd_);
}

void TailFile::start_lines_back(uint64_t n) {
  struct stat st;
  if (fstat(fd_, &st) != 0) return;
  off_t pos = st.st_size;
  uint64_t newlines = 0;  // seen so far, from the end
  off_t start = 0;
  bool found = false;
  // The (n+1)-th newline from the end ends the line before the first one
  // wanted; without n lines (or within kMaxLine for n = 0) start at 0.
  while (pos > 0 && !found) {
    off_t len = pos < static_cast<off_t>(kBufferSize) ? pos : static_cast<off_t>(kBufferSize);
    pos -= len;
    ssize_t got = pread(fd_, buf_.get(), len, pos);
    if (got != len) break;
    for (off_t i = len; i-- > 0;) {
      if (buf_[i] != '\n') continue;
      if (++newlines == n + 1) {
        start = pos + i + 1;
        found = true;
        break;
      }
    }
    if (n == 0 && !found && st.st_size - pos >= static_cast<off_t>(kMaxLine)) {
      start = st.st_size;  // no line end near the end: begin at the end
      found = true;
    }
  }
  offset_ = start;
  partial_.clear();
  skipping_ = false;
  recent_.clear();
  off_t from = offset_ > static_cast<off_t>(kRecent) ? offset_ - kRecent : 0;
  if (offset_ > from) {
    recent_.resize(offset_ - from);
    ssize_t got = pread(fd_, recent_.data(), recent_.size(), from);
    recent_.resize(got > 0 ? got : 0);
  }
}

void TailFile::remember(std::string_view chunk) {
  if (chunk.size() >= kRecent) {
    recent_.assign(chunk.substr(chunk.size() - kRecent));
  } else {
    recent_.append(chunk);
    if (recent_.size() > kRecent) recent_.erase(0, recent_.size() - kRecent);
  }
}

bool TailFile::emit(std::string_view c, LineSink* sink) {
  while (!c.empty()) {
    if (skipping_) {  // drop the rest of a cut line, up to and with its newline
      const void* nl = std::memchr(c.data(), '\n', c.size());
      if (nl == nullptr) return true;
      c.remove_prefix(static_cast<const char*>(nl) - c.data() + 1);
      skipping_ = false;
      continue;
    }
    const void* last = memrchr(c.data(), '\n', c.size());
    if (last == nullptr) {  // no line ends here
      partial_.append(c);
      if (partial_.size() >= kMaxLine) {
        partial_.resize(kMaxLine);
        partial_.push_back('\n');
        ++truncated_;
        skipping_ = true;
        bool go_on = sink->on_lines(partial_);
        partial_.clear();
        return go_on;
      }
      return true;
    }
    size_t end = static_cast<const char*>(last) - c.data() + 1;
    std::string_view lines = c.substr(0, end);
    if (!partial_.empty()) {  // finish the pending line first
      size_t first = static_cast<const char*>(std::memchr(c.data(), '\n', c.size())) - c.data() + 1;
      partial_.append(c.substr(0, first));
      if (partial_.size() > kMaxLine + 1) {
        partial_.resize(kMaxLine);
        partial_.push_back('\n');
        ++truncated_;
      }
      if (!sink->on_lines(partial_)) return false;
      partial_.clear();
      lines.remove_prefix(first);
    }
    if (!lines.empty() && !sink->on_lines(lines)) return false;
    partial_.assign(c.substr(end));
    return true;
  }
  return true;
}

TailFile::Read TailFile::read_to_end(LineSink* sink) {
  Read result = Read::kQuiet;
  while (true) {
    ssize_t n = pread(fd_, buf_.get(), kBufferSize, offset_);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = errno;
      return Read::kError;
    }
    if (n == 0) return result;
    std::string_view chunk(buf_.get(), static_cast<size_t>(n));
    offset_ += n;
    remember(chunk);
    result = Read::kGrew;
    if (!emit(chunk, sink)) return Read::kStopped;
  }
}

bool TailFile::continues_in(int fd) const {
  if (recent_.empty()) return offset_ == 0;
  char tmp[kRecent];
  ssize_t got = pread(fd, tmp, recent_.size(), offset_ - static_cast<off_t>(recent_.size()));
  return got == static_cast<ssize_t>(recent_.size()) && std::memcmp(tmp, recent_.data(), got) == 0;
}

bool TailFile::rewritten() const {
  struct stat st;
  if (fstat(fd_, &st) != 0) return false;
  if (st.st_size < offset_) return true;
  return !continues_in(fd_);
}

void TailFile::adopt(std::unique_ptr<TailFile> other) {
  std::swap(fd_, other->fd_);
  name_ = other->name_;
  dev_ = other->dev_;
  ino_ = other->ino_;
}

void TailFile::restart() {
  offset_ = 0;
  recent_.clear();
  skipping_ = false;
}

bool TailFile::flush_partial(LineSink* sink) {
  if (partial_.empty()) return true;
  partial_.push_back('\n');
  bool go_on = sink->on_lines(partial_);
  partial_.clear();
  return go_on;
}

}  // namespace pgconn
