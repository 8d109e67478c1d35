#include "scan_ahead.hpp"

#include <chrono>
#include <csignal>
#include <system_error>

#include <pthread.h>

#include "line_reader.hpp"

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
  }
  ready_cv_.notify_one();
}

// The thread: a LineReader's lines gathered into blocks of about
// kBlockBytes. A cut line (lines() without a final '\n') ends its block,
// so that it stays a line of its own.
void ScanAhead::run(int fd) {
  LineReader reader(fd);
  bool end = false;
  while (!end) {
    std::unique_ptr<Block> b = take_free();
    if (b == nullptr) return;
    b->text.clear();
    while (b->text.size() < kBlockBytes) {
      LineReader::Status st = reader.fill(-1);
      if (st == LineReader::Status::kData || st == LineReader::Status::kEof) {
        b->text.append(reader.lines());
        reader.consume();
        if (st == LineReader::Status::kEof) {
          end = true;
          break;
        }
        if (!b->text.empty() && b->text.back() != '\n') break;
      } else if (st == LineReader::Status::kError) {
        error_ = reader.error();
        end = true;
        break;
      }
      // kTimeout, kInterrupted: a regular file has neither; read again.
    }
    if (end) truncated_ = reader.truncated();
    b->scanned = want_scan_.load(std::memory_order_relaxed) && !b->text.empty();
    if (b->scanned) {
      scan_block(b->text, &b->scan);
      std::string prefix;
      {
        std::lock_guard<std::mutex> lock(mu_);
        prefix = read_with_;
      }
      reader_.read(prefix, b->text, b->scan, &b->read);
    }
    if (b->text.empty()) {
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

ScanAhead::Status ScanAhead::next(int timeout_ms, const Block** block) {
  std::unique_lock<std::mutex> lock(mu_);
  if (lent_ != nullptr) {
    free_.push_back(std::move(lent_));
    free_cv_.notify_one();
  }
  if (!ready_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                          [&] { return !ready_.empty() || ended_; }))
    return Status::kTimeout;
  if (ready_.empty()) return Status::kEnd;
  lent_ = std::move(ready_.front());
  ready_.pop_front();
  *block = lent_.get();
  return Status::kBlock;
}

}  // namespace pgconn
