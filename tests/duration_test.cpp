// parse_duration() and format_duration() (duration.hpp): the option values
// of --bucket, --last and --interval, and durations as people read them.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "duration.hpp"

using namespace pgconn;

namespace {

int64_t ms(std::string_view text) {
  auto r = parse_duration("--bucket", text);
  INFO("parse_duration(\"" << std::string(text) << "\")");
  REQUIRE(r.ok());
  return *r;
}

std::string error(std::string_view what, std::string_view text) {
  auto r = parse_duration(what, text);
  if (r.ok()) return "accepted as " + std::to_string(*r) + " ms";
  return r.error();
}

}  // namespace

TEST_CASE("parse_duration accepts a number and a unit", "[duration]") {
  CHECK(ms("500ms") == 500);
  CHECK(ms("1ms") == 1);
  CHECK(ms("90s") == 90000);
  CHECK(ms("15m") == 15 * 60000);
  CHECK(ms("60m") == 3600000);
  CHECK(ms("1h") == 3600000);
  CHECK(ms("2d") == 2 * 86400000);
  CHECK(ms("200ms") == 200);
}

TEST_CASE("parse_duration adds several parts", "[duration]") {
  CHECK(ms("1h30m") == 5400000);
  CHECK(ms("1m30s") == 90000);
  CHECK(ms("1s500ms") == 1500);
  CHECK(ms("1d2h") == 86400000 + 2 * 3600000);
}

TEST_CASE("parse_duration: exact error messages", "[duration]") {
  CHECK(error("--bucket", "abc") ==
        "bad --bucket \"abc\": expected a number and a unit (ms, s, m, h, d), like \"15m\"");
  CHECK(error("--last", "-5m") == "bad --last \"-5m\": must be positive");
  CHECK(error("--bucket", "5x") == "bad --bucket \"5x\": unknown unit \"x\"");
  CHECK(error("--interval", "") ==
        "bad --interval \"\": expected a number and a unit (ms, s, m, h, d), like \"15m\"");
  CHECK(error("--bucket", "0s") == "bad --bucket \"0s\": must be positive");
  CHECK(error("--bucket", "0m0s") == "bad --bucket \"0m0s\": must be positive");
  CHECK(error("--bucket", "15") == "bad --bucket \"15\": a unit is missing (ms, s, m, h, d)");
  CHECK(error("--bucket", "m") ==
        "bad --bucket \"m\": expected a number and a unit (ms, s, m, h, d), like \"15m\"");
}

TEST_CASE("parse_duration rejects what is not one of its forms", "[duration]") {
  for (const char* bad : {" 5m", "5m ", "5 m", "1.5h", "+5m", "5mm", "m5", "5m-", "--5m", "1h 30m"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration("--bucket", bad).ok());
  }
}

TEST_CASE("parse_duration: huge values are too large, never wrapped", "[duration]") {
  CHECK(error("--bucket", "99999999999999999999s") ==
        "bad --bucket \"99999999999999999999s\": too large");
  CHECK(error("--bucket", "9999999999999m") == "bad --bucket \"9999999999999m\": too large");
  // Regression (was a bug): the number is capped at 2^40 before it is multiplied by the unit,
  // so n * 86400000 overflows int64_t (undefined behaviour) for a day count
  // above about 1.07e11: 213503982335d wraps to 2^64 + 34448384 and is
  // accepted as 34448384 ms (9h34m); 1000000000000d is accepted as
  // -5833720368547758080 ms (the "must be positive" check is optimised away
  // at -O2). `pgconn-agg --history --bucket=1000000000000d` then prints a
  // one-bucket history dated 01-01 00:00:00 and exits 0.
  CHECK(error("--bucket", "213503982335d") == "bad --bucket \"213503982335d\": too large");
  CHECK(error("--bucket", "1000000000000d") == "bad --bucket \"1000000000000d\": too large");
}

TEST_CASE("format_duration writes what people read", "[duration]") {
  CHECK(format_duration(0) == "0ms");
  CHECK(format_duration(850) == "850ms");
  CHECK(format_duration(999) == "999ms");
  CHECK(format_duration(1000) == "1.0s");
  CHECK(format_duration(2300) == "2.3s");
  CHECK(format_duration(2399) == "2.3s");
  CHECK(format_duration(59900) == "59.9s");
  CHECK(format_duration(60000) == "1m00s");
  CHECK(format_duration(252000) == "4m12s");
  CHECK(format_duration(3599000) == "59m59s");
  CHECK(format_duration(3 * 3600000 + 2 * 60000) == "3h02m");
  CHECK(format_duration(3 * 3600000 + 2 * 60000 + 59000) == "3h02m");
  CHECK(format_duration(2 * 86400000 + 3 * 3600000) == "2d03h");
  CHECK(format_duration(-5) == "0ms");
}

TEST_CASE("format_duration and parse_duration agree on whole units", "[duration]") {
  CHECK(ms("850ms") == 850);
  CHECK(ms("4m12s") == 252000);
  CHECK(format_duration(ms("3h02m")) == "3h02m");
  CHECK(format_duration(ms("2d03h")) == "2d03h");
}
