#include "codec/output.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "codec/event_codec.hpp"

namespace pgconn {

namespace {
// Each write into a pipe wakes its reader, which costs more than the copy:
// writes of 256 KiB wake it a quarter as often as writes of 64 KiB.
constexpr size_t kBufferSize = 256 * 1024;
// A pipe of Linux's default 64 KiB holds one of our writes: each write
// then waits for the reader to empty it, and the two processes take turns
// instead of running side by side. A larger one lets them overlap
// (PgBouncer's 1 M-line bench log into `| cat`: 197 -> 156 ms at 256 KiB);
// 1 MiB, the unprivileged limit by default (/proc/sys/fs/pipe-max-size),
// holds four of our writes. With 256 KiB writes: the main thread 5%, and
// cat 30%, fewer CPU samples.
constexpr int kPipeSize = 1024 * 1024;

// Full buffers are written by a thread of its own (Writer), started at the
// first full buffer, so a small output never starts it: write(2) into a
// pipe (the copy, a page per 4 KiB, waking the reader) was 18% of
// pgconn-parse's main thread on PgBouncer's bench log, the limit of its
// speed there (133 -> 117 ms, best of 15). Three buffers: one being
// written, one waiting, one being filled.
constexpr int kBuffers = 3;
char g_buffers[kBuffers][kBufferSize];
int g_cur = 0;      // the buffer being filled
size_t g_used = 0;  // its bytes
std::atomic<int> g_error{0};
std::atomic<bool> g_closed{false};

bool failed() {
  return g_closed.load(std::memory_order_relaxed) || g_error.load(std::memory_order_relaxed) != 0;
}

// Writes [p, p + n) to stdout in full. A stdout left non-blocking by
// another process (EAGAIN) is waited for, as a blocking one would be.
bool write_all(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(STDOUT_FILENO, p, n);
    if (w >= 0) {
      p += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd pfd = {STDOUT_FILENO, POLLOUT, 0};
      ::poll(&pfd, 1, -1);
      continue;
    }
    if (errno == EPIPE) {
      g_closed = true;
    } else {
      int none = 0;
      g_error.compare_exchange_strong(none, errno);
    }
    return false;
  }
  return true;
}

// The thread that writes full buffers, in the order handed. Never
// destroyed (output_writer()): at exit it may still wait on its condition
// variable, which must outlive it; the process's end stops it. Everything
// handed is written before output_flush() returns, which the tools call
// before they exit.
class Writer {
 public:
  // Starts the thread; false when it cannot (then the caller writes).
  bool start() {
    if (started_) return true;
    sigset_t all, old;  // signals keep going to the threads that wait for them
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      std::thread(&Writer::run, this).detach();
      started_ = true;
    } catch (const std::system_error&) {
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return started_;
  }
  bool started() const { return started_; }

  // Hands buffer `i` (its first n bytes) to be written; returns a buffer
  // free to fill next, waiting for one when all are handed.
  int hand(int i, size_t n) {
    std::unique_lock lock(mutex_);
    busy_[i] = true;
    queue_[(head_ + queued_++) % kBuffers] = {i, n};
    changed_.notify_all();
    while (true) {
      for (int j = 0; j < kBuffers; ++j)
        if (!busy_[j]) return j;
      changed_.wait(lock);
    }
  }

  // Waits until everything handed is written.
  void wait_idle() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queued_ == 0 && !writing_; });
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return queued_ > 0; });
      const auto [i, n] = queue_[head_];
      head_ = (head_ + 1) % kBuffers;
      --queued_;
      writing_ = true;
      lock.unlock();
      if (!failed()) write_all(g_buffers[i], n);  // past a failure: dropped, as the tool stops
      lock.lock();
      writing_ = false;
      busy_[i] = false;
      changed_.notify_all();
    }
  }

  bool started_ = false;  // the main thread's own
  std::mutex mutex_;
  std::condition_variable changed_;  // a buffer handed or written
  std::pair<int, size_t> queue_[kBuffers];
  int head_ = 0, queued_ = 0;
  bool busy_[kBuffers] = {};
  bool writing_ = false;
};

Writer& output_writer() {
  static Writer* w = new Writer();  // never destroyed (above)
  return *w;
}

// The buffer being filled is full (or a flush): written, by the thread when
// it runs, else here. `start`: start the thread if it does not run yet.
bool drain(bool start) {
  Writer& w = output_writer();
  if (w.started() || (start && w.start())) {
    if (g_used > 0) g_cur = w.hand(g_cur, g_used);
    g_used = 0;
    return !failed();
  }
  const size_t n = g_used;
  g_used = 0;
  return write_all(g_buffers[g_cur], n);
}

// Everything handed to the thread written (output_flush(), a write too
// large for a buffer).
bool settle() {
  if (output_writer().started()) output_writer().wait_idle();
  return !failed();
}
}  // namespace

void output_init() {
  std::signal(SIGPIPE, SIG_IGN);
  struct stat st;
  if (fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode) &&
      fcntl(STDOUT_FILENO, F_GETPIPE_SZ) < kPipeSize)
    fcntl(STDOUT_FILENO, F_SETPIPE_SZ, kPipeSize);  // best effort: a user's pipe quota may refuse
}

bool output_write(std::string_view s) {
  if (failed()) return false;
  if (g_used + s.size() <= kBufferSize) {
    std::memcpy(g_buffers[g_cur] + g_used, s.data(), s.size());
    g_used += s.size();
    return true;
  }
  if (!drain(true)) return false;
  if (s.size() >= kBufferSize) return settle() && write_all(s.data(), s.size());
  std::memcpy(g_buffers[g_cur], s.data(), s.size());
  g_used = s.size();
  return true;
}

char* output_reserve(size_t n) {
  if (failed() || n > kBufferSize) return nullptr;
  if (g_used + n > kBufferSize && !drain(true)) return nullptr;
  return g_buffers[g_cur] + g_used;
}

void output_commit(char* end) { g_used = static_cast<size_t>(end - g_buffers[g_cur]); }

bool output_flush() {
  if (failed()) return false;
  return drain(false) && settle();
}

int output_error() { return g_error.load(); }
bool output_closed() { return g_closed.load(); }

bool EventWriter::on_event(const Event& e) {
  const bool json = format_ == Format::kJson;
  if (char* p = output_reserve(json ? json_bound(e) : tsv_bound(e))) {
    output_commit(json ? encode_json(e, p) : encode_tsv(e, p));
    return true;
  }
  if (failed()) return false;
  line_.clear();
  if (json) {
    encode_json(e, &line_);
  } else {
    encode_tsv(e, &line_);
  }
  return output_write(line_);
}

bool EventWriter::on_event_ref(const EventRef& e) {
  if (format_ == Format::kJson) {
    if (char* p = output_reserve(json_bound(e))) {
      output_commit(encode_json(e, p));
      return true;
    }
  }
  assign_ref(e, &event_);
  return on_event(event_);
}

}  // namespace pgconn
