// Replacing a file so that a reader never sees a partial one: the new
// content goes to a temporary file in the same directory, which rename(2)
// then puts in place (how node_exporter's textfile collector wants its
// `.prom` files written, ../shared/metrics.md §2.1).
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"

namespace pgconn {

// The temporary name for `path`: "PATH.<pid>.tmp" (never ends in ".prom",
// so the collector skips it).
std::string atomic_temp_name(const std::string& path);

// Whether `path` can be written: its directory exists, is a directory and
// lets us create and remove a file in it, and `path` is not a directory.
// Errors: `cannot write "PATH": <why>`.
Result<bool> check_writable(const std::string& path);

// Writes `content` to the temporary file (mode `mode`, whatever the umask),
// flushes it to the disk (fsync) and renames it over `path`. On any error
// the temporary file is removed and `path` is left as it was. Errors:
// `cannot write "PATH": <strerror>`.
Result<bool> write_atomically(const std::string& path, std::string_view content, unsigned mode = 0644);

}  // namespace pgconn
