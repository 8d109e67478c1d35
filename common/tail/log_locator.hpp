// LogLocator: which file is "the log of this server" right now, given what
// the user named: a log file, a log directory, or a data directory.
//
//   a file          that file (by name: a rename or a new file of the same
//                   name is a new file; the follower decides what that means)
//   a data directory (it has PG_VERSION or current_logfiles) the file that
//                   current_logfiles (PostgreSQL 10+) names for the format:
//                   --format's entry, else the first line
//   a log directory the newest regular file of the format (by modification
//                   time) when first looked at; later a file that was not
//                   there before (or has shrunk since: a name reused with
//                   log_truncate_on_rotation) and is newer than the live one takes over
//                   (a rotation), while files that were there are ignored (two
//                   files written at once, e.g. two clusters' logs in one
//                   directory, do not make the choice flip)
//   missing         nothing yet; looked up again on every locate()
//
// Compressed files (.gz .bz2 .xz .zst) and hidden files are never live.
// No I/O beyond stat, opendir and reading current_logfiles.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "result.hpp"

namespace pgconn {

// Which of the server's log destinations to follow.
enum class LogFormat { kAny, kStderr, kCsvlog, kJsonlog };

// "stderr", "csvlog", "jsonlog"; error: `bad --format "x": expected stderr,
// csvlog or jsonlog`.
Result<LogFormat> parse_log_format(std::string_view text);

// The format a file name says: .csv is csvlog, .json jsonlog, anything else
// stderr; a compression suffix (.gz .bz2 .xz .zst) is looked through, and so
// is a rotation number or date after the extension ("x.csv.1", "x.log-20240501").
LogFormat format_of_name(std::string_view name);

// True for the names of compressed files: .gz .bz2 .xz .zst (also followed
// by nothing else).
bool is_compressed_name(std::string_view name);

enum class PathKind { kMissing, kFile, kLogDir, kDataDir };

struct Location {
  PathKind kind = PathKind::kMissing;
  std::string live;     // the file to follow; empty: none yet
  std::string log_dir;  // the directory of `live` (or the log directory)
  // Directories whose changes can change the answer (for inotify): the
  // log directory, the data directory, or the nearest existing ancestor of
  // a path that does not exist yet.
  std::vector<std::string> watch;
  // A problem worth one warning ("no current_logfiles", "lists no csvlog",
  // "Permission denied"), empty when none. The same text comes back on
  // every locate() while it lasts; the caller says it once.
  std::string problem;
  int error = 0;  // errno when the path (or current_logfiles) could not be read
};

class LogLocator {
 public:
  // `path` as the user gave it; `format` from --format (kAny: the first
  // current_logfiles entry, or the newest file's format, kept from then on).
  LogLocator(std::string path, LogFormat format);

  // Looks again. Cheap when nothing changed (a stat or two) unless
  // `relist` asks to read the log directory again (something was created,
  // renamed or deleted in it); a log directory is always listed the first
  // time and when the live file is gone.
  Location locate(bool relist);

  const std::string& path() const { return path_; }
  LogFormat format() const { return format_; }

 private:
  Location locate_data_dir(Location loc);
  Location locate_log_dir(Location loc, bool relist);

  std::string path_;
  LogFormat format_;
  // current_logfiles as last read (its identity and mtime, and the answer).
  struct timespec cl_mtime_ = {};
  ino_t cl_ino_ = 0;
  off_t cl_size_ = -1;
  std::string cl_live_, cl_problem_;
  int cl_errno_ = 0;  // current_logfiles could not be opened
  // Log directory: the files there at the last listing (with their sizes:
  // one that shrank was rewritten, log_truncate_on_rotation reusing a
  // weekday's name, and counts as new) and the choice.
  std::map<std::pair<dev_t, ino_t>, off_t> seen_;
  std::string dir_live_;
  bool listed_ = false;
};

}  // namespace pgconn
