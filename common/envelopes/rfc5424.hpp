// RFC 5424 syslog frames, as syslog drains and log shippers send them
// (Heroku drains, Neon's OpenTelemetry bodies, Aiven and DigitalOcean
// rsyslog integrations, Crunchy Bridge, Render, Supabase, rsyslog's
// RSYSLOG_SyslogProtocol23Format):
//   <134>1 2026-07-20T18:43:00.018369+00:00 host postgres 2468 - [sd id="x"] MSG
// optionally preceded by an RFC 6587 octet count ("451 <134>1 …", the
// count covering the frame from '<' on, a trailing LF included).
// Pure parsing; the reader is Rfc5424Format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "timestamp.hpp"

namespace pgconn {

struct Rfc5424Frame {
  int pri = -1;
  Timestamp time;                   // !valid() for the NILVALUE "-"
  std::string_view hostname;        // "" for "-"
  std::string_view app_name;        // "" for "-"
  std::string_view procid;          // "" for "-"
  std::string_view msgid;           // "" for "-"
  std::string_view structured_data; // the raw "[id k=\"v\"]…", "" for "-"
  std::string_view message;         // after the BOM, if any; may be empty
};

// Parses one frame (without an octet count). Views point into `text`.
// Returns false when `text` is not "<PRI>1 " and six header fields.
bool parse_rfc5424(std::string_view text, Rfc5424Frame* f);

// True when `line` starts like a frame: "<PRI>1 " with an optional octet
// count before it.
bool looks_like_rfc5424(std::string_view line);

// Removes a leading RFC 6587 octet count ("451 ") when a frame ("<")
// follows it; returns the count, or -1 (and *text unchanged) when none.
int64_t strip_octet_count(std::string_view* text);

// The value of parameter `name` in the first SD element of `sd` that has
// it, with the escapes \" \\ \] undone, into *value. False when absent or
// when `sd` is malformed.
bool sd_param(std::string_view sd, std::string_view name, std::string* value);

// The SD-ID of the first element ("neon" of `[neon project_id="p"]`), ""
// when there is none.
std::string_view sd_first_id(std::string_view sd);

// True when the first element of `sd` has no parameters ("[YELLOW]").
bool sd_first_is_bare(std::string_view sd);

}  // namespace pgconn
