#include "lifecycle/proc_table.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <unordered_set>

#include <dirent.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace pgconn {

namespace {

// The whole of a small file; nullopt when it cannot be opened or read.
std::optional<std::string> slurp(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) break;
  }
  close(fd);
  return out;
}

bool parse_int(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;  // no overflow
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// "PID (COMM) S PPID ... STARTTIME ...": COMM may hold spaces and ')'.
bool parse_stat(std::string_view s, ProcEntry* e) {
  size_t open_paren = s.find('('), close_paren = s.rfind(')');
  if (open_paren == std::string_view::npos || close_paren == std::string_view::npos ||
      close_paren < open_paren)
    return false;
  e->comm = s.substr(open_paren + 1, close_paren - open_paren - 1);
  std::string_view rest = s.substr(close_paren + 1);
  // Fields from 3 (state) on; ppid is field 4, starttime field 22.
  int field = 2;
  int64_t ppid = -1, start = -1;
  size_t i = 0;
  while (i < rest.size() && field < 22) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = rest.find(' ', i);
    if (j == std::string_view::npos) j = rest.size();
    ++field;
    std::string_view tok = rest.substr(i, j - i);
    if (field == 4 && !parse_int(tok, &ppid)) return false;
    if (field == 22 && !parse_int(tok, &start)) return false;
    i = j;
  }
  if (field != 22) return false;
  e->ppid = ppid;
  e->start_ticks = static_cast<uint64_t>(start);
  return true;
}

// The last pid of "NSpid:\t4711\t12", or -1.
int64_t innermost_pid(std::string_view status) {
  size_t at = status.find("\nNSpid:");
  if (at == std::string_view::npos) return -1;
  std::string_view line = status.substr(at + 7);
  line = line.substr(0, line.find('\n'));
  int64_t last = -1;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    int64_t v;
    if (j > i && parse_int(line.substr(i, j - i), &v)) last = v;
    i = j;
  }
  return last;
}

bool is_postgres(const ProcEntry& e) { return e.comm == "postgres" || e.comm == "postmaster"; }

bool has_title(const ProcEntry& e) { return e.title.rfind("postgres: ", 0) == 0; }

}  // namespace

std::optional<ProcEntry> read_proc(const std::string& root, int64_t pid) {
  ProcEntry e;
  e.pid = pid;
  std::string base = root + "/" + std::to_string(pid);
  std::optional<std::string> st = slurp(base + "/stat");
  if (!st || !parse_stat(*st, &e)) return std::nullopt;
  std::optional<std::string> cmd = slurp(base + "/cmdline");
  if (!cmd) return std::nullopt;
  e.title = cmd->substr(0, cmd->find('\0'));
  std::optional<std::string> status = slurp(base + "/status");
  e.ns_pid = status ? innermost_pid("\n" + *status) : -1;
  if (e.ns_pid < 0) e.ns_pid = e.pid;
  return e;
}

const ProcEntry* ProcScan::find(int64_t pid) const {
  auto it = std::lower_bound(procs.begin(), procs.end(), pid,
                             [](const ProcEntry& e, int64_t p) { return e.pid < p; });
  return it != procs.end() && it->pid == pid ? &*it : nullptr;
}

Result<ProcScan> scan_proc(const std::string& root, int64_t ticks_per_second) {
  ProcScan scan;
  scan.ticks_per_second = ticks_per_second > 0 ? ticks_per_second : 100;
  std::optional<std::string> stat = slurp(root + "/stat");
  size_t at = stat ? stat->find("btime ") : std::string::npos;
  if (at == std::string::npos || (at > 0 && (*stat)[at - 1] != '\n'))
    return make_error(fmt::format("cannot read the boot time in {}/stat", root));
  std::string_view bt = std::string_view(*stat).substr(at + 6);
  int64_t btime = 0;
  if (!parse_int(bt.substr(0, bt.find('\n')), &btime))
    return make_error(fmt::format("cannot read the boot time in {}/stat", root));
  scan.boot_ms = btime * 1000;
  timespec real{}, boot{};
  if (root == "/proc" && clock_gettime(CLOCK_REALTIME, &real) == 0 &&
      clock_gettime(CLOCK_BOOTTIME, &boot) == 0) {
    scan.boot_ms = (int64_t{real.tv_sec} - boot.tv_sec) * 1000 +
                   (int64_t{real.tv_nsec} - boot.tv_nsec) / 1000000;
  }
  if (std::optional<std::string> mounts = slurp(root + "/self/mountinfo")) {
    for (size_t pos = 0; pos < mounts->size();) {
      size_t end = mounts->find('\n', pos);
      if (end == std::string::npos) end = mounts->size();
      std::string_view line = std::string_view(*mounts).substr(pos, end - pos);
      if (line.find(" /proc ") != std::string_view::npos &&
          line.find(" - proc ") != std::string_view::npos &&
          line.find("hidepid=") != std::string_view::npos &&
          line.find("hidepid=0") == std::string_view::npos &&
          line.find("hidepid=off") == std::string_view::npos)
        scan.hidepid = true;
      pos = end + 1;
    }
  }
  DIR* dir = opendir(root.c_str());
  if (dir == nullptr) return make_error(fmt::format("cannot list {}", root));
  while (dirent* d = readdir(dir)) {
    int64_t pid;
    if (!parse_int(d->d_name, &pid)) continue;
    if (std::optional<ProcEntry> e = read_proc(root, pid)) {
      scan.procs.push_back(std::move(*e));
    } else if (access((root + "/" + d->d_name).c_str(), F_OK) == 0) {
      ++scan.unreadable;  // still there: hidden from us
    }
  }
  closedir(dir);
  std::sort(scan.procs.begin(), scan.procs.end(),
            [](const ProcEntry& a, const ProcEntry& b) { return a.pid < b.pid; });
  return scan;
}

namespace {

struct Candidate {
  const ProcEntry* postmaster;
  std::vector<const ProcEntry*> children;
  std::string cluster;
  bool cluster_known = false;
};

std::string names(const std::vector<const Candidate*>& cs) {
  std::string out;
  for (const Candidate* c : cs) {
    if (!out.empty()) out += ", ";
    out += std::to_string(c->postmaster->pid);
    if (c->cluster_known && c->cluster.size() > 2)
      out += " (" + c->cluster.substr(0, c->cluster.size() - 2) + ")";
  }
  return out;
}

Result<ServerView> view_of(const ProcScan& scan, const Candidate& c) {
  ServerView v;
  v.postmaster = c.postmaster->pid;
  v.cluster_prefix = c.cluster;
  size_t titled = 0;
  for (const ProcEntry* child : c.children) {
    if (!has_title(*child)) {  // a backend just forked, before it set its title
      ++v.setting_up;
      continue;
    }
    ++titled;
    ProcTitle t = parse_proc_title(child->title, c.cluster_known
                                                     ? std::optional<std::string_view>(c.cluster)
                                                     : std::nullopt);
    if (t.kind == ProcTitle::Kind::kSettingUp) ++v.setting_up;
    if (!t.is_session()) continue;
    if (!t.names_known) ++v.names_unknown;
    ServerBackend b;
    b.pid = child->ns_pid;
    b.host_pid = child->pid;
    b.start_ticks = child->start_ticks;
    b.start_ms = scan.start_ms(*child);
    b.title = std::move(t);
    v.sessions.push_back(std::move(b));
  }
  if (titled == 0 && !c.children.empty())
    return make_error(fmt::format(
        "the processes of PostgreSQL server {} have no titles (\"postgres: user db host "
        "state\"): --snapshot cannot tell its sessions from its workers",
        c.postmaster->pid));
  return v;
}

}  // namespace

Result<ServerView> find_server(const ProcScan& scan, const std::vector<int64_t>& log_pids,
                               int64_t explicit_pid, int64_t log_newest_ms) {
  std::vector<Candidate> cands;
  for (const ProcEntry& e : scan.procs) {
    if (!is_postgres(e)) continue;
    const ProcEntry* parent = scan.find(e.ppid);
    if (parent != nullptr && is_postgres(*parent)) continue;
    cands.push_back(Candidate{&e, {}, "", false});
  }
  for (const ProcEntry& e : scan.procs) {
    for (Candidate& c : cands) {
      if (e.ppid != c.postmaster->pid) continue;
      c.children.push_back(&e);
      if (std::optional<std::string> p = cluster_prefix(e.title)) {
        c.cluster = *p;
        c.cluster_known = true;
      }
    }
  }
  if (explicit_pid >= 0) {
    for (const Candidate& c : cands) {
      if (c.postmaster->pid == explicit_pid) return view_of(scan, c);
      for (const ProcEntry* child : c.children)
        if (child->pid == explicit_pid) return view_of(scan, c);
    }
    return make_error(fmt::format("process {} is not a running PostgreSQL server", explicit_pid));
  }
  if (cands.empty()) {
    if (scan.hidepid || scan.unreadable > 0)
      return make_error(
          "no PostgreSQL server found: /proc hides other users' processes (hidepid); "
          "run as root or as the server's user");
    return make_error(
        "no PostgreSQL server runs on this host (one in another container is not seen: "
        "run where its processes are visible)");
  }
  std::vector<const Candidate*> all;
  for (const Candidate& c : cands) all.push_back(&c);
  if (log_pids.empty()) {
    if (cands.size() == 1) return view_of(scan, cands[0]);
    return make_error(fmt::format(
        "several PostgreSQL servers run here (postmasters {}) and the log has named no process "
        "yet: choose one with --snapshot=PID",
        names(all)));
  }
  std::vector<size_t> score(cands.size(), 0);
  for (size_t i = 0; i < cands.size(); ++i) {
    std::unordered_set<int64_t> mine;
    mine.insert(cands[i].postmaster->ns_pid);
    for (const ProcEntry* child : cands[i].children) mine.insert(child->ns_pid);
    for (int64_t p : log_pids) score[i] += mine.count(p);
  }
  size_t best = *std::max_element(score.begin(), score.end());
  std::vector<const Candidate*> top;
  for (size_t i = 0; i < cands.size(); ++i)
    if (score[i] == best) top.push_back(&cands[i]);
  if (best == 0 && cands.size() == 1) {
    // The clocks agree to about a second (btime, %t): allow two.
    if (log_newest_ms == INT64_MIN ||
        scan.start_ms(*cands[0].postmaster) <= log_newest_ms + 2000)
      return view_of(scan, cands[0]);
    return make_error(fmt::format(
        "none of the log's processes runs here and its newest line is older than the "
        "PostgreSQL server here (postmaster {}): give --snapshot=PID if the log is its own",
        names(all)));
  }
  if (best == 0)
    return make_error(fmt::format(
        "no running PostgreSQL server here has the log's processes (postmasters {}): "
        "choose one with --snapshot=PID",
        names(all)));
  if (top.size() > 1)
    return make_error(fmt::format(
        "the log's processes could belong to several PostgreSQL servers (postmasters {}): "
        "choose one with --snapshot=PID",
        names(top)));
  return view_of(scan, *top[0]);
}

}  // namespace pgconn
