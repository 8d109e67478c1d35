#include "read/line_reader.hpp"

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <unistd.h>

namespace pgconn {

LineReader::LineReader(int fd) : fd_(fd), buf_(kBufferSize) {}

void LineReader::find_ready(size_t from) {
  // The last newline in [from, end_) ends the complete lines.
  const char* base = buf_.data();
  const void* nl = memrchr(base + from, '\n', end_ - from);
  if (nl != nullptr) ready_ = static_cast<const char*>(nl) - base + 1;
}

LineReader::Status LineReader::fill(int timeout_ms, const sigset_t* wait_mask) {
  if (eof_) return Status::kEof;
  if (start_ > 0) {  // roll the partial line to the front
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    ready_ -= start_;
    start_ = 0;
  }
  if (end_ == buf_.size()) {  // one line fills the buffer
    if (buf_.size() < kMaxLine) {
      buf_.resize(std::min(buf_.size() * 2, kMaxLine));
    } else {  // hand out its head as a line, skip the rest
      ready_ = end_;
      skipping_ = true;
      ++truncated_;
      return Status::kData;
    }
  }
  {  // Always wait here, never in read(): only ppoll() lets signals in.
    if (fd_ < 0) {  // poll() would skip it and wait for ever
      error_ = EBADF;
      return Status::kError;
    }
    pollfd p{fd_, POLLIN, 0};
    timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
    int n = ppoll(&p, 1, timeout_ms >= 0 ? &ts : nullptr, wait_mask);
    if (n == 0) return Status::kTimeout;
    if (n < 0) {
      if (errno == EINTR) return Status::kInterrupted;
      error_ = errno;
      return Status::kError;
    }
    if (p.revents & POLLNVAL) {
      error_ = EBADF;
      return Status::kError;
    }
  }
  ssize_t n = read(fd_, buf_.data() + end_, buf_.size() - end_);
  if (n < 0) {
    if (errno == EINTR) return Status::kInterrupted;
    if (errno == EAGAIN) return Status::kTimeout;
    error_ = errno;
    return Status::kError;
  }
  if (n == 0) {
    eof_ = true;
    ready_ = end_;
    return Status::kEof;
  }
  size_t from = end_;
  end_ += static_cast<size_t>(n);
  if (skipping_) {  // drop the rest of a cut line, up to and with its newline
    const void* nl = std::memchr(buf_.data() + from, '\n', end_ - from);
    if (nl == nullptr) {
      end_ = ready_ = from;
      return Status::kData;
    }
    size_t keep = static_cast<const char*>(nl) - buf_.data() + 1;
    std::memmove(buf_.data() + from, buf_.data() + keep, end_ - keep);
    end_ -= keep - from;
    skipping_ = false;
  }
  find_ready(from);
  return Status::kData;
}

}  // namespace pgconn
