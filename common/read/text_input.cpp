#include "read/text_input.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pgconn {

namespace {

constexpr size_t kInSize = 128 * 1024;
constexpr size_t kOutSize = 128 * 1024;
// A pipe this big lets the decoder run a few chunks ahead of the reader
// (Linux's default is 64 KiB; an unprivileged process may set up to
// /proc/sys/fs/pipe-max-size, 1 MiB by default).
constexpr int kPipeSize = 1024 * 1024;

bool is_regular(int fd) {
  struct stat st = {};
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

// False when the reader has gone (EPIPE) or the write failed.
bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<BackgroundDecoder>> BackgroundDecoder::start(int fd, Compression c,
                                                                    std::string head) {
  std::unique_ptr<Decoder> d = Decoder::create(c);
  if (d == nullptr) return make_error(std::string(compression_name(c)) + ": out of memory");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return make_error(std::strerror(errno));
  fcntl(fds[1], F_SETPIPE_SZ, kPipeSize);  // best effort
  std::unique_ptr<BackgroundDecoder> b(new BackgroundDecoder());
  b->read_fd_ = fds[0];
  b->write_fd_ = fds[1];
  // The thread inherits the mask: block everything while creating it, so
  // that signals keep going to the threads that wait for them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    b->thread_ = std::thread(&BackgroundDecoder::run, b.get(), fd, std::move(d), std::move(head));
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    close(fds[1]);
    b->write_fd_ = -1;
    return make_error(std::string("cannot start a thread: ") + e.what());
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return b;
}

void BackgroundDecoder::run(int in_fd, std::unique_ptr<Decoder> d, std::string head) {
  const bool regular = is_regular(in_fd);
  std::vector<char> in(std::max(kInSize, head.size()));
  std::vector<char> out(kOutSize);
  std::memcpy(in.data(), head.data(), head.size());
  size_t pos = 0, len = head.size();
  bool eof = false;
  bool need_input = len == 0;
  while (true) {
    if (need_input && !eof) {
      if (pos > 0) {  // keep what the decoder left, read after it
        std::memmove(in.data(), in.data() + pos, len - pos);
        len -= pos;
        pos = 0;
      }
      if (len == in.size()) in.resize(in.size() * 2);
      if (!regular) {
        // Wait for input, or for the reader to close the pipe (POLLERR on
        // our end): a stopped reader must not wait for a quiet producer.
        pollfd p[2] = {{in_fd, POLLIN, 0}, {write_fd_, 0, 0}};
        if (poll(p, 2, -1) < 0) {
          if (errno == EINTR) continue;
          error_ = std::strerror(errno);
          break;
        }
        if (p[1].revents != 0) break;  // the reader has gone
      }
      ssize_t n = ::read(in_fd, in.data() + len, in.size() - len);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        error_ = std::strerror(errno);
        break;
      }
      if (n == 0) eof = true;
      len += static_cast<size_t>(n);
      need_input = false;
    }
    std::string_view rest(in.data() + pos, len - pos);
    Result<Decoder::Step> s = d->decode(rest, out.data(), out.size(), eof);
    if (!s.ok()) {
      error_ = s.error();
      break;
    }
    pos += s->consumed;
    if (s->produced > 0 && !write_all(write_fd_, out.data(), s->produced)) break;
    if (s->produced == out.size()) continue;  // the decoder may hold more
    if (pos == len || (s->consumed == 0 && s->produced == 0)) {
      if (eof) {
        error_ = d->finish();
        break;
      }
      need_input = true;
    }
  }
  close(write_fd_);
}

std::string BackgroundDecoder::finish() {
  if (read_fd_ >= 0) {
    close(read_fd_);  // a thread still writing gets EPIPE and ends
    read_fd_ = -1;
  }
  if (thread_.joinable()) thread_.join();
  return error_;
}

BackgroundDecoder::~BackgroundDecoder() { finish(); }

Compression peek_compression(int fd) {
  char head[kMagicBytes];
  off_t at = lseek(fd, 0, SEEK_CUR);
  ssize_t n = pread(fd, head, sizeof head, at < 0 ? 0 : at);
  if (n <= 0) return Compression::kNone;
  auto c = detect_compression(std::string_view(head, static_cast<size_t>(n)),
                              static_cast<size_t>(n) < sizeof head);
  return c ? *c : Compression::kNone;
}

Result<std::unique_ptr<TextInput>> TextInput::open(const std::string& path) {
  if (path == "-") return from_fd(STDIN_FILENO);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(std::strerror(errno));
  Result<std::unique_ptr<TextInput>> in = from_fd(fd);
  if (!in.ok()) {
    close(fd);
    return in;
  }
  (*in)->owns_fd_ = true;
  return in;
}

Result<std::unique_ptr<TextInput>> TextInput::from_fd(int fd) {
  std::unique_ptr<TextInput> t(new TextInput());
  t->fd_ = fd;
  char head[kMagicBytes];
  std::optional<Compression> c;
  if (is_regular(fd)) {
    c = peek_compression(fd);
  } else {
    std::string& got = t->pending_;
    while (!c) {
      ssize_t n = ::read(fd, head, sizeof head - got.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return make_error(std::strerror(errno));
      }
      got.append(head, static_cast<size_t>(n));
      c = detect_compression(got, n == 0 || got.size() >= kMagicBytes);
    }
  }
  t->compression_ = *c;
  if (*c != Compression::kNone) {
    auto d = BackgroundDecoder::start(fd, *c, std::move(t->pending_));
    if (!d.ok()) return make_error(d.error());
    t->decoder_ = std::move(*d);
    t->pending_.clear();
  }
  return t;
}

TextInput::~TextInput() {
  decoder_.reset();
  if (owns_fd_) close(fd_);
}

Result<size_t> TextInput::read(char* buf, size_t n) {
  if (ended_ || n == 0) return size_t{0};
  if (pending_pos_ < pending_.size()) {
    size_t k = std::min(n, pending_.size() - pending_pos_);
    std::memcpy(buf, pending_.data() + pending_pos_, k);
    pending_pos_ += k;
    return k;
  }
  int fd = decoder_ ? decoder_->fd() : fd_;
  while (true) {
    ssize_t got = ::read(fd, buf, n);
    if (got < 0 && errno == EINTR) continue;
    if (got > 0) return static_cast<size_t>(got);
    ended_ = true;
    if (got < 0) return make_error(std::strerror(errno));
    if (decoder_) {
      std::string why = decoder_->finish();
      if (!why.empty()) return make_error(why);
    }
    return size_t{0};
  }
}

}  // namespace pgconn
