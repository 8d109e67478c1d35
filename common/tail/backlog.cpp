#include "tail/backlog.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "tail/tail_file.hpp"
#include "read/text_input.hpp"
#include "timestamp.hpp"

namespace pgconn {

namespace {

bool digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = at; i < at + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int num(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// Stops after the first line (or 512 bytes) of a file and keeps it.
class HeadSink : public LineSink {
 public:
  bool on_lines(std::string_view block) override {
    size_t nl = block.find('\n');
    head_.append(block.substr(0, std::min(nl == std::string_view::npos ? block.size() : nl, 512 - head_.size())));
    return false;
  }
  std::string head_;
};

struct Member {
  std::string path;
  int64_t key;
  struct timespec mtime;
};

int64_t ms_of(const struct timespec& t) { return int64_t{t.tv_sec} * 1000 + t.tv_nsec / 1000000; }

}  // namespace

std::optional<int64_t> first_line_time(std::string_view head) {
  size_t nl = head.find('\n');
  if (nl != std::string_view::npos) head = head.substr(0, nl);
  if (head.size() > 512) head = head.substr(0, 512);
  // YYYY-MM-DD HH:MM:SS, with ' ' or 'T' between date and time.
  for (size_t i = 0; i + 19 <= head.size(); ++i) {
    if (!digits(head, i, 4) || head[i + 4] != '-' || !digits(head, i + 5, 2) ||
        head[i + 7] != '-' || !digits(head, i + 8, 2) ||
        (head[i + 10] != ' ' && head[i + 10] != 'T') || !digits(head, i + 11, 2) ||
        head[i + 13] != ':' || !digits(head, i + 14, 2) || head[i + 16] != ':' ||
        !digits(head, i + 17, 2))
      continue;
    int64_t days = days_from_civil(num(head, i, 4), num(head, i + 5, 2), num(head, i + 8, 2));
    int64_t ms = ((days * 24 + num(head, i + 11, 2)) * 60 + num(head, i + 14, 2)) * 60000 +
                 num(head, i + 17, 2) * 1000;
    size_t f = i + 19;
    if (f < head.size() && head[f] == '.') {  // fractions past milliseconds dropped
      int scale = 100;
      for (++f; f < head.size() && head[f] >= '0' && head[f] <= '9'; ++f, scale /= 10)
        ms += (head[f] - '0') * scale;
    }
    return ms;
  }
  return std::nullopt;
}

std::vector<std::string> list_backlog(const Location& loc, LogFormat format,
                                      const std::string& live) {
  std::vector<Member> members;
  if (loc.log_dir.empty()) return {};
  struct stat live_st = {};
  bool have_live = !live.empty() && stat(live.c_str(), &live_st) == 0;
  std::string base;
  if (loc.kind == PathKind::kFile) {
    size_t slash = live.find_last_of('/');
    base = slash == std::string::npos ? live : live.substr(slash + 1);
  } else if (format == LogFormat::kAny && !live.empty()) {
    format = format_of_name(live);
  }
  DIR* d = opendir(loc.log_dir.c_str());
  if (d == nullptr) return {};
  while (struct dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    if (loc.kind == PathKind::kFile) {
      if (name.size() <= base.size() + 1 || name.substr(0, base.size()) != base ||
          (name[base.size()] != '.' && name[base.size()] != '-'))
        continue;
    } else if (format != LogFormat::kAny && format_of_name(name) != format) {
      continue;
    }
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
    if (have_live && st.st_dev == live_st.st_dev && st.st_ino == live_st.st_ino) continue;
    std::string path = loc.log_dir == "/" ? "/" + std::string(name)
                                          : loc.log_dir + "/" + std::string(name);
    HeadSink head;
    (void)read_log_file(path, &head);  // an unreadable file sorts by mtime; read_log_file says why later
    auto t = first_line_time(head.head_);
    members.push_back({path, t ? *t : ms_of(st.st_mtim), st.st_mtim});
  }
  closedir(d);
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    if (a.key != b.key) return a.key < b.key;
    if (ms_of(a.mtime) != ms_of(b.mtime)) return ms_of(a.mtime) < ms_of(b.mtime);
    return a.path < b.path;
  });
  std::vector<std::string> out;
  for (Member& m : members) out.push_back(std::move(m.path));
  return out;
}

// The one reader of backlog files: TextInput decompresses (text_input.hpp).
Result<bool> read_log_file(const std::string& path, LineSink* sink) {
  auto in = TextInput::open(path);
  if (!in.ok()) return make_error(fmt::format("{}: {}", path, in.error()));
  constexpr size_t kChunk = 64 * 1024;
  std::unique_ptr<char[]> buf(new char[kChunk]);
  std::string partial;  // an unfinished line, at most kMaxLine bytes
  bool go_on = true;
  std::string error;
  while (go_on) {
    auto n = (*in)->read(buf.get(), kChunk);
    if (!n.ok()) {
      error = n.error();
      break;
    }
    if (*n == 0) break;
    std::string_view c(buf.get(), *n);
    const void* last = memrchr(c.data(), '\n', c.size());
    if (last == nullptr) {
      partial.append(c);
      if (partial.size() >= TailFile::kMaxLine) {  // cut an over-long line
        partial.push_back('\n');
        go_on = sink->on_lines(partial);
        partial.clear();
      }
      continue;
    }
    size_t end = static_cast<const char*>(last) - c.data() + 1;
    if (!partial.empty()) {
      partial.append(c.substr(0, end));
      go_on = sink->on_lines(partial);
      partial.clear();
    } else {
      go_on = sink->on_lines(c.substr(0, end));
    }
    partial.assign(c.substr(end));
  }
  if (go_on && !partial.empty()) {
    partial.push_back('\n');
    go_on = sink->on_lines(partial);
  }
  if (!error.empty()) return make_error(fmt::format("{}: {}", path, error));
  return go_on;
}

}  // namespace pgconn
