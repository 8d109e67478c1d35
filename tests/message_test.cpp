#include <catch2/catch.hpp>

#include <span>
#include <string>

#include "lifecycle/message.hpp"

using namespace pgconn;

namespace {

Message log_msg(std::string_view text) { return classify_message("LOG", text); }
Message fatal(std::string_view text) { return classify_message("FATAL", text); }

// The fields of a Message as owned strings, for readable failures.
struct Names {
  std::string user, db, app, host;
};
Names names(const Message& m) {
  return {std::string(m.user), std::string(m.db), std::string(m.app), std::string(m.host)};
}

// A `connection authorized` line (not replication) and the names read from
// it: user, database and application_name, the rest of the line dropped.
void check_authorized(std::string_view text, const std::string& user, const std::string& db,
                      const std::string& app) {
  INFO(text);
  const Message m = log_msg(text);
  CHECK(m.kind == MsgKind::kAuthorized);
  CHECK(names(m).user == user);
  CHECK(names(m).db == db);
  CHECK(names(m).app == app);
  CHECK(m.has_db);
  CHECK_FALSE(m.replication);
}

struct RejectCase {
  const char* message;
  const char* reason;
  bool after_authorization;
};
// Each FATAL message is a reject of its reason, before or after
// authorization as the case says.
void check_rejects(std::span<const RejectCase> cases) {
  for (const RejectCase& c : cases) {
    INFO(c.message);
    const Message m = fatal(c.message);
    CHECK(m.kind == MsgKind::kReject);
    CHECK(m.reason == c.reason);
    CHECK(m.after_authorization == c.after_authorization);
  }
}

}  // namespace

// ---------------------------------------------------------------- §3 received

TEST_CASE("classify_message reads connection received over TCP", "[message]") {
  Message m = log_msg("connection received: host=172.18.0.5 port=51234");
  CHECK(m.kind == MsgKind::kReceived);
  CHECK(m.host == "172.18.0.5");
  CHECK(m.port == 51234);
  CHECK(m.user.empty());
  CHECK(m.db.empty());
}

TEST_CASE("classify_message reads connection received on a Unix socket", "[message]") {
  Message m = log_msg("connection received: host=[local]");
  CHECK(m.kind == MsgKind::kReceived);
  CHECK(m.host == "[local]");
  CHECK(m.port == -1);
}

TEST_CASE("classify_message reads connection received from IPv6 and host names", "[message]") {
  Message v6 = log_msg("connection received: host=::1 port=40112");
  CHECK(v6.kind == MsgKind::kReceived);
  CHECK(v6.host == "::1");
  CHECK(v6.port == 40112);
  Message full = log_msg("connection received: host=2001:db8::5 port=5432");
  CHECK(full.host == "2001:db8::5");
  CHECK(full.port == 5432);
  Message name = log_msg("connection received: host=client-7.example.com port=60001");
  CHECK(name.host == "client-7.example.com");
  CHECK(name.port == 60001);
}

// ----------------------------------------------------------- §3 authenticated

TEST_CASE("classify_message reads connection authenticated with an identity (14+)", "[message]") {
  Message m = log_msg(
      "connection authenticated: identity=\"app\" method=scram-sha-256 "
      "(/etc/postgresql/16/main/pg_hba.conf:128)");
  CHECK(m.kind == MsgKind::kAuthenticated);
  Message cert = log_msg(
      "connection authenticated: identity=\"CN=app,O=Example\" method=cert "
      "(/etc/postgresql/16/main/pg_hba.conf:7)");
  CHECK(cert.kind == MsgKind::kAuthenticated);
  Message peer = log_msg(
      "connection authenticated: identity=\"postgres\" method=peer "
      "(/etc/postgresql/15/main/pg_hba.conf:90)");
  CHECK(peer.kind == MsgKind::kAuthenticated);
}

TEST_CASE("classify_message reads connection authenticated for trust (18)", "[message]") {
  Message m = log_msg(
      "connection authenticated: user=\"app\" method=trust "
      "(/etc/postgresql/18/main/pg_hba.conf:117)");
  CHECK(m.kind == MsgKind::kAuthenticated);
}

// -------------------------------------------------------------- §3 authorized

TEST_CASE("classify_message reads connection authorized of 9.6-11 (no application_name)",
          "[message]") {
  Message m = log_msg("connection authorized: user=app database=shop");
  CHECK(m.kind == MsgKind::kAuthorized);
  CHECK(m.user == "app");
  CHECK(m.db == "shop");
  CHECK(m.has_db);
  CHECK(m.app.empty());
  CHECK_FALSE(m.replication);
  CHECK(m.host.empty());
  CHECK(m.port == -1);
}

TEST_CASE("classify_message reads connection authorized with application_name (12+)",
          "[message]") {
  Message m = log_msg("connection authorized: user=postgres database=postgres application_name=psql");
  CHECK(m.kind == MsgKind::kAuthorized);
  CHECK(m.user == "postgres");
  CHECK(m.db == "postgres");
  CHECK(m.app == "psql");
  CHECK(m.has_db);
  CHECK_FALSE(m.replication);
}

TEST_CASE("classify_message strips the SSL suffix of 9.6-11 with compression", "[message]") {
  check_authorized(
      "connection authorized: user=app database=shop SSL enabled (protocol=TLSv1.2, "
      "cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256, compression=off)",
      "app", "shop", "");
}

TEST_CASE("classify_message strips the SSL suffix of 12-13 after application_name",
          "[message]") {
  check_authorized(
      "connection authorized: user=app database=shop application_name=psql SSL enabled "
      "(protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256, compression=on)",
      "app", "shop", "psql");
}

TEST_CASE("classify_message strips the SSL suffix of 14+ (no compression)", "[message]") {
  check_authorized(
      "connection authorized: user=app database=shop application_name=psql SSL enabled "
      "(protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
      "app", "shop", "psql");
  check_authorized(
      "connection authorized: user=app database=shop SSL enabled (protocol=TLSv1.3, "
      "cipher=TLS_AES_256_GCM_SHA384, bits=256)",
      "app", "shop", "");
}

TEST_CASE("classify_message strips the GSS suffix of 12-15 with and without principal",
          "[message]") {
  check_authorized(
      "connection authorized: user=app database=shop application_name=psql GSS "
      "(authenticated=yes, encrypted=yes, principal=app@EXAMPLE.COM)",
      "app", "shop", "psql");
  check_authorized(
      "connection authorized: user=app database=shop GSS (authenticated=no, encrypted=yes)",
      "app", "shop", "");
}

TEST_CASE("classify_message strips the GSS suffix of 16+ with delegated_credentials",
          "[message]") {
  check_authorized(
      "connection authorized: user=app database=shop application_name=psql GSS "
      "(authenticated=yes, encrypted=yes, delegated_credentials=no, principal=app@EXAMPLE.COM)",
      "app", "shop", "psql");
}

TEST_CASE("classify_message strips SSL followed by GSS", "[message]") {
  check_authorized(
      "connection authorized: user=app database=shop application_name=psql SSL enabled "
      "(protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256) GSS (authenticated=yes, "
      "encrypted=no, principal=app@EXAMPLE.COM)",
      "app", "shop", "psql");
}

TEST_CASE("classify_message keeps an application_name that ends in a parenthesis", "[message]") {
  check_authorized("connection authorized: user=app database=shop application_name=worker (3)",
                   "app", "shop", "worker (3)");
  check_authorized(
      "connection authorized: user=app database=shop application_name=worker (3) SSL enabled "
      "(protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
      "app", "shop", "worker (3)");
}

TEST_CASE("classify_message reads names with spaces, '=', quotes and '@' whole", "[message]") {
  check_authorized(
      "connection authorized: user=etl job database=my db=x application_name=pgAdmin 4 - DB:shop",
      "etl job", "my db=x", "pgAdmin 4 - DB:shop");
  check_authorized(
      "connection authorized: user=o\"brien@corp database=\"quoted\" db application_name=a=b "
      "c@d SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
      "o\"brien@corp", "\"quoted\" db", "a=b c@d");
  check_authorized("connection authorized: user=app@myserver database=shop", "app@myserver",
                   "shop", "");
}

TEST_CASE("classify_message keeps application_name's \\xHH escapes of 16+ as logged",
          "[message]") {
  check_authorized(
      "connection authorized: user=app database=shop application_name=caf\\xc3\\xa9 \\x1b[31m",
      "app", "shop", "caf\\xc3\\xa9 \\x1b[31m");
  check_authorized("connection authorized: user=app database=shop application_name=caf??", "app",
                   "shop", "caf??");
}

TEST_CASE("classify_message keeps raw bytes in user and database names", "[message]") {
  check_authorized("connection authorized: user=\x1b[31mevil\xff database=caf\xc3\xa9",
                   "\x1b[31mevil\xff", "caf\xc3\xa9", "");
}

TEST_CASE("classify_message reads an empty application_name", "[message]") {
  check_authorized("connection authorized: user=app database=shop application_name=", "app",
                   "shop", "");
}

TEST_CASE("classify_message reads a physical replication connection", "[message]") {
  Message old = log_msg("replication connection authorized: user=rep");
  CHECK(old.kind == MsgKind::kAuthorized);
  CHECK(old.replication);
  CHECK(old.user == "rep");
  CHECK_FALSE(old.has_db);
  CHECK(old.db.empty());

  Message ssl = log_msg(
      "replication connection authorized: user=rep SSL enabled (protocol=TLSv1.2, "
      "cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256, compression=off)");
  CHECK(ssl.replication);
  CHECK(names(ssl).user == "rep");
  CHECK_FALSE(ssl.has_db);

  Message app = log_msg("replication connection authorized: user=rep application_name=walreceiver");
  CHECK(app.replication);
  CHECK(names(app).user == "rep");
  CHECK(names(app).app == "walreceiver");
  CHECK_FALSE(app.has_db);

  Message app16 = log_msg(
      "replication connection authorized: user=rep application_name=16/main SSL enabled "
      "(protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)");
  CHECK(names(app16).app == "16/main");
}

TEST_CASE("classify_message reads a logical replication connection", "[message]") {
  Message m = log_msg(
      "replication connection authorized: user=rep database=shop application_name=sub_orders");
  CHECK(m.kind == MsgKind::kAuthorized);
  CHECK(m.replication);
  CHECK(names(m).user == "rep");
  CHECK(names(m).db == "shop");
  CHECK(m.has_db);
  CHECK(names(m).app == "sub_orders");
}

// ------------------------------------------------------------------ §3 ready

TEST_CASE("classify_message reads connection ready (18)", "[message]") {
  Message m = log_msg("connection ready: setup total=9.668 ms, fork=0.475 ms, authentication=3.408 ms");
  CHECK(m.kind == MsgKind::kReady);
}

// ---------------------------------------------------------- §3 disconnection

TEST_CASE("classify_message reads a TCP disconnection", "[message]") {
  Message m = log_msg(
      "disconnection: session time: 0:01:02.345 user=app database=shop host=172.18.0.5 port=51234");
  CHECK(m.kind == MsgKind::kDisconnection);
  CHECK(m.duration_ms == 62345);
  CHECK(names(m).user == "app");
  CHECK(names(m).db == "shop");
  CHECK(m.has_db);
  CHECK(names(m).host == "172.18.0.5");
  CHECK(m.port == 51234);
  CHECK(m.app.empty());
}

TEST_CASE("classify_message reads a Unix socket disconnection", "[message]") {
  Message m = log_msg("disconnection: session time: 0:00:00.004 user=postgres database=postgres host=[local]");
  CHECK(m.kind == MsgKind::kDisconnection);
  CHECK(m.duration_ms == 4);
  CHECK(names(m).host == "[local]");
  CHECK(m.port == -1);
}

TEST_CASE("classify_message reads session times over 24 hours", "[message]") {
  Message m = log_msg(
      "disconnection: session time: 27:03:10.551 user=app database=shop host=10.0.0.5 port=5000");
  CHECK(m.kind == MsgKind::kDisconnection);
  CHECK(m.duration_ms == ((27 * 60 + 3) * 60 + 10) * 1000 + 551);

  Message week = log_msg(
      "disconnection: session time: 168:00:00.000 user=app database=shop host=[local]");
  CHECK(week.duration_ms == int64_t{168} * 3600 * 1000);

  Message year = log_msg(
      "disconnection: session time: 8784:59:59.999 user=app database=shop host=[local]");
  CHECK(year.duration_ms == ((int64_t{8784} * 60 + 59) * 60 + 59) * 1000 + 999);

  Message zero = log_msg("disconnection: session time: 0:00:00.000 user=a database=b host=[local]");
  CHECK(zero.duration_ms == 0);
}

TEST_CASE("classify_message reads a physical replication disconnection with empty database",
          "[message]") {
  Message m = log_msg(
      "disconnection: session time: 1:00:00.000 user=rep database= host=10.0.0.9 port=40112");
  CHECK(m.kind == MsgKind::kDisconnection);
  CHECK(names(m).user == "rep");
  CHECK(m.db.empty());
  CHECK(m.has_db);
  CHECK(names(m).host == "10.0.0.9");
  CHECK(m.port == 40112);
}

TEST_CASE("classify_message reads disconnection names with spaces, '=' and '@'", "[message]") {
  Message m = log_msg(
      "disconnection: session time: 0:00:01.000 user=etl job database=my db=x host=::1 port=6000");
  CHECK(m.kind == MsgKind::kDisconnection);
  CHECK(names(m).user == "etl job");
  CHECK(names(m).db == "my db=x");
  CHECK(names(m).host == "::1");
  CHECK(m.port == 6000);

  Message at = log_msg(
      "disconnection: session time: 0:00:01.000 user=app@myserver database=o\"brien host=[local]");
  CHECK(names(at).user == "app@myserver");
  CHECK(names(at).db == "o\"brien");
  CHECK(names(at).host == "[local]");
}

// ------------------------------------------------------------- §4 rejections

TEST_CASE("classify_message categorises every FATAL before connection authorized (§4a)",
          "[message]") {
  const RejectCase cases[] = {
      {"sorry, too many clients already", "too_many_clients", false},
      {"password authentication failed for user \"app\"", "auth_failed", false},
      {"Ident authentication failed for user \"app\"", "auth_failed", false},
      {"Peer authentication failed for user \"app\"", "auth_failed", false},
      {"GSSAPI authentication failed for user \"app\"", "auth_failed", false},
      {"SSPI authentication failed for user \"app\"", "auth_failed", false},
      {"PAM authentication failed for user \"app\"", "auth_failed", false},
      {"BSD authentication failed for user \"app\"", "auth_failed", false},
      {"LDAP authentication failed for user \"app\"", "auth_failed", false},
      {"certificate authentication failed for user \"app\"", "auth_failed", false},
      {"RADIUS authentication failed for user \"app\"", "auth_failed", false},
      {"\"trust\" authentication failed for user \"app\"", "auth_failed", false},
      {"connection requires a valid client certificate", "auth_failed", false},
      {"authentication failed for user \"app\": host rejected", "hba_reject", false},
      {"pg_hba.conf rejects connection for host \"10.0.0.5\", user \"app\", database \"shop\", SSL on",
       "hba_reject", false},
      {"pg_hba.conf rejects connection for host \"10.0.0.5\", user \"app\", database \"shop\", SSL off",
       "hba_reject", false},
      {"pg_hba.conf rejects connection for host \"10.0.0.5\", user \"app\", database \"shop\", "
       "SSL encryption",
       "hba_reject", false},
      {"pg_hba.conf rejects connection for host \"10.0.0.5\", user \"app\", database \"shop\", "
       "GSS encryption",
       "hba_reject", false},
      {"pg_hba.conf rejects connection for host \"10.0.0.5\", user \"app\", database \"shop\", "
       "no encryption",
       "hba_reject", false},
      {"pg_hba.conf rejects replication connection for host \"10.0.0.9\", user \"rep\", no encryption",
       "hba_reject", false},
      {"no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\", SSL on",
       "no_hba_entry", false},
      {"no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\", SSL off",
       "no_hba_entry", false},
      {"no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\", SSL encryption",
       "no_hba_entry", false},
      {"no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\", GSS encryption",
       "no_hba_entry", false},
      {"no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\", no encryption",
       "no_hba_entry", false},
      {"no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\"", "no_hba_entry",
       false},
      {"no pg_hba.conf entry for replication connection from host \"10.0.0.9\", user \"rep\", SSL off",
       "no_hba_entry", false},
      {"no pg_hba.conf entry for replication connection from host \"10.0.0.9\", user \"rep\"",
       "no_hba_entry", false},
      {"canceling authentication due to timeout", "auth_timeout", false},
      {"the database system is starting up", "starting_up", false},
      {"the database system is shutting down", "shutting_down", false},
      {"the database system is in recovery mode", "recovery", false},
      {"the database system is not yet accepting connections", "recovery", false},
      {"the database system is not accepting connections", "recovery", false},
      {"no PostgreSQL user name specified in startup packet", "other", false},
      {"unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0", "other", false},
      {"invalid length of startup packet", "other", false},
      {"expected password response, got message type 88", "other", false},
  };
  check_rejects(cases);
}

TEST_CASE("classify_message categorises every FATAL after connection authorized (§4b)",
          "[message]") {
  const RejectCase cases[] = {
      {"role \"ghost\" does not exist", "no_role", true},
      {"role \"app\" is not permitted to log in", "login_not_allowed", true},
      {"too many connections for role \"app\"", "role_limit", true},
      {"remaining connection slots are reserved for non-replication superuser connections",
       "reserved_slots", true},
      {"remaining connection slots are reserved for roles with the SUPERUSER attribute",
       "reserved_slots", true},
      {"remaining connection slots are reserved for roles with privileges of the "
       "\"pg_use_reserved_connections\" role",
       "reserved_slots", true},
      {"remaining connection slots are reserved for roles with privileges of the \"rds_reserved\" role",
       "reserved_slots", true},
      {"database \"nosuchdb\" does not exist", "no_database", true},
      {"database \"template0\" is not currently accepting connections", "db_not_accepting", true},
      {"permission denied for database \"shop\"", "other", true},
      {"too many connections for database \"limited_db\"", "db_limit", true},
      {"cannot connect to invalid database \"half_dropped\"", "other", true},
      {"database \"gone\" has disappeared from pg_database", "other", true},
  };
  check_rejects(cases);
}

TEST_CASE("classify_message takes the user out of authentication failures", "[message]") {
  CHECK(names(fatal("password authentication failed for user \"app\"")).user == "app");
  CHECK(names(fatal("password authentication failed for user \"etl job\"")).user == "etl job");
  CHECK(names(fatal("password authentication failed for user \"o\"brien\"")).user == "o\"brien");
  CHECK(names(fatal("password authentication failed for user \"\"")).user == "");
  CHECK(names(fatal("LDAP authentication failed for user \"cn=x@corp\"")).user == "cn=x@corp");
  CHECK(names(fatal("\"trust\" authentication failed for user \"app\"")).user == "app");
  CHECK(names(fatal("authentication failed for user \"app\": host rejected")).user == "app");
}

TEST_CASE("classify_message takes host, user and database out of pg_hba.conf rejections",
          "[message]") {
  Message a = fatal(
      "no pg_hba.conf entry for host \"10.0.0.5\", user \"app\", database \"shop\", no encryption");
  CHECK(names(a).host == "10.0.0.5");
  CHECK(names(a).user == "app");
  CHECK(names(a).db == "shop");
  CHECK_FALSE(a.replication);

  Message bare = fatal("no pg_hba.conf entry for host \"[local]\", user \"app\", database \"shop\"");
  CHECK(names(bare).host == "[local]");
  CHECK(names(bare).user == "app");
  CHECK(names(bare).db == "shop");

  Message r = fatal(
      "pg_hba.conf rejects connection for host \"::1\", user \"hba_blocked\", database \"shop\", "
      "SSL off");
  CHECK(names(r).host == "::1");
  CHECK(names(r).user == "hba_blocked");
  CHECK(names(r).db == "shop");

  Message spaces = fatal(
      "no pg_hba.conf entry for host \"10.0.0.5\", user \"etl job\", database \"my \"db\"\", "
      "SSL encryption");
  CHECK(names(spaces).user == "etl job");
  CHECK(names(spaces).db == "my \"db\"");
}

TEST_CASE("classify_message marks replication pg_hba.conf rejections", "[message]") {
  Message entry = fatal(
      "no pg_hba.conf entry for replication connection from host \"10.0.0.9\", user \"rep\", "
      "SSL encryption");
  CHECK(entry.reason == "no_hba_entry");
  CHECK(entry.replication);
  CHECK(names(entry).host == "10.0.0.9");
  CHECK(names(entry).user == "rep");
  CHECK(entry.db.empty());

  Message bare = fatal("no pg_hba.conf entry for replication connection from host \"10.0.0.9\", user \"rep\"");
  CHECK(names(bare).user == "rep");
  CHECK(bare.db.empty());

  Message rej = fatal(
      "pg_hba.conf rejects replication connection for host \"10.0.0.9\", user \"rep\", SSL on");
  CHECK(rej.reason == "hba_reject");
  CHECK(rej.replication);
  CHECK(names(rej).host == "10.0.0.9");
  CHECK(names(rej).user == "rep");
}

TEST_CASE("classify_message takes role and database names out of §4b rejections", "[message]") {
  CHECK(names(fatal("role \"ghost\" does not exist")).user == "ghost");
  CHECK(names(fatal("role \"etl job\" does not exist")).user == "etl job");
  CHECK(names(fatal("role \"o\"brien\" is not permitted to log in")).user == "o\"brien");
  CHECK(names(fatal("too many connections for role \"app@corp\"")).user == "app@corp");
  CHECK(names(fatal("database \"nosuchdb\" does not exist")).db == "nosuchdb");
  CHECK(names(fatal("database \"my db\" does not exist")).db == "my db");
  CHECK(names(fatal("too many connections for database \"limited_db\"")).db == "limited_db");
  CHECK(names(fatal("permission denied for database \"a=b\"")).db == "a=b");
  CHECK(names(fatal("cannot connect to invalid database \"x\"")).db == "x");
  CHECK(names(fatal("database \"t0\" is not currently accepting connections")).db == "t0");
  CHECK(names(fatal("database \"gone\" has disappeared from pg_database")).db == "gone");
}

TEST_CASE("classify_message reads rejections only in FATAL reports", "[message]") {
  for (const char* sev : {"LOG", "ERROR", "WARNING", "DETAIL", "HINT", "STATEMENT", ""}) {
    INFO(sev);
    CHECK(classify_message(sev, "sorry, too many clients already").kind == MsgKind::kNone);
    CHECK(classify_message(sev, "role \"ghost\" does not exist").kind == MsgKind::kNone);
    CHECK(classify_message(sev, "password authentication failed for user \"x\"").kind ==
          MsgKind::kNone);
  }
  // An ERROR inside a session: no connection involved.
  CHECK(classify_message("ERROR", "permission denied for database \"shop\"").kind == MsgKind::kNone);
  CHECK(classify_message("ERROR", "database \"x\" does not exist").kind == MsgKind::kNone);
}

TEST_CASE("classify_message ignores FATALs that are neither rejections nor session ends",
          "[message]") {
  for (const char* text :
       {"the database system is on fire", "database \"x\" is something else",
        "terminating connection due to something new", "out of memory",
        "could not open file \"base/1/2\": No such file or directory", ""}) {
    INFO(text);
    CHECK(fatal(text).kind == MsgKind::kNone);
  }
}

// ---------------------------------------------------------- §5 session ends

TEST_CASE("classify_message reads every reason a session ends (§5)", "[message]") {
  struct EndCase {
    const char* severity;
    const char* message;
    const char* reason;
  };
  const EndCase cases[] = {
      {"FATAL", "terminating connection due to administrator command", "terminated"},
      {"FATAL", "terminating connection due to idle-in-transaction timeout",
       "idle_in_transaction_timeout"},
      {"FATAL", "terminating connection due to idle-session timeout", "idle_timeout"},
      {"FATAL", "terminating connection due to transaction timeout", "transaction_timeout"},
      {"FATAL", "terminating connection due to conflict with recovery", "terminated"},
      {"FATAL", "connection to client lost", "client_lost"},
      {"FATAL", "terminating connection because protocol synchronization was lost", "client_lost"},
      {"LOG", "unexpected EOF on client connection", "client_lost"},
      {"FATAL", "unexpected EOF on client connection with an open transaction", "client_lost"},
      {"LOG", "could not receive data from client: Connection reset by peer", "client_lost"},
      {"FATAL", "terminating connection due to unexpected postmaster exit", "crash"},
      {"WARNING", "terminating connection because of crash of another server process", "crash"},
      {"FATAL", "terminating connection due to immediate shutdown command", "shutdown"},
  };
  for (const EndCase& c : cases) {
    INFO(c.severity << ": " << c.message);
    Message m = classify_message(c.severity, c.message);
    CHECK(m.kind == MsgKind::kSessionEnd);
    CHECK(m.reason == c.reason);
  }
}

TEST_CASE("classify_message does not take a statement's words for a session end", "[message]") {
  CHECK(classify_message("ERROR", "terminating connection due to administrator command").kind ==
        MsgKind::kNone);
  CHECK(log_msg("statement: SELECT 'connection to client lost'").kind == MsgKind::kNone);
}

// ------------------------------------------------------- §6 server-wide lines

TEST_CASE("classify_message reads the postmaster's ready lines", "[message]") {
  CHECK(log_msg("database system is ready to accept connections").kind == MsgKind::kServerReady);
  CHECK(log_msg("database system is ready to accept read-only connections").kind ==
        MsgKind::kServerReady);
  CHECK(log_msg("database system is ready to accept visitors").kind == MsgKind::kNone);
}

TEST_CASE("classify_message reads shutdown requests and the end of a shutdown", "[message]") {
  CHECK(log_msg("received smart shutdown request").kind == MsgKind::kShutdownRequest);
  CHECK(log_msg("received fast shutdown request").kind == MsgKind::kShutdownRequest);
  CHECK(log_msg("received immediate shutdown request").kind == MsgKind::kServerShutdown);
  CHECK(log_msg("database system is shut down").kind == MsgKind::kServerShutdown);
}

TEST_CASE("classify_message reads the start of crash recovery", "[message]") {
  CHECK(log_msg("terminating any other active server processes").kind == MsgKind::kServerCrash);
  CHECK(log_msg("all server processes terminated; reinitializing").kind == MsgKind::kServerCrash);
}

TEST_CASE("classify_message leaves the other postmaster lines alone", "[message]") {
  for (const char* text : {
           "server process (PID 4242) was terminated by signal 9: Killed",
           "client backend (PID 4242) was terminated by signal 11: Segmentation fault",
           "background worker \"logical replication launcher\" (PID 77) exited with exit code 1",
           "database system was interrupted; last known up at 2024-05-01 09:59:00 UTC",
           "database system was not properly shut down; automatic recovery in progress",
           "starting PostgreSQL 16.2 (Debian 16.2-1.pgdg120+2) on x86_64-pc-linux-gnu",
           "listening on IPv4 address \"0.0.0.0\", port 5432",
           "checkpoint starting: time",
           "incomplete startup packet",
           "could not accept SSL connection: wrong version number",
       }) {
    INFO(text);
    CHECK(log_msg(text).kind == MsgKind::kNone);
  }
}

TEST_CASE("classify_message reads server lines only in LOG reports", "[message]") {
  CHECK(classify_message("FATAL", "database system is ready to accept connections").kind ==
        MsgKind::kNone);
  CHECK(classify_message("ERROR", "received fast shutdown request").kind == MsgKind::kNone);
  CHECK(classify_message("DETAIL", "database system is shut down").kind == MsgKind::kNone);
}

// ------------------------------------------------------ severities and junk

TEST_CASE("classify_message reads lifecycle lines only in LOG reports", "[message]") {
  for (const char* sev : {"FATAL", "ERROR", "WARNING", "DETAIL", "STATEMENT", "log", ""}) {
    INFO(sev);
    CHECK(classify_message(sev, "connection received: host=[local]").kind == MsgKind::kNone);
    CHECK(classify_message(sev, "connection authorized: user=a database=b").kind == MsgKind::kNone);
    CHECK(classify_message(sev, "disconnection: session time: 0:00:01.000 user=a database=b "
                                "host=[local]")
              .kind == MsgKind::kNone);
  }
}

TEST_CASE("classify_message ignores ordinary LOG lines", "[message]") {
  for (const char* text : {"", "statement: SELECT 1", "duration: 0.123 ms",
                           "checkpoint complete: wrote 3 buffers", "connection",
                           "connection something: else", "connections are fine",
                           "disconnection", "automatic vacuum of table \"shop.public.orders\""}) {
    INFO(text);
    CHECK(log_msg(text).kind == MsgKind::kNone);
  }
}

TEST_CASE("classify_message reports malformed lifecycle lines as kMalformed", "[message]") {
  for (const char* text : {
           "connection received: ",
           "connection received: host=",
           "connection received: host= port=5432",
           "connection received: host=10.0.0.5 port=",
           "connection received: host=10.0.0.5 port=abc",
           "connection received: host=10.0.0.5 port=70000",
           "connection received: host=10.0.0.5 port=-1",
           "connection received: garbage",
           "connection received: \xff\xfe\x01",
           "connection authorized: ",
           "connection authorized: garbage",
           "connection authorized: database=shop",
           "replication connection authorized: ",
           "replication connection authorized: rep",
           "disconnection: ",
           "disconnection: garbage",
           "disconnection: session time: ",
           "disconnection: session time: 0:01:0",
           "disconnection: session time: 0:01:02.345",
           "disconnection: session time: 0:01:02.345 user=app",
           "disconnection: session time: 0:01:02.345 user=app database=shop",
           "disconnection: session time: 0:01:02.345 user=app host=[local]",
           "disconnection: session time: x:01:02.345 user=app database=shop host=[local]",
           "disconnection: session time: 0:01:02 user=app database=shop host=[local]",
           "disconnection: session time: 0:1:02.345 user=app database=shop host=[local]",
           "disconnection: session time: 0:61:02.345 user=app database=shop host=[local]",
           "disconnection: session time: 0:01:60.345 user=app database=shop host=[local]",
           "disconnection: session time: 0:01:02.34 user=app database=shop host=[local]",
           "disconnection: session time: 0:01:02.3456 user=app database=shop host=[local]",
           "disconnection: session time: :01:02.345 user=app database=shop host=[local]",
           "disconnection: session time: 0:01:02.345 user=app database=shop host=h port=x",
           "disconnection: session time: 0:01:02.345 user=app database=shop host=h port=99999",
       }) {
    INFO(text);
    CHECK(log_msg(text).kind == MsgKind::kMalformed);
  }
}

TEST_CASE("classify_message survives empty, binary and very long input", "[message]") {
  CHECK(classify_message("", "").kind == MsgKind::kNone);
  CHECK(classify_message("LOG", std::string_view("\0\0\0", 3)).kind == MsgKind::kNone);
  CHECK(classify_message("FATAL", std::string_view("\0\0\0", 3)).kind == MsgKind::kNone);
  std::string big = "connection authorized: user=" + std::string(100000, 'u') + " database=d";
  Message m = log_msg(big);
  CHECK(m.kind == MsgKind::kAuthorized);
  CHECK(m.user.size() == 100000);
  CHECK(m.db == "d");
  std::string garbage(4096, '\xff');
  CHECK(log_msg(garbage).kind == MsgKind::kNone);
  CHECK(fatal(garbage).kind == MsgKind::kNone);
}

TEST_CASE("classify_message returns views into the message text", "[message]") {
  std::string text = "connection authorized: user=app database=shop application_name=psql";
  Message m = log_msg(text);
  CHECK(m.user.data() == text.data() + 28);
  CHECK(m.app.data() + m.app.size() == text.data() + text.size());
}
