#include <catch2/catch.hpp>

#include <climits>
#include <vector>

#include "codec/event_codec.hpp"

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

// The encoders copy a field shorter than 16 bytes as one 16-byte block when
// it needs no escape, and fall back to the byte walk otherwise: both sides
// of that edge, with the byte needing care first, last and past the end.
TEST_CASE("encode_json and encode_tsv around 16-byte fields", "[event_codec]") {
  for (size_t n : {0u, 1u, 14u, 15u, 16u, 17u, 31u, 32u, 33u}) {
    for (int where : {-1, 0, 1, 2}) {  // none, first, last, middle
      std::string s(n, 'a');
      if (n > 0 && where == 0) s[0] = '"';
      if (n > 0 && where == 1) s[n - 1] = '\\';
      if (n > 2 && where == 2) s[n / 2] = '\x01';
      std::string want_json, want_tsv;
      for (char c : s) {
        if (c == '"') want_json += "\\\"", want_tsv += '"';
        else if (c == '\\') want_json += "\\\\", want_tsv += "\\\\";
        else if (c == '\x01') want_json += "\\u0001", want_tsv += "\\x01";
        else want_json += c, want_tsv += c;
      }
      Event e;
      e.type = EventType::kConnect;
      e.user = s;
      e.via = s;
      CAPTURE(n, where);
      std::string j = json(e);
      if (s.empty()) {
        CHECK(j == "{\"type\":\"connect\"}\n");
      } else {
        CHECK(j == "{\"type\":\"connect\",\"user\":\"" + want_json + "\",\"via\":\"" + want_json + "\"}\n");
      }
      CHECK(j.size() <= json_bound(e));
      std::string t;
      encode_tsv(e, &t);
      CHECK(t == "connect\t\t\t\t\t" + want_tsv + "\t\t\t\t\t\t\t\t\t\t\t\t\t" + want_tsv + "\n");
      CHECK(t.size() <= tsv_bound(e));
    }
  }
}

TEST_CASE("append_json_escaped: every length from 0 to 40, one byte needing care at every place", "[event_codec]") {
  // Each byte is seen whatever the field's length and the byte's place
  // (16-byte blocks and a tail). Bytes: the specials, DEL, a lone UTF-8
  // lead, a whole "é".
  const std::vector<std::pair<std::string, std::string>> cares = {
      {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\x01", "\\u0001"},
      {"\x7f", "\\u007f"}, {"\xc3", "\xef\xbf\xbd"}, {"\xc3\xa9", "\xc3\xa9"}};
  for (size_t n = 0; n <= 40; ++n) {
    for (size_t at = 0; at <= n; ++at) {  // at == n: none
      for (const auto& [care, escaped] : cares) {
        if (at == n && &care != &cares.front().first) continue;
        std::string s(n, 'a'), want(n, 'a');
        for (size_t i = 0; i < n; ++i) s[i] = want[i] = static_cast<char>('a' + i % 26);
        if (at < n) {
          s = s.substr(0, at) + care + s.substr(at + 1);
          want = want.substr(0, at) + escaped + want.substr(at + 1);
        }
        std::string out;
        append_json_escaped(s, &out);
        CAPTURE(n, at, care);
        CHECK(out == want);
      }
    }
  }
}

TEST_CASE("encode_json stays within json_bound at the widest escapes", "[event_codec]") {
  Event e;
  e.type = EventType::kReject;
  e.message = std::string(1000, '\x01');  // 6 bytes each
  e.app = std::string(50, '\xff');        // 3 bytes each (U+FFFD)
  e.pid = INT64_MAX;
  e.duration_ms = INT64_MAX;
  e.port = INT32_MAX;
  e.matched = Flag::kFalse;
  e.replication = Flag::kTrue;
  e.snapshot = Flag::kTrue;
  std::string j = json(e);
  CHECK(j.size() <= json_bound(e));
  CHECK(j.find("\"pid\":9223372036854775807,") != std::string::npos);
  std::string t;
  encode_tsv(e, &t);
  CHECK(t.size() <= tsv_bound(e));
}

TEST_CASE("encode_json into a buffer returns the end of what it wrote", "[event_codec]") {
  Event e;
  e.type = EventType::kDisconnect;
  e.ts = "2026-12-04T08:00:00.003Z";
  e.session = "4242-1";
  e.duration_ms = 0;
  std::vector<char> buf(json_bound(e));
  char* end = encode_json(e, buf.data());
  CHECK(std::string(buf.data(), end) ==
        "{\"type\":\"disconnect\",\"ts\":\"2026-12-04T08:00:00.003Z\",\"session\":\"4242-1\","
        "\"duration_ms\":0}\n");
}

TEST_CASE("encode_json of an EventRef writes the bytes of the Event it stands for",
          "[event_codec]") {
  // Random pooler events: names of 0-40 bytes (around the 16- and 32-byte
  // copies), some with quotes, control bytes or invalid UTF-8; every
  // optional field known or not.
  uint64_t seed = 88172645463325252ull;
  auto next = [&seed]() {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  auto text = [&next]() {
    static const char kBytes[] = "abcXYZ019_-./@:[] \"\\\t\n\x01\x7f\xc3\xa9\xff\xe2\x82";
    std::string s(next() % 41, 'a');
    for (char& c : s) c = kBytes[next() % (sizeof kBytes - 1)];
    return s;
  };
  const std::string_view kReasons[] = {"", "lost", "client_lost", "idle_timeout", "terminated"};
  for (int i = 0; i < 5000; ++i) {
    std::string ts = text(), tz = next() % 4 == 0 ? text() : std::string(), session = text(),
                user = text(), db = text(), app = text(), host = text(), server = text(),
                via = text();
    EventRef r;
    r.type = next() % 2 ? EventType::kConnect : EventType::kDisconnect;
    r.ts = &ts;
    r.tz = &tz;
    r.pid = next() % 3 == 0 ? static_cast<int64_t>(next() % 100000) : -1;
    r.session = &session;
    r.user = &user;
    r.db = &db;
    r.app = &app;
    r.host = &host;
    r.port = next() % 3 == 0 ? -1 : static_cast<int32_t>(next() % 65536);
    r.replication = next() % 4 == 0 ? Flag::kTrue : Flag::kUnset;
    r.duration_ms = next() % 3 == 0 ? -1 : static_cast<int64_t>(next() % 10000000000ull);
    r.reason = kReasons[next() % 5];
    r.matched = static_cast<Flag>(static_cast<int>(next() % 3) - 1);
    r.server = &server;
    r.via = &via;
    Event e;
    assign_ref(r, &e);
    std::vector<char> buf(json_bound(r) + 16);
    char* end = encode_json(r, buf.data());
    REQUIRE(static_cast<size_t>(end - buf.data()) <= json_bound(r));
    REQUIRE(std::string(buf.data(), end) == json(e));
  }
}
