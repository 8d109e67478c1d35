#include <catch2/catch.hpp>

#include <string>

#include "envelopes/rfc5424.hpp"

using namespace pgconn;

TEST_CASE("parse_rfc5424: header fields, structured data and message", "[rfc5424]") {
  Rfc5424Frame f;
  REQUIRE(parse_rfc5424(
      R"(<134>1 2026-07-20T18:43:00.018369+00:00 vm-compute-x postgres 2468 - [neon project_id="p" endpoint_id="e"]  [7-1] LOG:  x)",
      &f));
  CHECK(f.pri == 134);
  std::string t;
  append_rfc3339(f.time, &t);
  CHECK(t == "2026-07-20T18:43:00.018Z");
  CHECK(f.hostname == "vm-compute-x");
  CHECK(f.app_name == "postgres");
  CHECK(f.procid == "2468");
  CHECK(f.msgid.empty());
  CHECK(f.structured_data == R"([neon project_id="p" endpoint_id="e"])");
  CHECK(f.message == " [7-1] LOG:  x");
  CHECK(sd_first_id(f.structured_data) == "neon");
  CHECK_FALSE(sd_first_is_bare(f.structured_data));
}

TEST_CASE("parse_rfc5424: nil values, no message, a BOM", "[rfc5424]") {
  Rfc5424Frame f;
  REQUIRE(parse_rfc5424("<13>1 - - - - - -", &f));
  CHECK_FALSE(f.time.valid());
  CHECK(f.hostname.empty());
  CHECK(f.message.empty());
  REQUIRE(parse_rfc5424("<13>1 2024-05-01T10:00:00Z h a 1 ID47 - \xEF\xBB\xBFhello", &f));
  CHECK(f.msgid == "ID47");
  CHECK(f.message == "hello");
}

TEST_CASE("parse_rfc5424: no structured data at all (Heroku's Logplex)", "[rfc5424]") {
  Rfc5424Frame f;
  REQUIRE(parse_rfc5424("<134>1 2023-06-05T19:27:18+00:00 host app heroku-postgres - source=X sample#a=1", &f));
  CHECK(f.structured_data.empty());
  CHECK(f.message == "source=X sample#a=1");
}

TEST_CASE("parse_rfc5424: not frames", "[rfc5424]") {
  Rfc5424Frame f;
  CHECK_FALSE(parse_rfc5424("<134>May  1 10:00:00 db1 postgres[812]: x", &f));  // RFC 3164
  CHECK_FALSE(parse_rfc5424("<134>2 2024-05-01T10:00:00Z h a 1 - - x", &f));    // version 2
  CHECK_FALSE(parse_rfc5424("<999>1 2024-05-01T10:00:00Z h a 1 - - x", &f));    // PRI > 191
  CHECK_FALSE(parse_rfc5424("<134>1 yesterday h a 1 - - x", &f));
  CHECK_FALSE(parse_rfc5424("<134>1 2024-05-01T10:00:00Z h a 1 - [open x=\"y\" x", &f));
  CHECK_FALSE(parse_rfc5424("2024-05-01 10:00:00 UTC [1] LOG:  x", &f));
}

TEST_CASE("sd_param: escapes \\\" \\\\ \\] and other backslashes", "[rfc5424]") {
  std::string v;
  std::string_view sd = R"([a x="1"][origin ip="10.0.0.1" note="say \"hi\" \\ \] \n"])";
  REQUIRE(sd_param(sd, "note", &v));
  CHECK(v == R"(say "hi" \ ] \n)");
  REQUIRE(sd_param(sd, "x", &v));
  CHECK(v == "1");
  CHECK_FALSE(sd_param(sd, "missing", &v));
  CHECK_FALSE(sd_param(R"([a x=1])", "x", &v));  // unquoted: malformed
  CHECK(sd_first_is_bare("[YELLOW]"));
  CHECK(sd_first_id("[YELLOW]") == "YELLOW");
}

TEST_CASE("strip_octet_count: RFC 6587 counts", "[rfc5424]") {
  std::string_view s = "451 <134>1 x";
  CHECK(strip_octet_count(&s) == 451);
  CHECK(s == "<134>1 x");
  std::string_view t = "2024 is not a count";
  CHECK(strip_octet_count(&t) == -1);
  CHECK(t == "2024 is not a count");
  CHECK(looks_like_rfc5424("85 <134>1 2023-06-05T19:33:14+00:00 host app postgres.1 - [YELLOW] [12-2] \tSELECT"));
  CHECK_FALSE(looks_like_rfc5424("85 hello"));
}
