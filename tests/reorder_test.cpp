#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "formats/reorder.hpp"

using namespace pgconn;

namespace {

// Records "pid:line" of every record handed on.
class Collect : public RecordSink {
 public:
  bool on_record(const LogRecord& r) override {
    seen.push_back(std::to_string(r.pid) + ":" + std::to_string(r.line_num) + " " + std::string(r.message));
    return go_on;
  }
  std::vector<std::string> seen;
  bool go_on = true;
};

// A record of backend `pid` logged at second `sec` (+ ms) of a day.
LogRecord rec(int64_t pid, int64_t line, int64_t ms, std::string_view message = "statement: x",
              std::string_view severity = "LOG") {
  LogRecord r;
  r.pid = pid;
  r.line_num = line;
  r.time.wall_ms = 1700000000000 + ms;
  r.time.zone = Timestamp::Zone::kUtc;
  r.time.has_ms = true;
  r.severity = severity;
  r.message = message;
  return r;
}

std::vector<std::string> lines(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

}  // namespace

TEST_CASE("Reorderer hands on lines in order at once", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  REQUIRE(o.add(rec(7, 1, 0, "connection received: host=[local]"), true));
  REQUIRE(o.add(rec(7, 2, 1, "connection authorized: user=a database=b"), true));
  REQUIRE(o.add(rec(8, 40, 2), true));  // a backend seen mid-session
  REQUIRE(out.seen.size() == 3);
  CHECK_FALSE(o.holding());
  CHECK(o.stats().held == 0);
}

TEST_CASE("Reorderer puts a swapped line back", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  o.add(rec(7, 1, 0, "connection received: host=[local]"), true);
  o.add(rec(7, 3, 5, "FATAL one"), true);
  CHECK(o.holding());
  CHECK(out.seen.size() == 1);
  o.add(rec(9, 1, 6, "connection received: host=[local]"), true);  // other backends go on
  o.add(rec(7, 2, 4, "connection authorized: user=a database=b"), true);
  CHECK_FALSE(o.holding());
  CHECK(out.seen == lines({"7:1 connection received: host=[local]", "9:1 connection received: host=[local]",
                           "7:2 connection authorized: user=a database=b", "7:3 FATAL one"}));
  CHECK(o.stats().held == 1);
  CHECK(o.stats().late == 0);
}

TEST_CASE("Reorderer: a set-up line before line 1 waits for it", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  o.add(rec(7, 2, 3, "connection authorized: user=a database=b"), true);
  CHECK(out.seen.empty());
  o.add(rec(7, 1, 0, "connection received: host=[local]"), true);
  CHECK(out.seen == lines({"7:1 connection received: host=[local]", "7:2 connection authorized: user=a database=b"}));
}

TEST_CASE("Reorderer: other first lines past 1 start the count", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  o.add(rec(600, 7, 0, "database system is ready to accept connections"), true);
  o.add(rec(600, 8, 1), true);
  CHECK(out.seen.size() == 2);
  CHECK_FALSE(o.holding());
}

TEST_CASE("Reorderer: secondary lines count but are not handed on", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  o.add(rec(7, 1, 0, "connection received: host=[local]"), true);
  o.add(rec(7, 3, 2, "Connection matched pg_hba.conf line 1", "DETAIL"), false);
  CHECK(o.holding());
  o.add(rec(7, 2, 2, "password authentication failed for user \"a\"", "FATAL"), true);
  CHECK_FALSE(o.holding());
  o.add(rec(7, 4, 3, "disconnection: session time: 0:00:00.003 user=a database=b host=[local]"), true);
  CHECK(out.seen.size() == 3);
  CHECK(o.stats().late == 0);
}

TEST_CASE("Reorderer: the log-time window releases a gap that stays open", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  o.add(rec(7, 1, 0), true);
  o.add(rec(7, 3, 100, "three"), true);
  o.add(rec(7, 4, 200, "four"), true);
  o.add(rec(8, 1, 1099), true);  // less than 1 s after the first held line
  CHECK(out.seen.size() == 2);
  o.add(rec(8, 2, 1100, "next"), true);  // 1 s after: three and four leave first
  CHECK(out.seen == lines({"7:1 statement: x", "8:1 statement: x", "7:3 three", "7:4 four", "8:2 next"}));
  o.add(rec(7, 2, 50, "two, too late"), true);
  CHECK(out.seen.back() == "7:2 two, too late");
  CHECK(o.stats().late == 1);
}

TEST_CASE("Reorderer: whole-second times wait a second more", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  LogRecord a = rec(7, 1, 0), b = rec(7, 3, 0), c = rec(8, 1, 1000), d = rec(8, 2, 2000);
  for (LogRecord* r : {&a, &b, &c, &d}) r->time.has_ms = false;
  o.add(a, true);
  o.add(b, true);
  o.add(c, true);
  CHECK(o.holding());
  o.add(d, true);
  CHECK_FALSE(o.holding());
}

TEST_CASE("Reorderer: release_before and release_all (live streams)", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  o.add(rec(7, 1, 0), true);
  o.add(rec(7, 3, 0), true);
  uint64_t mark = o.mark();
  o.add(rec(8, 1, 0), true);
  o.add(rec(8, 5, 0), true);
  REQUIRE(o.release_before(mark));
  CHECK(out.seen == lines({"7:1 statement: x", "8:1 statement: x", "7:3 statement: x"}));
  CHECK(o.holding());
  REQUIRE(o.release_all());
  CHECK(out.seen.back() == "8:5 statement: x");
  CHECK_FALSE(o.holding());
  o.add(rec(7, 4, 1), true);  // the count goes on after the released line
  CHECK(out.seen.back() == "7:4 statement: x");
  CHECK(o.stats().late == 0);
}

TEST_CASE("Reorderer: line 1 again is a new process with the same pid", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  o.add(rec(7, 1, 0), true);
  o.add(rec(7, 2, 1), true);
  o.add(rec(7, 1, 2, "connection received: host=[local]"), true);
  o.add(rec(7, 2, 3), true);
  CHECK(out.seen.size() == 4);
  CHECK(o.stats().late == 0);
}

TEST_CASE("Reorderer keys by session id and by server", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  LogRecord a = rec(7, 1, 0), b = rec(7, 2, 1);
  a.session_id = "6632134f.7";
  b.session_id = "6632134f.7";
  LogRecord other = rec(7, 1, 0, "connection received: host=[local]");
  other.server = "db2";
  o.add(a, true);
  o.add(other, true);  // line 1 of another server's pid 7
  o.add(b, true);
  CHECK(out.seen.size() == 3);
  CHECK(o.stats().late == 0);
}

TEST_CASE("Reorderer: records without numbers or keys pass", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  o.add(rec(7, -1, 0), true);
  o.add(rec(-1, 5, 0), true);
  CHECK(out.seen.size() == 2);
}

TEST_CASE("Reorderer caps what it holds", "[reorder]") {
  Collect out;
  ReorderOptions opts;
  opts.max_per_session = 3;
  opts.max_held = 5;
  Reorderer o(&out, opts);
  o.add(rec(7, 1, 0), true);
  for (int n = 3; n <= 6; ++n) o.add(rec(7, n, 0), true);  // the 4th held line overflows
  CHECK(o.stats().overflow == 1);
  CHECK(out.seen.size() == 5);
  CHECK_FALSE(o.holding());
  for (int pid = 10; pid < 13; ++pid) {
    o.add(rec(pid, 1, 0), true);
    o.add(rec(pid, 3, 0), true);
    o.add(rec(pid, 4, 0), true);
  }
  CHECK(o.stats().overflow == 2);  // 6 held > 5: the first backend to wait goes
  CHECK(out.seen[5 + 3] == "10:3 statement: x");
}

TEST_CASE("Reorderer forgets idle backends past max_sessions", "[reorder]") {
  Collect out;
  ReorderOptions opts;
  opts.max_sessions = 4;
  Reorderer o(&out, opts);
  for (int pid = 1; pid <= 100; ++pid) {
    o.add(rec(pid, 1, 0), true);
    o.add(rec(pid, 2, 0), true);
  }
  CHECK(out.seen.size() == 200);
  CHECK(o.stats().late == 0);
}

// bench: 1 M lines of csvlog put an authentication timeout (line 2, 60 s
// after line 1) and an idle-in-transaction FATAL a second late: more than
// max_sessions backends had come and gone meanwhile, and forgetting every
// idle one forgot these live ones too, whose set-up FATAL then waited for a
// line 1 that had long gone.
TEST_CASE("Reorderer forgets ended backends before live ones", "[reorder]") {
  Collect out;
  ReorderOptions opts;
  opts.max_sessions = 4;
  Reorderer o(&out, opts);
  o.add(rec(7, 1, 0, "connection received: host=[local]"), true);
  for (int pid = 100; pid < 200; ++pid) {
    o.add(rec(pid, 1, pid, "connection received: host=[local]"), true);
    if (pid % 2 == 0) {
      o.add(rec(pid, 2, pid, "disconnection: session time: 0:00:00.001"), true);
    } else {
      o.add(rec(pid, 2, pid, "password authentication failed for user \"a\"", "FATAL"), true);
    }
  }
  o.add(rec(7, 2, 250, "canceling authentication due to timeout", "FATAL"), true);
  CHECK_FALSE(o.holding());
  CHECK(out.seen.back() == "7:2 canceling authentication due to timeout");
}

TEST_CASE("Reorderer forgets the backends seen least lately first", "[reorder]") {
  // Backends that never say they end (log_disconnections off) come while 7
  // goes on, three between two lines of 7; every phase of the forgetting.
  for (int n = 100; n < 110; ++n) {
    Collect out;
    ReorderOptions opts;
    opts.max_sessions = 8;
    Reorderer o(&out, opts);
    o.add(rec(7, 1, 0, "connection received: host=[local]"), true);
    o.add(rec(7, 2, 0, "connection authorized: user=a database=b"), true);
    int64_t line = 3;
    for (int pid = 100; pid < n; ++pid) {
      o.add(rec(pid, 1, pid, "connection received: host=[local]"), true);
      if (pid % 3 == 0) o.add(rec(7, line++, pid), true);
    }
    o.add(rec(7, line, 200, "terminating connection due to idle-in-transaction timeout", "FATAL"), true);
    CHECK_FALSE(o.holding());
    CHECK(out.seen.back() == "7:" + std::to_string(line) + " terminating connection due to idle-in-transaction timeout");
  }
}

TEST_CASE("Reorderer stops when the sink says so", "[reorder]") {
  Collect out;
  out.go_on = false;
  Reorderer o(&out);
  CHECK_FALSE(o.add(rec(7, 1, 0), true));
  CHECK_FALSE(o.add(rec(7, 2, 0), true));
  CHECK(out.seen.size() == 1);
}

TEST_CASE("Reorderer keeps the start of a held report's message", "[reorder]") {
  Collect out;
  ReorderOptions opts;
  opts.max_message = 4;
  Reorderer o(&out, opts);
  std::string big = "statement: " + std::string(100000, 'x');
  o.add(rec(7, 1, 0), true);
  o.add(rec(7, 3, 0, big), true);
  o.add(rec(7, 4, 0, "caf\xc3\xa9 au lait"), true);  // cut inside the é: before it
  o.add(rec(7, 2, 0, "in order: kept whole"), true);
  REQUIRE(out.seen.size() == 4);
  CHECK(out.seen[1] == "7:2 in order: kept whole");
  CHECK(out.seen[2] == "7:3 stat");
  CHECK(out.seen[3] == "7:4 caf");
}

TEST_CASE("issue_15 Reorderer sparse mode: gaps past the set-up are skipped lines", "[reorder]") {
  Collect out;
  Reorderer o(&out);
  o.set_sparse(true);
  o.add(rec(7, 1, 0, "connection received: host=[local]"), true);
  o.add(rec(7, 2, 1, "connection authorized: user=a database=b"), true);
  o.add(rec(7, 40, 2, "disconnection: session time: 0:00:00.002 user=a database=b host=[local]"), true);
  CHECK(out.seen.size() == 3);
  CHECK_FALSE(o.holding());
  // In set-up, a gap is a lifecycle line still to come.
  o.add(rec(8, 1, 3, "connection received: host=[local]"), true);
  o.add(rec(8, 5, 4, "disconnection: session time: 0:00:00.001 user=a database=b host=[local]"), true);
  CHECK(o.holding());
  o.add(rec(8, 2, 5, "connection authorized: user=a database=b"), true);
  CHECK_FALSE(o.holding());  // 3 and 4 were skipped lines: 5 leaves with 2
  CHECK(out.seen == lines({"7:1 connection received: host=[local]",
                           "7:2 connection authorized: user=a database=b",
                           "7:40 disconnection: session time: 0:00:00.002 user=a database=b host=[local]",
                           "8:1 connection received: host=[local]",
                           "8:2 connection authorized: user=a database=b",
                           "8:5 disconnection: session time: 0:00:00.001 user=a database=b host=[local]"}));
  CHECK(o.stats().late == 0);
  // Keyed by pid, a number already passed is a new process whose first
  // lines were skipped; keyed by session id it is late.
  o.add(rec(7, 6, 6, "FATAL x", "FATAL"), true);
  CHECK(o.stats().late == 0);
  o.add(rec(7, 7, 7, "statement: y"), true);
  CHECK(out.seen.back() == "7:7 statement: y");
  LogRecord a = rec(9, 10, 8), b = rec(9, 4, 9);
  a.session_id = b.session_id = "65e1a722.9";
  o.add(a, true);
  o.add(b, true);
  CHECK(o.stats().late == 1);
  // Off again: a gap waits.
  o.set_sparse(false);
  o.add(rec(7, 9, 10), true);
  CHECK(o.holding());
}

TEST_CASE("issue_15 Reorderer keys a session id as its text, read as numbers or not", "[reorder]") {
  // Each pair is two backends: line 2 of the second, a set-up line, waits
  // for its line 1 (it would be a late line of the first if they shared a
  // key). The pid is 0x7d0 in all of them.
  struct Pair {
    const char* first;
    const char* second;
    const char* second_server;
  };
  const Pair kPairs[] = {
      {"65e1a8c0.7d0", "65e1a8c0.07d0", ""},    // a leading zero: another text
      {"65e1a8c0.7d0", "65E1A8C0.7D0", ""},     // upper case
      {"65e1a8c0.7d0", "65e1a8c0.7d0", "db2"},  // another server
      {"65e1a8c0.7d0", "", ""},                 // keyed by the pid 2000
      {"0.7d0", "00.7d0", ""},
      {"123456789abcdef0.7d0", "123456789abcdef.7d0", ""},  // 16 digits: text
      {"x-1", "x-2", ""},                        // not PostgreSQL's form
  };
  for (const Pair& p : kPairs) {
    INFO(p.first << " | " << p.second << " " << p.second_server);
    Collect out;
    Reorderer o(&out);
    LogRecord a1 = rec(2000, 1, 0, "connection received: host=[local]");
    LogRecord a2 = rec(2000, 2, 1, "connection authorized: user=a database=b");
    LogRecord a3 = rec(2000, 3, 2, "disconnection: session time: 0:00:00.001");
    LogRecord b2 = rec(2000, 2, 3, "connection authorized: user=a database=b");
    a1.session_id = a2.session_id = a3.session_id = p.first;
    b2.session_id = p.second;
    b2.server = p.second_server;
    o.add(a1, true);
    o.add(a2, true);
    o.add(b2, true);
    CHECK(o.holding());
    CHECK(o.stats().late == 0);
    o.add(a3, true);  // the first's count goes on
    CHECK(out.seen.size() == 3);
    CHECK(o.stats().late == 0);
    // The same text is the same backend.
    LogRecord a4 = rec(2000, 2, 4);
    a4.session_id = p.first;
    o.add(a4, true);
    CHECK(o.stats().late == 1);
  }
}

TEST_CASE("issue_15 Reorderer hands on a line it does not hold as the record add() got",
          "[reorder]") {
  struct Addresses : RecordSink {
    bool on_record(const LogRecord& r) override {
      seen.push_back(&r);
      return true;
    }
    std::vector<const LogRecord*> seen;
  } out;
  Reorderer o(&out);
  LogRecord r1 = rec(7, 1, 0, "connection received: host=[local]");
  LogRecord r3 = rec(7, 3, 2, "FATAL one", "FATAL");
  LogRecord r2 = rec(7, 2, 1, "connection authorized: user=a database=b");
  o.add(r1, true);
  o.add(r3, true);  // held: line 2 is still to come
  o.add(r2, true);  // leaves as itself, then the held line 3 as a copy
  REQUIRE(out.seen.size() == 3);
  CHECK(out.seen[0] == &r1);
  CHECK(out.seen[1] == &r2);
  CHECK(out.seen[2] != &r3);
}
