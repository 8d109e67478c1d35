// Timestamp: a log line's time as PostgreSQL (or a syslog daemon, or a
// platform envelope) wrote it, and its RFC 3339 form for the event stream.
//
// PostgreSQL prints log_timezone as an abbreviation ("UTC", "CEST") or, for
// zones without one, as a numeric offset ("+03", "-0330"). UTC/GMT and
// numeric offsets are exact; any other abbreviation is kept as written, with
// the wall-clock time and no offset (SPEC.md §2: `ts` without offset, `tz`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgconn {

struct Timestamp {
  enum class Zone : uint8_t { kNone, kUtc, kOffset, kAbbrev };

  // Wall-clock time as logged, in milliseconds since 1970-01-01 00:00 of
  // that same wall clock. INT64_MIN when there is no time.
  int64_t wall_ms = INT64_MIN;
  int32_t offset_min = 0;  // kOffset: minutes east of UTC
  Zone zone = Zone::kNone;
  bool has_ms = false;     // the log printed milliseconds
  char abbrev[8] = {};     // kAbbrev: NUL-terminated, at most 7 characters

  bool valid() const { return wall_ms != INT64_MIN; }

  // Milliseconds since the epoch in UTC when the zone is known; the wall
  // clock otherwise (good for ordering within one log, which is all the
  // callers need it for).
  int64_t sort_ms() const {
    return zone == Zone::kOffset ? wall_ms - int64_t{offset_min} * 60000 : wall_ms;
  }

  // Milliseconds since the epoch in UTC; INT64_MIN when there is no time or
  // its zone is not known (none, or an abbreviation).
  int64_t utc_ms() const {
    return valid() && (zone == Zone::kUtc || zone == Zone::kOffset) ? sort_ms() : INT64_MIN;
  }
};

// Parses PostgreSQL's %t/%m form, "2024-05-01 10:00:00[.123][ ZONE]".
// Returns false (and leaves *out alone) when `text` is not of that form.
bool parse_pg_time(std::string_view text, Timestamp* out);

// Parses %n, "1714557600.123" (seconds since the epoch, UTC).
bool parse_epoch_time(std::string_view text, Timestamp* out);

// Parses RFC 3339 / ISO 8601, "2024-05-01T10:00:00.105+00:00",
// "2020-05-02T13:00:20.38403Z" (fractions past milliseconds are dropped);
// without an offset (an event's `ts` for an unresolved zone) the zone is
// kNone.
bool parse_iso_time(std::string_view text, Timestamp* out);

// Appends the RFC 3339 form: "2024-05-01T10:00:00.123Z", "…+02:00", or no
// offset for an abbreviation (whose text is then the event's `tz`).
// REQUIRES: t.valid().
void append_rfc3339(const Timestamp& t, std::string* out);

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil); used by the parsers and by syslog's year guess.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

}  // namespace pgconn
