#include "tail/log_locator.hpp"

#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace pgconn {

namespace {

constexpr std::string_view kCompressed[] = {".gz", ".bz2", ".xz", ".zst"};

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

std::string dir_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string join(const std::string& dir, std::string_view name) {
  if (!dir.empty() && dir.back() == '/') return dir + std::string(name);
  return dir + "/" + std::string(name);
}

// The nearest existing ancestor of a path that does not exist (to watch
// for it to appear).
std::string existing_ancestor(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  struct stat st;
  while (true) {
    std::string up = dir_of(path);
    if (up == path || stat(up.c_str(), &st) == 0) return up;
    path = up;
  }
}

bool newer(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec > b.tv_nsec;
}

const char* entry_name(LogFormat f) {
  switch (f) {
    case LogFormat::kStderr: return "stderr";
    case LogFormat::kCsvlog: return "csvlog";
    case LogFormat::kJsonlog: return "jsonlog";
    case LogFormat::kAny: break;
  }
  return "";
}

}  // namespace

Result<LogFormat> parse_log_format(std::string_view text) {
  if (text == "stderr") return LogFormat::kStderr;
  if (text == "csvlog") return LogFormat::kCsvlog;
  if (text == "jsonlog") return LogFormat::kJsonlog;
  return make_error(fmt::format("bad --format \"{}\": expected stderr, csvlog or jsonlog", text));
}

bool is_compressed_name(std::string_view name) {
  for (std::string_view c : kCompressed)
    if (ends_with(name, c)) return true;
  return false;
}

LogFormat format_of_name(std::string_view name) {
  for (std::string_view c : kCompressed)
    if (ends_with(name, c)) name.remove_suffix(c.size());
  // A rotation suffix: ".1", "-20240501".
  size_t end = name.size();
  while (end > 0 && name[end - 1] >= '0' && name[end - 1] <= '9') --end;
  if (end < name.size() && end > 0 && (name[end - 1] == '.' || name[end - 1] == '-'))
    name = name.substr(0, end - 1);
  if (ends_with(name, ".csv")) return LogFormat::kCsvlog;
  if (ends_with(name, ".json")) return LogFormat::kJsonlog;
  return LogFormat::kStderr;
}

LogLocator::LogLocator(std::string path, LogFormat format)
    : path_(std::move(path)), format_(format) {
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
}

Location LogLocator::locate(bool relist) {
  Location loc;
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    loc.error = errno == ENOENT || errno == ENOTDIR ? 0 : errno;
    if (loc.error != 0) loc.problem = fmt::format("{}: {}", path_, std::strerror(errno));
    loc.watch.push_back(existing_ancestor(path_));
    listed_ = false;  // a directory that comes back is looked at afresh
    return loc;
  }
  if (!S_ISDIR(st.st_mode)) {
    loc.kind = PathKind::kFile;
    loc.live = path_;
    loc.log_dir = dir_of(path_);
    loc.watch.push_back(loc.log_dir);
    return loc;
  }
  loc.watch.push_back(path_);
  if (access(path_.c_str(), R_OK | X_OK) != 0) {
    loc.kind = PathKind::kLogDir;
    loc.error = errno;
    loc.problem = fmt::format("{}: {}", path_, std::strerror(errno));
    return loc;
  }
  if (access(join(path_, "PG_VERSION").c_str(), F_OK) == 0 ||
      access(join(path_, "current_logfiles").c_str(), F_OK) == 0) {
    loc.kind = PathKind::kDataDir;
    return locate_data_dir(std::move(loc));
  }
  loc.kind = PathKind::kLogDir;
  return locate_log_dir(std::move(loc), relist);
}

Location LogLocator::locate_data_dir(Location loc) {
  std::string cl = join(path_, "current_logfiles");
  struct stat st;
  if (stat(cl.c_str(), &st) != 0) {
    cl_ino_ = 0;
    loc.problem = fmt::format("{}: no current_logfiles (is logging_collector on?); waiting for it",
                              path_);
    return loc;
  }
  // The server rewrites it as a new file (rename) at every rotation.
  if (st.st_ino != cl_ino_ || st.st_size != cl_size_ || newer(st.st_mtim, cl_mtime_) ||
      newer(cl_mtime_, st.st_mtim)) {
    cl_live_.clear();
    cl_problem_.clear();
    int fd = open(cl.c_str(), O_RDONLY | O_CLOEXEC);
    std::string text;
    cl_errno_ = 0;
    if (fd < 0) {
      cl_errno_ = errno;
      cl_problem_ = fmt::format("{}: {}", cl, std::strerror(errno));
    } else {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0 && text.size() < 65536) text.append(buf, n);
      close(fd);
      // "stderr log/postgresql-2024-05-01_100000.log", one per destination.
      size_t pos = 0;
      while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) break;  // being written: wait for the whole line
        std::string_view line(text.data() + pos, nl - pos);
        pos = nl + 1;
        size_t sp = line.find(' ');
        if (sp == std::string_view::npos) continue;
        std::string_view dest = line.substr(0, sp), file = line.substr(sp + 1);
        if (format_ != LogFormat::kAny && dest != entry_name(format_)) continue;
        if (format_ == LogFormat::kAny) {
          auto f = parse_log_format(dest);
          if (f.ok()) format_ = *f;  // the first entry's, from now on
        }
        cl_live_ = file.size() > 0 && file[0] == '/' ? std::string(file) : join(path_, file);
        break;
      }
      if (cl_live_.empty() && pos == text.size())
        cl_problem_ = fmt::format("{}: current_logfiles lists no {} log; waiting for it", path_,
                                  format_ == LogFormat::kAny ? "" : entry_name(format_));
      if (cl_live_.empty() && pos != text.size()) {
        st.st_size = -1;  // half written: read it again next time
      }
    }
    cl_ino_ = st.st_ino;
    cl_size_ = st.st_size;
    cl_mtime_ = st.st_mtim;
  }
  loc.live = cl_live_;
  loc.problem = cl_problem_;
  loc.error = cl_errno_;
  if (!loc.live.empty()) {
    loc.log_dir = dir_of(loc.live);
    struct stat ds;
    loc.watch.push_back(stat(loc.log_dir.c_str(), &ds) == 0 ? loc.log_dir
                                                             : existing_ancestor(loc.log_dir));
  }
  return loc;
}

Location LogLocator::locate_log_dir(Location loc, bool relist) {
  loc.log_dir = path_;
  struct stat st;
  bool live_there = !dir_live_.empty() && stat(dir_live_.c_str(), &st) == 0;
  if (listed_ && !relist && live_there) {
    loc.live = dir_live_;
    return loc;
  }
  DIR* d = opendir(path_.c_str());
  if (d == nullptr) {
    loc.error = errno;
    loc.problem = fmt::format("{}: {}", path_, std::strerror(errno));
    return loc;
  }
  std::map<std::pair<dev_t, ino_t>, off_t> now;
  std::string best, best_new;
  struct timespec best_t = {}, best_new_t = {};
  while (struct dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name.empty() || name[0] == '.' || is_compressed_name(name)) continue;
    if (format_ != LogFormat::kAny && format_of_name(name) != format_) continue;
    if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
    auto id = std::make_pair(st.st_dev, st.st_ino);
    now[id] = st.st_size;
    auto was = seen_.find(id);
    bool is_new = listed_ && (was == seen_.end() || st.st_size < was->second);
    auto better = [&](const std::string& cur, const struct timespec& t) {
      return cur.empty() || newer(st.st_mtim, t) || (!newer(t, st.st_mtim) && name > cur);
    };
    if (better(best, best_t)) best = name, best_t = st.st_mtim;
    if (is_new && better(best_new, best_new_t)) best_new = name, best_new_t = st.st_mtim;
  }
  closedir(d);
  if (!listed_) {
    dir_live_ = best.empty() ? "" : join(path_, best);
    if (!best.empty() && format_ == LogFormat::kAny) format_ = format_of_name(best);
  } else if (!best_new.empty()) {
    struct stat cur;
    if (!live_there || stat(dir_live_.c_str(), &cur) != 0 || !newer(cur.st_mtim, best_new_t)) {
      dir_live_ = join(path_, best_new);
      if (format_ == LogFormat::kAny) format_ = format_of_name(best_new);  // from now on
    }
  }
  seen_ = std::move(now);
  listed_ = true;
  loc.live = dir_live_;
  return loc;
}

}  // namespace pgconn
