#include "pipeline/input_loop.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read/decompress.hpp"
#include "read/line_reader.hpp"
#include "codec/output.hpp"
#include "read/text_input.hpp"

namespace pgconn {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

// The signal mask to wait with: the process mask less the wake signals.
sigset_t g_wait_mask;
bool g_have_wait_mask = false;

const sigset_t* wait_mask() { return g_have_wait_mask ? &g_wait_mask : nullptr; }

// ppoll() hands a pending signal to its handler only when it has to wait:
// on a stream that always has data (a busy log, a reader slower than its
// writer) SIGINT, SIGTERM, SIGHUP and SIGUSR1 would stay pending for ever.
// Lets them in here, once per read, to their handlers (which only set
// flags). True when one of ours was pending.
bool deliver_pending() {
  if (!g_have_wait_mask) return false;
  sigset_t pending;
  if (sigpending(&pending) != 0) return false;
  bool ours = false;
  for (int sig = 1; sig < NSIG && !ours; ++sig)
    ours = sigismember(&pending, sig) == 1 && sigismember(&g_wait_mask, sig) == 0;
  if (!ours) return false;
  sigset_t old;
  sigprocmask(SIG_SETMASK, &g_wait_mask, &old);  // delivered here
  sigprocmask(SIG_SETMASK, &old, nullptr);
  return true;
}

// A regular, uncompressed file read ahead (scan_ahead.hpp): the same
// lines as read_one's LineReader, in blocks that may come with their scan.
// nullopt: no thread could be started (read it the usual way).
std::optional<bool> read_ahead(int fd, std::string_view name, InputHandler* h,
                               const volatile std::sig_atomic_t* stop, bool* interrupted) {
  auto ahead = ScanAhead::start(fd);
  if (!ahead.ok()) return std::nullopt;
  ScanAhead& a = **ahead;
  h->steer_ahead(&a);
  while (true) {
    if (deliver_pending() && !*stop && !h->on_wake()) return false;
    if (*stop) {
      *interrupted = true;
      return false;
    }
    // A regular file's blocks come at once; the bound only keeps signals
    // (delivered above) from waiting on a stalled disk.
    const ScanAhead::Block* b = nullptr;
    switch (a.next(50, &b)) {
      case ScanAhead::Status::kBlock:
        if (!h->on_block(*b)) return false;
        h->steer_ahead(&a);
        break;
      case ScanAhead::Status::kTimeout:
        break;
      case ScanAhead::Status::kEnd:
        if (a.error() != 0) h->on_input_error(name, std::strerror(a.error()));
        return h->end_input(a.truncated());
    }
  }
}

// Reads one open descriptor to its end. False: stop everything.
//
// A compressed input is read through a BackgroundDecoder, and the
// LineReader reads its pipe. A regular file is looked at before the first
// read; a pipe or terminal cannot be, so its first fills are kept in the
// LineReader until detect_compression() can tell (one fill in practice),
// and if they are compressed they go to the decoder as its first bytes.
// Plain text therefore takes the same path as ever, with one look at its
// first bytes.
bool read_one(int fd, std::string_view name, InputHandler* h,
              const volatile std::sig_atomic_t* stop, bool* interrupted) {
  struct stat info = {};
  const bool regular = fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  std::unique_ptr<BackgroundDecoder> decoder;
  LineReader reader(fd);
  auto decode = [&](Compression c, std::string head) {
    auto d = BackgroundDecoder::start(fd, c, std::move(head));
    if (!d.ok()) {
      h->on_input_error(name, d.error());
      return false;
    }
    decoder = std::move(*d);
    reader = LineReader(decoder->fd());
    return true;
  };
  bool decided = regular;
  h->begin_input(name, !regular);
  if (regular) {
    Compression c = peek_compression(fd);
    if (c != Compression::kNone && !decode(c, std::string())) return h->end_input(0);
    if (c == Compression::kNone && h->read_ahead()) {
      if (std::optional<bool> done = read_ahead(fd, name, h, stop, interrupted)) return *done;
    }
  }
  while (true) {
    if (deliver_pending() && !*stop && !h->on_wake()) return false;
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
    if (!decided && (st == LineReader::Status::kData || st == LineReader::Status::kEof)) {
      auto c = detect_compression(reader.unconsumed(), st == LineReader::Status::kEof);
      if (!c) continue;  // a beginning of a magic: read on
      decided = true;
      if (*c != Compression::kNone) {
        if (!decode(*c, std::string(reader.unconsumed()))) return h->end_input(0);
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
        if (decoder) {  // the text came; now how the compressed data ended
          std::string why = decoder->finish();
          if (!why.empty()) h->on_input_error(name, why);
        }
        return h->end_input(reader.truncated());
      case LineReader::Status::kError:
        h->on_input_error(name, std::strerror(reader.error()));
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
        handler->on_input_error(name, std::strerror(errno));
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
