// decode_event(): one line of the event stream, NDJSON or TSV, back into an
// Event (event_codec.hpp, SPEC.md §2). Lines come from encode_json and
// encode_tsv, or are written by hand for the general JSON reader and for
// damaged input.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "event.hpp"
#include "codec/event_codec.hpp"

using namespace pgconn;

namespace {

// Every field, in the schema's order, for comparisons and messages.
std::string dump(const Event& e) {
  return fmt::format(
      "type={} ts={} tz={} pid={} session={} user={} db={} app={} host={} port={} repl={} "
      "snapshot={} duration={} reason={} message={} matched={} state={} server={} via={}",
      event_type_name(e.type), e.ts, e.tz, e.pid, e.session, e.user, e.db, e.app, e.host, e.port,
      static_cast<int>(e.replication), static_cast<int>(e.snapshot), e.duration_ms, e.reason,
      e.message, static_cast<int>(e.matched), e.state, e.server, e.via);
}

// The line without its '\n', as the input loop hands it over.
std::string json(const Event& e) {
  std::string s;
  encode_json(e, &s);
  s.pop_back();
  return s;
}
std::string tsv(const Event& e) {
  std::string s;
  encode_tsv(e, &s);
  s.pop_back();
  return s;
}

struct Result {
  Decoded d;
  Event e;
  std::string why;
};
Result decode(std::string_view line) {
  Result r;
  std::string_view why;
  r.d = decode_event(line, &r.e, &why);
  r.why = std::string(why);
  return r;
}

// An event with every field set, strings with escapes and non-ASCII.
Event full_event() {
  Event e;
  e.type = EventType::kDisconnect;
  e.ts = "2024-03-01T10:00:00.123+01:00";
  e.tz = "CET";
  e.pid = 4106;
  e.session = "65e1a2b3.100a";
  e.user = "app \"user\" \\ \t\n\r";
  e.db = std::string("donn\xC3\xA9" "es\x1b[31m\x01\x7f", 12) + std::string("\0z", 2);
  e.app = "\xE6\x97\xA5\xE6\x9C\xAC\xF0\x9F\x98\x80 rails";
  e.host = "[local]";
  e.port = 65535;
  e.replication = Flag::kTrue;
  e.duration_ms = 3594998;
  e.reason = "client_lost";
  e.message = "password authentication failed for user \"app\"";
  e.matched = Flag::kFalse;
  e.state = "ready";
  e.server = "db1\tprimary";
  e.snapshot = Flag::kTrue;
  e.via = "pg\tbouncer";
  return e;
}

}  // namespace

TEST_CASE("decode_event: JSON round trip of every field", "[event_decode]") {
  const Event e = full_event();
  Result r = decode(json(e));
  REQUIRE(r.d == Decoded::kEvent);
  CHECK(dump(r.e) == dump(e));
  CHECK(r.e.db == e.db);  // NUL and all
}

TEST_CASE("decode_event: TSV round trip of every field", "[event_decode]") {
  const Event e = full_event();
  Result r = decode(tsv(e));
  REQUIRE(r.d == Decoded::kEvent);
  CHECK(dump(r.e) == dump(e));
  CHECK(r.e.db == e.db);
  CHECK(r.e.user == e.user);
  CHECK(r.e.server == e.server);
}

TEST_CASE("decode_event: round trip of each type and of the flags", "[event_decode]") {
  for (EventType t : {EventType::kConnect, EventType::kDisconnect, EventType::kReject,
                      EventType::kServer, EventType::kUpdate}) {
    Event e;
    e.type = t;
    e.ts = "2024-03-01T10:00:00Z";
    e.session = "s";
    e.matched = Flag::kTrue;
    for (const std::string& line : {json(e), tsv(e)}) {
      INFO(line);
      Result r = decode(line);
      REQUIRE(r.d == Decoded::kEvent);
      CHECK(dump(r.e) == dump(e));
    }
  }
  // replication is written only when true: false comes back unknown.
  Event e;
  e.replication = Flag::kFalse;
  CHECK(decode(json(e)).e.replication == Flag::kUnset);
  CHECK(decode(tsv(e)).e.replication == Flag::kUnset);
  // An event with nothing but its type.
  Event bare;
  bare.type = EventType::kReject;
  CHECK(json(bare) == "{\"type\":\"reject\"}");
  CHECK(dump(decode(json(bare)).e) == dump(bare));
  CHECK(dump(decode(tsv(bare)).e) == dump(bare));
}

TEST_CASE("decode_event: TSV of earlier versions (17 columns) still reads", "[event_decode]") {
  // Before snapshot and via were added: the server is the last column.
  Result r = decode("connect\t2024-03-01T10:00:00Z\t\t812\ts\tu\td\ta\th\t5432\t\t\t\t\t\t\tdb1");
  REQUIRE(r.d == Decoded::kEvent);
  CHECK(r.e.server == "db1");
  CHECK(r.e.port == 5432);
  CHECK(r.e.snapshot == Flag::kUnset);
  CHECK(r.e.via.empty());
  // ... and its header is passed over like today's.
  CHECK(decode("type\tts\ttz\tpid\tsession\tuser\tdb\tapp\thost\tport\treplication\t"
               "duration_ms\treason\tmessage\tmatched\tstate\tserver").d == Decoded::kSkip);
}

TEST_CASE("decode_event: snapshot and via in the key order", "[event_decode]") {
  Event e;
  e.type = EventType::kConnect;
  e.pid = 7;
  e.replication = Flag::kTrue;
  e.snapshot = Flag::kTrue;
  e.duration_ms = 5;
  e.server = "b";
  e.via = "pgbouncer";
  CHECK(json(e) == "{\"type\":\"connect\",\"pid\":7,\"replication\":true,\"snapshot\":true,"
                   "\"duration_ms\":5,\"server\":\"b\",\"via\":\"pgbouncer\"}");
  CHECK(decode("{\"type\":\"connect\",\"snapshot\":\"yes\"}").d == Decoded::kMalformed);
}

TEST_CASE("decode_event: invalid UTF-8 comes back as U+FFFD", "[event_decode]") {
  Event e;
  e.app = "a\xFF" "b";
  CHECK(decode(json(e)).e.app == "a\xEF\xBF\xBD" "b");
  CHECK(decode(tsv(e)).e.app == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("decode_event: a reused Event keeps nothing from the line before", "[event_decode]") {
  Event reused = full_event();
  std::string_view why;
  REQUIRE(decode_event("{\"type\":\"connect\",\"user\":\"u\"}", &reused, &why) == Decoded::kEvent);
  Event expected;
  expected.user = "u";
  CHECK(dump(reused) == dump(expected));

  reused = full_event();
  REQUIRE(decode_event("{ \"type\": \"connect\", \"user\": \"u\" }", &reused, &why) == Decoded::kEvent);
  CHECK(dump(reused) == dump(expected));

  reused = full_event();
  REQUIRE(decode_event(tsv(expected), &reused, &why) == Decoded::kEvent);
  CHECK(dump(reused) == dump(expected));
}

TEST_CASE("decode_event: unknown keys are ignored", "[event_decode]") {
  Event expected;
  expected.user = "u";
  expected.pid = 7;
  for (const char* line : {
           "{\"type\":\"connect\",\"extra\":1,\"user\":\"u\",\"more\":\"x\",\"pid\":7,\"flag\":true}",
           "{\"type\":\"connect\",\"user\":\"u\",\"pid\":7,\"nested\":{\"a\":[1,{\"b\":\"}\"}]}}",
           "{\"type\":\"connect\",\"list\":[\"user\",\"x\"],\"user\":\"u\",\"pid\":7,\"n\":null}",
           "{\"type\":\"connect\",\"user\":\"u\",\"pid\":7,\"future_field\":-1.5e3}",
       }) {
    INFO(line);
    Result r = decode(line);
    REQUIRE(r.d == Decoded::kEvent);
    CHECK(dump(r.e) == dump(expected));
  }
}

TEST_CASE("decode_event: null is an unknown value", "[event_decode]") {
  Result r = decode("{\"type\":\"connect\",\"user\":null,\"pid\":null,\"matched\":null}");
  REQUIRE(r.d == Decoded::kEvent);
  CHECK(dump(r.e) == dump(Event{}));
}

TEST_CASE("decode_event: lines to pass over quietly", "[event_decode]") {
  CHECK(decode("").d == Decoded::kSkip);
  CHECK(decode("   \t ").d == Decoded::kSkip);
  CHECK(decode("\r").d == Decoded::kSkip);
  CHECK(decode(kTsvHeader).d == Decoded::kSkip);
  CHECK(decode(std::string(kTsvHeader) + "\r").d == Decoded::kSkip);
  // An event type a later version may add, in both formats.
  CHECK(decode("{\"type\":\"heartbeat\",\"ts\":\"2024-03-01T10:00:00Z\"}").d == Decoded::kSkip);
  CHECK(decode("{ \"type\" : \"heartbeat\" , \"x\" : [1] }").d == Decoded::kSkip);
  CHECK(decode("{\"ts\":\"2024-03-01T10:00:00Z\",\"type\":\"heartbeat\"}").d == Decoded::kSkip);
  CHECK(decode("heartbeat\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t").d == Decoded::kSkip);
}

TEST_CASE("decode_event: malformed lines say why", "[event_decode]") {
  Result garbage = decode("garbage here");
  CHECK(garbage.d == Decoded::kMalformed);
  CHECK(garbage.why == "not 17 or more tab-separated columns");
  Result few = decode("connect\t2024-03-01T10:00:00Z\t\t812\ts");
  CHECK(few.d == Decoded::kMalformed);
  CHECK(few.why == "not 17 or more tab-separated columns");

  for (const char* line : {
           "{",
           "{\"type\":\"connect\"",
           "{\"type\":\"connect\",\"user\":\"u\"",
           "{\"type\":\"connect\",}",
           "{\"type\":\"connect\",\"user\":}",
           "{\"type\":\"connect\",\"user\":\"u\"}}",
           "{\"type\":\"connect\"} trailing",
           "{\"type\":\"connect\",\"user\":\"unterminated}",
           "{type:connect}",
       }) {
    INFO(line);
    Result r = decode(line);
    CHECK(r.d == Decoded::kMalformed);
    CHECK(r.why == "not a JSON object");
  }
  CHECK(decode("[\"type\",\"connect\"]").d == Decoded::kMalformed);  // not '{': read as TSV

  Result untyped = decode("{\"user\":\"u\"}");
  CHECK(untyped.d == Decoded::kMalformed);
  CHECK(untyped.why == "no \"type\"");
  CHECK(decode("{\"type\":5}").why == "no \"type\"");
  CHECK(decode("{\"type\":null}").why == "no \"type\"");
}

TEST_CASE("decode_event: invalid JSON is malformed on the fast path too", "[event_decode]") {
  // Regression (was a bug): decode_json_fast() takes any bare text up to ',' or '}' as the
  // value of a key it does not know, so these lines, which are not JSON
  // (jq rejects them), decode as events instead of kMalformed.
  for (const char* line : {
           "{\"type\":\"connect\",\"x\":nope}",
           "{\"type\":\"connect\",\"x\":tru,\"user\":\"u\"}",
           "{\"type\":\"connect\",\"x\":1 2}",
       }) {
    INFO(line);
    CHECK(decode(line).d == Decoded::kMalformed);
  }
}

TEST_CASE("decode_event: fields of the wrong type are malformed", "[event_decode]") {
  for (const char* line : {
           "{\"type\":\"connect\",\"pid\":\"812\"}",
           "{\"type\":\"connect\",\"pid\":-1}",
           "{\"type\":\"connect\",\"pid\":1.5}",
           "{\"type\":\"connect\",\"pid\":true}",
           "{\"type\":\"connect\",\"user\":5}",
           "{\"type\":\"connect\",\"user\":true}",
           "{\"type\":\"connect\",\"user\":{\"a\":1}}",
           "{\"type\":\"connect\",\"user\":[\"a\"]}",
           "{\"type\":\"connect\",\"port\":70000}",
           "{\"type\":\"connect\",\"port\":\"5432\"}",
           "{\"type\":\"connect\",\"replication\":\"true\"}",
           "{\"type\":\"connect\",\"replication\":1}",
           "{\"type\":\"connect\",\"matched\":\"false\"}",
           "{\"type\":\"disconnect\",\"duration_ms\":\"12\"}",
           "{ \"type\": \"connect\", \"pid\": \"812\" }",
       }) {
    INFO(line);
    Result r = decode(line);
    CHECK(r.d == Decoded::kMalformed);
    CHECK(r.why == "a field has the wrong type");
  }
  Event e;
  e.pid = 812;
  std::string line = tsv(e);
  line.replace(line.find("812"), 3, "8x2");
  Result r = decode(line);
  CHECK(r.d == Decoded::kMalformed);
  CHECK(r.why == "a column has the wrong type");
  std::string flag = tsv(e);
  flag.replace(flag.find("\t\t\t\t\t\t\t") + 6, 0, "yes");  // replication = "yes"
  CHECK(decode(flag).d == Decoded::kMalformed);
}

TEST_CASE("decode_event: the general JSON path equals the fast path", "[event_decode]") {
  Event e = full_event();
  e.user = "plain";
  e.db = "production";
  e.app = "rails";
  e.server = "db1";
  e.message = "sorry, too many clients already";
  e.snapshot = Flag::kUnset;
  e.via = "";
  const std::string compact = json(e);
  Result fast = decode(compact);
  REQUIRE(fast.d == Decoded::kEvent);
  CHECK(dump(fast.e) == dump(e));

  // White space everywhere.
  std::string spaced;
  for (size_t i = 0; i < compact.size(); ++i) {
    char c = compact[i];
    bool in_string = false;
    for (size_t j = 0; j < i; ++j)
      if (compact[j] == '"' && (j == 0 || compact[j - 1] != '\\')) in_string = !in_string;
    if (!in_string && (c == ',' || c == ':' || c == '{')) spaced += std::string(1, c) + " \t ";
    else if (!in_string && c == '}') spaced += " }";
    else spaced.push_back(c);
  }
  INFO(spaced);
  Result s = decode("  " + spaced + "  ");
  REQUIRE(s.d == Decoded::kEvent);
  CHECK(dump(s.e) == dump(e));

  // Escapes the encoder never writes, keys in another order, nested unknowns.
  const std::string general =
      "{\"server\":\"db\\u0031\",\"type\":\"disconnect\",\"ts\":\"2024-03-01T10:00:00.123+01:00\","
      "\"tz\":\"CET\",\"pid\":4106,\"session\":\"65e1a2b3.100a\",\"u\\u0073er\":\"pl\\u0061in\","
      "\"db\":\"production\",\"app\":\"rails\",\"host\":\"[local]\",\"port\":65535,"
      "\"replication\":true,\"duration_ms\":3594998,\"reason\":\"client\\/lost\","
      "\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"message\":\"sorry, too many clients already\","
      "\"matched\":false,\"state\":\"ready\"}";
  Event slashed = e;
  slashed.reason = "client/lost";
  Result g = decode(general);
  REQUIRE(g.d == Decoded::kEvent);
  CHECK(dump(g.e) == dump(slashed));

  // \u escapes for non-ASCII, a surrogate pair, and escaped control characters.
  Result u = decode(
      "{\"type\":\"connect\",\"app\":\"\\u65e5\\u672c\\ud83d\\ude00 r\\u0061ils\","
      "\"user\":\"a\\u001b[31m\\t\\\"\"}");
  REQUIRE(u.d == Decoded::kEvent);
  CHECK(u.e.app == "\xE6\x97\xA5\xE6\x9C\xAC\xF0\x9F\x98\x80 rails");
  CHECK(u.e.user == "a\x1b[31m\t\"");
}

TEST_CASE("decode_event: a CRLF line end is not part of the last field", "[event_decode]") {
  Event e;
  e.user = "u";
  e.server = "db1";
  CHECK(dump(decode(json(e) + "\r").e) == dump(e));
  CHECK(dump(decode(tsv(e) + "\r").e) == dump(e));
}

TEST_CASE("decode_event: members read by key order decode as the general reader does", "[event_decode]") {
  // decode_json_fast() reads the members it expects in the schema's order
  // by comparing the key at once (member_fast()); every other member goes
  // the long way. Each line here, compact, must decode exactly as it does
  // with a space after '{' (which only the general JSON reader takes).
  const std::string head = "{\"type\":\"disconnect\",";
  for (const char* members : {
           "\"ts\":\"2024-03-01T10:00:00.123Z\",\"pid\":812,\"port\":5432,\"duration_ms\":0}",
           "\"pid\":007}", "\"pid\":0}", "\"pid\":00}", "\"port\":65535}", "\"port\":65536}",
           "\"port\":0123}", "\"duration_ms\":123456789012345678}",
           "\"duration_ms\":1234567890123456789}", "\"pid\":12x}", "\"pid\":12,\"pid\":13}",
           "\"pid\":1e3}", "\"pid\":-0}", "\"pid\":}", "\"pid\":",
           "\"matched\":true}", "\"matched\":false}", "\"matched\":truex}", "\"matched\":tru}",
           "\"matched\":true,\"replication\":false,\"snapshot\":true}", "\"snapshot\":false}",
           "\"user\":\"b\",\"user\":\"a\"}", "\"via\":\"x\",\"ts\":\"t\",\"server\":\"s\"}",
           "\"user\":\"a\\\"b\"}", "\"user\":\"a\\u0041\"}", "\"user\":\"a\tb\"}", "\"user\":5}",
           "\"user\":\"a\"", "\"user\":\"", "\"user\"", "\"user\":null}", "\"users\":\"x\",\"user\":\"y\"}",
           "\"use\":\"x\"}", "\"ts\":\"a\",\"tz\":\"b\",\"session\":\"c\",\"db\":\"d\",\"app\":\"e\","
           "\"host\":\"f\",\"reason\":\"g\",\"message\":\"h\",\"state\":\"i\",\"server\":\"j\",\"via\":\"k\"}",
           "\"duration_ms\":12}x", "\"duration_ms\":12 }",
       }) {
    const std::string compact = head + members;
    const std::string spaced = "{ " + compact.substr(1);
    INFO(compact);
    Result fast = decode(compact), general = decode(spaced);
    CHECK(fast.d == general.d);
    CHECK(fast.why == general.why);
    if (fast.d == Decoded::kEvent) CHECK(dump(fast.e) == dump(general.e));
  }
}
