// Follower: "the log of this server" as one uninterrupted stream of whole
// lines, through every way PostgreSQL's logs rotate (pgconn-tail).
//
// Each tick() asks the LogLocator which file is live, compares it with the
// file open now, and reads:
//
//   a new name or a new file under the same name (the logging collector's
//       time-based names, current_logfiles changing, a rename followed by
//       the server reopening, a deleted file replaced)
//       -> the old file stays open and is read to its end first. It may
//       still receive lines (until the server reopens its file), so the new
//       file is read only once every file left behind has been quiet for
//       `settle_ms`; a file left behind is closed once it has been quiet for
//       `linger_ms` and the new file has had data (late lines until then are
//       still written, never lost). The server writes one file at a time,
//       so this keeps the order.
//   the same file, shorter than what was read, or rewritten in place
//       (copytruncate; log_truncate_on_rotation reusing a weekday's name)
//       -> first the rest of what was read from a copy beside it whose bytes
//       match up to our offset (copytruncate's copy, read on from there),
//       then the file from its start.
//   no file (deleted, not created yet, a directory not there yet)
//       -> the open file, if any, is read on; the name is looked for at
//       every tick. A name gone for a second is warned about once.
//
// Errors while following are warnings (FollowSink::on_warning), said once
// per cause, and following goes on; only start() fails.
#pragma once

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tail/log_locator.hpp"
#include "result.hpp"
#include "sink.hpp"
#include "tail/tail_file.hpp"

namespace pgconn {

// Where the lines go, and how the tool hears about trouble.
class FollowSink : public LineSink {
 public:
  // Called before the follower waits: write out what is buffered. Returns
  // false when the output is gone (stop).
  virtual bool flush() = 0;
  // One line of warning, "PATH: Permission denied; still following".
  virtual void on_warning(std::string_view text) = 0;
};

struct FollowOptions {
  enum class Start { kEnd, kLines, kBeginning };
  Start start = Start::kEnd;  // kEnd: new lines only
  uint64_t lines = 0;         // kLines: this many complete lines back
  bool backlog = false;       // first the rotated files, oldest first (--from-start)
  LogFormat format = LogFormat::kAny;
  int poll_ms = 0;            // 0: inotify where available (else kFallbackPollMs)
  int settle_ms = 100;
  int linger_ms = 2000;
  static constexpr int kFallbackPollMs = 100;
  static constexpr int kRecheckMs = 1000;  // with inotify: a full look at least this often
};

class Follower {
 public:
  // REQUIRES: `sink` outlives the follower.
  Follower(std::string path, FollowOptions options, FollowSink* sink);
  ~Follower();

  // The first look: reads the backlog (options.backlog) and places the
  // live file's offset. Fails ("PATH: Permission denied") when PATH, its
  // current_logfiles or its live file exists but cannot be read. A PATH
  // that does not exist yet is a warning, and is waited for. Returns false
  // when the sink stopped.
  Result<bool> start(int64_t now_ms);

  // One round (see above). `relist`: the log directory may have changed
  // (names created, renamed, deleted). Returns false when the sink stopped.
  bool tick(bool relist, int64_t now_ms);

  // Milliseconds until tick() should run again though nothing happened
  // (a file left behind settling or lingering, a name gone); -1: none.
  int due_in_ms(int64_t now_ms) const;

  // The directories to watch (valid until the next tick()).
  const std::vector<std::string>& watch_dirs() const { return loc_.watch; }

 private:
  struct Behind {
    std::unique_ptr<TailFile> file;
    int64_t last_growth_ms;
  };
  bool open_live(const std::string& path, int64_t now_ms);
  bool handle_rewrite(int64_t now_ms);
  bool read_behind(int64_t now_ms);
  void warn_once(const std::string& text);

  std::string path_;
  FollowOptions opt_;
  FollowSink* sink_;
  LogLocator locator_;
  Location loc_;
  std::unique_ptr<TailFile> live_;
  int64_t live_growth_ms_ = 0;
  std::vector<Behind> behind_;  // oldest first
  std::string said_;            // the last warning (said once while it lasts)
  int64_t gone_since_ms_ = -1;  // the live name is missing since
  bool gone_said_ = false;
  bool problem_now_ = false;    // a warning was due in this tick
};

// Runs the follower until the sink stops or `stop` is set: ticks, flushes,
// waits (inotify or poll, with SIGINT/SIGTERM let in only while waiting, as
// install_stop_signals() arranges). REQUIRES: start() succeeded.
void follow(Follower* follower, int poll_ms, FollowSink* sink,
            const volatile std::sig_atomic_t* stop);

}  // namespace pgconn
