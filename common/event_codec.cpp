#include "event_codec.hpp"

#include <fmt/format.h>

namespace pgconn {

const std::string_view kTsvHeader =
    "type\tts\ttz\tpid\tsession\tuser\tdb\tapp\thost\tport\treplication\tduration_ms\t"
    "reason\tmessage\tmatched\tstate\tserver";

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  const size_t left = s.size() - i;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && (b(1) & 0xC0) == 0x80 ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || (b(1) & 0xC0) != 0x80 || (b(2) & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || (b(1) & 0xC0) != 0x80 || (b(2) & 0xC0) != 0x80 || (b(3) & 0xC0) != 0x80)
      return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

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
  o.num("duration_ms", e.duration_ms);
  o.str("reason", e.reason);
  o.str("message", e.message);
  o.flag("matched", e.matched, false);
  o.str("state", e.state);
  o.str("server", e.server);
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
  append_escaped(e.server, out, tsv_special);
  out->push_back('\n');
}

}  // namespace pgconn
