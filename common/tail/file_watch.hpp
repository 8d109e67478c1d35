// FileWatch: wakes the follower when something happens in the directories
// it cares about (Linux inotify). Watching a directory reports its files'
// writes too, so one watch per directory covers the live file, a renamed
// file still being written there, new files and deletions.
//
// Where inotify is not available (another kernel, no instances left), the
// follower polls instead (create() returns nullptr).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pgconn {

class FileWatch {
 public:
  // nullptr when inotify cannot be used.
  static std::unique_ptr<FileWatch> create();
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Watches exactly these directories from now on (those that cannot be
  // watched are skipped; the periodic look covers them). Returns true when
  // a watch was added: events before it may have been missed, look again.
  bool watch(const std::vector<std::string>& dirs);

  // The descriptor to poll(2) for POLLIN.
  int fd() const { return fd_; }

  struct Change {
    bool any = false;        // something happened
    bool structure = false;  // a file was created, renamed, deleted or changed mode
  };
  // Reads the pending events without blocking.
  Change drain();

 private:
  explicit FileWatch(int fd) : fd_(fd) {}
  int fd_;
  std::map<std::string, int> watches_;  // directory -> watch descriptor
};

}  // namespace pgconn
