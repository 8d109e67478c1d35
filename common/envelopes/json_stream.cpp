#include "envelopes/json_stream.hpp"

namespace pgconn {

size_t json_value_end(std::string_view t, size_t pos) {
  if (pos >= t.size()) return std::string_view::npos;
  char c = t[pos];
  if (c == '"') {
    for (size_t i = pos + 1; i < t.size(); ++i) {
      if (t[i] == '\\') {
        ++i;
      } else if (t[i] == '"') {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }
  if (c != '{' && c != '[') {  // a scalar: up to a delimiter
    size_t i = pos;
    while (i < t.size() && t[i] != ',' && t[i] != ']' && t[i] != '}' && !json_blank(t[i])) ++i;
    return i;
  }
  int depth = 0;
  bool in_string = false;
  for (size_t i = pos; i < t.size(); ++i) {
    char ch = t[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string = true;
    } else if (ch == '{' || ch == '[') {
      ++depth;
    } else if (ch == '}' || ch == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

// Resumes where the last line stopped, so a long document is scanned once.
size_t JsonStream::scan() {
  for (size_t i = scan_; i < buf_.size(); ++i) {
    char ch = buf_[i];
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (ch == '\\') {
        escape_ = true;
      } else if (ch == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string_ = true;
    } else if (ch == '{' || ch == '[') {
      ++depth_;
    } else if (ch == '}' || ch == ']') {
      if (--depth_ == 0) return i + 1;
    }
  }
  scan_ = buf_.size();
  return std::string_view::npos;
}

}  // namespace pgconn
