#include "tail/follow.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <dirent.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "tail/backlog.hpp"
#include "tail/file_watch.hpp"

namespace pgconn {

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Follower::Follower(std::string path, FollowOptions options, FollowSink* sink)
    : path_(std::move(path)), opt_(options), sink_(sink), locator_(path_, options.format) {}

Follower::~Follower() = default;

void Follower::warn_once(const std::string& text) {
  problem_now_ = true;
  if (text == said_) return;
  said_ = text;
  sink_->on_warning(text);
}

Result<bool> Follower::start(int64_t now_ms) {
  loc_ = locator_.locate(true);
  if (loc_.error != 0) return make_error(loc_.problem);
  if (loc_.kind == PathKind::kMissing) {
    warn_once(fmt::format("{}: No such file or directory; waiting for it", path_));
  } else if (!loc_.problem.empty()) {
    warn_once(loc_.problem);
  }
  if (opt_.backlog && !loc_.log_dir.empty()) {
    for (const std::string& file : list_backlog(loc_, locator_.format(), loc_.live)) {
      auto r = read_log_file(file, sink_);
      if (!r.ok()) {
        sink_->on_warning(r.error());
      } else if (!*r) {
        return false;
      }
    }
  }
  if (!loc_.live.empty()) {
    int err = 0;
    live_ = TailFile::open(loc_.live, &err);
    if (!live_ && err != ENOENT)
      return make_error(fmt::format("{}: {}", loc_.live, std::strerror(err)));
    struct stat st;
    if (live_ && (fstat(live_->fd(), &st) != 0 || !S_ISREG(st.st_mode)))
      return make_error(fmt::format("{}: not a regular file (a stream goes to pgconn-parse as it is)",
                                    loc_.live));
    if (live_ && opt_.start != FollowOptions::Start::kBeginning)
      live_->start_lines_back(opt_.start == FollowOptions::Start::kLines ? opt_.lines : 0);
    live_growth_ms_ = now_ms;
  }
  return tick(false, now_ms);
}

bool Follower::open_live(const std::string& path, int64_t now_ms) {
  int err = 0;
  auto f = TailFile::open(path, &err);
  if (!f) {
    if (err != ENOENT) warn_once(fmt::format("{}: {}; still following", path, std::strerror(err)));
    return false;
  }
  if (live_) behind_.push_back({std::move(live_), live_growth_ms_});
  live_ = std::move(f);
  live_growth_ms_ = now_ms;
  return true;
}

// copytruncate: the copy beside the truncated file holds what was written
// after our last read; read on in it from our offset, then the file anew.
bool Follower::handle_rewrite(int64_t now_ms) {
  std::unique_ptr<TailFile> copy;
  std::string dir = loc_.log_dir.empty() ? "." : loc_.log_dir;
  if (live_->offset() > 0) {
    if (DIR* d = opendir(dir.c_str())) {
      struct timespec real;
      clock_gettime(CLOCK_REALTIME, &real);
      while (struct dirent* e = readdir(d)) {
        struct stat st;
        if (e->d_name[0] == '.' || is_compressed_name(e->d_name)) continue;
        if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
        if (live_->same_file(st) || st.st_size < live_->offset()) continue;
        if (real.tv_sec - st.st_mtim.tv_sec > 600) continue;  // made just now
        int err = 0;
        auto f = TailFile::open(dir + "/" + e->d_name, &err);
        if (f && live_->continues_in(f->fd())) {
          copy = std::move(f);
          break;
        }
      }
      closedir(d);
    }
  }
  if (!copy) {  // truncated in place: what was read stays, the rest is lost
    if (!live_->flush_partial(sink_)) return false;
    live_->restart();
    live_growth_ms_ = now_ms;
    return true;
  }
  std::string name = live_->name();
  live_->adopt(std::move(copy));
  behind_.push_back({std::move(live_), now_ms});
  int err = 0;
  live_ = TailFile::open(name, &err);  // from its start
  live_growth_ms_ = now_ms;
  return true;
}

bool Follower::read_behind(int64_t now_ms) {
  for (Behind& b : behind_) {
    switch (b.file->read_to_end(sink_)) {
      case TailFile::Read::kGrew: b.last_growth_ms = now_ms; break;
      case TailFile::Read::kStopped: return false;
      case TailFile::Read::kError:
        warn_once(fmt::format("{}: {}", b.file->name(), std::strerror(b.file->error())));
        break;
      case TailFile::Read::kQuiet: break;
    }
  }
  return true;
}

bool Follower::tick(bool relist, int64_t now_ms) {
  problem_now_ = false;
  loc_ = locator_.locate(relist);
  if (!loc_.problem.empty()) warn_once(loc_.problem);
  // The name to look at: the live one, or (none now: a file path gone
  // with its directory, current_logfiles missing) the one open.
  std::string name = loc_.live.empty() && live_ ? live_->name() : loc_.live;
  if (!name.empty()) {
    struct stat st;
    if (stat(name.c_str(), &st) == 0) {
      gone_since_ms_ = -1;
      gone_said_ = false;
      if (!live_ || live_->name() != name || !live_->same_file(st)) open_live(name, now_ms);
    } else if (live_ && live_->name() == name) {
      int err = errno;
      if (gone_since_ms_ < 0) gone_since_ms_ = now_ms;
      if (!gone_said_ && now_ms - gone_since_ms_ >= 1000) {
        sink_->on_warning(fmt::format("{}: {}; read to its end, waiting for a new one", name,
                                      std::strerror(err)));
        gone_said_ = true;
      }
    }
  }
  if (live_ && live_->rewritten() && !handle_rewrite(now_ms)) return false;
  if (!read_behind(now_ms)) return false;
  bool settled = std::all_of(behind_.begin(), behind_.end(), [&](const Behind& b) {
    return now_ms - b.last_growth_ms >= opt_.settle_ms;
  });
  if (live_ && settled) {
    switch (live_->read_to_end(sink_)) {
      case TailFile::Read::kGrew: live_growth_ms_ = now_ms; break;
      case TailFile::Read::kStopped: return false;
      case TailFile::Read::kError:
        warn_once(fmt::format("{}: {}; still following", live_->name(),
                              std::strerror(live_->error())));
        break;
      case TailFile::Read::kQuiet: break;
    }
  }
  // A file left behind is done once quiet for a while and its successor has
  // had data (until then the server may not have switched yet).
  if (settled && live_ && live_->offset() > 0) {
    for (auto it = behind_.begin(); it != behind_.end();) {
      if (now_ms - it->last_growth_ms < opt_.linger_ms) {
        ++it;
        continue;
      }
      if (!it->file->flush_partial(sink_)) return false;
      it = behind_.erase(it);
    }
  }
  if (!problem_now_) said_.clear();
  return true;
}

int Follower::due_in_ms(int64_t now_ms) const {
  int due = -1;
  // A file left behind settles, then lingers; after that only new data
  // (an event) or the periodic look changes anything.
  for (const Behind& b : behind_) {
    int64_t left = b.last_growth_ms + opt_.settle_ms - now_ms;
    if (left <= 0) left = b.last_growth_ms + opt_.linger_ms - now_ms;
    if (left > 0 && (due < 0 || left < due)) due = static_cast<int>(left);
  }
  if (gone_since_ms_ >= 0 && !gone_said_) {
    int left = static_cast<int>(std::max<int64_t>(0, gone_since_ms_ + 1000 - now_ms));
    if (due < 0 || left < due) due = left;
  }
  return due;
}

void follow(Follower* follower, int poll_ms, FollowSink* sink,
            const volatile std::sig_atomic_t* stop) {
  // SIGINT and SIGTERM are blocked (install_stop_signals) except while we wait.
  sigset_t mask;
  sigprocmask(SIG_BLOCK, nullptr, &mask);
  sigdelset(&mask, SIGINT);
  sigdelset(&mask, SIGTERM);
  std::unique_ptr<FileWatch> watch;
  if (poll_ms == 0) {
    watch = FileWatch::create();
    if (!watch) poll_ms = FollowOptions::kFallbackPollMs;
  }
  struct stat out_st;
  bool out_pipe = fstat(1, &out_st) == 0 && S_ISFIFO(out_st.st_mode);
  int64_t last_full = steady_ms();
  bool relist = false;
  while (!*stop) {
    int64_t now = steady_ms();
    if (!follower->tick(relist, now)) return;
    if (relist) last_full = now;
    if (watch && watch->watch(follower->watch_dirs())) {  // may have missed events
      relist = true;
      continue;
    }
    if (!sink->flush()) return;
    int timeout = watch ? static_cast<int>(std::max<int64_t>(
                              0, FollowOptions::kRecheckMs - (now - last_full)))
                        : poll_ms;
    int due = follower->due_in_ms(now);
    if (due >= 0 && due < timeout) timeout = due;
    // Also stdout when it is a pipe: POLLERR once its reader is gone
    // (`| head`), so we end then rather than at the next line.
    pollfd p[2] = {{watch ? watch->fd() : -1, POLLIN, 0}, {out_pipe ? 1 : -1, 0, 0}};
    timespec ts{timeout / 1000, (timeout % 1000) * 1000000L};
    int n = ppoll(p, 2, &ts, &mask);
    if (n < 0) continue;  // a signal: the loop looks at `stop`
    if (p[1].revents & (POLLERR | POLLHUP)) return;
    if (p[0].revents & POLLIN) {
      relist = watch->drain().structure;
    } else {
      relist = !watch || steady_ms() - last_full >= FollowOptions::kRecheckMs;
    }
  }
}

}  // namespace pgconn
