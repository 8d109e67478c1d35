#include "event_codec.hpp"

#include <cctype>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string>

#include <fmt/format.h>

#include "json_reader.hpp"
#include "utf8.hpp"

namespace pgconn {

const std::string_view kTsvHeader =
    "type\tts\ttz\tpid\tsession\tuser\tdb\tapp\thost\tport\treplication\tduration_ms\t"
    "reason\tmessage\tmatched\tstate\tserver\tsnapshot\tvia";

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Walks `s`, copying runs of plain bytes and handing every byte that needs
// care to `special(c, out)`; non-ASCII is validated here for both encoders.
template <typename Special>
void append_escaped(std::string_view s, std::string* out, Special special) {
  size_t run = 0, i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out->append(s.data() + run, i - run);
    if (c >= 0x80) {
      size_t n = utf8_sequence(s, i);
      if (n == 0) {
        out->append(kReplacement);
        n = 1;
      } else {
        out->append(s.data() + i, n);
      }
      i += n;
    } else {
      special(static_cast<char>(c), out);
      ++i;
    }
    run = i;
  }
  out->append(s.data() + run, s.size() - run);
}

void json_special(char c, std::string* out) {
  switch (c) {
    case '"': out->append("\\\""); return;
    case '\\': out->append("\\\\"); return;
    case '\n': out->append("\\n"); return;
    case '\t': out->append("\\t"); return;
    case '\r': out->append("\\r"); return;
    default:
      out->append("\\u00");
      out->push_back(kHex[(c >> 4) & 0xF]);
      out->push_back(kHex[c & 0xF]);
  }
}

void tsv_special(char c, std::string* out) {
  switch (c) {
    case '"': out->push_back('"'); return;
    case '\\': out->append("\\\\"); return;
    case '\n': out->append("\\n"); return;
    case '\t': out->append("\\t"); return;
    case '\r': out->append("\\r"); return;
    default:
      out->append("\\x");
      out->push_back(kHex[(c >> 4) & 0xF]);
      out->push_back(kHex[c & 0xF]);
  }
}

// Writes "key":value pairs with the separators in between.
class JsonObject {
 public:
  explicit JsonObject(std::string* out) : out_(out) { out_->push_back('{'); }
  void str(std::string_view key, std::string_view v) {
    if (v.empty()) return;
    sep(key);
    out_->push_back('"');
    append_json_escaped(v, out_);
    out_->push_back('"');
  }
  void num(std::string_view key, int64_t v) {
    if (v < 0) return;
    sep(key);
    fmt::format_to(std::back_inserter(*out_), "{}", v);
  }
  void flag(std::string_view key, Flag f, bool only_true) {
    if (f == Flag::kUnset || (only_true && f != Flag::kTrue)) return;
    sep(key);
    out_->append(f == Flag::kTrue ? "true" : "false");
  }
  void end() { out_->append("}\n"); }

 private:
  void sep(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(key);
    out_->append("\":");
  }
  std::string* out_;
  bool first_ = true;
};

void tsv_str(std::string_view v, std::string* out) {
  append_escaped(v, out, tsv_special);
  out->push_back('\t');
}

void tsv_num(int64_t v, std::string* out) {
  if (v >= 0) fmt::format_to(std::back_inserter(*out), "{}", v);
  out->push_back('\t');
}

void tsv_flag(Flag f, bool only_true, std::string* out) {
  if (f == Flag::kTrue) out->append("true");
  if (f == Flag::kFalse && !only_true) out->append("false");
  out->push_back('\t');
}

}  // namespace

void append_json_escaped(std::string_view s, std::string* out) {
  append_escaped(s, out, json_special);
}

void encode_json(const Event& e, std::string* out) {
  JsonObject o(out);
  o.str("type", event_type_name(e.type));
  o.str("ts", e.ts);
  o.str("tz", e.tz);
  o.num("pid", e.pid);
  o.str("session", e.session);
  o.str("user", e.user);
  o.str("db", e.db);
  o.str("app", e.app);
  o.str("host", e.host);
  o.num("port", e.port);
  o.flag("replication", e.replication, true);
  o.flag("snapshot", e.snapshot, true);
  o.num("duration_ms", e.duration_ms);
  o.str("reason", e.reason);
  o.str("message", e.message);
  o.flag("matched", e.matched, false);
  o.str("state", e.state);
  o.str("server", e.server);
  o.str("via", e.via);
  o.end();
}

void encode_tsv(const Event& e, std::string* out) {
  tsv_str(event_type_name(e.type), out);
  tsv_str(e.ts, out);
  tsv_str(e.tz, out);
  tsv_num(e.pid, out);
  tsv_str(e.session, out);
  tsv_str(e.user, out);
  tsv_str(e.db, out);
  tsv_str(e.app, out);
  tsv_str(e.host, out);
  tsv_num(e.port, out);
  tsv_flag(e.replication, true, out);
  tsv_num(e.duration_ms, out);
  tsv_str(e.reason, out);
  tsv_str(e.message, out);
  tsv_flag(e.matched, false, out);
  tsv_str(e.state, out);
  tsv_str(e.server, out);
  tsv_flag(e.snapshot, true, out);
  append_escaped(e.via, out, tsv_special);
  out->push_back('\n');
}

namespace {

bool to_int64(std::string_view v, int64_t* out) {
  if (v.empty() || v.size() > 18) return false;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  *out = n;
  return true;
}

Flag to_flag(std::string_view v) {
  return v == "true" ? Flag::kTrue : v == "false" ? Flag::kFalse : Flag::kUnset;
}

// Copies a view's fields into an Event (reusing its strings' capacity).
void assign(const EventView& v, Event* e) {
  e->type = v.type;
  e->ts.assign(v.ts);
  e->tz.assign(v.tz);
  e->pid = v.pid;
  e->session.assign(v.session);
  e->user.assign(v.user);
  e->db.assign(v.db);
  e->app.assign(v.app);
  e->host.assign(v.host);
  e->port = v.port;
  e->replication = v.replication;
  e->snapshot = v.snapshot;
  e->duration_ms = v.duration_ms;
  e->reason.assign(v.reason);
  e->message.assign(v.message);
  e->matched = v.matched;
  e->state.assign(v.state);
  e->server.assign(v.server);
  e->via.assign(v.via);
}

// The TSV escapes of encode_tsv, undone.
void tsv_unescape(std::string_view v, std::string* out) {
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 >= v.size()) {
      out->push_back(v[i]);
      continue;
    }
    char c = v[++i];
    switch (c) {
      case 't': out->push_back('\t'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 'x':
        if (i + 2 < v.size() + 0 && std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
          out->push_back(static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16)));
          i += 2;
        } else {
          out->append("\\x");
        }
        break;
      default: out->push_back(c);
    }
  }
}

// key == literal, with the length known at compile time so the compare is
// inlined (this runs a dozen times per event).
template <size_t N>
bool is(std::string_view key, const char (&literal)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), literal, N - 1) == 0;
}

// Sets one field by its key; false for a value of the wrong type. Strings
// become views of `v`.
bool set_view_field(std::string_view key, std::string_view v, bool is_string, EventView* e) {
  auto str = [&](std::string_view* f) {
    if (!is_string) return false;
    *f = v;
    return true;
  };
  auto num = [&](int64_t* f) { return !is_string && to_int64(v, f); };
  switch (key.size() > 0 ? key[0] : 0) {
    case 't':
      if (is(key, "ts")) return str(&e->ts);
      if (is(key, "tz")) return str(&e->tz);
      break;
    case 'p':
      if (is(key, "pid")) return num(&e->pid);
      if (is(key, "port")) {
        int64_t p;
        if (!num(&p) || p > 65535) return false;
        e->port = static_cast<int32_t>(p);
        return true;
      }
      break;
    case 's':
      if (is(key, "session")) return str(&e->session);
      if (is(key, "state")) return str(&e->state);
      if (is(key, "server")) return str(&e->server);
      if (is(key, "snapshot")) {
        e->snapshot = to_flag(v);
        return !is_string && e->snapshot != Flag::kUnset;
      }
      break;
    case 'v':
      if (is(key, "via")) return str(&e->via);
      break;
    case 'u':
      if (is(key, "user")) return str(&e->user);
      break;
    case 'd':
      if (is(key, "db")) return str(&e->db);
      if (is(key, "duration_ms")) return num(&e->duration_ms);
      break;
    case 'a':
      if (is(key, "app")) return str(&e->app);
      break;
    case 'h':
      if (is(key, "host")) return str(&e->host);
      break;
    case 'r':
      if (is(key, "reason")) return str(&e->reason);
      if (is(key, "replication")) {
        e->replication = to_flag(v);
        return !is_string && e->replication != Flag::kUnset;
      }
      break;
    case 'm':
      if (is(key, "message")) return str(&e->message);
      if (is(key, "matched")) {
        e->matched = to_flag(v);
        return !is_string && e->matched != Flag::kUnset;
      }
      break;
  }
  return true;  // a key this version does not know
}

// The first '"', '\\' or control byte in [p, end), or end: 16 bytes at a
// time (strings are most of an event line).
const char* string_end(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                               _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));
    int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
  return p;
}

// The lines pgconn-parse writes: no white space, keys without escapes, flat
// values. Reads them into views without a copy. Returns false for anything
// else (the general reader then reads the line).
bool decode_json_fast(std::string_view line, EventView* e, Decoded* result) {
  const char* p = line.data();
  const char* end = p + line.size();
  if (line.size() < 10 || line.substr(0, 9) != "{\"type\":\"") return false;
  p += 9;
  const char* name = p;
  while (p < end && *p != '"' && *p != '\\') ++p;
  if (p >= end || *p != '"') return false;
  *e = EventView();
  if (!parse_event_type(std::string_view(name, p - name), &e->type)) {
    *result = Decoded::kSkip;
    return true;
  }
  ++p;
  while (p < end && *p == ',') {
    ++p;
    if (p >= end || *p != '"') return false;
    const char* key = ++p;
    p = string_end(p, end);
    if (p + 1 >= end || *p != '"' || p[1] != ':') return false;
    std::string_view k(key, p - key);
    p += 2;
    if (p < end && *p == '"') {
      const char* v = ++p;
      p = string_end(p, end);
      if (p >= end || *p != '"') return false;  // escapes: the general reader
      if (!set_view_field(k, std::string_view(v, p - v), true, e)) return false;
      ++p;
    } else {
      const char* v = p;
      while (p < end && *p != ',' && *p != '}') ++p;
      std::string_view raw(v, p - v);
      if (raw != "null" && raw != "true" && raw != "false" && !is_json_number(raw)) return false;
      if (raw != "null" && !set_view_field(k, raw, false, e)) return false;
    }
  }
  if (p + 1 != end || *p != '}') return false;
  *result = Decoded::kEvent;
  return true;
}

// Any JSON object (white space, escapes, nested values of unknown keys).
Decoded decode_json(std::string_view line, Event* e, std::string_view* why) {
  thread_local JsonReader json;
  if (!json.parse(line)) {
    *why = "not a JSON object";
    return Decoded::kMalformed;
  }
  const JsonReader::Member* type = json.find("type");
  if (type == nullptr || type->type != JsonReader::Type::kString) {
    *why = "no \"type\"";
    return Decoded::kMalformed;
  }
  EventView v;
  if (!parse_event_type(type->value, &v.type)) return Decoded::kSkip;
  for (const JsonReader::Member& m : json.members()) {
    if (m.type == JsonReader::Type::kNull || m.key == "type") continue;
    // An object or array is the wrong type for every field of ours; under
    // an unknown key it is ignored like any other value.
    if (!set_view_field(m.key, m.value, m.type == JsonReader::Type::kString, &v)) {
      *why = "a field has the wrong type";
      return Decoded::kMalformed;
    }
  }
  assign(v, e);
  return Decoded::kEvent;
}

constexpr std::string_view kColumns[] = {
    "type", "ts", "tz", "pid", "session", "user", "db", "app", "host",
    "port", "replication", "duration_ms", "reason", "message", "matched", "state", "server",
    "snapshot", "via"};
constexpr bool kStringColumn[] = {true, true, true, false, true, true, true, true, true,
                                  false, false, false, true, true, false, true, true,
                                  false, true};
constexpr size_t kColumnCount = sizeof(kColumns) / sizeof(kColumns[0]);
// Streams of earlier versions have the first 17 columns only.
constexpr size_t kOldColumnCount = 17;

Decoded decode_tsv(std::string_view line, Event* e, std::string_view* why) {
  if (line == kTsvHeader || line.starts_with("type\tts\ttz\t")) return Decoded::kSkip;
  std::string_view cols[kColumnCount];
  size_t n = 0, pos = 0;
  while (n < kColumnCount) {
    size_t tab = line.find('\t', pos);
    cols[n++] = line.substr(pos, tab == std::string_view::npos ? std::string_view::npos : tab - pos);
    if (tab == std::string_view::npos) break;
    pos = tab + 1;
  }
  if (n < kOldColumnCount) {
    *why = "not 17 or more tab-separated columns";
    return Decoded::kMalformed;
  }
  EventView v;
  if (!parse_event_type(cols[0], &v.type)) return Decoded::kSkip;
  thread_local std::string values[kColumnCount];
  for (size_t i = 1; i < n; ++i) {
    if (cols[i].empty()) continue;
    tsv_unescape(cols[i], &values[i]);
    if (!set_view_field(kColumns[i], values[i], kStringColumn[i], &v)) {
      *why = "a column has the wrong type";
      return Decoded::kMalformed;
    }
  }
  assign(v, e);
  return Decoded::kEvent;
}

// Lines the fast path does not take: TSV, and JSON in any form.
Decoded decode_general(std::string_view line, Event* e, std::string_view* why) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == line.size()) return Decoded::kSkip;
  if (line[i] == '{') return decode_json(line, e, why);
  return decode_tsv(line, e, why);
}

}  // namespace

Decoded decode_event(std::string_view line, Event* e, std::string_view* why) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  EventView v;
  Decoded fast;
  if (decode_json_fast(line, &v, &fast)) {
    if (fast == Decoded::kEvent) assign(v, e);
    return fast;
  }
  return decode_general(line, e, why);
}

Decoded decode_event(std::string_view line, EventView* v, Event* storage, std::string_view* why) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  Decoded fast;
  if (decode_json_fast(line, v, &fast)) return fast;
  Decoded d = decode_general(line, storage, why);
  if (d == Decoded::kEvent) *v = EventView(*storage);
  return d;
}

}  // namespace pgconn
