#include "json_reader.hpp"

#include <cstring>

namespace pgconn {

namespace {

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int hex4(std::string_view s, size_t at) {
  if (at + 4 > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

void JsonReader::ws() {
  while (pos_ < in_.size() &&
         (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r'))
    ++pos_;
}

// At the opening quote. Strings without escapes are views into the input.
bool JsonReader::string_body(std::string_view* out) {
  size_t start = ++pos_;
  // The closing quote, unless a backslash comes first (escapes are rare).
  // Strings here are short: a byte loop beats memchr's call overhead.
  const char* p = in_.data() + pos_;
  const char* end = in_.data() + in_.size();
  while (p < end && *p != '"' && *p != '\\') {
    if (static_cast<unsigned char>(*p) < 0x20) return false;  // must be escaped
    ++p;
  }
  pos_ = static_cast<size_t>(p - in_.data());
  if (pos_ >= in_.size()) return false;
  if (in_[pos_] == '"') {
    *out = in_.substr(start, pos_ - start);
    ++pos_;
    return true;
  }
  size_t begin = scratch_.size();
  scratch_.append(in_.substr(start, pos_ - start));
  while (pos_ < in_.size()) {
    char c = in_[pos_];
    if (c == '"') {
      *out = std::string_view(scratch_).substr(begin);
      ++pos_;
      return true;
    }
    if (static_cast<unsigned char>(c) < 0x20) return false;
    if (c != '\\') {
      scratch_.push_back(c);
      ++pos_;
      continue;
    }
    if (++pos_ >= in_.size()) return false;
    char e = in_[pos_++];
    switch (e) {
      case '"': case '\\': case '/': scratch_.push_back(e); break;
      case 'b': scratch_.push_back('\b'); break;
      case 'f': scratch_.push_back('\f'); break;
      case 'n': scratch_.push_back('\n'); break;
      case 'r': scratch_.push_back('\r'); break;
      case 't': scratch_.push_back('\t'); break;
      case 'u': {
        int cp = hex4(in_, pos_);
        if (cp < 0) return false;
        pos_ += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 1 < in_.size() && in_[pos_] == '\\' &&
            in_[pos_ + 1] == 'u') {
          int lo = hex4(in_, pos_ + 2);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            pos_ += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        append_utf8(static_cast<uint32_t>(cp), &scratch_);
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

// At '{' or '['; moves past the matching close, honouring strings. Checks
// that brackets pair up; the values inside are read later, by whoever
// parses this text.
bool JsonReader::skip_nested() {
  std::string open;  // the brackets not yet closed
  while (pos_ < in_.size()) {
    char c = in_[pos_];
    if (c == '"') {
      ++pos_;
      while (pos_ < in_.size() && in_[pos_] != '"') pos_ += in_[pos_] == '\\' ? 2 : 1;
      if (pos_ >= in_.size()) return false;
    } else if (c == '{' || c == '[') {
      if (open.size() > 512) return false;  // deeper than any log record
      open.push_back(c);
    } else if (c == '}' || c == ']') {
      if (open.empty() || open.back() != (c == '}' ? '{' : '[')) return false;
      open.pop_back();
      if (open.empty()) {
        ++pos_;
        return true;
      }
    }
    ++pos_;
  }
  return false;
}

// RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view n) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < n.size() && n[i] >= '0' && n[i] <= '9') ++i;
    return i > start;
  };
  if (i < n.size() && n[i] == '-') ++i;
  if (i < n.size() && n[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n.size() && n[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n.size() && (n[i] == 'e' || n[i] == 'E')) {
    ++i;
    if (i < n.size() && (n[i] == '+' || n[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n.size();
}

bool JsonReader::value(Member* m) {
  if (pos_ >= in_.size()) return false;
  char c = in_[pos_];
  size_t start = pos_;
  if (c == '"') {
    m->type = Type::kString;
    return string_body(&m->value);
  }
  if (c == '{' || c == '[') {
    m->type = c == '{' ? Type::kObject : Type::kArray;
    if (!skip_nested()) return false;
    m->value = in_.substr(start, pos_ - start);
    return true;
  }
  for (std::string_view word : {"true", "false", "null"}) {
    if (in_.substr(pos_, word.size()) == word) {
      m->type = word[0] == 'n' ? Type::kNull : Type::kBool;
      pos_ += word.size();
      m->value = word;
      return true;
    }
  }
  m->type = Type::kNumber;
  while (pos_ < in_.size() && (std::string_view("+-.eE").find(in_[pos_]) != std::string_view::npos ||
                               (in_[pos_] >= '0' && in_[pos_] <= '9')))
    ++pos_;
  m->value = in_.substr(start, pos_ - start);
  return is_json_number(m->value);
}

bool JsonReader::parse(std::string_view text) {
  in_ = text;
  pos_ = 0;
  members_.clear();
  scratch_.clear();
  scratch_.reserve(text.size());  // decoded text is never longer: views stay valid
  ws();
  if (pos_ >= in_.size() || in_[pos_] != '{') return false;
  ++pos_;
  ws();
  if (pos_ < in_.size() && in_[pos_] == '}') {
    ++pos_;
    ws();
    return pos_ == in_.size();
  }
  while (true) {
    ws();
    Member m;
    if (pos_ >= in_.size() || in_[pos_] != '"' || !string_body(&m.key)) return false;
    ws();
    if (pos_ >= in_.size() || in_[pos_] != ':') return false;
    ++pos_;
    ws();
    if (!value(&m)) return false;
    members_.push_back(m);
    ws();
    if (pos_ >= in_.size()) return false;
    if (in_[pos_] == ',') {
      ++pos_;
      continue;
    }
    if (in_[pos_] != '}') return false;
    ++pos_;
    ws();
    return pos_ == in_.size();
  }
}

const JsonReader::Member* JsonReader::find(std::string_view key) const {
  for (const Member& m : members_)
    if (m.key == key) return &m;
  return nullptr;
}

std::string_view JsonReader::string(std::string_view key, bool numbers_too) const {
  const Member* m = find(key);
  if (m == nullptr) return {};
  if (m->type == Type::kString || (numbers_too && m->type == Type::kNumber)) return m->value;
  return {};
}

int64_t JsonReader::integer(std::string_view key) const {
  const Member* m = find(key);
  if (m == nullptr || (m->type != Type::kNumber && m->type != Type::kString)) return -1;
  std::string_view v = m->value;
  if (v.empty() || v.size() > 18) return -1;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace pgconn
