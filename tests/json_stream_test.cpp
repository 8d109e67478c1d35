#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "envelopes/json_stream.hpp"

using namespace pgconn;

namespace {
std::vector<std::string> docs_of(JsonStream* s, const std::vector<std::string>& lines,
                                 std::vector<JsonStream::Fed>* fed = nullptr) {
  std::vector<std::string> docs;
  for (const std::string& l : lines) {
    JsonStream::Fed f = s->feed(l, [&](std::string_view d) {
      docs.emplace_back(d);
      return true;
    });
    if (fed) fed->push_back(f);
  }
  return docs;
}
}  // namespace

TEST_CASE("JsonStream: one object a line, and text", "[json_stream]") {
  JsonStream s;
  std::vector<JsonStream::Fed> fed;
  auto docs = docs_of(&s, {R"({"a":1})", "plain text", R"(  {"b":"}"})"}, &fed);
  REQUIRE(docs == std::vector<std::string>{R"({"a":1})", R"({"b":"}"})"});
  CHECK(fed[1] == JsonStream::Fed::kText);
}

TEST_CASE("JsonStream: pretty-printed over lines, braces inside strings", "[json_stream]") {
  JsonStream s;
  auto docs = docs_of(&s, {"{", R"(  "m": "a { b \" } [",)", R"(  "e": [1, {"x": 2}])", "}"});
  REQUIRE(docs.size() == 1);
  CHECK(docs[0] == "{\n  \"m\": \"a { b \\\" } [\",\n  \"e\": [1, {\"x\": 2}]\n}");
  CHECK_FALSE(s.open());
}

TEST_CASE("JsonStream: objects back to back on one line and across lines", "[json_stream]") {
  JsonStream s;
  auto docs = docs_of(&s, {R"({"a":1}{"b":2} {"c":)", R"(3}{"d":4})"});
  REQUIRE(docs == std::vector<std::string>{R"({"a":1})", R"({"b":2})", "{\"c\":\n3}", R"({"d":4})"});
}

TEST_CASE("JsonStream: the callback stops it", "[json_stream]") {
  JsonStream s;
  int n = 0;
  auto fed = s.feed(R"({"a":1}{"b":2})", [&](std::string_view) { return ++n < 1; });
  CHECK(fed == JsonStream::Fed::kStopped);
  CHECK(n == 1);
}

TEST_CASE("for_each_json_element and json_value_end", "[json_stream]") {
  std::vector<std::string> els;
  REQUIRE(for_each_json_element(R"( [ {"a":"]"}, 12 , "s", [1,2] ] )", [&](std::string_view e) {
    els.emplace_back(e);
    return true;
  }));
  CHECK(els == std::vector<std::string>{R"({"a":"]"})", "12", "\"s\"", "[1,2]"});
  CHECK_FALSE(for_each_json_element("{}", [](std::string_view) { return true; }));
  CHECK_FALSE(for_each_json_element("[1, {", [](std::string_view) { return true; }));
  CHECK(json_value_end(R"({"a":[1]} x)", 0) == 9);
  CHECK(json_value_end(R"({"a":[1)", 0) == std::string_view::npos);
}
