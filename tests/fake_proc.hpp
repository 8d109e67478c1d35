// FakeProc: a directory laid out like /proc for the proc_table and
// snapshot tests: <root>/stat with btime, and per process stat, cmdline and
// status (NSpid). Removed with its files when the object goes.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace pgconn::testing {

class FakeProc {
 public:
  // btime 1714557600 = 2024-05-01T10:00:00Z; 100 ticks a second.
  explicit FakeProc(int64_t btime = 1714557600) {
    char tmpl[] = "/tmp/pgconn-fakeproc.XXXXXX";
    root_ = mkdtemp(tmpl);
    write("stat", "cpu  1 2 3 4\nbtime " + std::to_string(btime) + "\nprocesses 9\n");
  }
  ~FakeProc() { std::filesystem::remove_all(root_); }
  const std::string& root() const { return root_; }

  // A process: `title` is its cmdline (NUL-padded as PostgreSQL leaves it),
  // `ns_pids` the NSpid line's text ("" for none: an old kernel).
  void add(int64_t pid, int64_t ppid, const std::string& comm, const std::string& title,
           uint64_t start_ticks, const std::string& ns_pids = "") {
    std::string dir = std::to_string(pid);
    std::filesystem::create_directories(root_ + "/" + dir);
    write(dir + "/stat", std::to_string(pid) + " (" + comm + ") S " + std::to_string(ppid) +
                             " 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 " +
                             std::to_string(start_ticks) + " 226381824 1000 0\n");
    write(dir + "/cmdline", title + std::string(8, '\0'));
    std::string status = "Name:\t" + comm + "\nState:\tS (sleeping)\nPid:\t" +
                         std::to_string(pid) + "\nPPid:\t" + std::to_string(ppid) + "\n";
    if (!ns_pids.empty()) status += "NSpid:\t" + ns_pids + "\n";
    write(dir + "/status", status + "Threads:\t1\n");
  }
  void remove(int64_t pid) { std::filesystem::remove_all(root_ + "/" + std::to_string(pid)); }
  // A process entry that cannot be read (hidepid=1: the directory is listed).
  void add_hidden(int64_t pid) {
    std::filesystem::create_directories(root_ + "/" + std::to_string(pid));
  }
  void write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories(
        std::filesystem::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel, std::ios::binary) << text;
  }

 private:
  std::string root_;
};

}  // namespace pgconn::testing
