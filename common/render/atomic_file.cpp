#include "render/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pgconn {

namespace {

Error failed(const std::string& path, std::string_view why) {
  return make_error("cannot write \"" + path + "\": " + std::string(why));
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::string atomic_temp_name(const std::string& path) {
  return path + "." + std::to_string(getpid()) + ".tmp";
}

Result<bool> check_writable(const std::string& path) {
  if (path.empty()) return failed(path, "empty name");
  const std::string dir = dir_of(path);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return failed(path, "directory \"" + dir + "\": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return failed(path, "\"" + dir + "\" is not a directory");
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return failed(path, "it is a directory");
  // Try it: access(2) says nothing of a read-only file system or an ACL.
  const std::string tmp = atomic_temp_name(path);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failed(path, std::strerror(errno));
  close(fd);
  unlink(tmp.c_str());
  return true;
}

Result<bool> write_atomically(const std::string& path, std::string_view content, unsigned mode) {
  const std::string tmp = atomic_temp_name(path);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return failed(path, std::strerror(errno));
  int err = 0;
  for (size_t done = 0; done < content.size() && err == 0;) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    else done += static_cast<size_t>(n);
  }
  // fchmod: the reader (node_exporter, another user) needs the mode whatever
  // our umask is; fsync: a crash must not leave an empty file renamed in.
  if (err == 0 && fchmod(fd, static_cast<mode_t>(mode)) != 0) err = errno;
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    unlink(tmp.c_str());
    return failed(path, std::strerror(err));
  }
  return true;
}

}  // namespace pgconn
