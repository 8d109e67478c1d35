// Event <-> one line of the event stream (SPEC.md §2). No I/O.
//
// NDJSON: one compact object per line, keys in the fixed order of the
// schema, unknown fields left out. Strings are always valid UTF-8: a byte
// that is not part of a valid UTF-8 sequence becomes U+FFFD; control
// characters are escaped (\n, \t, \u001b, ...), so every line parses with jq.
//
// TSV: the same fields in the same order (kTsvColumns), empty when unknown;
// tab, newline, carriage return and backslash are written as \t \n \r \\,
// other control characters as \xHH, invalid UTF-8 as U+FFFD.
#pragma once

#include <string>
#include <string_view>

#include "event.hpp"

namespace pgconn {

// Appends the event as one NDJSON line, '\n' included.
void encode_json(const Event& e, std::string* out);

// Appends the event as one TSV line, '\n' included.
void encode_tsv(const Event& e, std::string* out);

// The same, written at `out` (the fast path: straight into the output
// buffer, output.hpp). Returns the end of what was written.
// REQUIRES: `out` has room for json_bound(e) / tsv_bound(e) bytes.
char* encode_json(const Event& e, char* out);
char* encode_tsv(const Event& e, char* out);

// encode_json() of an event whose strings are referenced (event.hpp):
// the same bytes as for the Event it stands for.
// REQUIRES: `out` has room for json_bound(e) bytes.
char* encode_json(const EventRef& e, char* out);
size_t json_bound(const EventRef& e);

// Upper bounds of an event's encoded length (escapes at their widest).
size_t json_bound(const Event& e);
size_t tsv_bound(const Event& e);

// The TSV column names, tab-separated, without newline.
extern const std::string_view kTsvHeader;

// Appends `s` as the body of a JSON string (no quotes), as described above.
void append_json_escaped(std::string_view s, std::string* out);

enum class Decoded {
  kEvent,      // *e holds the event
  kSkip,       // a line to pass over quietly: empty, the TSV header, an
               // event type this version does not know (the format grows)
  kMalformed,  // not an event line; `why` says what is wrong
};

// Reads one line of the event stream, NDJSON or TSV (told apart by its
// first byte). Unknown keys are ignored. *e is overwritten field by field
// (its strings keep their capacity, so a reused Event costs no allocation).
Decoded decode_event(std::string_view line, Event* e, std::string_view* why);

// The same into views: the lines pgconn-parse writes are read without a
// copy (views into `line`); any other line is decoded into *storage and the
// views point there. Valid while `line` and *storage are.
Decoded decode_event(std::string_view line, EventView* v, Event* storage, std::string_view* why);

}  // namespace pgconn
