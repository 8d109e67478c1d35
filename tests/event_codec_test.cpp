#include <catch2/catch.hpp>

#include "event_codec.hpp"

using namespace pgconn;

namespace {
std::string json(const Event& e) {
  std::string out;
  encode_json(e, &out);
  return out;
}
}  // namespace

TEST_CASE("encode_json writes keys in schema order and omits unknowns", "[event_codec]") {
  Event e;
  e.type = EventType::kDisconnect;
  e.ts = "2024-05-01T10:01:02.450Z";
  e.pid = 812;
  e.session = "812-1";
  e.user = "app";
  e.db = "shop";
  e.host = "10.0.0.5";
  e.port = 51234;
  e.duration_ms = 62345;
  e.matched = Flag::kTrue;
  CHECK(json(e) ==
        "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T10:01:02.450Z\",\"pid\":812,"
        "\"session\":\"812-1\",\"user\":\"app\",\"db\":\"shop\",\"host\":\"10.0.0.5\","
        "\"port\":51234,\"duration_ms\":62345,\"matched\":true}\n");
}

TEST_CASE("encode_json escapes control characters and replaces invalid UTF-8", "[event_codec]") {
  Event e;
  e.type = EventType::kConnect;
  e.app = "a\x1b[31m\"b\\\n\xff\xc3\xa9";
  CHECK(json(e) == "{\"type\":\"connect\",\"app\":\"a\\u001b[31m\\\"b\\\\\\n\xEF\xBF\xBD\xC3\xA9\"}\n");
}

TEST_CASE("encode_json keeps a NUL byte as an escape", "[event_codec]") {
  Event e;
  e.type = EventType::kConnect;
  e.user = std::string("a\0b", 3);
  CHECK(json(e) == "{\"type\":\"connect\",\"user\":\"a\\u0000b\"}\n");
}

TEST_CASE("encode_tsv leaves unknown fields empty and escapes tab, newline, backslash",
          "[event_codec]") {
  Event e;
  e.type = EventType::kReject;
  e.user = "a\tb";
  e.message = "x\\y\nz";
  e.reason = "other";
  e.matched = Flag::kFalse;
  std::string out;
  encode_tsv(e, &out);
  CHECK(out == "reject\t\t\t\t\ta\\tb\t\t\t\t\t\t\tother\tx\\\\y\\nz\tfalse\t\t\t\t\n");
}
