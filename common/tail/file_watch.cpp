#include "tail/file_watch.hpp"

#include <cerrno>
#include <set>

#include <sys/inotify.h>
#include <unistd.h>

namespace pgconn {

namespace {
constexpr uint32_t kMask = IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                           IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_CLOSE_WRITE;
}  // namespace

std::unique_ptr<FileWatch> FileWatch::create() {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return nullptr;
  return std::unique_ptr<FileWatch>(new FileWatch(fd));
}

FileWatch::~FileWatch() { close(fd_); }

bool FileWatch::watch(const std::vector<std::string>& dirs) {
  std::set<std::string> want(dirs.begin(), dirs.end());
  for (auto it = watches_.begin(); it != watches_.end();) {
    if (want.count(it->first) == 0) {
      inotify_rm_watch(fd_, it->second);
      it = watches_.erase(it);
    } else {
      ++it;
    }
  }
  bool added = false;
  for (const std::string& d : want) {
    if (watches_.count(d) != 0) continue;
    int wd = inotify_add_watch(fd_, d.c_str(), kMask | IN_ONLYDIR);
    if (wd < 0) continue;
    watches_[d] = wd;
    added = true;
  }
  return added;
}

FileWatch::Change FileWatch::drain() {
  Change c;
  alignas(struct inotify_event) char buf[8192];
  while (true) {
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    c.any = true;
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const struct inotify_event*>(buf + off);
      if (e->mask & ~(IN_MODIFY | IN_CLOSE_WRITE)) c.structure = true;
      if (e->mask & IN_IGNORED) {  // the directory went away: watch it again later
        for (auto it = watches_.begin(); it != watches_.end(); ++it)
          if (it->second == e->wd) {
            watches_.erase(it);
            break;
          }
      }
      off += sizeof(struct inotify_event) + e->len;
    }
  }
  return c;
}

}  // namespace pgconn
