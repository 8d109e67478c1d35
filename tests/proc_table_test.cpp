// scan_proc and find_server on fake /proc trees (fake_proc.hpp): one
// server, two clusters side by side, a server in another pid namespace,
// hidepid, titles that are not set, update_process_title = off.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "fake_proc.hpp"
#include "lifecycle/proc_table.hpp"

using namespace pgconn;
using pgconn::testing::FakeProc;

namespace {

constexpr const char* kArgv16 = "/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main";
constexpr const char* kArgv15 = "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main";

// Debian's 16/main: postmaster 100 and its children.
void cluster16(FakeProc& p) {
  p.add(1, 0, "systemd", "/sbin/init", 1);
  p.add(100, 1, "postgres", kArgv16, 500);
  p.add(101, 100, "postgres", "postgres: 16/main: checkpointer ", 510);
  p.add(102, 100, "postgres", "postgres: 16/main: app shop [local] idle", 1000);
  p.add(103, 100, "postgres", "postgres: 16/main: app shop 10.0.0.5(5123) authentication", 1200);
  p.add(104, 100, "postgres", "postgres: 16/main: walsender repl 10.0.0.7(40000) streaming 0/3000060", 900);
  p.add(105, 100, "postgres", "postgres: 16/main: autovacuum launcher ", 520);
  p.add(106, 100, "postgres", "postgres: 16/main: my user shop ::1(5000) SELECT", 1100);
  p.add(107, 100, "postgres", kArgv16, 1300);  // just forked, no title yet
  p.add(300, 1, "bash", "-bash", 50);
}

void cluster15(FakeProc& p) {
  p.add(200, 1, "postgres", kArgv15, 600);
  p.add(201, 200, "postgres", "postgres: 15/main: checkpointer ", 610);
  p.add(202, 200, "postgres", "postgres: 15/main: report analytics [local] idle", 2000);
}

std::vector<int64_t> pids(const ServerView& v) {
  std::vector<int64_t> out;
  for (const ServerBackend& b : v.sessions) out.push_back(b.pid);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("scan_proc reads stat, cmdline, NSpid and btime", "[proc_table]") {
  FakeProc p;
  cluster16(p);
  p.add(400, 1, "my (odd) name", "x", 77, "400\t12");
  auto scan = scan_proc(p.root(), 100);
  REQUIRE(scan.ok());
  CHECK(scan->boot_ms == 1714557600000);
  const ProcEntry* e = scan->find(102);
  REQUIRE(e != nullptr);
  CHECK(e->ppid == 100);
  CHECK(e->comm == "postgres");
  CHECK(e->title == "postgres: 16/main: app shop [local] idle");
  CHECK(e->ns_pid == 102);
  CHECK(scan->start_ms(*e) == 1714557610000);  // 1000 ticks: 10 s after boot
  const ProcEntry* odd = scan->find(400);
  REQUIRE(odd != nullptr);
  CHECK(odd->comm == "my (odd) name");
  CHECK(odd->ns_pid == 12);
  CHECK(odd->start_ticks == 77);
  CHECK(scan->find(999) == nullptr);
}

TEST_CASE("scan_proc fails without a boot time", "[proc_table]") {
  FakeProc p;
  p.write("stat", "cpu 1 2 3\n");
  auto scan = scan_proc(p.root(), 100);
  REQUIRE_FALSE(scan.ok());
  CHECK(scan.error() == "cannot read the boot time in " + p.root() + "/stat");
}

TEST_CASE("find_server lists one server's sessions", "[proc_table]") {
  FakeProc p;
  cluster16(p);
  auto scan = scan_proc(p.root(), 100);
  REQUIRE(scan.ok());
  auto v = find_server(*scan, {}, -1);
  REQUIRE(v.ok());
  CHECK(v->postmaster == 100);
  CHECK(v->cluster_prefix == "16/main: ");
  CHECK(pids(*v) == std::vector<int64_t>{102, 104, 106});
  CHECK(v->setting_up == 2);  // 103 authenticating, 107 not titled yet
  CHECK(v->names_unknown == 1);
  for (const ServerBackend& b : v->sessions) {
    if (b.pid == 102) {
      CHECK(b.title.user == "app");
      CHECK(b.title.db == "shop");
      CHECK(b.title.host == "[local]");
      CHECK(b.start_ms == 1714557610000);
      CHECK(b.host_pid == 102);
    } else if (b.pid == 104) {
      CHECK(b.title.kind == ProcTitle::Kind::kReplication);
    }
  }
  // The log's pids agree; --snapshot=PID of the postmaster or of a child.
  CHECK(find_server(*scan, {102, 101}, -1)->postmaster == 100);
  CHECK(find_server(*scan, {}, 100)->postmaster == 100);
  CHECK(find_server(*scan, {}, 104)->postmaster == 100);
  auto bad = find_server(*scan, {}, 300);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "process 300 is not a running PostgreSQL server");
}

TEST_CASE("find_server with two clusters: the log's pids choose, else a warning", "[proc_table]") {
  FakeProc p;
  cluster16(p);
  cluster15(p);
  auto scan = scan_proc(p.root(), 100);
  REQUIRE(scan.ok());
  auto none = find_server(*scan, {}, -1);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error() ==
        "several PostgreSQL servers run here (postmasters 100 (16/main), 200 (15/main)) and the "
        "log has named no process yet: choose one with --snapshot=PID");
  auto by_log = find_server(*scan, {202, 9999}, -1);
  REQUIRE(by_log.ok());
  CHECK(by_log->postmaster == 200);
  CHECK(pids(*by_log) == std::vector<int64_t>{202});
  CHECK(find_server(*scan, {200}, -1)->postmaster == 200);  // the postmaster's own lines
  auto tie = find_server(*scan, {102, 202}, -1);
  REQUIRE_FALSE(tie.ok());
  CHECK(tie.error() ==
        "the log's processes could belong to several PostgreSQL servers (postmasters 100 "
        "(16/main), 200 (15/main)): choose one with --snapshot=PID");
  auto stranger = find_server(*scan, {5555}, -1);
  REQUIRE_FALSE(stranger.ok());
  CHECK(stranger.error() ==
        "no running PostgreSQL server here has the log's processes (postmasters 100 "
        "(16/main), 200 (15/main)): choose one with --snapshot=PID");
  CHECK(find_server(*scan, {}, 200)->postmaster == 200);
}

TEST_CASE("find_server maps a container's pids through NSpid", "[proc_table]") {
  FakeProc p;
  cluster16(p);
  // A PostgreSQL in a container: its log says pids 1, 7, 8, 9.
  p.add(700, 1, "containerd-shim", "containerd-shim -id x", 10);
  p.add(701, 700, "postgres", "postgres", 20, "701\t1");
  p.add(702, 701, "postgres", "postgres: checkpointer ", 30, "702\t7");
  p.add(703, 701, "postgres", "postgres: app shop 172.17.0.1(40000) idle", 40, "703\t8");
  p.add(704, 701, "postgres", "postgres: app shop 172.17.0.1(40002) idle in transaction", 50,
        "704\t9");
  auto scan = scan_proc(p.root(), 100);
  REQUIRE(scan.ok());
  auto v = find_server(*scan, {8, 1}, -1);
  REQUIRE(v.ok());
  CHECK(v->postmaster == 701);
  CHECK(pids(*v) == std::vector<int64_t>{8, 9});
  for (const ServerBackend& b : v->sessions) CHECK(b.host_pid == b.pid + 695);
}

TEST_CASE("find_server says when /proc hides the server (hidepid)", "[proc_table]") {
  FakeProc p;
  p.add(1, 0, "systemd", "/sbin/init", 1);
  p.add(300, 1, "bash", "-bash", 50);
  {
    auto scan = scan_proc(p.root(), 100);
    REQUIRE(scan.ok());
    auto v = find_server(*scan, {}, -1);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error() ==
          "no PostgreSQL server runs on this host (one in another container is not seen: run "
          "where its processes are visible)");
  }
  p.add_hidden(100);  // hidepid=1: listed, not readable
  {
    auto scan = scan_proc(p.root(), 100);
    REQUIRE(scan.ok());
    CHECK(scan->unreadable == 1);
    auto v = find_server(*scan, {}, -1);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error() ==
          "no PostgreSQL server found: /proc hides other users' processes (hidepid); run as "
          "root or as the server's user");
  }
  p.remove(100);  // hidepid=2: not even listed; the mount says so
  p.write("self/mountinfo",
          "22 27 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc "
          "rw,hidepid=invisible\n");
  auto scan = scan_proc(p.root(), 100);
  REQUIRE(scan.ok());
  CHECK(scan->hidepid);
  CHECK_FALSE(find_server(*scan, {}, -1).ok());
}

TEST_CASE("find_server refuses a server whose titles are not set", "[proc_table]") {
  FakeProc p;
  p.add(100, 1, "postgres", kArgv16, 500);
  p.add(101, 100, "postgres", kArgv16, 510);
  p.add(102, 100, "postgres", kArgv16, 1000);
  auto scan = scan_proc(p.root(), 100);
  REQUIRE(scan.ok());
  auto v = find_server(*scan, {}, -1);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error() ==
        "the processes of PostgreSQL server 100 have no titles (\"postgres: user db host "
        "state\"): --snapshot cannot tell its sessions from its workers");
}

TEST_CASE("find_server reads update_process_title = off titles", "[proc_table]") {
  FakeProc p;
  p.add(100, 1, "postgres", kArgv16, 500);
  p.add(101, 100, "postgres", "postgres: checkpointer ", 510);
  p.add(102, 100, "postgres", "postgres: app shop [local] ", 1000);
  p.add(103, 100, "postgres", "postgres: app shop 10.0.0.5(5123) ", 1000);
  auto scan = scan_proc(p.root(), 100);
  REQUIRE(scan.ok());
  auto v = find_server(*scan, {}, -1);
  REQUIRE(v.ok());
  CHECK(pids(*v) == std::vector<int64_t>{102, 103});
}

TEST_CASE("find_server: a log whose processes have all ended, one server here", "[proc_table]") {
  FakeProc p;
  cluster16(p);  // the postmaster started at 10:00:05Z
  auto scan = scan_proc(p.root(), 100);
  REQUIRE(scan.ok());
  // The current file's sessions all ended; its newest line is after the start.
  CHECK(find_server(*scan, {5555, 5556}, -1)->postmaster == 100);
  CHECK(find_server(*scan, {5555}, -1, 1714557700000)->postmaster == 100);
  // A log older than the server (its previous run, another server's file).
  auto old = find_server(*scan, {5555}, -1, 1714557000000);
  REQUIRE_FALSE(old.ok());
  CHECK(old.error() ==
        "none of the log's processes runs here and its newest line is older than the PostgreSQL "
        "server here (postmaster 100 (16/main)): give --snapshot=PID if the log is its own");
}
