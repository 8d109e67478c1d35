#include "pipeline/scan_ahead.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <system_error>

#include <pthread.h>
#include <unistd.h>

#include "read/line_reader.hpp"

namespace pgconn {

Result<std::unique_ptr<ScanAhead>> ScanAhead::start(int fd) {
  std::unique_ptr<ScanAhead> s(new ScanAhead());
  // The thread inherits the mask: block everything while creating it, so
  // that signals keep going to the thread that waits for them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    s->thread_ = std::thread(&ScanAhead::run, s.get(), fd);
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return make_error(std::string("cannot start a thread: ") + e.what());
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return s;
}

ScanAhead::~ScanAhead() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  free_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<ScanAhead::Block> ScanAhead::take_free() {
  std::unique_lock<std::mutex> lock(mu_);
  free_cv_.wait(lock, [&] { return stop_ || !free_.empty() || made_ < kDepth; });
  if (stop_) return nullptr;
  if (free_.empty()) {
    ++made_;
    return std::make_unique<Block>();
  }
  std::unique_ptr<Block> b = std::move(free_.back());
  free_.pop_back();
  return b;
}

void ScanAhead::publish(std::unique_ptr<Block> b, bool end) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (b != nullptr) ready_.push_back(std::move(b));
    if (end) ended_ = true;
    // A caller waiting in next() has a block now: it is no longer waiting,
    // though it may not have woken yet.
    starving_.store(false, std::memory_order_relaxed);
  }
  ready_cv_.notify_one();
}

void ScanAhead::fill(int fd, Block* b, bool* end) {
  constexpr size_t kMaxLine = LineReader::kMaxLine;
  static_assert(kCapacity >= kBlockBytes + kMaxLine);
  char* buf = b->buf.get();
  size_t len = carry_.size();
  std::memcpy(buf, carry_.data(), len);
  carry_.clear();
  // Offset of the partial line at the end of buf[0, len): after its last '\n'.
  const void* last_nl = memrchr(buf, '\n', len);
  size_t line_start = last_nl == nullptr ? 0 : static_cast<const char*>(last_nl) - buf + 1;
  while (len < kBlockBytes || line_start == 0) {
    // Never past kMaxLine bytes of the partial line: a line that long is
    // cut (below) where LineReader's kMaxLine buffer would fill up.
    const size_t room = std::min({kCapacity - len, kBlockBytes, kMaxLine - (len - line_start)});
    ssize_t n = ::read(fd, buf + len, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {  // the lines before it count, not the partial one
      error_ = errno;
      *end = true;
      b->size = line_start;
      return;
    }
    if (n == 0) {  // a last line without '\n' is a line
      *end = true;
      b->size = skipping_ ? line_start : len;
      return;
    }
    size_t from = len;
    len += static_cast<size_t>(n);
    if (skipping_) {  // drop the rest of a cut line, up to and with its newline
      const void* nl = std::memchr(buf + from, '\n', len - from);
      if (nl == nullptr) {
        len = from;
        continue;
      }
      size_t keep = static_cast<const char*>(nl) - buf + 1;
      std::memmove(buf + from, buf + keep, len - keep);
      len -= keep - from;
      skipping_ = false;
      line_start = from;  // a line starts after the skipped one
    }
    if (const void* nl = memrchr(buf + from, '\n', len - from); nl != nullptr)
      line_start = static_cast<const char*>(nl) - buf + 1;
    if (len - line_start >= kMaxLine) {
      // LineReader's cut: the first kMaxLine bytes are a line of their own
      // (ending this block); the rest up to its newline is skipped.
      ++truncated_;
      b->size = line_start + kMaxLine;
      const char* rest = buf + b->size;
      const size_t rest_len = len - b->size;
      const void* nl_rest = std::memchr(rest, '\n', rest_len);
      if (nl_rest == nullptr) {
        skipping_ = true;
      } else {
        const char* after = static_cast<const char*>(nl_rest) + 1;
        carry_.assign(after, rest + rest_len - after);
      }
      return;
    }
  }
  b->size = line_start;
  carry_.assign(buf + line_start, len - line_start);
}

// The thread: blocks of lines, each scanned (and its candidates read), or
// its records framed (csvlog, jsonlog) or its PgBouncer lines read, when
// the caller asks for it.
void ScanAhead::run(int fd) {
  bool end = false;
  while (!end) {
    std::unique_ptr<Block> b = take_free();
    if (b == nullptr) return;
    if (b->buf == nullptr) b->buf.reset(new char[kCapacity]);
    fill(fd, b.get(), &end);
    b->scanned = want_scan_.load(std::memory_order_relaxed) && b->size > 0;
    if (b->scanned) {
      scan_block(b->text(), &b->scan);
      std::string prefix;
      {
        std::lock_guard<std::mutex> lock(mu_);
        prefix = read_with_;
      }
      reader_.read(prefix, b->text(), b->scan, &b->read, &starving_);
    }
    AheadFormat format;
    size_t columns;
    {
      std::lock_guard<std::mutex> lock(mu_);
      format = frame_format_;
      columns = frame_columns_;
    }
    read_records_ahead(b->size > 0 ? format : AheadFormat::kNone, columns, b->text(), &b->records);
    b->pooled = want_pooler_.load(std::memory_order_relaxed) && b->size > 0;
    if (b->pooled) pooler_reader_.read(b->text(), &b->pooler);
    if (b->size == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(std::move(b));
    }
    publish(std::move(b), end);
  }
}

void ScanAhead::read_with(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  if (read_with_ != prefix) read_with_ = prefix;
}

void ScanAhead::frame_records(AheadFormat format, size_t columns) {
  std::lock_guard<std::mutex> lock(mu_);
  frame_format_ = format;
  frame_columns_ = columns;
}

ScanAhead::Status ScanAhead::next(int timeout_ms, const Block** block) {
  std::unique_lock<std::mutex> lock(mu_);
  if (lent_ != nullptr) {
    free_.push_back(std::move(lent_));
    free_cv_.notify_one();
  }
  // While the caller waits, the thread hands its block on as soon as it is
  // scanned, the candidates it did not read left to the caller.
  starving_.store(ready_.empty() && !ended_, std::memory_order_relaxed);
  const bool came = ready_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                       [&] { return !ready_.empty() || ended_; });
  starving_.store(false, std::memory_order_relaxed);
  if (!came) return Status::kTimeout;
  if (ready_.empty()) return Status::kEnd;
  lent_ = std::move(ready_.front());
  ready_.pop_front();
  *block = lent_.get();
  return Status::kBlock;
}

}  // namespace pgconn
