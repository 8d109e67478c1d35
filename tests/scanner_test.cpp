#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lifecycle/message.hpp"
#include "formats/scanner.hpp"

using namespace pgconn;

namespace {

std::vector<std::string> candidates(std::string_view block) {
  std::vector<std::string> out;
  CHECK(for_each_candidate(block, [&](std::string_view l) {
    out.emplace_back(l);
    return true;
  }));
  return out;
}

size_t naive_newlines(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

size_t naive_find(std::string_view s, size_t from) {
  size_t best = s.size();
  for (std::string_view m : kMarkers) {
    size_t at = s.find(m, from);
    if (at < best) best = at;
  }
  return best;
}

struct Lifecycle {
  const char* severity;
  const char* message;
};

// Every lifecycle message of message_test.cpp (pg-log-formats.md §3-§6),
// with the severity PostgreSQL logs it at.
const Lifecycle kLifecycle[] = {
    // §3
    {"LOG", "connection received: host=172.18.0.5 port=51234"},
    {"LOG", "connection received: host=[local]"},
    {"LOG", "connection received: host=::1 port=40112"},
    {"LOG", "connection authenticated: identity=\"app\" method=scram-sha-256 "
            "(/etc/postgresql/16/main/pg_hba.conf:128)"},
    {"LOG", "connection authenticated: user=\"app\" method=trust (/etc/postgresql/18/main/pg_hba.conf:117)"},
    {"LOG", "connection authorized: user=app database=shop"},
    {"LOG", "connection authorized: user=postgres database=postgres application_name=psql"},
    {"LOG", "connection authorized: user=app database=shop SSL enabled (protocol=TLSv1.2, "
            "cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256, compression=off)"},
    {"LOG", "connection authorized: user=app database=shop application_name=psql SSL enabled "
            "(protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)"},
    {"LOG", "connection authorized: user=app database=shop application_name=psql GSS "
            "(authenticated=yes, encrypted=yes, principal=app@EXAMPLE.COM)"},
    {"LOG", "connection authorized: user=app database=shop application_name=psql GSS "
            "(authenticated=yes, encrypted=yes, delegated_credentials=no, principal=app@EXAMPLE.COM)"},
    {"LOG", "replication connection authorized: user=rep"},
    {"LOG", "replication connection authorized: user=rep application_name=walreceiver"},
    {"LOG", "replication connection authorized: user=rep database=shop application_name=sub_orders"},
    {"LOG", "connection ready: setup total=9.668 ms, fork=0.475 ms, authentication=3.408 ms"},
    {"LOG", "disconnection: session time: 0:01:02.345 user=app database=shop host=172.18.0.5 port=51234"},
    {"LOG", "disconnection: session time: 27:03:10.551 user=app database=shop host=[local]"},
    {"LOG", "disconnection: session time: 1:00:00.000 user=rep database= host=10.0.0.9 port=40112"},
    // §4a
    {"FATAL", "sorry, too many clients already"},
    {"FATAL", "password authentication failed for user \"app\""},
    {"FATAL", "Ident authentication failed for user \"app\""},
    {"FATAL", "Peer authentication failed for user \"app\""},
    {"FATAL", "GSSAPI authentication failed for user \"app\""},
    {"FATAL", "SSPI authentication failed for user \"app\""},
    {"FATAL", "PAM authentication failed for user \"app\""},
    {"FATAL", "BSD authentication failed for user \"app\""},
    {"FATAL", "LDAP authentication failed for user \"app\""},
    {"FATAL", "certificate authentication failed for user \"app\""},
    {"FATAL", "RADIUS authentication failed for user \"app\""},
    {"FATAL", "\"trust\" authentication failed for user \"app\""},
    {"FATAL", "connection requires a valid client certificate"},
    {"FATAL", "authentication failed for user \"app\": host rejected"},
    {"FATAL", "pg_hba.conf rejects connection for host \"10.0.0.5\", user \"app\", database \"shop\", SSL off"},
    {"FATAL", "pg_hba.conf rejects replication connection for host \"10.0.0.9\", user \"rep\", no encryption"},
    {"FATAL", "no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\", no encryption"},
    {"FATAL", "no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\""},
    {"FATAL", "no pg_hba.conf entry for replication connection from host \"10.0.0.9\", user \"rep\", SSL off"},
    {"FATAL", "canceling authentication due to timeout"},
    {"FATAL", "the database system is starting up"},
    {"FATAL", "the database system is shutting down"},
    {"FATAL", "the database system is in recovery mode"},
    {"FATAL", "the database system is not yet accepting connections"},
    {"FATAL", "the database system is not accepting connections"},
    {"FATAL", "no PostgreSQL user name specified in startup packet"},
    {"FATAL", "unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0"},
    {"FATAL", "invalid length of startup packet"},
    {"FATAL", "expected password response, got message type 88"},
    // §4b
    {"FATAL", "role \"ghost\" does not exist"},
    {"FATAL", "role \"app\" is not permitted to log in"},
    {"FATAL", "too many connections for role \"app\""},
    {"FATAL", "remaining connection slots are reserved for non-replication superuser connections"},
    {"FATAL", "remaining connection slots are reserved for roles with the SUPERUSER attribute"},
    {"FATAL", "remaining connection slots are reserved for roles with privileges of the "
              "\"pg_use_reserved_connections\" role"},
    {"FATAL", "database \"nosuchdb\" does not exist"},
    {"FATAL", "database \"template0\" is not currently accepting connections"},
    {"FATAL", "permission denied for database \"shop\""},
    {"FATAL", "too many connections for database \"limited_db\""},
    {"FATAL", "cannot connect to invalid database \"half_dropped\""},
    {"FATAL", "database \"gone\" has disappeared from pg_database"},
    // §5
    {"FATAL", "terminating connection due to administrator command"},
    {"FATAL", "terminating connection due to idle-in-transaction timeout"},
    {"FATAL", "terminating connection due to idle-session timeout"},
    {"FATAL", "terminating connection due to transaction timeout"},
    {"FATAL", "terminating connection due to conflict with recovery"},
    {"FATAL", "connection to client lost"},
    {"FATAL", "terminating connection because protocol synchronization was lost"},
    {"LOG", "unexpected EOF on client connection"},
    {"FATAL", "unexpected EOF on client connection with an open transaction"},
    {"LOG", "could not receive data from client: Connection reset by peer"},
    {"FATAL", "terminating connection due to unexpected postmaster exit"},
    {"WARNING", "terminating connection because of crash of another server process"},
    {"FATAL", "terminating connection due to immediate shutdown command"},
    // §6
    {"LOG", "database system is ready to accept connections"},
    {"LOG", "database system is ready to accept read-only connections"},
    {"LOG", "received smart shutdown request"},
    {"LOG", "received fast shutdown request"},
    {"LOG", "received immediate shutdown request"},
    {"LOG", "database system is shut down"},
    {"LOG", "terminating any other active server processes"},
    {"LOG", "all server processes terminated; reinitializing"},
};

// The log_line_prefixes that decide where a line's text stands, from the
// empty one (a line is only SEVERITY:  message) to syslog and csvlog frames.
std::vector<std::string> framed(const Lifecycle& l) {
  std::string sev = l.severity, msg = l.message;
  return {
      sev + ":  " + msg,
      "2024-05-01 10:00:00.123 UTC [4242] " + sev + ":  " + msg,
      "2024-05-01 10:00:00.123 UTC [4242] app@shop " + sev + ":  00000: " + msg,
      "2024-05-01 10:00:00 UTC:10.0.0.5(51234):app@shop:[4242]:" + sev + ":  " + msg,
      "May  1 10:00:00 db1 postgres[812]: [3-1] " + sev + ":  " + msg,
      "2024-05-01 10:00:00.123 UTC,\"app\",\"shop\",4242,\"[local]\",6632134f.1092,1,\"\",x,,0," +
          sev + ",00000,\"" + msg + "\",,,,,,,,,\"\"",
      "{\"timestamp\":\"2024-05-01 10:00:00.123 UTC\",\"pid\":4242,\"error_severity\":\"" + sev +
          "\",\"message\":\"" + msg + "\"}",
  };
}

}  // namespace

TEST_CASE("Every lifecycle message is one that classify_message knows", "[scanner]") {
  for (const Lifecycle& l : kLifecycle) {
    INFO(l.severity << ":  " << l.message);
    Message m = classify_message(l.severity, l.message);
    CHECK(m.kind != MsgKind::kNone);
    CHECK(m.kind != MsgKind::kMalformed);
  }
}

TEST_CASE("Every lifecycle line has a marker, so the scanner never skips one", "[scanner]") {
  for (const Lifecycle& l : kLifecycle) {
    for (const std::string& line : framed(l)) {
      INFO(line);
      CHECK(has_marker(line));
      CHECK(candidates(line) == std::vector<std::string>{line});
      CHECK(candidates("noise\n" + line + "\nnoise\n") == std::vector<std::string>{line});
    }
  }
}

TEST_CASE("Every message classify_message reads as a session end has a marker", "[scanner]") {
  // "could not receive data from client: %m" is a session end (client_lost)
  // only for the "Connection …" errno texts, which carry the "nection"
  // marker; rarer ones are not lifecycle lines at all, so the scanner and
  // the classifier agree on every format.
  for (const char* errno_text : {"Connection reset by peer", "Connection timed out"}) {
    std::string msg = std::string("could not receive data from client: ") + errno_text;
    std::string line = "2024-05-01 10:00:00.123 UTC [4242] LOG:  " + msg;
    INFO(line);
    REQUIRE(classify_message("LOG", msg).kind == MsgKind::kSessionEnd);
    CHECK(has_marker(line));
  }
  for (const char* errno_text : {"No route to host", "Network is unreachable", "Broken pipe"}) {
    std::string msg = std::string("could not receive data from client: ") + errno_text;
    INFO(msg);
    CHECK(classify_message("LOG", msg).kind == MsgKind::kNone);
  }
}

TEST_CASE("kMarkers are the four documented markers", "[scanner]") {
  REQUIRE(kMarkerCount == 4);
  CHECK(kMarkers[0] == "nection");
  CHECK(kMarkers[1] == "FATAL");
  CHECK(kMarkers[2] == "shut");
  CHECK(kMarkers[3] == "server processes");
}

TEST_CASE("has_marker is false for ordinary log lines", "[scanner]") {
  for (const char* line : {
           "",
           "2024-05-01 10:00:00.123 UTC [4242] LOG:  statement: SELECT 1",
           "2024-05-01 10:00:00.123 UTC [4242] LOG:  duration: 0.042 ms",
           "2024-05-01 10:00:00.123 UTC [4242] ERROR:  relation \"x\" does not exist",
           "2024-05-01 10:00:00.123 UTC [4242] LOG:  checkpoint complete: wrote 3 buffers",
           "\tFROM orders WHERE id = 42",
           "nectio",
           "FATA",
           "shu",
           "server processe",
           "Fatal",
           "SHUT",
           "Server processes",
           "NECTION",
       }) {
    INFO(line);
    CHECK_FALSE(has_marker(line));
  }
}

TEST_CASE("find_marker finds a marker at every offset and alignment", "[scanner]") {
  for (std::string_view marker : kMarkers) {
    for (size_t at = 0; at < 140; ++at) {
      for (size_t tail : {0, 1, 15, 16, 31, 33}) {
        std::string s(at, ' ');
        s += marker;
        s += std::string(tail, '.');
        INFO(marker << " at " << at << " tail " << tail);
        CHECK(find_marker(s, 0) == at);
        CHECK(find_marker(s, at) == at);
        CHECK(find_marker(s, at + 1) == s.size());
      }
    }
  }
}

TEST_CASE("find_marker finds nothing in a marker cut by the end of the text", "[scanner]") {
  for (std::string_view marker : kMarkers) {
    for (size_t at = 0; at < 70; ++at) {
      std::string s(at, 'n');
      s += marker.substr(0, marker.size() - 1);
      INFO(marker << " at " << at);
      CHECK(find_marker(s, 0) == s.size());
    }
  }
}

TEST_CASE("find_marker agrees with a naive search on mixed text", "[scanner]") {
  // Text rich in the probe bytes of every marker (n?c, F???L, s?u, v???p).
  std::string s;
  uint32_t x = 12345;
  const char alphabet[] = "nectioFATLshuvrp sepocN\n";
  for (int i = 0; i < 20000; ++i) {
    x = x * 1103515245 + 12345;
    s.push_back(alphabet[(x >> 16) % (sizeof alphabet - 1)]);
  }
  s.insert(7000, "connection");
  s.insert(12001, "FATAL");
  s.insert(15002, "server processes");
  size_t from = 0, hits = 0;
  while (from < s.size()) {
    size_t want = naive_find(s, from);
    size_t got = find_marker(s, from);
    REQUIRE(got == want);
    if (got >= s.size()) break;
    ++hits;
    from = got + 1;
  }
  CHECK(hits >= 3);
}

TEST_CASE("find_marker starts at `from` and handles empty text", "[scanner]") {
  CHECK(find_marker("", 0) == 0);
  CHECK(find_marker("FATAL", 5) == 5);
  CHECK(find_marker("FATAL FATAL", 1) == 6);
}

TEST_CASE("count_newlines counts every newline, long blocks included", "[scanner]") {
  CHECK(count_newlines("", 0) == 0);
  CHECK(count_newlines("\n", 1) == 1);
  CHECK(count_newlines("a\nb\nc", 5) == 2);
  for (size_t n : {15, 16, 17, 4079, 4080, 4081, 100000}) {
    std::string all(n, '\n');
    INFO(n);
    CHECK(count_newlines(all.data(), all.size()) == n);
    std::string mixed;
    for (size_t i = 0; i < n; ++i) mixed.push_back(i % 3 == 0 ? '\n' : 'x');
    CHECK(count_newlines(mixed.data(), mixed.size()) == naive_newlines(mixed));
  }
}

TEST_CASE("for_each_candidate returns exactly the lines with markers, in order", "[scanner]") {
  const std::string block =
      "2024-05-01 10:00:00.100 UTC [812] LOG:  connection received: host=[local]\n"
      "2024-05-01 10:00:00.101 UTC [812] LOG:  statement: SELECT 1\n"
      "\tFROM t\n"
      "2024-05-01 10:00:00.102 UTC [812] FATAL:  role \"x\" does not exist\n"
      "2024-05-01 10:00:00.103 UTC [812] LOG:  duration: 1.0 ms\n"
      "2024-05-01 10:00:00.104 UTC [800] LOG:  received fast shutdown request\n"
      "\n"
      "2024-05-01 10:00:00.105 UTC [800] LOG:  terminating any other active server processes\n";
  CHECK(candidates(block) ==
        std::vector<std::string>{
            "2024-05-01 10:00:00.100 UTC [812] LOG:  connection received: host=[local]",
            "2024-05-01 10:00:00.102 UTC [812] FATAL:  role \"x\" does not exist",
            "2024-05-01 10:00:00.104 UTC [800] LOG:  received fast shutdown request",
            "2024-05-01 10:00:00.105 UTC [800] LOG:  terminating any other active server processes",
        });
}

TEST_CASE("for_each_candidate includes the first line and a last line without newline",
          "[scanner]") {
  CHECK(candidates("FATAL:  first\nnoise\nLOG:  disconnection: last") ==
        std::vector<std::string>{"FATAL:  first", "LOG:  disconnection: last"});
  CHECK(candidates("connection") == std::vector<std::string>{"connection"});
  CHECK(candidates("x\nshut") == std::vector<std::string>{"shut"});
}

TEST_CASE("for_each_candidate gives a line with several markers once", "[scanner]") {
  CHECK(candidates("a FATAL: connection shut server processes b\nc\n") ==
        std::vector<std::string>{"a FATAL: connection shut server processes b"});
}

TEST_CASE("for_each_candidate gives nothing for blocks without markers", "[scanner]") {
  CHECK(candidates("").empty());
  CHECK(candidates("\n\n\n").empty());
  CHECK(candidates("a\nb\nc").empty());
  std::string garbage;
  for (int i = 0; i < 5000; ++i) garbage.push_back(static_cast<char>(i * 131 + 7));
  for (const std::string& l : candidates(garbage)) CHECK(has_marker(l));
}

TEST_CASE("for_each_candidate stops when the callback says so", "[scanner]") {
  int calls = 0;
  bool done = for_each_candidate("FATAL:  a\nFATAL:  b\nFATAL:  c\n", [&](std::string_view) {
    ++calls;
    return calls < 2;
  });
  CHECK_FALSE(done);
  CHECK(calls == 2);
}

TEST_CASE("for_each_candidate passes views into the block and handles NUL bytes", "[scanner]") {
  const std::string block("x\0y\nab\0 connection \0z\n\0\n", 24);
  std::vector<std::string_view> got;
  for_each_candidate(block, [&](std::string_view l) {
    got.push_back(l);
    return true;
  });
  REQUIRE(got.size() == 1);
  CHECK(got[0] == std::string_view("ab\0 connection \0z", 17));
  CHECK(got[0].data() == block.data() + 4);
}

TEST_CASE("for_each_candidate finds every marker line in a large block", "[scanner]") {
  std::string block;
  std::vector<std::string> want;
  for (int i = 0; i < 20000; ++i) {
    std::string line = "2024-05-01 10:00:00.100 UTC [" + std::to_string(i) + "] LOG:  ";
    if (i % 7 == 0) {
      line += "connection received: host=[local]";
      want.push_back(line);
    } else if (i % 11 == 0) {
      line += "database system is shut down";
      want.push_back(line);
    } else {
      line += "statement: SELECT " + std::to_string(i);
    }
    block += line + "\n";
  }
  CHECK(candidates(block) == want);
}

TEST_CASE("find_marker_counting finds what find_marker finds and counts the newlines before it",
          "[scanner]") {
  std::string s;
  for (int i = 0; i < 3000; ++i) {
    s += (i % 17 == 0) ? "x FATAL y" : (i % 5 == 0 ? "" : "plain text line");
    s += (i % 3 == 0) ? "\n\n" : "\n";
  }
  for (size_t from : {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{1000}}) {
    size_t pos = from;
    while (pos < s.size()) {
      uint64_t newlines = 7;
      size_t got = find_marker_counting(s, pos, &newlines);
      INFO(pos);
      REQUIRE(got == find_marker(s, pos));
      CHECK(newlines == 7 + naive_newlines(std::string_view(s).substr(pos, got - pos)));
      pos = got + 1;
    }
  }
  uint64_t none = 0;
  CHECK(find_marker_counting("a\nb\n\n", 0, &none) == 5);
  CHECK(none == 3);
}

TEST_CASE("scan_block gives for_each_candidate's lines, their line indexes and the newlines",
          "[scanner]") {
  auto check = [](const std::string& block) {
    BlockScan scan;
    scan.candidates.push_back(Candidate{1, 2, 3});  // replaced, not added to
    scan_block(block, &scan);
    std::vector<std::string> lines;
    for (const Candidate& c : scan.candidates) {
      lines.push_back(block.substr(c.begin, c.end - c.begin));
      CHECK(c.line == naive_newlines(std::string_view(block).substr(0, c.begin)));
      CHECK((c.end == block.size() || block[c.end] == '\n'));
    }
    CHECK(lines == candidates(block));
    CHECK(scan.newlines == naive_newlines(block));
  };
  check("");
  check("\n");
  check("connection");
  check("FATAL:  first\nnoise\nLOG:  disconnection: last");
  check("a\n\nshut\n\n\nb FATAL c FATAL\n");
  std::string big;
  for (int i = 0; i < 20000; ++i) {
    big += std::string(static_cast<size_t>(i % 97), 'x');
    if (i % 13 == 0) big += " connection received";
    if (i % 29 == 0) big += "\r";
    big += "\n";
  }
  check(big);
  check(big.substr(0, big.size() - 1));
}
