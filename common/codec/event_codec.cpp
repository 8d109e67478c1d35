#include "codec/event_codec.hpp"

#include <cctype>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string>
#include <type_traits>

#include "json_reader.hpp"
#include "utf8.hpp"

namespace pgconn {

const std::string_view kTsvHeader =
    "type\tts\ttz\tpid\tsession\tuser\tdb\tapp\thost\tport\treplication\tduration_ms\t"
    "reason\tmessage\tmatched\tstate\tserver\tsnapshot\tvia";

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The encoders write straight into a buffer sized by json_bound()/
// tsv_bound() beforehand: no capacity check and no call per piece (an
// event is some twenty pieces, and pgconn-parse writes one per log line
// of a busy pooler).
// Inlined by force: with the length a constant (a key), the copy is a
// few moves, not a call.
#define PGCONN_INLINE inline __attribute__((always_inline))
PGCONN_INLINE char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// The length of the leading run of `s` that needs no care: printable ASCII
// but '"' and '\\'. 16 bytes at a time; most fields are all of it.
size_t plain_prefix(std::string_view s) {
  const char* b = s.data();
  const char* p = b;
  const char* end = b + s.size();
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i del = _mm_set1_epi8(0x7F);
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed: bytes >= 0x80 are negative, so "< 0x20" takes them too.
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmplt_epi8(v, space)));
    int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return static_cast<size_t>(p - b) + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') break;
    ++p;
  }
  return static_cast<size_t>(p - b);
}

// Writes `s`, copying runs of plain bytes and handing every byte that needs
// care to `special(c, p)`; non-ASCII is validated here for both encoders.
// Writes at most 6 bytes per byte of `s` (kMaxEscape).
constexpr size_t kMaxEscape = 6;
template <typename Special>
char* put_escaped(char* p, std::string_view s, Special special) {
  size_t i = plain_prefix(s);
  p = put(p, s.substr(0, i));
  size_t run = i;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    p = put(p, s.substr(run, i - run));
    if (c >= 0x80) {
      size_t n = utf8_sequence(s, i);
      if (n == 0) {
        p = put(p, kReplacement);
        n = 1;
      } else {
        p = put(p, s.substr(i, n));
      }
      i += n;
    } else {
      p = special(static_cast<char>(c), p);
      ++i;
    }
    run = i;
  }
  return put(p, s.substr(run));
}

char* json_special(char c, char* p) {
  switch (c) {
    case '"': return put(p, "\\\"");
    case '\\': return put(p, "\\\\");
    case '\n': return put(p, "\\n");
    case '\t': return put(p, "\\t");
    case '\r': return put(p, "\\r");
    default:
      p = put(p, "\\u00");
      *p++ = kHex[(c >> 4) & 0xF];
      *p++ = kHex[c & 0xF];
      return p;
  }
}

char* tsv_special(char c, char* p) {
  switch (c) {
    case '"': *p++ = '"'; return p;
    case '\\': return put(p, "\\\\");
    case '\n': return put(p, "\\n");
    case '\t': return put(p, "\\t");
    case '\r': return put(p, "\\r");
    default:
      p = put(p, "\\x");
      *p++ = kHex[(c >> 4) & 0xF];
      *p++ = kHex[c & 0xF];
      return p;
  }
}

// A non-negative number in decimal (at most 19 digits), two digits a step.
char* put_uint(char* p, uint64_t v) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  // Digits at the end of tmp's first 20 bytes, then 20 bytes copied from
  // the first digit: one fixed-size copy, not a call for n bytes. The bytes
  // past the number land where the next piece is written; the bounds count
  // 20 bytes for each number.
  char tmp[40];
  char* t = tmp + 20;
  while (v >= 100) {
    t -= 2;
    std::memcpy(t, kPairs + (v % 100) * 2, 2);
    v /= 100;
  }
  if (v >= 10) {
    t -= 2;
    std::memcpy(t, kPairs + v * 2, 2);
  } else {
    *--t = static_cast<char>('0' + v);
  }
  std::memcpy(p, t, 20);
  return p + (tmp + 20 - t);
}

// The sum of the string fields' lengths (the escapes' share of a bound).
size_t string_bytes(const Event& e) {
  return e.ts.size() + e.tz.size() + e.session.size() + e.user.size() + e.db.size() +
         e.app.size() + e.host.size() + e.reason.size() + e.message.size() + e.state.size() +
         e.server.size() + e.via.size();
}

// Keys, separators, the type name, three numbers and three flags of an
// event take less than this.
constexpr size_t kFixedBound = 320;

// The bytes of a 16-byte block that need care (as plain_prefix()).
#if defined(__SSE2__)
PGCONN_INLINE int care_mask(__m128i v) {
  __m128i hit = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)), _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));
  return _mm_movemask_epi8(hit);
}
#endif

// A field of an Event of at most 32 bytes that needs no escape, copied as
// 16-byte blocks; false when it is not one. Under 16 bytes, one block read
// at data() stays inside the string: a short string's own buffer in the
// object is 16 bytes, and one on the heap has a capacity of 16 or more
// (the bytes past the end land where the next piece is written; the
// bounds leave room). From 16 to 32 bytes, two blocks that overlap, both
// inside the string.
PGCONN_INLINE bool put_short(char*& p, const std::string& s) {
#if defined(__SSE2__)
  const size_t n = s.size();
  if (n < 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data()));
    if ((care_mask(v) & ((1 << n) - 1)) != 0) return false;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
  } else if (n <= 32) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data()));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + n - 16));
    if ((care_mask(a) | care_mask(b)) != 0) return false;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + n - 16), b);
  } else {
    return false;
  }
  p += n;
  return true;
#else
  return false;
#endif
}

// The JSON members after "type": ",\"KEY\":" literals, written only for
// known values, in the schema's order.
PGCONN_INLINE char* json_str(char* p, std::string_view key, const std::string& v) {
  if (v.empty()) return p;
  p = put(p, key);
  if (!put_short(p, v)) p = put_escaped(p, v, json_special);
  *p++ = '"';
  return p;
}

PGCONN_INLINE char* json_num(char* p, std::string_view key, int64_t v) {
  if (v < 0) return p;
  return put_uint(put(p, key), static_cast<uint64_t>(v));
}

inline char* tsv_str(char* p, std::string_view v) {
  p = put_escaped(p, v, tsv_special);
  *p++ = '\t';
  return p;
}

inline char* tsv_str(char* p, const std::string& v) {
  if (!put_short(p, v)) p = put_escaped(p, v, tsv_special);
  *p++ = '\t';
  return p;
}

inline char* tsv_num(char* p, int64_t v) {
  if (v >= 0) p = put_uint(p, static_cast<uint64_t>(v));
  *p++ = '\t';
  return p;
}

inline char* tsv_flag(char* p, Flag f, bool only_true) {
  if (f == Flag::kTrue) p = put(p, "true");
  if (f == Flag::kFalse && !only_true) p = put(p, "false");
  *p++ = '\t';
  return p;
}

// Appends through a bounded writer: the string grows once per call.
template <typename Write>
void append_bounded(std::string* out, size_t bound, Write write) {
  const size_t n = out->size();
  out->resize(n + bound);
  char* end = write(out->data() + n);
  out->resize(static_cast<size_t>(end - out->data()));
}

}  // namespace

size_t json_bound(const Event& e) { return kFixedBound + kMaxEscape * string_bytes(e); }

size_t tsv_bound(const Event& e) { return kFixedBound + kMaxEscape * string_bytes(e); }

void append_json_escaped(std::string_view s, std::string* out) {
  append_bounded(out, kMaxEscape * s.size(), [&](char* p) { return put_escaped(p, s, json_special); });
}

namespace {

// The members of an Event or of the EventRef standing for one (whose
// strings are pointers to an Event's, and which has no snapshot, message
// or state): one writer, so the two give the same bytes.
inline const std::string& field(const std::string& s) { return s; }
inline const std::string& field(const std::string* s) { return *s; }

// A reason that may be a static text, not a string's buffer: no
// short-string copy (put_short reads a string's whole inline buffer).
inline char* json_reason(char* p, std::string_view v) {
  if (v.empty()) return p;
  p = put(p, ",\"reason\":\"");
  p = put_escaped(p, v, json_special);
  *p++ = '"';
  return p;
}
inline char* json_reason(char* p, const std::string& v) { return json_str(p, ",\"reason\":\"", v); }

template <typename E>
char* encode_json_members(const E& e, char* p) {
  constexpr bool kFull = std::is_same_v<E, Event>;
  p = put(p, "{\"type\":\"");
  p = put(p, event_type_name(e.type));
  *p++ = '"';
  p = json_str(p, ",\"ts\":\"", field(e.ts));
  p = json_str(p, ",\"tz\":\"", field(e.tz));
  p = json_num(p, ",\"pid\":", e.pid);
  p = json_str(p, ",\"session\":\"", field(e.session));
  p = json_str(p, ",\"user\":\"", field(e.user));
  p = json_str(p, ",\"db\":\"", field(e.db));
  p = json_str(p, ",\"app\":\"", field(e.app));
  p = json_str(p, ",\"host\":\"", field(e.host));
  p = json_num(p, ",\"port\":", e.port);
  if (e.replication == Flag::kTrue) p = put(p, ",\"replication\":true");
  if constexpr (kFull) {
    if (e.snapshot == Flag::kTrue) p = put(p, ",\"snapshot\":true");
  }
  p = json_num(p, ",\"duration_ms\":", e.duration_ms);
  p = json_reason(p, e.reason);
  if constexpr (kFull) p = json_str(p, ",\"message\":\"", e.message);
  if (e.matched != Flag::kUnset) p = put(p, e.matched == Flag::kTrue ? ",\"matched\":true" : ",\"matched\":false");
  if constexpr (kFull) p = json_str(p, ",\"state\":\"", e.state);
  p = json_str(p, ",\"server\":\"", field(e.server));
  p = json_str(p, ",\"via\":\"", field(e.via));
  return put(p, "}\n");
}

}  // namespace

char* encode_json(const Event& e, char* p) { return encode_json_members(e, p); }

// The same bytes as encode_json(Event) of the Event `e` stands for (its
// missing fields are unknown there, so left out here).
size_t json_bound(const EventRef& e) {
  return kFixedBound + kMaxEscape * (e.ts->size() + e.tz->size() + e.session->size() +
                                     e.user->size() + e.db->size() + e.app->size() +
                                     e.host->size() + e.reason.size() + e.server->size() +
                                     e.via->size());
}

char* encode_json(const EventRef& e, char* p) { return encode_json_members(e, p); }

void encode_json(const Event& e, std::string* out) {
  append_bounded(out, json_bound(e), [&](char* p) { return encode_json(e, p); });
}

char* encode_tsv(const Event& e, char* p) {
  p = tsv_str(p, event_type_name(e.type));
  p = tsv_str(p, e.ts);
  p = tsv_str(p, e.tz);
  p = tsv_num(p, e.pid);
  p = tsv_str(p, e.session);
  p = tsv_str(p, e.user);
  p = tsv_str(p, e.db);
  p = tsv_str(p, e.app);
  p = tsv_str(p, e.host);
  p = tsv_num(p, e.port);
  p = tsv_flag(p, e.replication, true);
  p = tsv_num(p, e.duration_ms);
  p = tsv_str(p, e.reason);
  p = tsv_str(p, e.message);
  p = tsv_flag(p, e.matched, false);
  p = tsv_str(p, e.state);
  p = tsv_str(p, e.server);
  p = tsv_flag(p, e.snapshot, true);
  p = put_escaped(p, e.via, tsv_special);
  *p++ = '\n';
  return p;
}

void encode_tsv(const Event& e, std::string* out) {
  append_bounded(out, tsv_bound(e), [&](char* p) { return encode_tsv(e, p); });
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

// The members as encode_json() writes them: a key of the schema, in the
// schema's order, and a plain value of its type. member_fast() reads one
// such member in a few loads and compares (no scan for the key's end, no
// dispatch on its name); anything else is left to the loop below, which
// would read it the same.
enum class FastKind : uint8_t { kString, kInt, kPort, kFlag };
struct FastKey {
  uint8_t len;  // of `key":`
  FastKind kind;
  std::string_view EventView::*str;
  int64_t EventView::*num;
  Flag EventView::*flag;
  uint64_t head, tail;  // its first and last 8 (or 4) bytes
};

uint64_t load_le(const char* p, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, p, n);
  return v;
}

FastKey fast_key(std::string_view member, FastKind kind, std::string_view EventView::*str,
                 int64_t EventView::*num, Flag EventView::*flag) {
  const size_t w = member.size() >= 8 ? 8 : 4;
  return FastKey{static_cast<uint8_t>(member.size()), kind, str, num, flag, load_le(member.data(), w),
                 load_le(member.data() + member.size() - w, w)};
}

struct FastKeys {
  FastKey key[18];
  FastKeys() {
    using V = EventView;
    auto s = [](std::string_view m, std::string_view V::*f) { return fast_key(m, FastKind::kString, f, nullptr, nullptr); };
    auto n = [](std::string_view m, int64_t V::*f) { return fast_key(m, FastKind::kInt, nullptr, f, nullptr); };
    auto b = [](std::string_view m, Flag V::*f) { return fast_key(m, FastKind::kFlag, nullptr, nullptr, f); };
    const FastKey keys[18] = {
        s("ts\":", &V::ts),           s("tz\":", &V::tz),
        n("pid\":", &V::pid),         s("session\":", &V::session),
        s("user\":", &V::user),       s("db\":", &V::db),
        s("app\":", &V::app),         s("host\":", &V::host),
        fast_key("port\":", FastKind::kPort, nullptr, nullptr, nullptr),
        b("replication\":", &V::replication), b("snapshot\":", &V::snapshot),
        n("duration_ms\":", &V::duration_ms), s("reason\":", &V::reason),
        s("message\":", &V::message), b("matched\":", &V::matched),
        s("state\":", &V::state),     s("server\":", &V::server),
        s("via\":", &V::via)};
    std::copy(std::begin(keys), std::end(keys), key);
  }
};

const FastKeys kFastKeys;

PGCONN_INLINE bool key_is(const char* p, const char* end, const FastKey& k) {
  if (end - p < k.len) return false;
  if (k.len >= 8) return load_le(p, 8) == k.head && load_le(p + k.len - 8, 8) == k.tail;
  return load_le(p, 4) == k.head && load_le(p + k.len - 4, 4) == k.tail;
}

// One member at `p` (just past its key's opening quote) read as described
// above: sets its field, moves `p` past its value and `*next` past its
// key's place in the schema; false (nothing changed) when it is not such
// a member.
PGCONN_INLINE bool member_fast(const char*& p, const char* end, size_t* next, EventView* e) {
  for (size_t j = *next; j < std::size(kFastKeys.key); ++j) {
    const FastKey& k = kFastKeys.key[j];
    if (!key_is(p, end, k)) continue;
    const char* v = p + k.len;
    switch (k.kind) {
      case FastKind::kString: {
        if (v >= end || *v != '"') return false;
        const char* q = string_end(v + 1, end);
        if (q >= end || *q != '"') return false;
        e->*k.str = std::string_view(v + 1, static_cast<size_t>(q - v - 1));
        p = q + 1;
        break;
      }
      case FastKind::kInt:
      case FastKind::kPort: {
        const char* q = v;
        int64_t x = 0;
        while (q < end && *q >= '0' && *q <= '9' && q - v < 18) x = x * 10 + (*q++ - '0');
        // JSON has no leading zeros ("007" is no number: the reader refuses it).
        if (q == v || (*v == '0' && q - v > 1) || q >= end || (*q != ',' && *q != '}')) return false;
        if (k.kind == FastKind::kPort) {
          if (x > 65535) return false;
          e->port = static_cast<int32_t>(x);
        } else {
          e->*k.num = x;
        }
        p = q;
        break;
      }
      case FastKind::kFlag: {
        Flag f;
        const char* q;
        if (end - v >= 5 && std::memcmp(v, "true", 4) == 0 && (v[4] == ',' || v[4] == '}')) {
          f = Flag::kTrue;
          q = v + 4;
        } else if (end - v >= 6 && std::memcmp(v, "false", 5) == 0 && (v[5] == ',' || v[5] == '}')) {
          f = Flag::kFalse;
          q = v + 5;
        } else {
          return false;
        }
        e->*k.flag = f;
        p = q;
        break;
      }
    }
    *next = j + 1;
    return true;
  }
  return false;
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
  size_t next = 0;  // member_fast(): the schema's keys from here on
  while (p < end && *p == ',') {
    ++p;
    if (p >= end || *p != '"') return false;
    ++p;
    if (member_fast(p, end, &next, e)) continue;
    const char* key = p;
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
