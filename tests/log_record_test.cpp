#include <catch2/catch.hpp>

#include <string>

#include "log_record.hpp"

using namespace pgconn;

namespace {

struct HostPort {
  std::string host;
  int32_t port;
};

HostPort split(std::string_view text) {
  std::string_view host = "sentinel";
  int32_t port = 12345;
  split_host_port(text, &host, &port);
  return {std::string(host), port};
}

}  // namespace

TEST_CASE("split_host_port reads %r's host(port)", "[log_record]") {
  HostPort a = split("10.0.0.5(51234)");
  CHECK(a.host == "10.0.0.5");
  CHECK(a.port == 51234);
  HostPort v6 = split("::1(40112)");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 40112);
  HostPort name = split("db-client.example.com(5432)");
  CHECK(name.host == "db-client.example.com");
  CHECK(name.port == 5432);
}

TEST_CASE("split_host_port reads csvlog's host:port, IPv6 included", "[log_record]") {
  HostPort a = split("10.0.0.5:51234");
  CHECK(a.host == "10.0.0.5");
  CHECK(a.port == 51234);
  HostPort v6 = split("::1:40112");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 40112);
  HostPort full = split("2001:db8::5:60000");
  CHECK(full.host == "2001:db8::5");
  CHECK(full.port == 60000);
}

TEST_CASE("split_host_port keeps [local] with no port", "[log_record]") {
  HostPort a = split("[local]");
  CHECK(a.host == "[local]");
  CHECK(a.port == -1);
}

TEST_CASE("split_host_port leaves a host without a port whole", "[log_record]") {
  HostPort a = split("10.0.0.5");
  CHECK(a.host == "10.0.0.5");
  CHECK(a.port == -1);
  HostPort b = split("db.example.com");
  CHECK(b.host == "db.example.com");
  CHECK(b.port == -1);
}

TEST_CASE("split_host_port turns [unknown] and empty into an empty host", "[log_record]") {
  HostPort a = split("[unknown]");
  CHECK(a.host.empty());
  CHECK(a.port == -1);
  HostPort b = split("");
  CHECK(b.host.empty());
  CHECK(b.port == -1);
}

TEST_CASE("split_host_port does not take a port that is not a port", "[log_record]") {
  HostPort big = split("10.0.0.5(99999)");
  CHECK(big.port == -1);
  HostPort big_csv = split("10.0.0.5:65536");
  CHECK(big_csv.port == -1);

  HostPort letters = split("10.0.0.5(abc)");
  CHECK(letters.host == "10.0.0.5(abc)");
  CHECK(letters.port == -1);

  HostPort empty_parens = split("10.0.0.5()");
  CHECK(empty_parens.host == "10.0.0.5()");
  CHECK(empty_parens.port == -1);

  HostPort colon_only = split("10.0.0.5:");
  CHECK(colon_only.host == "10.0.0.5:");
  CHECK(colon_only.port == -1);

  HostPort six_digits = split("host:123456");
  CHECK(six_digits.host == "host:123456");
  CHECK(six_digits.port == -1);

  HostPort bare_paren = split(")");
  CHECK(bare_paren.host == ")");
  CHECK(bare_paren.port == -1);

  HostPort top = split("h(65535)");
  CHECK(top.host == "h");
  CHECK(top.port == 65535);
  HostPort zero = split("h:0");
  CHECK(zero.host == "h");
  CHECK(zero.port == 0);
}

TEST_CASE("split_host_port returns views into its input", "[log_record]") {
  std::string text = "10.0.0.5(51234)";
  std::string_view host;
  int32_t port = 0;
  split_host_port(text, &host, &port);
  CHECK(host.data() == text.data());
  CHECK(host.size() == 8);
}

TEST_CASE("strip_sqlstate removes a verbose log's SQLSTATE", "[log_record]") {
  CHECK(strip_sqlstate("00000: connection authorized: user=a database=b") ==
        "connection authorized: user=a database=b");
  CHECK(strip_sqlstate("28P01: password authentication failed for user \"x\"") ==
        "password authentication failed for user \"x\"");
  CHECK(strip_sqlstate("53300: sorry, too many clients already") ==
        "sorry, too many clients already");
  CHECK(strip_sqlstate("57P01: ") == "");
}

TEST_CASE("strip_sqlstate leaves messages without a SQLSTATE alone", "[log_record]") {
  for (const char* m : {"", "0000", "00000", "00000:", "00000:x", "0000: x", "000000: x",
                        "28p01: lower case", "2 P01: space", "conne: lower case word",
                        "connection received: host=x", "LOG:  x", "FATA:  x"}) {
    INFO(m);
    CHECK(strip_sqlstate(m) == std::string_view(m));
  }
}

TEST_CASE("strip_sqlstate removes exactly the code, colon and one space", "[log_record]") {
  CHECK(strip_sqlstate("ABCDE:  two spaces") == " two spaces");
  // Any [0-9A-Z]{5}: is taken for a code (pg-log-formats.md §1).
  CHECK(strip_sqlstate("HY000: x") == "x");
}

TEST_CASE("strip_sqlstate removes only one code", "[log_record]") {
  CHECK(strip_sqlstate("00000: 28P01: x") == "28P01: x");
}

TEST_CASE("known turns [unknown] into empty and keeps everything else", "[log_record]") {
  CHECK(known("[unknown]").empty());
  CHECK(known("") == "");
  CHECK(known("app") == "app");
  CHECK(known("[local]") == "[local]");
  CHECK(known("[unknown] ") == "[unknown] ");
  CHECK(known("[UNKNOWN]") == "[UNKNOWN]");
  CHECK(known("unknown") == "unknown");
}

TEST_CASE("is_report_severity accepts the severities that start a report", "[log_record]") {
  for (const char* s : {"DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5", "INFO", "NOTICE",
                        "WARNING", "ERROR", "LOG", "FATAL", "PANIC"}) {
    INFO(s);
    CHECK(is_report_severity(s));
  }
}

TEST_CASE("is_report_severity rejects secondary fields and anything else", "[log_record]") {
  for (const char* s : {"DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION", "", "DEBUG",
                        "DEBUG0", "DEBUG6", "DEBUGX", "log", "Log", "fatal", "LOG ", " LOG",
                        "LOG:", "WARN", "ERR", "FATALS", "LOGS", "INFOS", "NOTICES", "WARNINGS",
                        "PANIC!", "\xff\xfe\xfd"}) {
    INFO(s);
    CHECK_FALSE(is_report_severity(s));
  }
}

TEST_CASE("issue_13 split_host_port reads RDS's unknown client as a host without a port",
          "[log_record]") {
  HostPort a = split("\?\?\?(\?\?\?)");
  CHECK(a.host == "\?\?\?");
  CHECK(a.port == -1);
  HostPort b = split("10.0.0.5(99999)");
  CHECK(b.host == "10.0.0.5");
  CHECK(b.port == -1);
}
