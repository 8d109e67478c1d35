#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "timestamp.hpp"

using namespace pgconn;

namespace {

constexpr int64_t k20240501 = 1714557600000;  // 2024-05-01 10:00:00 UTC, ms

std::string rfc(const Timestamp& t) {
  std::string out;
  append_rfc3339(t, &out);
  return out;
}

Timestamp pg(std::string_view text) {
  Timestamp t;
  REQUIRE(parse_pg_time(text, &t));
  return t;
}

Timestamp iso(std::string_view text) {
  Timestamp t;
  REQUIRE(parse_iso_time(text, &t));
  return t;
}

}  // namespace

TEST_CASE("days_from_civil counts days from 1970-01-01", "[timestamp]") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(1970, 1, 2) == 1);
  CHECK(days_from_civil(1969, 12, 31) == -1);
  CHECK(days_from_civil(2000, 3, 1) == 11017);
  CHECK(days_from_civil(2024, 2, 29) + 1 == days_from_civil(2024, 3, 1));
  CHECK(days_from_civil(2023, 3, 1) - days_from_civil(2023, 2, 28) == 1);
  CHECK(days_from_civil(2024, 5, 1) == 19844);
}

TEST_CASE("A default Timestamp is not valid and has no zone", "[timestamp]") {
  Timestamp t;
  CHECK_FALSE(t.valid());
  CHECK(t.zone == Timestamp::Zone::kNone);
  CHECK_FALSE(t.has_ms);
}

TEST_CASE("parse_pg_time reads %m with UTC", "[timestamp]") {
  Timestamp t = pg("2024-05-01 10:00:00.123 UTC");
  CHECK(t.valid());
  CHECK(t.wall_ms == k20240501 + 123);
  CHECK(t.has_ms);
  CHECK(t.zone == Timestamp::Zone::kUtc);
  CHECK(t.sort_ms() == k20240501 + 123);
  CHECK(rfc(t) == "2024-05-01T10:00:00.123Z");
}

TEST_CASE("parse_pg_time reads %t without milliseconds", "[timestamp]") {
  Timestamp t = pg("2024-05-01 10:00:00 UTC");
  CHECK(t.wall_ms == k20240501);
  CHECK_FALSE(t.has_ms);
  CHECK(rfc(t) == "2024-05-01T10:00:00Z");
}

TEST_CASE("parse_pg_time treats GMT and UCT as UTC", "[timestamp]") {
  CHECK(pg("2024-05-01 10:00:00 GMT").zone == Timestamp::Zone::kUtc);
  CHECK(pg("2024-05-01 10:00:00 UCT").zone == Timestamp::Zone::kUtc);
  CHECK(rfc(pg("2024-05-01 10:00:00.000 GMT")) == "2024-05-01T10:00:00.000Z");
}

TEST_CASE("parse_pg_time keeps a zone abbreviation as written, without offset", "[timestamp]") {
  Timestamp t = pg("2024-05-01 10:00:00.500 CEST");
  CHECK(t.zone == Timestamp::Zone::kAbbrev);
  CHECK(std::string(t.abbrev) == "CEST");
  CHECK(t.wall_ms == k20240501 + 500);
  CHECK(t.sort_ms() == t.wall_ms);
  CHECK(rfc(t) == "2024-05-01T10:00:00.500");

  Timestamp est = pg("2024-01-15 23:59:59 EST");
  CHECK(std::string(est.abbrev) == "EST");
  CHECK(rfc(est) == "2024-01-15T23:59:59");
}

TEST_CASE("parse_pg_time accepts a seven-letter abbreviation and rejects eight", "[timestamp]") {
  Timestamp t = pg("2024-05-01 10:00:00 ABCDEFG");
  CHECK(std::string(t.abbrev) == "ABCDEFG");
  Timestamp u;
  CHECK_FALSE(parse_pg_time("2024-05-01 10:00:00 ABCDEFGH", &u));
}

TEST_CASE("parse_pg_time reads numeric zones +03, -0330 and +05:45", "[timestamp]") {
  Timestamp a = pg("2024-05-01 10:00:00 +03");
  CHECK(a.zone == Timestamp::Zone::kOffset);
  CHECK(a.offset_min == 180);
  CHECK(a.sort_ms() == k20240501 - 180 * 60000);
  CHECK(rfc(a) == "2024-05-01T10:00:00+03:00");

  Timestamp b = pg("2024-05-01 10:00:00.250 -0330");
  CHECK(b.offset_min == -210);
  CHECK(b.sort_ms() == k20240501 + 250 + 210 * 60000);
  CHECK(rfc(b) == "2024-05-01T10:00:00.250-03:30");

  Timestamp c = pg("2024-05-01 10:00:00 +05:45");
  CHECK(c.offset_min == 345);
  CHECK(rfc(c) == "2024-05-01T10:00:00+05:45");
}

TEST_CASE("parse_pg_time reads a zero numeric offset as UTC", "[timestamp]") {
  Timestamp t = pg("2024-05-01 10:00:00 +00");
  CHECK(t.zone == Timestamp::Zone::kUtc);
  CHECK(rfc(t) == "2024-05-01T10:00:00Z");
}

TEST_CASE("parse_pg_time without a zone has none", "[timestamp]") {
  Timestamp t = pg("2024-05-01 10:00:00");
  CHECK(t.zone == Timestamp::Zone::kNone);
  CHECK(rfc(t) == "2024-05-01T10:00:00");
}

TEST_CASE("parse_pg_time pads short fractions and drops digits past milliseconds", "[timestamp]") {
  CHECK(pg("2024-05-01 10:00:00.1 UTC").wall_ms == k20240501 + 100);
  CHECK(pg("2024-05-01 10:00:00.12 UTC").wall_ms == k20240501 + 120);
  CHECK(pg("2024-05-01 10:00:00.123456 UTC").wall_ms == k20240501 + 123);
  CHECK(rfc(pg("2024-05-01 10:00:00.007 UTC")) == "2024-05-01T10:00:00.007Z");
}

TEST_CASE("parse_pg_time reads a leap day and the end of a year", "[timestamp]") {
  CHECK(rfc(pg("2024-02-29 12:34:56.789 UTC")) == "2024-02-29T12:34:56.789Z");
  CHECK(rfc(pg("1999-12-31 23:59:59 UTC")) == "1999-12-31T23:59:59Z");
  CHECK(pg("1970-01-01 00:00:00 UTC").wall_ms == 0);
}

TEST_CASE("parse_pg_time rejects what is not PostgreSQL's time form", "[timestamp]") {
  const char* bad[] = {
      "",
      "2024",
      "2024-05-01",
      "2024-05-01 10:00",
      "2024-05-01T10:00:00",       // ISO separator
      "2024-05-01 10:00:00.",      // a dot and nothing
      "2024-05-01 10:00:00.123x",
      "2024-05-01 10:00:00 UTC x",
      "2024-05-01 10:00:00  UTC",
      "2024-5-01 10:00:00",
      "2024-05-01 1:00:00",
      "2024-13-01 10:00:00",
      "2024-00-01 10:00:00",
      "2024-05-00 10:00:00",
      "2024-05-32 10:00:00",
      "2024-05-01 25:00:00",
      "2024-05-01 10:60:00",
      "2024-05-01 10:00:61",
      "2024-05-01 10:00:00 U1C",
      "2024-05-01 10:00:00 +3",
      "2024-05-01 10:00:00 +16",
      "2024-05-01 10:00:00 +0360",
      "2024-05-01 10:00:00 +03:3",
      "abcd-ef-gh ij:kl:mn",
      "\xff\xfe\x00\x01garbage",
      "2024-05-01 10:00:00 [4242]",
  };
  for (const char* text : bad) {
    INFO(text);
    Timestamp t;
    CHECK_FALSE(parse_pg_time(text, &t));
  }
}

TEST_CASE("parse_pg_time rejects a trailing space with no zone after it", "[timestamp]") {
  // Regression (was a bug): parse_zone() accepts an empty zone, so "2024-05-01 10:00:00 " (a
  // space and nothing) parses, although it is not of the documented form
  // "2024-05-01 10:00:00[.123][ ZONE]".
  Timestamp t;
  CHECK_FALSE(parse_pg_time("2024-05-01 10:00:00 ", &t));
  CHECK_FALSE(parse_pg_time("2024-05-01 10:00:00.123 ", &t));
}

TEST_CASE("parse_pg_time leaves the output alone on failure", "[timestamp]") {
  Timestamp t = pg("2024-05-01 10:00:00.123 CEST");
  CHECK_FALSE(parse_pg_time("2024-05-01 10:00", &t));
  CHECK(t.wall_ms == k20240501 + 123);
  CHECK(t.zone == Timestamp::Zone::kAbbrev);
  CHECK(std::string(t.abbrev) == "CEST");
  CHECK(t.has_ms);
}

TEST_CASE("parse_pg_time reads only the given view, not past its end", "[timestamp]") {
  std::string_view line = "2024-05-01 10:00:00.123 UTC [4242] LOG:  x";
  Timestamp t;
  REQUIRE(parse_pg_time(line.substr(0, 27), &t));
  CHECK(rfc(t) == "2024-05-01T10:00:00.123Z");
  CHECK_FALSE(parse_pg_time(line.substr(0, 18), &t));
}

TEST_CASE("parse_epoch_time reads %n as UTC with milliseconds", "[timestamp]") {
  Timestamp t;
  REQUIRE(parse_epoch_time("1714557600.123", &t));
  CHECK(t.wall_ms == k20240501 + 123);
  CHECK(t.has_ms);
  CHECK(t.zone == Timestamp::Zone::kUtc);
  CHECK(rfc(t) == "2024-05-01T10:00:00.123Z");

  Timestamp s;
  REQUIRE(parse_epoch_time("1714557600", &s));
  CHECK(s.wall_ms == k20240501);
  CHECK_FALSE(s.has_ms);
  CHECK(rfc(s) == "2024-05-01T10:00:00Z");

  Timestamp zero;
  REQUIRE(parse_epoch_time("0.000", &zero));
  CHECK(rfc(zero) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("parse_epoch_time rejects empty, signed and trailing text", "[timestamp]") {
  for (const char* text : {"", ".123", "-1714557600.123", "1714557600.123 UTC", "17145576x0",
                           "abc", "1714557600.", "1714557600.12a", "1234567890123456.000"}) {
    INFO(text);
    Timestamp t;
    CHECK_FALSE(parse_epoch_time(text, &t));
  }
}

TEST_CASE("parse_iso_time reads RFC 5424 syslog times with an offset", "[timestamp]") {
  Timestamp t = iso("2024-05-01T10:00:00.105+00:00");
  CHECK(t.zone == Timestamp::Zone::kUtc);
  CHECK(t.wall_ms == k20240501 + 105);
  CHECK(rfc(t) == "2024-05-01T10:00:00.105Z");

  Timestamp p = iso("2024-05-01T12:00:00.105+02:00");
  CHECK(p.zone == Timestamp::Zone::kOffset);
  CHECK(p.offset_min == 120);
  CHECK(p.sort_ms() == k20240501 + 105);
  CHECK(rfc(p) == "2024-05-01T12:00:00.105+02:00");

  Timestamp m = iso("2024-05-01T06:30:00-03:30");
  CHECK(m.offset_min == -210);
  CHECK(m.sort_ms() == k20240501);
  CHECK(rfc(m) == "2024-05-01T06:30:00-03:30");

  Timestamp compact = iso("2024-05-01T15:30:00+0530");
  CHECK(compact.offset_min == 330);
}

TEST_CASE("parse_iso_time drops fractions past milliseconds and reads Z", "[timestamp]") {
  Timestamp t = iso("2020-05-02T13:00:20.38403Z");
  CHECK(t.zone == Timestamp::Zone::kUtc);
  CHECK(t.has_ms);
  CHECK(rfc(t) == "2020-05-02T13:00:20.384Z");
  CHECK(rfc(iso("2020-05-02T13:00:20.45390538Z")) == "2020-05-02T13:00:20.453Z");
  CHECK(rfc(iso("2020-05-02T13:00:20z")) == "2020-05-02T13:00:20Z");
}

TEST_CASE("parse_iso_time without an offset has no zone (an event's ts for an abbreviation)",
          "[timestamp]") {
  Timestamp t = iso("2024-05-01T10:00:00.500");
  CHECK(t.zone == Timestamp::Zone::kNone);
  CHECK(t.has_ms);
  CHECK(rfc(t) == "2024-05-01T10:00:00.500");
}

TEST_CASE("parse_iso_time rejects malformed text", "[timestamp]") {
  for (const char* text :
       {"", "2024-05-01", "2024-05-01 10:00:00", "2024-05-01T10:00", "2024-05-01T10:00:00 Z",
        "2024-05-01T10:00:00+", "2024-05-01T10:00:00+2", "2024-05-01T10:00:00+02:0",
        "2024-05-01T10:00:00+02:00x", "2024-05-01T10:00:00UTC", "2024-05-01T10:00:00ZZ",
        "May  1 10:00:00", "\x01\x02\x03"}) {
    INFO(text);
    Timestamp t;
    CHECK_FALSE(parse_iso_time(text, &t));
  }
}

TEST_CASE("append_rfc3339 round-trips its own output through parse_iso_time", "[timestamp]") {
  for (const char* text : {"2024-05-01 10:00:00.123 UTC", "2024-05-01 10:00:00 +03",
                           "2024-05-01 10:00:00.999 -0330", "1999-12-31 23:59:59.001 UTC"}) {
    INFO(text);
    Timestamp a = pg(text);
    std::string s = rfc(a);
    Timestamp b = iso(s);
    CHECK(b.wall_ms == a.wall_ms);
    CHECK(b.sort_ms() == a.sort_ms());
    CHECK(b.has_ms == a.has_ms);
    CHECK(rfc(b) == s);
  }
}

TEST_CASE("append_rfc3339 appends to what the string holds", "[timestamp]") {
  std::string out = "ts=";
  append_rfc3339(pg("2024-05-01 10:00:00 UTC"), &out);
  CHECK(out == "ts=2024-05-01T10:00:00Z");
}

TEST_CASE("append_rfc3339 formats times before 1970 and pads every field", "[timestamp]") {
  Timestamp t;
  t.wall_ms = -1;  // 1969-12-31 23:59:59.999
  t.has_ms = true;
  t.zone = Timestamp::Zone::kUtc;
  CHECK(rfc(t) == "1969-12-31T23:59:59.999Z");

  Timestamp early = pg("0001-01-01 00:00:00 UTC");
  CHECK(rfc(early) == "0001-01-01T00:00:00Z");

  Timestamp late = pg("9999-12-31 23:59:59.999 UTC");
  CHECK(rfc(late) == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("Timestamp::sort_ms orders an offset zone by UTC and others by wall clock",
          "[timestamp]") {
  Timestamp utc = pg("2024-05-01 10:00:00 UTC");
  Timestamp plus2 = pg("2024-05-01 11:00:00 +02");  // 09:00 UTC
  CHECK(plus2.sort_ms() < utc.sort_ms());
  Timestamp cest = pg("2024-05-01 11:00:00 CEST");  // unresolved: wall clock
  CHECK(cest.sort_ms() > utc.sort_ms());
}

// append_rfc3339 and parse_pg_time keep the last second's text and the last
// date (per thread): going back and forth between seconds, days, zones and
// millisecond-less times must give each its own text.
TEST_CASE("append_rfc3339 and parse_pg_time across seconds, days and zones", "[timestamp]") {
  for (int pass = 0; pass < 2; ++pass) {
    CHECK(rfc(pg("2024-05-01 10:00:00.123 UTC")) == "2024-05-01T10:00:00.123Z");
    CHECK(rfc(pg("2024-05-01 10:00:00.124 UTC")) == "2024-05-01T10:00:00.124Z");
    CHECK(rfc(pg("2024-05-01 10:00:00 UTC")) == "2024-05-01T10:00:00Z");
    CHECK(rfc(pg("2024-05-01 10:00:00.124 +05:45")) == "2024-05-01T10:00:00.124+05:45");
    CHECK(rfc(pg("2024-05-01 10:00:00.124 CEST")) == "2024-05-01T10:00:00.124");
    CHECK(rfc(pg("2024-05-01 10:00:01.000 UTC")) == "2024-05-01T10:00:01.000Z");
    CHECK(rfc(pg("2024-04-30 23:59:59.999 UTC")) == "2024-04-30T23:59:59.999Z");
    CHECK(rfc(pg("2024-05-01 24:00:00.000 UTC")) == "2024-05-02T00:00:00.000Z");
    CHECK(rfc(pg("2024-05-01 10:00:60.500 -0330")) == "2024-05-01T10:01:00.500-03:30");
    CHECK(rfc(pg("1970-01-01 00:00:00.000 UTC")) == "1970-01-01T00:00:00.000Z");
  }
  Timestamp before;
  before.wall_ms = -1;  // 1 ms before the epoch
  before.has_ms = true;
  before.zone = Timestamp::Zone::kUtc;
  CHECK(rfc(before) == "1969-12-31T23:59:59.999Z");
  before.wall_ms = -1000;
  CHECK(rfc(before) == "1969-12-31T23:59:59.000Z");
  Timestamp far;
  far.wall_ms = (days_from_civil(10000, 1, 1) * 86400 + 1) * 1000 + 5;
  far.has_ms = true;
  far.zone = Timestamp::Zone::kUtc;
  CHECK(rfc(far) == "10000-01-01T00:00:01.005Z");
}
