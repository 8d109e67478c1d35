#include "input_loop.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "line_reader.hpp"
#include "output.hpp"

namespace pgconn {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

// The signal mask to wait with: the process mask less the wake signals.
sigset_t g_wait_mask;
bool g_have_wait_mask = false;

const sigset_t* wait_mask() { return g_have_wait_mask ? &g_wait_mask : nullptr; }

// Reads one open descriptor to its end. False: stop everything.
bool read_one(int fd, std::string_view name, InputHandler* h,
              const volatile std::sig_atomic_t* stop, bool* interrupted) {
  LineReader reader(fd);
  struct stat info = {};
  h->begin_input(name, fstat(fd, &info) != 0 || !S_ISREG(info.st_mode));
  while (true) {
    if (*stop) {
      *interrupted = true;
      return false;
    }
    LineReader::Status st = reader.fill(0, wait_mask());
    if (st == LineReader::Status::kTimeout) {  // the next read would block
      h->on_caught_up();
      if (!output_flush() && output_closed()) return false;
      int wait = h->wait_ms();
      st = reader.fill(wait, wait_mask());
      if (st == LineReader::Status::kTimeout) {
        if (!h->on_timeout()) return false;
        continue;
      }
    }
    switch (st) {
      case LineReader::Status::kData:
        if (!reader.lines().empty()) {
          if (!h->on_lines(reader.lines())) return false;
          reader.consume();
        }
        break;
      case LineReader::Status::kEof:
        if (!reader.lines().empty() && !h->on_lines(reader.lines())) return false;
        reader.consume();
        return h->end_input(reader.truncated());
      case LineReader::Status::kError:
        h->on_input_error(name, reader.error());
        return h->end_input(reader.truncated());
      case LineReader::Status::kInterrupted:
        if (!h->on_wake()) return false;
        break;
      case LineReader::Status::kTimeout:
        break;
    }
  }
}

}  // namespace

void install_wake_signal(int sig, void (*handler)(int)) {
  if (!g_have_wait_mask) {
    sigprocmask(SIG_BLOCK, nullptr, &g_wait_mask);
    g_have_wait_mask = true;
  }
  struct sigaction sa = {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the wait returns EINTR
  sigaction(sig, &sa, nullptr);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, nullptr);
  sigdelset(&g_wait_mask, sig);
}

const volatile std::sig_atomic_t* install_stop_signals() {
  install_wake_signal(SIGINT, on_stop_signal);
  install_wake_signal(SIGTERM, on_stop_signal);
  return &g_stop;
}

namespace {
// After the loop: a signal still pending reaches its handler (unblocking
// delivers it before sigprocmask returns), then a second Ctrl+C ends the
// program as usual while what is owed is written.
void restore_signals() {
  if (!g_have_wait_mask) return;
  sigprocmask(SIG_SETMASK, &g_wait_mask, nullptr);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

InputEnd read_all(const std::vector<std::string>& names, InputHandler* handler,
                  const volatile std::sig_atomic_t* stop) {
  std::vector<std::string> inputs = names;
  if (inputs.empty()) inputs.push_back("-");
  bool interrupted = false;
  for (const std::string& name : inputs) {
    int fd = STDIN_FILENO;
    if (name != "-") {
      fd = open(name.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        handler->on_input_error(name, errno);
        continue;
      }
    }
    bool go_on = read_one(fd, name == "-" ? "(stdin)" : name, handler, stop, &interrupted);
    if (fd != STDIN_FILENO) close(fd);
    // Ctrl+C reaches a whole pipeline at once: the writer before us may die
    // of it and leave an end of input that we read before looking at the
    // flag. It is still an interruption.
    if (!go_on || *stop) return interrupted || *stop ? InputEnd::kInterrupted : InputEnd::kStopped;
  }
  return *stop ? InputEnd::kInterrupted : InputEnd::kDone;
}
}  // namespace

InputEnd read_inputs(const std::vector<std::string>& names, InputHandler* handler,
                     const volatile std::sig_atomic_t* stop) {
  InputEnd end = read_all(names, handler, stop);
  restore_signals();
  return *stop ? InputEnd::kInterrupted : end;
}

}  // namespace pgconn
