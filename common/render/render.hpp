// Summary and History as text for people and JSON for programs. No I/O.
//
// Text is meant for a terminal: every name from the log passes through
// display_safe(), so control characters and escape sequences in user,
// database or application names are shown escaped, never sent raw.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "window/summary.hpp"
#include "timestamp.hpp"

namespace pgconn {

// `s` with control characters, DEL and invalid UTF-8 bytes written as
// \xHH (and a backslash as \\): safe to print on a terminal.
std::string display_safe(std::string_view s);

// A name as listed: display_safe(), and "unknown" for an empty one.
std::string display_name(std::string_view s);

// A wall-clock time of a log as people read it: "10:45", with_date
// "03-01 10:45", with_seconds "10:45:30".
std::string wall_clock(int64_t wall_ms, bool with_date, bool with_seconds);

// A readable phrase for a reject reason ("too many connections"); the
// reason itself for one this version does not know. `via` names the pooler
// that refused (PgBouncer's own limits have other names than PostgreSQL's).
std::string_view reason_phrase(std::string_view reason, std::string_view via = {});

// Hands a renderer's output so far to be written out and emptied (see
// render_summary_json()).
using Spill = std::function<void(std::string*)>;

// The rows a text list shows by default (pgconn-agg --top).
inline constexpr size_t kDefaultTop = 20;

// A name as a list row shows it: display_name(), except that a Window
// overflow name is shown as is and a real name spelled like one has its
// first character escaped (names.hpp), so the two never read alike.
std::string list_name(std::string_view name, bool overflow);

// The text summary (SPEC.md §4, the seeds' layout), "Peak: 72 at 10:00:03"
// under the active count, and the durations and longest sessions when the
// Summary has them. Each list (by name, rejects, durations) shows its
// biggest `top` rows and then one row "… N more" with the total of the
// rest; top = 0 shows every row.
// `spill`: as for render_summary_json() below.
void render_summary_text(const Summary& s, const Filter& f, std::string* out, size_t top = kDefaultTop,
                         const Spill& spill = nullptr);

// The parts of the text summary: one table of session lengths per
// dimension ("Durations by application:": sessions, mean, median, p95, max;
// `top` as above, the last row's sessions the total of the rest), and the
// longest open sessions (since, open for, pid, user, db, app, host).
void render_durations_text(const Summary& s, std::string* out, size_t top = kDefaultTop,
                           const Spill& spill = nullptr);
void render_longest_text(const Summary& s, std::string* out);

// One JSON object and a newline:
// {"active":…,"connects":…,"disconnects":…,"rejects":{…},"by":{"db":{…},…},
//  "peak":{"active":72,"at":"2024-03-01T10:00:03.412Z"}}, "at" null with no
// session; then, when the Summary has them,
// "durations":{"app":{"rails":{"n":…,"mean_ms":…,"p50_ms":…,"p95_ms":…,"max_ms":…}},…}
// and "longest":[{"pid":…,"user":…,"db":…,"app":…,"host":…,"server":…,
// "since":…,"open_ms":…}] (unknown fields left out, as in the event stream).
// `spill`, when given, is handed `out` whenever it holds 64 KiB between two
// names, to write it out and empty it: at 20,000 names per dimension the
// document is megabytes, and memory stays flat (issue 15: 32 MB).
void render_summary_json(const Summary& s, std::string* out, const Spill& spill = nullptr);

// Each bucket has its peak: a "peak N" column, "peak":N.
// `zone`: the newest event's time, whose zone the bucket times are shown in.
void render_history_text(const History& h, const Filter& f, int64_t last_ms, std::string* out);
void render_history_json(const History& h, const Timestamp& zone, std::string* out);

}  // namespace pgconn
