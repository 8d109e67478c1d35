// The rotated backlog of a log: the files that hold its past, oldest
// first, and the one function that reads any of them (compressed or not)
// as whole lines.
//
// Which files belong to the log:
//   a log file NAME      the files beside it named NAME.* or NAME-*
//                        (Debian's postgresql-16-main.log.1, .2.gz, ...;
//                        logrotate's dateext NAME-20240501)
//   a log directory      every regular file there of the same format (.csv,
//                        .json, or anything else for stderr), compressed or
//                        not; hidden files are skipped
// The live file itself (by inode) is never part of it.
//
// Order: by the time of each file's first line ("2024-05-01 10:00:00.123"
// anywhere in its first 512 bytes, as stderr prefixes with %m or %t, csvlog
// and jsonlog write it), not by name (postgresql-Mon.log, .1 newer than .2)
// nor by modification time alone (compression and copies change it); a
// file without such a time sorts by its modification time; ties by
// modification time, then name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tail/log_locator.hpp"
#include "result.hpp"
#include "sink.hpp"

namespace pgconn {

// Milliseconds since the epoch (of the wall clock as logged; the zone is
// ignored) of the first "YYYY-MM-DD HH:MM:SS[.fff]" in `head` (up to its
// first newline), or nullopt.
std::optional<int64_t> first_line_time(std::string_view head);

// The backlog files of `loc` (PATH's location as the follower last saw
// it), oldest first. `format` chooses the files of a log directory
// (kAny: the live file's). `live` is the live file, empty when none.
// Unreadable directories give an empty list.
std::vector<std::string> list_backlog(const Location& loc, LogFormat format,
                                      const std::string& live);

// Reads a whole file as lines into `sink`, decompressing gzip, bzip2, xz
// and zstd (recognised by their first bytes, not by name); a last line
// without newline gets one. Returns false when the sink stopped, true at
// the end; an error is "PATH: <what>" (open, read or damaged data; the
// lines before the damage have been written).
Result<bool> read_log_file(const std::string& path, LineSink* sink);

}  // namespace pgconn
