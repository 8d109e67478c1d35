// read_inputs(): the read loop every tool shares. Reads the named files in
// order ("-" or no name: stdin) through LineReader and hands blocks of
// whole lines to an InputHandler. An input compressed with gzip, bzip2, xz
// or zstd (told by its first bytes, decompress.hpp) is decompressed on the
// way, in a second thread (text_input.hpp). A regular file may be read and
// scanned ahead in a second thread (scan_ahead.hpp) when the handler asks.
//
// Live-stream rules: stdout is flushed just before a read that would block;
// while the handler asks for a timeout (wait_ms() >= 0) the loop waits at
// most that long and calls on_timeout() when nothing came; SIGINT/SIGTERM
// (the `stop` flag, set by a handler installed without SA_RESTART) end the
// loop at once.
#pragma once

#include <csignal>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/scan_ahead.hpp"

namespace pgconn {

class InputHandler {
 public:
  virtual ~InputHandler() = default;
  // `live`: a pipe, terminal or socket (more may come), not a regular file.
  virtual void begin_input(std::string_view name, bool live) = 0;
  // Whole lines; the last may lack '\n'. Returns false to stop everything.
  virtual bool on_lines(std::string_view block) = 0;
  // -1: wait for input without limit; else at most this many ms.
  virtual int wait_ms() = 0;
  // Nothing arrived within wait_ms(). Returns false to stop.
  virtual bool on_timeout() = 0;
  // Everything available so far was handed over: the next read would block
  // (a live input has caught up). Called before each such wait.
  virtual void on_caught_up() {}
  // The input ended (or its reading failed). `truncated`: lines cut at
  // LineReader::kMaxLine. Returns false to stop.
  virtual bool end_input(uint64_t truncated) = 0;
  // An input could not be opened or read, or its compressed data is
  // damaged: `what` is strerror() or the decoder's message ("gzip data is
  // truncated"), to print as "PROGRAM: NAME: WHAT". The lines read before
  // a damage have been handed out; end_input() follows.
  virtual void on_input_error(std::string_view name, std::string_view what) = 0;
  // A signal interrupted the wait (the tool's own flags may be set).
  // Returns false to stop.
  virtual bool on_wake() { return true; }
  // Whether a regular, uncompressed file is read ahead on a second thread
  // (scan_ahead.hpp), its blocks handed to on_block(). Asked at the start
  // of each such file.
  virtual bool read_ahead() { return false; }
  // Says what the thread is to do on the blocks it reads from now on
  // (ScanAhead::want_scan(), read_with()). Called before the first block
  // and after each.
  virtual void steer_ahead(ScanAhead* ahead) {}
  // A block read ahead: whole lines as on_lines() gets them, and what was
  // done on them ahead. The default hands the lines to on_lines().
  virtual bool on_block(const ScanAhead::Block& block) { return on_lines(block.text()); }
};

enum class InputEnd { kDone, kStopped, kInterrupted };

// REQUIRES: `stop` stays valid; the handler outlives the call. On return
// the signal mask is as before and SIGINT/SIGTERM have their default action.
InputEnd read_inputs(const std::vector<std::string>& names, InputHandler* handler,
                     const volatile std::sig_atomic_t* stop);

// Installs SIGINT and SIGTERM handlers that set the flag returned.
//
// Signals that wake the loop are kept blocked except while it waits for
// input (ppoll with them unblocked): a signal can then never slip in between
// the loop's look at its flags and the wait, and be missed until more input
// comes.
const volatile std::sig_atomic_t* install_stop_signals();

// Installs `handler` for `sig` (SIGUSR1, SIGHUP, ...) the same way: it runs
// while the loop waits, which then calls InputHandler::on_wake().
void install_wake_signal(int sig, void (*handler)(int));

}  // namespace pgconn
