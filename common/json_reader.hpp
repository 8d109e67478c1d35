// JsonReader: reads the members of one JSON object (a jsonlog line, a
// platform envelope, an event line). Strings are decoded (escapes, \u with
// surrogate pairs; a lone surrogate becomes U+FFFD); numbers, booleans and
// null are given as their text; a nested object or array as its raw text,
// to be read by another JsonReader.
//
// Views returned are valid until the next parse() on this reader and as
// long as the parsed text lives.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgconn {

// True for an RFC 8259 number ("-1.5e3"; not "01", "1.", "+1").
bool is_json_number(std::string_view text);

class JsonReader {
 public:
  enum class Type : uint8_t { kString, kNumber, kBool, kNull, kObject, kArray };
  struct Member {
    std::string_view key;
    std::string_view value;
    Type type;
  };

  // Parses `text` (surrounding white space allowed). Returns false when it
  // is not one well-formed JSON object; members() is then unspecified.
  bool parse(std::string_view text);

  const std::vector<Member>& members() const { return members_; }

  // The first member named `key`, or nullptr.
  const Member* find(std::string_view key) const;

  // The value of `key` when it is a string (or, with numbers_too, a number).
  std::string_view string(std::string_view key, bool numbers_too = false) const;

  // The value of `key` as an integer, from a number or a string of digits;
  // -1 when absent or not an integer.
  int64_t integer(std::string_view key) const;

 private:
  bool value(Member* m);
  bool string_body(std::string_view* out);
  bool skip_nested();
  void ws();

  std::string_view in_;
  size_t pos_ = 0;
  std::string scratch_;  // decoded strings; reserved so views stay put
  std::vector<Member> members_;
};

}  // namespace pgconn
