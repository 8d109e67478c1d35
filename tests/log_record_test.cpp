#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>

#include "formats/log_record.hpp"

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

// Each row: TEXT, then the host and port split_host_port makes of it.
struct Split {
  const char* text;
  const char* host;
  int32_t port;
};
void check_splits(std::initializer_list<Split> rows) {
  for (const Split& row : rows) {
    INFO(row.text);
    const HostPort got = split(row.text);
    CHECK(got.host == row.host);
    CHECK(got.port == row.port);
  }
}

}  // namespace

TEST_CASE("split_host_port reads %r's host(port)", "[log_record]") {
  check_splits({{"10.0.0.5(51234)", "10.0.0.5", 51234},
                {"::1(40112)", "::1", 40112},
                {"db-client.example.com(5432)", "db-client.example.com", 5432}});
}

TEST_CASE("split_host_port reads csvlog's host:port, IPv6 included", "[log_record]") {
  check_splits({{"10.0.0.5:51234", "10.0.0.5", 51234},
                {"::1:40112", "::1", 40112},
                {"2001:db8::5:60000", "2001:db8::5", 60000}});
}

TEST_CASE("split_host_port keeps [local] with no port", "[log_record]") {
  check_splits({{"[local]", "[local]", -1}});
}

TEST_CASE("split_host_port leaves a host without a port whole", "[log_record]") {
  check_splits({{"10.0.0.5", "10.0.0.5", -1}, {"db.example.com", "db.example.com", -1}});
}

TEST_CASE("split_host_port turns [unknown] and empty into an empty host", "[log_record]") {
  check_splits({{"[unknown]", "", -1}, {"", "", -1}});
}

TEST_CASE("split_host_port does not take a port that is not a port", "[log_record]") {
  // Out of range: the host is kept, without a port. Not digits, nothing
  // after the separator, six digits: the text is the host.
  check_splits({{"10.0.0.5(99999)", "10.0.0.5", -1},
                {"10.0.0.5:65536", "10.0.0.5", -1},
                {"10.0.0.5(abc)", "10.0.0.5(abc)", -1},
                {"10.0.0.5()", "10.0.0.5()", -1},
                {"10.0.0.5:", "10.0.0.5:", -1},
                {"host:123456", "host:123456", -1},
                {")", ")", -1},
                {"h(65535)", "h", 65535},
                {"h:0", "h", 0}});
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
