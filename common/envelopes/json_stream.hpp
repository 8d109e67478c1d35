// JsonStream: JSON documents out of lines, for envelopes that are not one
// object per line: `aws logs filter-log-events` pretty-prints one document
// over many lines, Firehose writes objects back to back with no newline
// between them ("}{"), test fixtures concatenate pretty-printed records.
//
// A line that does not start (after blanks) with '{' or '[' while no
// document is open is text, not JSON: feed() says so and keeps nothing.
// A document longer than kMaxDocument bytes is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgconn {

// The end (one past the last byte) of the JSON value that starts at
// text[pos] (an object, array, string or scalar), or npos when it does not
// end within `text`. Only the nesting and the strings are checked, not the
// grammar: JsonReader does that.
size_t json_value_end(std::string_view text, size_t pos);

// Calls f(element) for each element of a JSON array's text ("[ {…}, 1 ]"),
// each a view into `array`. Returns false when `f` did, or when `array` is
// not an array (then nothing more is called).
template <typename F>
bool for_each_json_element(std::string_view array, F&& f);

class JsonStream {
 public:
  static constexpr size_t kMaxDocument = size_t{64} << 20;

  enum class Fed : uint8_t {
    kText,     // not JSON: the caller reads the line itself
    kTaken,    // part of a document, or documents; all handed on
    kStopped,  // the callback said stop
  };

  // Feeds one line (no newline). Calls on_doc(text) for every top-level
  // document that ends in it; the view lives during the call only.
  template <typename F>
  Fed feed(std::string_view line, F&& on_doc);

  // True while a document is open.
  bool open() const { return !buf_.empty(); }

  // Documents dropped for their size or for text between documents.
  uint64_t dropped() const { return dropped_; }

 private:
  // Scans buf_ from scan_ for the document's end; npos when still open.
  size_t scan();

  std::string buf_;
  size_t scan_ = 0;
  int depth_ = 0;
  bool in_string_ = false, escape_ = false;
  uint64_t dropped_ = 0;
};

// ---- implementation of the templates ----

inline bool json_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

template <typename F>
bool for_each_json_element(std::string_view a, F&& f) {
  size_t i = 0;
  while (i < a.size() && json_blank(a[i])) ++i;
  if (i >= a.size() || a[i] != '[') return false;
  ++i;
  for (;;) {
    while (i < a.size() && json_blank(a[i])) ++i;
    if (i >= a.size()) return false;
    if (a[i] == ']') return true;
    size_t end = json_value_end(a, i);
    if (end == std::string_view::npos) return false;
    if (!f(a.substr(i, end - i))) return false;
    i = end;
    while (i < a.size() && json_blank(a[i])) ++i;
    if (i < a.size() && a[i] == ',') ++i;
  }
}

template <typename F>
JsonStream::Fed JsonStream::feed(std::string_view line, F&& on_doc) {
  size_t i = 0;
  if (buf_.empty()) {
    while (i < line.size() && json_blank(line[i])) ++i;
    if (i >= line.size() || (line[i] != '{' && line[i] != '[')) return Fed::kText;
  } else {
    buf_.push_back('\n');
  }
  while (i < line.size()) {
    if (buf_.empty()) {
      while (i < line.size() && json_blank(line[i])) ++i;
      if (i >= line.size()) break;
      if (line[i] != '{' && line[i] != '[') {  // text after a document: not ours
        ++dropped_;
        break;
      }
      // A document whole within the line needs no copy.
      size_t end = json_value_end(line, i);
      if (end != std::string_view::npos) {
        if (!on_doc(line.substr(i, end - i))) return Fed::kStopped;
        i = end;
        continue;
      }
    }
    size_t from = buf_.size();
    buf_.append(line.substr(i));
    scan_ = from;
    size_t end = scan();
    if (end == std::string_view::npos) {
      if (buf_.size() > kMaxDocument) {
        buf_.clear();
        depth_ = 0;
        in_string_ = escape_ = false;
        ++dropped_;
      }
      return Fed::kTaken;
    }
    std::string doc = std::move(buf_);
    buf_.clear();
    depth_ = 0;
    in_string_ = escape_ = false;
    i += end - from;
    if (!on_doc(std::string_view(doc).substr(0, end))) return Fed::kStopped;
  }
  return Fed::kTaken;
}

}  // namespace pgconn
