// parse_proc_title and cluster_prefix on the titles PostgreSQL 9.6 to 18
// write (ps_status.c; BackendInitialize in postmaster.c, backend_startup.c
// from 18): with and without cluster_name, every state word, [local], IPv6,
// walsenders, the server's other processes, and hostile names.
#include <catch2/catch.hpp>

#include <string>

#include "lifecycle/proc_title.hpp"

using namespace pgconn;
using Kind = ProcTitle::Kind;

namespace {

std::string show(const ProcTitle& t) {
  const char* kinds[] = {"not-postgres", "client", "replication", "setting-up", "other"};
  std::string s = kinds[static_cast<int>(t.kind)];
  if (t.kind == Kind::kNotPostgres || t.kind == Kind::kOther) return s;
  s += t.names_known ? " user=" + t.user + " db=" + t.db : std::string(" names=?");
  s += " host=" + t.host + " port=" + std::to_string(t.port) + " state=" + t.state;
  return s;
}

std::string parse(const std::string& title) { return show(parse_proc_title(title)); }
std::string parse(const std::string& title, const std::string& cluster) {
  return show(parse_proc_title(title, std::string_view(cluster)));
}

}  // namespace

TEST_CASE("client titles of every version, with and without cluster_name", "[proc_title]") {
  // 9.6 to 12 (init_ps_display(user, db, host, initial)) and 13 to 18
  // (init_ps_display(fixed_part)) write the same text.
  CHECK(parse("postgres: app shop 10.0.0.5(51234) idle") ==
        "client user=app db=shop host=10.0.0.5 port=51234 state=idle");
  CHECK(parse("postgres: main: app shop 10.0.0.5(51234) idle") ==
        "client user=app db=shop host=10.0.0.5 port=51234 state=idle");
  CHECK(parse("postgres: 16/main: app shop [local] idle") ==
        "client user=app db=shop host=[local] port=-1 state=idle");
  CHECK(parse("postgres: 16/main: app shop [local] idle", "16/main: ") ==
        "client user=app db=shop host=[local] port=-1 state=idle");
  CHECK(parse("postgres: app shop [local] idle", "") ==
        "client user=app db=shop host=[local] port=-1 state=idle");
  // A cluster name with a space is known only from the checkpointer.
  CHECK(parse("postgres: my cluster: app shop [local] idle", "my cluster: ") ==
        "client user=app db=shop host=[local] port=-1 state=idle");
  CHECK(parse("postgres: my cluster: app shop [local] idle") ==
        "client names=? host=[local] port=-1 state=idle");
}

TEST_CASE("every state word", "[proc_title]") {
  for (const char* state :
       {"idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call",
        "startup", "SELECT", "SELECT waiting", "INSERT", "UPDATE", "DELETE", "COPY", "BIND",
        "PARSE", "CREATE INDEX", "VACUUM", "COMMIT", "LOCK TABLE waiting", "disabled"}) {
    CAPTURE(state);
    CHECK(parse(std::string("postgres: app shop 10.0.0.5(51234) ") + state) ==
          std::string("client user=app db=shop host=10.0.0.5 port=51234 state=") + state);
  }
  // Set-up: not a session yet (<= 12 "authentication", >= 13 "initializing").
  CHECK(parse("postgres: app shop 10.0.0.5(51234) authentication") ==
        "setting-up user=app db=shop host=10.0.0.5 port=51234 state=authentication");
  CHECK(parse("postgres: main: app shop [local] initializing") ==
        "setting-up user=app db=shop host=[local] port=-1 state=initializing");
  // update_process_title = off: the fixed part only, written once.
  CHECK(parse("postgres: app shop [local] ") ==
        "client user=app db=shop host=[local] port=-1 state=");
  CHECK(parse(std::string("postgres: app shop 10.0.0.5(1) idle\0\0\0garbage", 42)) ==
        "client user=app db=shop host=10.0.0.5 port=1 state=idle");
}

TEST_CASE("hosts: IPv6, names, [local]", "[proc_title]") {
  CHECK(parse("postgres: app shop ::1(41978) idle") ==
        "client user=app db=shop host=::1 port=41978 state=idle");
  CHECK(parse("postgres: app shop 2001:db8::7(5432) SELECT") ==
        "client user=app db=shop host=2001:db8::7 port=5432 state=SELECT");
  CHECK(parse("postgres: app shop fe80::1%eth0(5432) idle") ==
        "client user=app db=shop host=fe80::1%eth0 port=5432 state=idle");
  CHECK(parse("postgres: app shop web-1.example.com(40001) idle") ==
        "client user=app db=shop host=web-1.example.com port=40001 state=idle");
  CHECK(parse("postgres: app shop host(99999) idle") == "other");  // not a port
  CHECK(parse("postgres: app shop (5432) idle") == "other");
}

TEST_CASE("walsenders are replication sessions", "[proc_title]") {
  CHECK(parse("postgres: wal sender process repl 10.0.0.7(40000) streaming 0/3000060") ==
        "replication user=repl db= host=10.0.0.7 port=40000 state=streaming 0/3000060");
  CHECK(parse("postgres: walsender repl 10.0.0.7(40000) streaming 0/3000060") ==
        "replication user=repl db= host=10.0.0.7 port=40000 state=streaming 0/3000060");
  CHECK(parse("postgres: 15/main: walsender repl [local] idle") ==
        "replication user=repl db= host=[local] port=-1 state=idle");
  // 17 and 18: a logical walsender names its database.
  CHECK(parse("postgres: walsender repl shop 10.0.0.7(40000) START_REPLICATION") ==
        "replication user=repl db=shop host=10.0.0.7 port=40000 state=START_REPLICATION");
  CHECK(parse("postgres: walsender repl 10.0.0.7(40000) initializing") ==
        "setting-up user=repl db= host=10.0.0.7 port=40000 state=initializing");
}

TEST_CASE("the server's other processes are not sessions", "[proc_title]") {
  for (const char* t : {
           // 9.6 and 10
           "postgres: checkpointer process", "postgres: writer process",
           "postgres: wal writer process", "postgres: autovacuum launcher process",
           "postgres: stats collector process", "postgres: logger process",
           "postgres: archiver process   last was 000000010000000000000001",
           "postgres: autovacuum worker process   shop",
           "postgres: wal receiver process   streaming 0/3000060",
           "postgres: startup process   recovering 000000010000000000000003",
           "postgres: bgworker: logical replication launcher",
           "postgres: bgworker: parallel worker for PID 4242",
           // 11 to 18
           "postgres: checkpointer", "postgres: background writer", "postgres: walwriter",
           "postgres: autovacuum launcher", "postgres: stats collector", "postgres: logger",
           "postgres: archiver last was 000000010000000000000001",
           "postgres: autovacuum worker shop", "postgres: autovacuum worker ",
           "postgres: walreceiver streaming 0/3000060",
           "postgres: startup recovering 000000010000000000000003",
           "postgres: logical replication launcher",
           "postgres: logical replication worker for subscription 16394",
           "postgres: logical replication apply worker for subscription 16394",
           "postgres: logical replication tablesync worker for subscription 16394 sync 16385",
           "postgres: parallel worker for PID 4242", "postgres: walsummarizer",
           "postgres: slotsync worker", "postgres: io worker 0",
           "postgres: TimescaleDB Background Worker Scheduler",
           "postgres: 16/main: checkpointer", "postgres: 16/main: autovacuum worker shop",
           // hostile: a database named like a host token
           "postgres: autovacuum worker x(5)", "postgres: main: autovacuum worker x(5)"}) {
    CAPTURE(t);
    CHECK(parse(t) == "other");
  }
  CHECK(parse("/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main") ==
        "not-postgres");
  CHECK(parse("postgres") == "not-postgres");
  CHECK(parse("") == "not-postgres");
}

TEST_CASE("hostile names: the host token is the anchor", "[proc_title]") {
  // A user or database with a space: counted, names not guessed.
  CHECK(parse("postgres: my user shop [local] idle") ==
        "client names=? host=[local] port=-1 state=idle");
  CHECK(parse("postgres: app my  shop [local] idle", "") ==
        "client names=? host=[local] port=-1 state=idle");
  // A database named like a host token: the last one is the host.
  CHECK(parse("postgres: app a(1) [local] idle") ==
        "client user=app db=a(1) host=[local] port=-1 state=idle");
  CHECK(parse("postgres: [local] [local] [local] idle") ==
        "client user=[local] db=[local] host=[local] port=-1 state=idle");
  // A user whose name ends in ':' with no cluster: two tokens, no cluster.
  CHECK(parse("postgres: x: shop [local] idle") ==
        "client user=x: db=shop host=[local] port=-1 state=idle");
  // Known cluster prefix that the title lacks: parsed as it stands.
  CHECK(parse("postgres: app shop [local] idle", "other: ") ==
        "client user=app db=shop host=[local] port=-1 state=idle");
}

TEST_CASE("cluster_prefix reads the checkpointer's title", "[proc_title]") {
  CHECK(cluster_prefix("postgres: checkpointer ") == std::optional<std::string>(""));
  CHECK(cluster_prefix("postgres: checkpointer process") == std::optional<std::string>(""));
  CHECK(cluster_prefix("postgres: 16/main: checkpointer") ==
        std::optional<std::string>("16/main: "));
  CHECK(cluster_prefix("postgres: my cluster: checkpointer   ") ==
        std::optional<std::string>("my cluster: "));
  CHECK(cluster_prefix("postgres: background writer") == std::nullopt);
  CHECK(cluster_prefix("postgres: app shop [local] checkpointer") == std::nullopt);
  CHECK(cluster_prefix("checkpointer") == std::nullopt);
}
