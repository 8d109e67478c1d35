// Snapshot: the tracker's sessions reconciled with a fake /proc tree
// (fake_proc.hpp). The log's lines are built by hand as in tracker_test.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "codec/event_codec.hpp"
#include "fake_proc.hpp"
#include "line_sink.hpp"
#include "lifecycle/snapshot.hpp"
#include "timestamp.hpp"
#include "lifecycle/tracker.hpp"

using namespace pgconn;
using pgconn::testing::FakeProc;

namespace {

using FakeSink = pgconn_test::LineSink;

// btime 2024-05-01T10:00:00Z; the server started 5 s after boot.
constexpr int64_t kNow = 1714557600000 + 3600 * 1000;  // 11:00:00Z
constexpr const char* kArgv = "/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main";

struct Fixture {
  FakeProc proc;
  FakeSink sink;
  Tracker tracker{&sink, TrackerOptions()};
  Snapshot snapshot{&tracker, SnapshotOptions{proc.root(), -1, 100}};
  Fixture() {
    proc.add(1, 0, "systemd", "/sbin/init", 1);
    proc.add(100, 1, "postgres", kArgv, 500);
    proc.add(101, 100, "postgres", "postgres: checkpointer ", 510);
  }
  void line(const char* time, int64_t pid, const char* severity, const char* message) {
    LogRecord r;
    REQUIRE(parse_pg_time(time, &r.time));
    r.pid = pid;
    r.severity = severity;
    r.message = message;
    REQUIRE(tracker.add(r));
  }
  void connect(const char* time, int64_t pid, const char* host_port, const char* who) {
    line(time, pid, "LOG", (std::string("connection received: ") + host_port).c_str());
    line(time, pid, "LOG", (std::string("connection authorized: ") + who).c_str());
  }
  // A settled session of pid 200 from 10:30 whose process now started at
  // 10:50 (300000 ticks after boot): the pid was used again. The sink is
  // emptied of the connect.
  void reused_pid_200() {
    connect("2024-05-01 10:30:00.000 UTC", 200, "host=[local]",
            "user=app database=shop application_name=web");
    proc.add(200, 100, "postgres", "postgres: app shop [local] idle", 300000);
    tracker.settle_all();
    sink.lines.clear();
  }
};

}  // namespace

TEST_CASE("Snapshot opens the sessions the log did not show, ends those that are gone",
          "[snapshot]") {
  Fixture f;
  // The log (from the middle) shows 200 and 201 connect; 201's process is
  // gone without a disconnection line. 202 and 203 are older than the log.
  f.connect("2024-05-01 10:30:00.000 UTC", 200, "host=10.0.0.5 port=4000",
            "user=app database=shop application_name=web");
  f.connect("2024-05-01 10:31:00.000 UTC", 201, "host=10.0.0.5 port=4001",
            "user=app database=shop application_name=web");
  f.proc.add(200, 100, "postgres", "postgres: app shop 10.0.0.5(4000) idle", 180000);
  f.proc.add(202, 100, "postgres", "postgres: report analytics [local] idle", 1234);
  f.proc.add(203, 100, "postgres", "postgres: walsender repl ::1(4003) streaming 0/1", 1500);
  f.proc.add(204, 100, "postgres", "postgres: app shop [local] authentication", 359000);
  f.tracker.settle_all();
  f.sink.lines.clear();
  auto report = f.snapshot.reconcile(kNow);
  REQUIRE(report.ok());
  CHECK(report->postmaster == 100);
  CHECK(report->connects == 2);
  CHECK(report->lost == 1);
  CHECK(f.sink.lines == std::vector<std::string>{
      "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T11:00:00.000Z\",\"pid\":201,"
      "\"session\":\"201-2\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"web\","
      "\"host\":\"10.0.0.5\",\"port\":4001,\"reason\":\"lost\",\"matched\":true}",
      "{\"type\":\"connect\",\"ts\":\"2024-05-01T10:00:12.340Z\",\"pid\":202,"
      "\"session\":\"202-3\",\"user\":\"report\",\"db\":\"analytics\",\"host\":\"[local]\","
      "\"snapshot\":true}",
      "{\"type\":\"connect\",\"ts\":\"2024-05-01T10:00:15.000Z\",\"pid\":203,"
      "\"session\":\"203-4\",\"user\":\"repl\",\"host\":\"::1\",\"port\":4003,"
      "\"replication\":true,\"snapshot\":true}",
      "{\"type\":\"server\",\"ts\":\"2024-05-01T11:00:00.000Z\",\"state\":\"snapshot\"}"});

  SECTION("a later disconnection of a snapshot session matches it, with its duration") {
    f.sink.lines.clear();
    f.line("2024-05-01 11:00:05.000 UTC", 202, "LOG",
           "disconnection: session time: 1:00:00.000 user=report database=analytics host=[local]");
    REQUIRE(f.sink.lines.size() == 1);
    CHECK(f.sink.lines[0] ==
          "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T11:00:05.000Z\",\"pid\":202,"
          "\"session\":\"202-3\",\"user\":\"report\",\"db\":\"analytics\",\"host\":\"[local]\","
          "\"duration_ms\":3600000,\"matched\":true}");
  }
  SECTION("the start lines of the process the scan saw join its session") {
    // 204 finished authenticating after the scan: its lines open it as usual.
    f.sink.lines.clear();
    f.connect("2024-05-01 10:59:50.000 UTC", 204, "host=[local]",
              "user=app database=shop application_name=late");
    f.line("2024-05-01 11:00:01.000 UTC", 204, "LOG", "statement: select 1");
    REQUIRE(f.sink.lines.size() == 1);
    CHECK_THAT(f.sink.lines[0],
               Catch::Contains("\"type\":\"connect\",\"ts\":\"2024-05-01T10:59:50.000Z\""));
    // 202's own start lines, read late (written before the scan): no
    // second connect; the application name comes as an update.
    f.sink.lines.clear();
    f.connect("2024-05-01 10:00:12.000 UTC", 202, "host=[local]",
              "user=report database=analytics application_name=cron");
    CHECK(f.sink.lines == std::vector<std::string>{
        "{\"type\":\"update\",\"ts\":\"2024-05-01T10:00:12.000Z\",\"pid\":202,"
        "\"session\":\"202-3\",\"user\":\"report\",\"db\":\"analytics\",\"app\":\"cron\","
        "\"host\":\"[local]\"}"});
  }
  SECTION("a new process with a snapshot session's pid ends that session") {
    f.proc.remove(202);
    f.proc.add(202, 100, "postgres", "postgres: app shop [local] idle", 360500);
    f.sink.lines.clear();
    f.connect("2024-05-01 11:00:05.000 UTC", 202, "host=[local]",
              "user=app database=shop application_name=new");
    f.line("2024-05-01 11:00:05.100 UTC", 202, "LOG", "statement: select 1");
    REQUIRE(f.sink.lines.size() == 2);
    CHECK_THAT(f.sink.lines[0], Catch::Contains("\"pid\":202,\"session\":\"202-3\""));
    CHECK_THAT(f.sink.lines[0], Catch::Contains("\"reason\":\"lost\""));
    CHECK_THAT(f.sink.lines[1], Catch::Contains("\"type\":\"connect\""));
    CHECK_THAT(f.sink.lines[1], Catch::Contains("\"app\":\"new\""));
  }
  SECTION("gone before its start lines are read: the line's time decides") {
    f.proc.remove(203);
    f.sink.lines.clear();
    f.line("2024-05-01 10:00:15.300 UTC", 203, "LOG", "connection received: host=::1 port=4003");
    CHECK(f.sink.lines.empty());  // within 2 s of the process start: the same
    f.line("2024-05-01 11:00:09.000 UTC", 203, "LOG", "connection received: host=::1 port=4009");
    REQUIRE(f.sink.lines.size() == 1);
    CHECK_THAT(f.sink.lines[0], Catch::Contains("\"reason\":\"lost\""));
  }
}

TEST_CASE("Snapshot: a log session whose pid a later process has taken is lost", "[snapshot]") {
  Fixture f;
  f.reused_pid_200();
  auto report = f.snapshot.reconcile(kNow);
  REQUIRE(report.ok());
  CHECK(report->lost == 1);
  CHECK(report->connects == 1);
  REQUIRE(f.sink.lines.size() == 3);
  CHECK_THAT(f.sink.lines[0], Catch::Contains("\"reason\":\"lost\""));
  CHECK_THAT(f.sink.lines[1], Catch::Contains("\"ts\":\"2024-05-01T10:50:00.000Z\""));
}

TEST_CASE("Snapshot keeps a held connection and backends being set up", "[snapshot]") {
  Fixture f;
  // Held (not settled yet): settled by the reconcile, not counted twice.
  f.connect("2024-05-01 10:59:59.000 UTC", 200, "host=[local]",
            "user=app database=shop application_name=web");
  // Received only: its authorized line will come.
  f.line("2024-05-01 10:59:59.500 UTC", 201, "LOG", "connection received: host=[local]");
  f.proc.add(200, 100, "postgres", "postgres: app shop [local] idle", 359900);
  f.proc.add(201, 100, "postgres", "postgres: app shop [local] startup", 359950);
  f.sink.lines.clear();
  auto report = f.snapshot.reconcile(kNow);
  REQUIRE(report.ok());
  CHECK(report->connects == 0);
  CHECK(report->lost == 0);
  REQUIRE(f.sink.lines.size() == 2);
  CHECK_THAT(f.sink.lines[0],
             Catch::Contains("\"type\":\"connect\",\"ts\":\"2024-05-01T10:59:59.000Z\""));
  CHECK_THAT(f.sink.lines[1], Catch::Contains("\"state\":\"snapshot\""));
}

TEST_CASE("Snapshot writes times in the log's offset", "[snapshot]") {
  Fixture f;
  f.line("2024-05-01 12:00:00.000 +02", 101, "LOG", "checkpoint starting: time");
  f.proc.add(202, 100, "postgres", "postgres: report analytics [local] idle", 1234);
  auto report = f.snapshot.reconcile(kNow);
  REQUIRE(report.ok());
  REQUIRE(f.sink.lines.size() == 2);
  CHECK_THAT(f.sink.lines[0], Catch::Contains("\"ts\":\"2024-05-01T12:00:12.340+02:00\""));
  CHECK_THAT(f.sink.lines[1], Catch::Contains("\"ts\":\"2024-05-01T13:00:00.000+02:00\""));
}

TEST_CASE("Snapshot refuses what it cannot do exactly, and writes nothing", "[snapshot]") {
  Fixture f;
  f.proc.add(202, 100, "postgres", "postgres: report analytics [local] idle", 1234);
  SECTION("a log without pids") {
    LogRecord r;
    r.severity = "LOG";
    r.message = "connection received: host=[local]";
    REQUIRE(f.tracker.add(r));
    auto report = f.snapshot.reconcile(kNow);
    REQUIRE_FALSE(report.ok());
    CHECK(report.error() ==
          "the log's lines name no process (no %p in log_line_prefix): --snapshot cannot join "
          "them to the process table");
  }
  SECTION("two servers and no way to choose") {
    f.proc.add(300, 1, "postgres", kArgv, 500);
    f.proc.add(301, 300, "postgres", "postgres: checkpointer ", 510);
    auto report = f.snapshot.reconcile(kNow);
    REQUIRE_FALSE(report.ok());
    CHECK(report.error().find("several PostgreSQL servers run here (postmasters 100, 300)") == 0);
  }
  CHECK(f.sink.lines.empty());
}

TEST_CASE("Snapshot writes the host's own zone abbreviation as the log does", "[snapshot]") {
  // A POSIX TZ string needs no tzdata: CET, CEST in summer.
  const char* old = std::getenv("TZ");
  std::string saved = old != nullptr ? old : "";
  setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
  tzset();
  {
    Fixture f;
    f.line("2024-05-01 12:00:00.000 CEST", 101, "LOG", "checkpoint starting: time");
    f.proc.add(202, 100, "postgres", "postgres: report analytics [local] idle", 1234);
    auto report = f.snapshot.reconcile(kNow);
    REQUIRE(report.ok());
    REQUIRE(f.sink.lines.size() == 2);
    CHECK_THAT(f.sink.lines[0],
               Catch::Contains("\"ts\":\"2024-05-01T12:00:12.340\",\"tz\":\"CEST\""));
    CHECK_THAT(f.sink.lines[1],
               Catch::Contains("\"ts\":\"2024-05-01T13:00:00.000\",\"tz\":\"CEST\""));
  }
  {
    Fixture f;  // another abbreviation than the host's: the host's offset
    f.line("2024-05-01 06:00:00.000 EDT", 101, "LOG", "checkpoint starting: time");
    f.proc.add(202, 100, "postgres", "postgres: report analytics [local] idle", 1234);
    REQUIRE(f.snapshot.reconcile(kNow).ok());
    CHECK_THAT(f.sink.lines[0], Catch::Contains("\"ts\":\"2024-05-01T12:00:12.340+02:00\""));
  }
  if (old != nullptr) setenv("TZ", saved.c_str(), 1); else unsetenv("TZ");
  tzset();
}

namespace {

// Live: 200 is open and running, 201's process is gone at the scan (clock
// 0), its end not read yet.
struct LiveFixture : Fixture {
  LiveFixture() {
    connect("2024-05-01 10:30:00.000 UTC", 200, "host=10.0.0.5 port=4000",
            "user=app database=shop application_name=web");
    connect("2024-05-01 10:31:00.000 UTC", 201, "host=10.0.0.5 port=4001",
            "user=app database=shop application_name=web");
    proc.add(200, 100, "postgres", "postgres: app shop 10.0.0.5(4000) idle", 180000);
    tracker.settle_all();
    sink.lines.clear();
  }
  void reconcile_live() {
    auto report = snapshot.reconcile(kNow, 0);
    REQUIRE(report.ok());
    CHECK(report->lost == 0);
    CHECK(report->waiting == 1);
    CHECK(snapshot.waiting());
    CHECK(snapshot.next_tick_ms(0) == Snapshot::kLostGraceMs);
  }
};

constexpr const char* kLost201 =
    "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T11:00:00.000Z\",\"pid\":201,"
    "\"session\":\"201-2\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"web\","
    "\"host\":\"10.0.0.5\",\"port\":4001,\"reason\":\"lost\",\"matched\":true}";
constexpr const char* kSnapshotDone =
    "{\"type\":\"server\",\"ts\":\"2024-05-01T11:00:00.000Z\",\"state\":\"snapshot\"}";

}  // namespace

TEST_CASE("Snapshot: a gone session whose disconnection comes within the grace ends with it",
          "[snapshot][grace]") {
  LiveFixture f;
  f.reconcile_live();
  CHECK(f.sink.lines.empty());  // no lost, and the view not complete yet
  // The line the collector had not written yet at the scan.
  f.line("2024-05-01 10:59:59.990 UTC", 201, "LOG",
         "disconnection: session time: 0:28:59.990 user=app database=shop host=10.0.0.5 "
         "port=4001");
  CHECK(f.snapshot.tick(200));
  CHECK(f.sink.lines == std::vector<std::string>{
      "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T10:59:59.990Z\",\"pid\":201,"
      "\"session\":\"201-2\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"web\","
      "\"host\":\"10.0.0.5\",\"port\":4001,\"duration_ms\":1739990,\"matched\":true}"});
  CHECK(f.snapshot.next_tick_ms(200) == Snapshot::kLostGraceMs - 200);
  CHECK(f.snapshot.tick(Snapshot::kLostGraceMs));
  CHECK(f.sink.lines.size() == 2);
  CHECK(f.sink.lines.back() == kSnapshotDone);
  CHECK_FALSE(f.snapshot.waiting());
  CHECK(f.snapshot.next_tick_ms(Snapshot::kLostGraceMs) == -1);
}

TEST_CASE("Snapshot: a gone session whose end is not read within the grace is lost",
          "[snapshot][grace]") {
  LiveFixture f;
  f.reconcile_live();
  SECTION("the grace runs out: lost at the time of the scan, then the snapshot event") {
    f.line("2024-05-01 11:00:00.500 UTC", 200, "LOG", "statement: select 1");
    CHECK(f.snapshot.tick(Snapshot::kLostGraceMs - 1));
    CHECK(f.sink.lines.empty());
    CHECK(f.snapshot.tick(Snapshot::kLostGraceMs));
    CHECK(f.sink.lines == std::vector<std::string>{kLost201, kSnapshotDone});
    CHECK(f.snapshot.tick(Snapshot::kLostGraceMs + 10));  // once only
    CHECK(f.sink.lines.size() == 2);
  }
  SECTION("the input ends (or a signal comes) during the grace: lost at once") {
    CHECK(f.snapshot.end_grace());
    CHECK(f.sink.lines == std::vector<std::string>{kLost201, kSnapshotDone});
    CHECK_FALSE(f.snapshot.waiting());
    CHECK(f.snapshot.end_grace());
    CHECK(f.sink.lines.size() == 2);
  }
  SECTION("a FATAL that ended it, with no disconnection line: its reason, at the scan") {
    f.line("2024-05-01 10:59:59.990 UTC", 201, "FATAL",
           "terminating connection due to administrator command");
    CHECK(f.snapshot.tick(Snapshot::kLostGraceMs));
    REQUIRE(f.sink.lines.size() == 2);
    CHECK(f.sink.lines[0] ==
          "{\"type\":\"disconnect\",\"ts\":\"2024-05-01T11:00:00.000Z\",\"pid\":201,"
          "\"session\":\"201-2\",\"user\":\"app\",\"db\":\"shop\",\"app\":\"web\","
          "\"host\":\"10.0.0.5\",\"port\":4001,\"reason\":\"terminated\",\"matched\":true}");
  }
}

TEST_CASE("Snapshot: the end of a session waiting for its grace is its own", "[snapshot][grace]") {
  LiveFixture f;
  f.reconcile_live();
  SECTION("its pid taken by a new session after its disconnection: the new one stays") {
    f.line("2024-05-01 10:59:59.990 UTC", 201, "LOG",
           "disconnection: session time: 0:28:59.990 user=app database=shop host=10.0.0.5 "
           "port=4001");
    f.connect("2024-05-01 11:00:00.400 UTC", 201, "host=10.0.0.9 port=5000",
              "user=admin database=postgres application_name=psql");
    f.line("2024-05-01 11:00:00.500 UTC", 201, "LOG", "statement: select 1");
    CHECK(f.snapshot.tick(Snapshot::kLostGraceMs));
    REQUIRE(f.sink.lines.size() == 3);
    CHECK_THAT(f.sink.lines[0], Catch::Contains("\"type\":\"disconnect\""));
    CHECK_THAT(f.sink.lines[0], Catch::Contains("\"matched\":true"));
    CHECK_THAT(f.sink.lines[1],
               Catch::Contains("\"type\":\"connect\",\"ts\":\"2024-05-01T11:00:00.400Z\""));
    CHECK(f.sink.lines[2] == kSnapshotDone);
  }
  SECTION("its pid taken with its end never logged: the log's own rule ends it, once") {
    f.connect("2024-05-01 11:00:00.400 UTC", 201, "host=10.0.0.9 port=5000",
              "user=admin database=postgres application_name=psql");
    f.line("2024-05-01 11:00:00.500 UTC", 201, "LOG", "statement: select 1");
    CHECK(f.snapshot.tick(Snapshot::kLostGraceMs));
    REQUIRE(f.sink.lines.size() == 3);
    CHECK_THAT(f.sink.lines[0], Catch::Contains("\"ts\":\"2024-05-01T11:00:00.400Z\",\"pid\":201,"
                                                "\"session\":\"201-2\""));
    CHECK_THAT(f.sink.lines[0], Catch::Contains("\"reason\":\"lost\""));
    CHECK_THAT(f.sink.lines[1], Catch::Contains("\"type\":\"connect\""));
    CHECK(f.sink.lines[2] == kSnapshotDone);
  }
}

TEST_CASE("Snapshot: a refusal after authorization read in the grace stands, no lost",
          "[snapshot][grace]") {
  // 201 was authorized just before the scan (held; the reconcile settles
  // it open), then refused: its process is gone, its FATAL on the way.
  Fixture f;
  f.connect("2024-05-01 10:59:59.900 UTC", 201, "host=10.0.0.5 port=4001",
            "user=app database=shop application_name=web");
  f.sink.lines.clear();
  auto report = f.snapshot.reconcile(kNow, 0);
  REQUIRE(report.ok());
  CHECK(report->waiting == 1);
  REQUIRE(f.sink.lines.size() == 1);  // the held connect, settled
  f.line("2024-05-01 10:59:59.910 UTC", 201, "FATAL", "too many connections for role \"app\"");
  CHECK(f.snapshot.tick(Snapshot::kLostGraceMs));
  REQUIRE(f.sink.lines.size() == 3);
  CHECK_THAT(f.sink.lines[1],
             Catch::Contains("\"type\":\"reject\",\"ts\":\"2024-05-01T10:59:59.910Z\",\"pid\":201,"
                             "\"session\":\"201-1\""));
  CHECK_THAT(f.sink.lines[1], Catch::Contains("\"matched\":true"));
  CHECK(f.sink.lines[2] == kSnapshotDone);
}

TEST_CASE("Snapshot: a reused pid ends its old session at once, also live", "[snapshot][grace]") {
  Fixture f;
  f.reused_pid_200();
  auto report = f.snapshot.reconcile(kNow, 0);
  REQUIRE(report.ok());
  CHECK(report->lost == 1);
  CHECK(report->waiting == 0);
  CHECK_FALSE(f.snapshot.waiting());
  REQUIRE(f.sink.lines.size() == 3);
  CHECK_THAT(f.sink.lines[0], Catch::Contains("\"reason\":\"lost\""));
  CHECK_THAT(f.sink.lines[1], Catch::Contains("\"snapshot\":true"));
  CHECK(f.sink.lines[2] == kSnapshotDone);
}
