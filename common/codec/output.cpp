#include "codec/output.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

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
char g_buffer[kBufferSize];
size_t g_used = 0;
int g_error = 0;
bool g_closed = false;

bool failed() { return g_closed || g_error != 0; }

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
    } else if (g_error == 0) {
      g_error = errno;
    }
    return false;
  }
  return true;
}

bool drain() {
  const size_t n = g_used;
  g_used = 0;
  return write_all(g_buffer, n);
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
    std::memcpy(g_buffer + g_used, s.data(), s.size());
    g_used += s.size();
    return true;
  }
  if (!drain()) return false;
  if (s.size() >= kBufferSize) return write_all(s.data(), s.size());
  std::memcpy(g_buffer, s.data(), s.size());
  g_used = s.size();
  return true;
}

char* output_reserve(size_t n) {
  if (failed() || n > kBufferSize) return nullptr;
  if (g_used + n > kBufferSize && !drain()) return nullptr;
  return g_buffer + g_used;
}

void output_commit(char* end) { g_used = static_cast<size_t>(end - g_buffer); }

bool output_flush() {
  if (failed()) return false;
  return drain();
}

int output_error() { return g_error; }
bool output_closed() { return g_closed; }

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
