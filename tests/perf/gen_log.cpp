// gen-log: a deterministic, realistic PostgreSQL 15 stderr log on stdout, for
// the benchmark (tests/perf/bench.sh) and for checking pgconn-parse's counts
// against a known ground truth.
//
//   gen-log [--lines N] [--seed S] [--prefix=default|debian|pgbadger|lnum]
//           [--format=stderr|csvlog|jsonlog] [--truth FILE] [--new-conn P]
//
// --format=csvlog|jsonlog writes the same records as PostgreSQL 15 csvlog or
// jsonlog (DETAIL/HINT/CONTEXT/STATEMENT lines become fields of the record
// before them; the session line number restarts at "connection received").
//
// The log is a simulation of one busy server: many client backends
// interleaved, timestamps (UTC, milliseconds) rising by 1-6 ms per line,
// about 10% connection lifecycle lines and the rest statements, durations,
// multi-line statements (TAB continuations), errors with DETAIL/HINT/
// CONTEXT/STATEMENT lines, lock waits, temporary files, checkpoints and
// autovacuum. Connection traffic covers what pgconn-parse must get right
// (SPEC.md §2, pg-log-formats.md §3-§5):
//   - established sessions over TCP (IPv4, IPv6, some with SSL) and Unix
//     sockets ([local]), with and without application_name, names with spaces;
//   - a fleet's diversity (issue 15): clients from pools of hundreds of IPv4
//     and IPv6 addresses, busy and quiet ones; 2,000 tenants with a role and
//     an application name each and 500 databases; apps that put a worker
//     number in application_name; a new ephemeral port per session. The
//     default 1 M-line log has about 10,200 distinct user/db/app/host
//     combinations among its 24,800 sessions; a longer one no more than
//     about 21,400 (each tenant connects from its own few pods), as a real
//     fleet repeats the same names day after day;
//   - PG 14+ "connection authenticated" lines for scram and peer;
//   - rejects before "connection authorized" (too many clients, password,
//     pg_hba.conf, authentication timeout) and after it on the same pid with
//     no disconnection (no database, role/db limits, reserved slots, ...);
//   - health checks ("connection received" then nothing, or "incomplete
//     startup packet");
//   - a small pid pool, so pids recur (but not within the second the pid's
//     last backend started: csvlog and jsonlog session ids are that second
//     and the pid, unique on a real server); sometimes a pid is reused while
//     its session never logged its end (a "lost" session);
//   - sessions ended by pg_terminate_backend, idle timeouts, client resets;
//   - one app that leaks: its sessions never close;
//   - a physical replication connection that stays open.
//
// --truth FILE writes "key value" lines: connects, the distinct names among
// them (users, databases, apps, hosts, user/db/app/host combinations),
// disconnects (logged and lost, by reason), rejects by SPEC §2 category,
// sessions open at the end and the exact peak of concurrently open sessions
// with its time. A session is open from its "connection authorized" line to
// its "disconnection" line, or for a lost one to the "connection received"
// line that reuses its pid.
//
// --new-conn P (default 0.045) is the chance that a line starts a new
// connection rather than a statement; 1 makes a log of almost only
// connection traffic (about 40% of its lines become events), for soak tests.
//
// --lines is approximate: once reached, no new connection starts and the
// connections still being set up are completed, so the truth stays exact.

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---------------------------------------------------------------- random

// xoshiro256**, seeded by splitmix64: the same stream on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
  // Uniform in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint32_t>(hi - lo + 1)));
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  // Log-uniform in [a, b]: many short, some long.
  double loguni(double a, double b) { return a * std::exp(unit() * std::log(b / a)); }
  template <class T, size_t N>
  const T& pick(const T (&arr)[N]) { return arr[below(N)]; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// ---------------------------------------------------------------- model

enum class Prefix { Default, Debian, Pgbadger, Lnum };
// --format: the same records as stderr lines, PostgreSQL 15 csvlog or jsonlog.
enum class Format { Stderr, Csvlog, Jsonlog };

// What the prefix knows about the process writing a line.
enum class Who {
  Server,   // postmaster, checkpointer, autovacuum: no client (%q cuts here)
  Unknown,  // a backend before its startup packet: [unknown]@[unknown]
  Named,    // user and database known, application_name not yet applied
  Session,  // established: application_name applied
};

enum class Reject : uint8_t {
  None,
  // before "connection authorized"
  TooManyClients, AuthFailed, NoHbaEntry, HbaReject, AuthTimeout,
  // after "connection authorized", same pid, no disconnection
  NoDatabase, RoleLimit, ReservedSlots, DbLimit, NoRole, LoginNotAllowed, OtherPermission,
  Count
};

const char* const kRejectName[] = {
    "none",         "too_many_clients", "auth_failed", "no_hba_entry",
    "hba_reject",   "auth_timeout",     "no_database", "role_limit",
    "reserved_slots", "db_limit",       "no_role",     "login_not_allowed",
    "other",
};
static_assert(sizeof(kRejectName) / sizeof(kRejectName[0]) == size_t(Reject::Count));

bool is_post_auth(Reject r) { return r >= Reject::NoDatabase; }

enum class EndReason : uint8_t {
  Normal, Terminated, IdleTimeout, IdleInTxTimeout, ClientLost, Lost, Count
};
const char* const kEndName[] = {"normal", "terminated", "idle_timeout",
                                "idle_in_transaction_timeout", "client_lost", "lost"};

enum class Auth : uint8_t { Scram, Peer, Trust };

// Where a profile's clients connect from: "[local]" (a Unix socket), one
// address, or a pool of `count` addresses of a network: IPv4 "10.0.4.0"
// (hosts .1-.254 of consecutive /24s) or the /64 "2001:db8:10:0" (random
// interface ids, drawn once with a fixed seed: the same fleet for every --seed).
struct HostPool {
  const char* base;
  int count;      // 1: base is the address itself
  double weight;  // share of the profile's connections
};

// A kind of client. app, user and db are fmt patterns: {t} is the tenant's
// number (0..tenants-1), {d} its database's (t / tenants_per_db), {w} a
// worker's number (0..workers-1). Tenants and hosts are drawn with a skew
// (kSkew): a few are busy, most are quiet, as in a real fleet (a tenant's
// host: one of its pods, uniformly).
struct Profile {
  const char* app;    // "" when the client sets no application_name
  const char* user;
  const char* db;
  int tenants, tenants_per_db, workers;
  int pods;  // > 0: a tenant connects from this many addresses, fixed by its number
  HostPool pools[2];  // the second unused when its count is 0
  double weight;             // share of new connections
  double life_min_s, life_max_s;
  int activity;              // relative chance to be picked for a statement (1..10)
  int min_statements;        // statements logged before a normal end
  double ssl;                // chance of TLS
  Auth auth;
};

constexpr HostPool kNoPool = {"", 0, 0};
const Profile kProfiles[] = {
    // Rails behind puma: a web tier of 480 nodes, 16 workers each.
    {"puma: cluster worker {w}", "app_user", "production", 1, 1, 16, 0,
     {{"10.0.4.0", 480, 1}, kNoPool}, 28, 0.1, 3, 10, 1, 0.0, Auth::Scram},
    {"sidekiq-worker-{w}", "app_user", "production", 1, 1, 64, 0,
     {{"10.0.12.0", 24, 1}, kNoPool}, 3, 30, 600, 4, 1, 0.0, Auth::Scram},
    {"PostgreSQL JDBC Driver", "api", "production", 1, 1, 1, 0,
     {{"2001:db8:10:0", 120, 1}, kNoPool}, 12, 2, 60, 6, 1, 1.0, Auth::Scram},
    {"", "readonly", "analytics", 1, 1, 1, 0,
     {{"10.0.2.0", 16, 1}, kNoPool}, 8, 1, 30, 3, 1, 0.3, Auth::Scram},
    {"pgAdmin 4 - DB:production", "admin", "production", 1, 1, 1, 0,
     {{"192.168.10.0", 12, 1}, kNoPool}, 1, 30, 900, 1, 0, 1.0, Auth::Scram},
    {"psql", "postgres", "postgres", 1, 1, 1, 0,
     {{"[local]", 1, 1}, kNoPool}, 3, 5, 300, 1, 0, 0.0, Auth::Peer},
    {"etl job", "etl", "warehouse", 1, 1, 1, 0,
     {{"10.0.3.7", 1, 1}, kNoPool}, 4, 10, 120, 5, 2, 0.0, Auth::Trust},
    {"pg_exporter", "monitor", "postgres", 1, 1, 1, 0,
     {{"10.0.5.2", 1, 1}, {"fd00:5::2", 1, 1}}, 15, 0.01, 0.2, 10, 1, 0.0, Auth::Scram},
    // A multi-tenant SaaS: a role and an application name per tenant, four
    // tenants per database, each from 6 pods of a Kubernetes network (IPv4
    // for 70% of the tenants, IPv6 for the others).
    {"tenant-{t:04d}-portal", "tenant_{t:04d}", "t_{d:04d}", 2000, 4, 1, 6,
     {{"10.1.0.0", 900, 0.7}, {"fd00:a:1:0", 400, 0.3}}, 32, 0.2, 20, 4, 1, 0.5, Auth::Scram},
};
constexpr int kNumProfiles = int(sizeof(kProfiles) / sizeof(kProfiles[0]));
constexpr int kExporter = 7;  // kProfiles[kExporter] runs its own monitoring queries
// Not chosen at random: scheduled separately.
const Profile kLeakProfile = {"billing-sync", "app_user", "production", 1, 1, 1, 0,
                              {{"10.0.1.9", 1, 1}, kNoPool}, 0, 0, 0, 1, 1, 0.0, Auth::Scram};
const Profile kReplProfile = {"walreceiver", "replicator", "", 1, 1, 1, 0,
                              {{"10.0.9.2", 1, 1}, kNoPool}, 0, 0, 0, 0, 0, 1.0, Auth::Scram};
constexpr double kSkew = 1.5;  // index = count * u^kSkew: density falls as index^(-1/3)

constexpr int kLeakCap = 150;            // the leaking pool's size
constexpr int kPidPool = 1000;           // client backends draw pids from here
constexpr double kNewConnChance = 0.0450;  // per free line: start a connection (--new-conn)
constexpr double kLostChance = 0.003;    // a new connection reuses a live session's pid
constexpr int64_t kStart = 1709287200000;  // 2024-03-01 10:00:00.000 UTC

enum class State : uint8_t { Free, Setup, Open, Ending };

struct Session {
  uint32_t gen = 0;
  State state = State::Free;
  Reject reject = Reject::None;
  EndReason end = EndReason::Normal;
  bool leak = false;
  bool repl = false;
  bool ssl = false;
  bool own_user = true;  // user is the profile's, not a stranger's name
  bool health = false;  // a health check: received, then nothing or "incomplete startup packet"
  const Profile* prof = nullptr;
  const char* user = "";
  const char* db = "";
  const char* app = "";  // application_name ("" none)
  const char* host = "";
  int pid = 0;
  int port = 0;
  int statements = 0;
  int open_idx = -1;  // index in the open list while Open
  int64_t start_ms = 0;
  int64_t auth_ms = 0;
};

enum class Kind : uint8_t {
  // per session
  Authenticated, Authorized, PreFatal, PostFatal, Incomplete, End, Disconnect,
  // server-wide
  LeakArrival, CheckpointStart, CheckpointDone, Autovacuum, Replication,
};

bool is_setup(Kind k) {
  return k == Kind::Authenticated || k == Kind::Authorized || k == Kind::PreFatal ||
         k == Kind::PostFatal || k == Kind::Incomplete || k == Kind::Disconnect;
}

struct Item {
  int64_t t;
  uint64_t seq;
  uint32_t sid;
  uint32_t gen;
  Kind kind;
  bool operator>(const Item& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

// ---------------------------------------------------------------- time

// "YYYY-MM-DD HH:MM:SS" of a Unix time in seconds (UTC).
void civil(int64_t secs, char* out) {
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) rem += 86400, --days;
  // Howard Hinnant's civil_from_days.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y0 = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = y0 + (m <= 2);
  std::snprintf(out, 32, "%04d-%02u-%02u %02d:%02d:%02d", int(y), m, d, int(rem / 3600),
                int(rem / 60 % 60), int(rem % 60));
}

// ---------------------------------------------------------------- output

class Writer {
 public:
  explicit Writer(Prefix p, Format f = Format::Stderr) : prefix_(p), format_(f) {}
  ~Writer() { flush(); }

  uint64_t lines() const { return lines_; }
  uint64_t bytes() const { return flushed_ + buf_.size(); }
  void flush() {
    if (format_ != Format::Stderr) {
      close_line();
      emit();
    }
    flushed_ += buf_.size();
    if (buf_.size() && std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size()) {
      std::exit(1);  // closed pipe or full disk: nothing more to do
    }
    buf_.clear();
  }

  // The prefix of a line logged at ms by process pid.
  void prefix(int64_t ms, int pid, Who who, const Session* s) {
    if (format_ != Format::Stderr) {
      structured_line(ms, pid, who, s);
      return;
    }
    stamp(ms, prefix_ != Prefix::Pgbadger);
    switch (prefix_) {
      case Prefix::Default:
        fmt::format_to(out(), " [{}] ", pid);
        break;
      case Prefix::Lnum:  // "%m [%p-%l] %q%u@%d ": %l counts the process's lines
        fmt::format_to(out(), " [{}-{}] ", pid, next_lnum(pid, s));
        [[fallthrough]];
      case Prefix::Debian:
        if (prefix_ == Prefix::Debian) fmt::format_to(out(), " [{}] ", pid);
        if (who == Who::Unknown) {
          put("[unknown]@[unknown] ");
        } else if (who != Who::Server) {
          put(s->user);
          put("@");
          put(*s->db ? s->db : "[unknown]");
          put(" ");
        }
        break;
      case Prefix::Pgbadger:
        fmt::format_to(out(), " [{}]: ", pid);
        if (who == Who::Server) {
          put("user=,db=,app=,client= ");
        } else {
          const bool named = who != Who::Unknown;
          put("user=");
          put(named ? s->user : "[unknown]");
          put(",db=");
          put(named && *s->db ? s->db : "[unknown]");
          put(",app=");
          put(who == Who::Session && *s->app ? s->app : "[unknown]");
          put(",client=");
          put(s->host);
          put(" ");
        }
        break;
    }
  }

  // One whole line: prefix, "SEV:  ", the message, newline.
  template <class... Args>
  void line(int64_t ms, int pid, Who who, const Session* s, std::string_view sev,
            fmt::format_string<Args...> f, Args&&... args) {
    prefix(ms, pid, who, s);
    put(sev);
    put(":  ");
    fmt::format_to(out(), f, std::forward<Args>(args)...);
    end();
  }
  // A continuation line of a multi-line message: TAB, text, newline.
  template <class... Args>
  void cont(fmt::format_string<Args...> f, Args&&... args) {
    put("\t");
    fmt::format_to(out(), f, std::forward<Args>(args)...);
    end();
  }
  // Pieces of a line built by the caller: begin with prefix()+put(), end with end().
  void put(std::string_view sv) { cur().append(sv.data(), sv.data() + sv.size()); }
  std::back_insert_iterator<fmt::memory_buffer> out() { return std::back_inserter(cur()); }
  void end() {
    cur().push_back('\n');
    ++lines_;
    if (buf_.size() >= (1u << 20)) flush();
  }

  // "2024-03-01 10:00:00.123 UTC" (or without ".123" for %t).
  void stamp(int64_t ms, bool with_ms) {
    const int64_t sec = ms / 1000;
    if (sec != cached_sec_) {
      civil(sec, cached_);
      cached_sec_ = sec;
    }
    buf_.append(cached_, cached_ + 19);
    if (with_ms) {
      const int r = int(ms % 1000);
      const char frac[4] = {'.', char('0' + r / 100), char('0' + r / 10 % 10), char('0' + r % 10)};
      buf_.append(frac, frac + 4);
    }
    put(" UTC");
  }

  // csvlog/jsonlog: stderr lines are collected as text ("SEV:  message\n\tcont\n")
  // and turned into one record each; DETAIL/HINT/CONTEXT/STATEMENT lines become
  // fields of the record before them, as the server writes them.
  struct Record {
    bool used = false;
    int64_t ms = 0, start_ms = 0;
    int pid = 0, port = 0;
    uint64_t line_num = 0;
    Who who = Who::Server;
    std::string user, db, host, app, sev, message, detail, hint, context, statement;
  };
  struct Pending {
    int64_t ms = 0;
    int pid = 0, port = 0;
    Who who = Who::Server;
    std::string user, db, host, app;
  };

  // %l of the next line of pid: 1 for the first line of a new backend
  // (another session or generation on the same pid).
  uint64_t next_lnum(int pid, const Session* s) {
    auto& [who, gen, n] = lnums_[pid];
    const uint32_t g = s ? s->gen : 0;
    if (who != s || gen != g) {
      who = s;
      gen = g;
      n = 0;
    }
    return ++n;
  }

  fmt::memory_buffer& cur() { return format_ == Format::Stderr || emitting_ ? buf_ : line_; }

  void structured_line(int64_t ms, int pid, Who who, const Session* s) {
    close_line();
    line_meta_ = Pending{ms, pid, s ? s->port : 0, who, {}, {}, {}, {}};
    if (s && who != Who::Server) {
      line_meta_.host = s->host;
      if (who != Who::Unknown) {
        line_meta_.user = s->user;
        line_meta_.db = s->db;
      }
      if (who == Who::Session) line_meta_.app = s->app;
    }
    have_line_ = true;
  }

  void close_line() {
    if (!have_line_) return;
    have_line_ = false;
    std::string text(line_.data(), line_.size());
    line_.clear();
    if (!text.empty() && text.back() == '\n') text.pop_back();
    std::string msg;  // "\n\t" continuations are "\n" in the message
    for (size_t i = 0; i < text.size(); ++i) {
      msg.push_back(text[i]);
      if (text[i] == '\n' && i + 1 < text.size() && text[i + 1] == '\t') ++i;
    }
    const size_t colon = msg.find(":  ");
    std::string sev = colon == std::string::npos ? "LOG" : msg.substr(0, colon);
    if (colon != std::string::npos) msg.erase(0, colon + 3);
    if (rec_.used && rec_.pid == line_meta_.pid &&
        (sev == "DETAIL" || sev == "HINT" || sev == "CONTEXT" || sev == "STATEMENT")) {
      (sev == "DETAIL" ? rec_.detail : sev == "HINT" ? rec_.hint : sev == "CONTEXT" ? rec_.context : rec_.statement) = msg;
      return;
    }
    emit();
    rec_.used = true;
    rec_.ms = line_meta_.ms;
    rec_.pid = line_meta_.pid;
    rec_.port = line_meta_.port;
    rec_.who = line_meta_.who;
    rec_.user = line_meta_.user;
    rec_.db = line_meta_.db;
    rec_.host = line_meta_.host;
    rec_.app = line_meta_.app;
    rec_.sev = sev;
    rec_.message = msg;
    rec_.detail.clear();
    rec_.hint.clear();
    rec_.context.clear();
    rec_.statement.clear();
    auto& ln = line_nums_[rec_.pid];
    if (msg.starts_with("connection received") || ln.first == 0) ln = {0, rec_.ms};
    rec_.line_num = ++ln.first;
    rec_.start_ms = ln.second;
  }

  void csv_field(std::string_view v) {
    buf_.push_back('"');
    for (char c : v) {
      if (c == '"') buf_.push_back('"');
      buf_.push_back(c);
    }
    buf_.push_back('"');
  }
  void json_string(std::string_view v) {
    buf_.push_back('"');
    for (unsigned char c : v) {
      if (c == '"' || c == '\\') {
        buf_.push_back('\\');
        buf_.push_back(char(c));
      } else if (c == '\n') {
        put("\\n");
      } else if (c == '\t') {
        put("\\t");
      } else if (c < 0x20) {
        fmt::format_to(out(), "\\u{:04x}", unsigned(c));
      } else {
        buf_.push_back(char(c));
      }
    }
    buf_.push_back('"');
  }
  void json_key(std::string_view k, std::string_view v) {
    if (v.empty()) return;
    buf_.push_back(',');
    json_string(k);
    buf_.push_back(':');
    json_string(v);
  }

  void emit() {
    if (!rec_.used) return;
    rec_.used = false;
    emitting_ = true;
    const Record& r = rec_;
    const std::string t = fmt::format("{}.{:03d} UTC", civil_str(r.ms / 1000), int(r.ms % 1000));
    const std::string start = fmt::format("{} UTC", civil_str(r.start_ms / 1000));
    const std::string sid = fmt::format("{:x}.{:x}", r.start_ms / 1000, r.pid);
    const bool backend = r.who != Who::Server;
    std::string from = r.host;
    if (backend && r.port) from += fmt::format(":{}", r.port);
    const char* btype = backend ? "client backend" : "postmaster";
    if (format_ == Format::Csvlog) {
      put(t);
      buf_.push_back(',');
      csv_field(r.user);
      buf_.push_back(',');
      csv_field(r.db);
      fmt::format_to(out(), ",{},", r.pid);
      csv_field(from);
      fmt::format_to(out(), ",{},{},,{},,0,{},00000,", sid, r.line_num, start, r.sev);
      csv_field(r.message);
      buf_.push_back(',');
      csv_field(r.detail);
      buf_.push_back(',');
      csv_field(r.hint);
      put(",,,");
      csv_field(r.context);
      buf_.push_back(',');
      csv_field(r.statement);
      put(",,,");
      csv_field(r.app);
      buf_.push_back(',');
      csv_field(btype);
      put(",,0\n");
    } else {
      put("{\"timestamp\":");
      json_string(t);
      json_key("user", r.user);
      json_key("dbname", r.db);
      fmt::format_to(out(), ",\"pid\":{}", r.pid);
      if (backend && !r.host.empty()) {
        json_key("remote_host", r.host);
        if (r.port) fmt::format_to(out(), ",\"remote_port\":{}", r.port);
      }
      json_key("session_id", sid);
      fmt::format_to(out(), ",\"line_num\":{}", r.line_num);
      json_key("session_start", start);
      fmt::format_to(out(), ",\"txid\":0");
      json_key("error_severity", r.sev);
      json_key("state_code", "00000");
      json_key("message", r.message);
      json_key("detail", r.detail);
      json_key("hint", r.hint);
      json_key("statement", r.statement);
      json_key("context", r.context);
      json_key("application_name", r.app);
      json_key("backend_type", btype);
      put(",\"query_id\":0}\n");
    }
    emitting_ = false;
    if (buf_.size() >= (1u << 20)) {
      flushed_ += buf_.size();
      if (std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size()) std::exit(1);
      buf_.clear();
    }
  }
  static std::string civil_str(int64_t sec) {
    char c[32];
    civil(sec, c);
    return c;
  }

  std::string format_time(int64_t ms) const {
    char c[32];
    civil(ms / 1000, c);
    if (prefix_ == Prefix::Pgbadger) return fmt::format("{} UTC", c);
    return fmt::format("{}.{:03d} UTC", c, int(ms % 1000));
  }

 private:
  Prefix prefix_;
  Format format_;
  fmt::memory_buffer buf_;
  fmt::memory_buffer line_;  // csvlog/jsonlog: the current line's text
  bool have_line_ = false;
  bool emitting_ = false;
  Pending line_meta_;
  Record rec_;
  std::unordered_map<int, std::pair<uint64_t, int64_t>> line_nums_;
  std::unordered_map<int, std::tuple<const Session*, uint32_t, uint64_t>> lnums_;  // --prefix=lnum  // pid -> (%l, session start)
  uint64_t lines_ = 0;
  uint64_t flushed_ = 0;
  int64_t cached_sec_ = -1;
  char cached_[32] = {};
};

// ---------------------------------------------------------------- statements

const char* const kTables[] = {"orders", "customers", "order_items", "products", "invoices",
                               "shipments", "accounts", "events"};
const char* const kStatuses[] = {"pending", "paid", "shipped", "cancelled", "refunded"};

// A one-line SQL statement (never containing "connection").
void simple_sql(Writer& w, Rng& r) {
  switch (r.below(12)) {
    case 0: fmt::format_to(w.out(), "SELECT * FROM orders WHERE customer_id = {}", r.range(1, 99999)); break;
    case 1: fmt::format_to(w.out(), "SELECT id, email, created_at FROM customers WHERE id = {} LIMIT 1", r.range(1, 500000)); break;
    case 2: fmt::format_to(w.out(), "UPDATE orders SET status = '{}', updated_at = now() WHERE id = {}", r.pick(kStatuses), r.range(1, 9999999)); break;
    case 3: fmt::format_to(w.out(), "INSERT INTO events (kind, user_id, payload) VALUES ('page_view', {}, '{{\"path\": \"/products/{}\", \"ref\": \"search\"}}')", r.range(1, 500000), r.range(1, 20000)); break;
    case 4: w.put("BEGIN"); break;
    case 5: w.put("COMMIT"); break;
    case 6: fmt::format_to(w.out(), "SELECT count(*) FROM {} WHERE created_at > now() - interval '{} minutes'", r.pick(kTables), r.range(1, 120)); break;
    case 7: fmt::format_to(w.out(), "DELETE FROM sessions WHERE expires_at < now() - interval '{} days'", r.range(1, 30)); break;
    case 8: fmt::format_to(w.out(), "SELECT p.id, p.name, p.price FROM products p WHERE p.category_id = {} AND p.active ORDER BY p.price LIMIT {}", r.range(1, 400), r.range(10, 100)); break;
    case 9: fmt::format_to(w.out(), "UPDATE accounts SET balance = balance - {}.{:02d} WHERE id = {}", r.range(1, 999), r.range(0, 99), r.range(1, 100000)); break;
    case 10: fmt::format_to(w.out(), "SELECT pg_advisory_xact_lock({})", r.range(1, 1000)); break;
    default: fmt::format_to(w.out(), "INSERT INTO order_items (order_id, product_id, quantity, price) VALUES ({}, {}, {}, {}.{:02d}) RETURNING id", r.range(1, 9999999), r.range(1, 20000), r.range(1, 5), r.range(1, 500), r.range(0, 99)); break;
  }
}

// The first line of a multi-line statement; returns which one, for multi_cont()
// to write its TAB-indented continuation lines.
int multi_head(Writer& w, Rng& r) {
  const int which = int(r.below(3));
  w.put(which == 0 ? "SELECT c.id," : which == 1 ? "UPDATE orders" : "WITH recent AS (");
  return which;
}
void multi_cont(Writer& w, Rng& r, int which) {
  switch (which) {
    case 0:
      w.cont("       c.name,");
      w.cont("       sum(o.total) AS revenue");
      w.cont("FROM customers c");
      w.cont("JOIN orders o ON o.customer_id = c.id");
      w.cont("WHERE o.created_at >= now() - interval '{} days'", r.range(1, 30));
      w.cont("GROUP BY c.id, c.name");
      w.cont("ORDER BY revenue DESC LIMIT 50");
      break;
    case 1:
      w.cont("SET status = '{}'", r.pick(kStatuses));
      w.cont("WHERE id = {}", r.range(1, 9999999));
      break;
    default:
      w.cont("    SELECT order_id, sum(quantity) AS n");
      w.cont("    FROM order_items WHERE created_at > now() - interval '1 hour'");
      w.cont("    GROUP BY order_id");
      w.cont(")");
      w.cont("SELECT * FROM recent WHERE n > {}", r.range(2, 20));
      break;
  }
}

void duration(Writer& w, Rng& r) {
  const int64_t us = r.chance(0.9) ? r.range(20, 5000) : r.range(5000, 9000000);
  fmt::format_to(w.out(), "duration: {}.{:03d} ms  ", us / 1000, int(us % 1000));
}

// ---------------------------------------------------------------- generator

class Generator {
 public:
  Generator(uint64_t seed, uint64_t target, Prefix prefix, double new_conn,
            Format format = Format::Stderr)
      : r_(seed), w_(prefix, format), target_(target), new_conn_(new_conn) {
    // A pool of pids, scattered like the kernel's: 1000 values in 20000-99999.
    for (int i = 0; i < kPidPool; ++i) free_pids_.push_back(20000 + i * 79 + int(r_.below(79)));
    double total = 0;
    for (const auto& p : kProfiles) total += p.weight;
    double acc = 0;
    for (const auto& p : kProfiles) cum_.push_back((acc += p.weight) / total);
    Rng fleet(0xf1ee7);  // not --seed: every log comes from the same fleet
    for (const auto& p : kProfiles) add_fleet(p, fleet);
    add_fleet(kLeakProfile, fleet);
    add_fleet(kReplProfile, fleet);
  }

  void run() {
    startup();
    while (!stopping_ || pending_setup_ > 0) {
      if (!stopping_ && w_.lines() >= target_) stopping_ = true;
      if (stopping_) {
        // Drain: complete every connection still being set up.
        if (heap_.empty()) break;
        Item it = heap_.top();
        heap_.pop();
        if (!is_setup(it.kind)) continue;
        --pending_setup_;
        now_ = std::max(now_ + 1, it.t);
        do_item(it);
        continue;
      }
      now_ += r_.range(1, 6);
      bool done = false;
      while (!done && !heap_.empty() && heap_.top().t <= now_) {
        Item it = heap_.top();
        heap_.pop();
        if (is_setup(it.kind)) --pending_setup_;
        done = do_item(it);
      }
      if (done) continue;
      if (r_.chance(new_conn_) || open_.empty()) {
        new_connection(nullptr);
      } else {
        activity();
      }
    }
    w_.flush();
  }

  void write_truth(FILE* f, uint64_t seed, const char* prefix) {
    uint64_t rejects = 0;
    for (int i = 1; i < int(Reject::Count); ++i) rejects += reject_count_[i];
    uint64_t disconnects = 0;
    for (auto n : end_count_) disconnects += n;
    std::string s;
    auto kv = [&](std::string_view k, auto v) { s += fmt::format("{} {}\n", k, v); };
    s += "# gen-log ground truth; a session is open from \"connection authorized\" until its\n"
         "# \"disconnection\" line, or (lost) until a \"connection received\" reuses its pid\n";
    kv("seed", seed);
    kv("prefix", prefix);
    kv("lines", w_.lines());
    kv("bytes", w_.bytes());
    kv("connection_lines", conn_lines_);
    kv("first_time", w_.format_time(kStart));
    kv("last_time", w_.format_time(now_));
    kv("server_ready", 1);
    kv("received", received_);
    kv("health_checks", health_);
    kv("connects", connects_);
    kv("connects_replication", repl_connects_);
    kv("connects_leak", leak_opened_);
    // Among the sessions connected ("" for no application_name or database).
    kv("distinct_users", users_.size());
    kv("distinct_databases", dbs_.size());
    kv("distinct_apps", apps_.size());
    kv("distinct_hosts", hosts_.size());
    kv("distinct_combinations", combinations_.size());  // of user, database, app, host
    kv("disconnects", disconnects);
    kv("disconnects_logged", disconnects - end_count_[int(EndReason::Lost)]);
    for (int i = 0; i < int(EndReason::Count); ++i)
      kv(fmt::format("disconnect_{}", kEndName[i]), end_count_[i]);
    kv("rejects", rejects);
    for (int i = 1; i < int(Reject::Count); ++i)
      kv(fmt::format("reject_{}", kRejectName[i]), reject_count_[i]);
    // Reasons the generator never writes are still true counts: none.
    kv("reject_db_not_accepting", 0);  // needs a database with datallowconn off
    kv("open_at_end", open_count_);
    kv("open_at_end_leak", leak_open_);
    kv("peak_open", peak_);
    kv("peak_time", w_.format_time(peak_ms_));
    kv("peak_time_ms", peak_ms_);
    std::fputs(s.c_str(), f);
  }

 private:
  // ---- names

  // The addresses of every pool of p (see HostPool).
  void add_fleet(const Profile& p, Rng& r) {
    for (const HostPool& pool : p.pools) {
      if (pool.count == 0) continue;
      std::vector<std::string>& out = fleet_[&pool];
      if (pool.count == 1) {
        out.emplace_back(pool.base);
      } else if (std::strchr(pool.base, ':')) {
        // SLAAC-like interface ids; a repeat would only make the pool smaller.
        for (int i = 0; i < pool.count; ++i)
          out.push_back(fmt::format("{}:{:x}:{:x}:{:x}:{:x}", pool.base, r.below(0x10000),
                                    r.below(0x10000), r.below(0x10000), r.below(0x10000)));
      } else {
        unsigned a, b, c, d;
        if (std::sscanf(pool.base, "%u.%u.%u.%u", &a, &b, &c, &d) != 4) std::abort();
        for (int i = 0; i < pool.count; ++i)
          out.push_back(fmt::format("{}.{}.{}.{}", a, b, c + i / 254, 1 + i % 254));
      }
    }
  }

  // An index in [0, n), low ones more likely (kSkew).
  uint32_t skewed(int n) {
    return std::min(uint32_t(n - 1), uint32_t(n * std::pow(r_.unit(), kSkew)));
  }

  // PATTERN with {t}, {d} and {w} filled in, as a string that lives as long
  // as the generator (a pattern without "{" is its own name).
  const char* name(const char* pattern, int t, int d, int w) {
    if (!std::strchr(pattern, '{')) return pattern;
    return names_
        .insert(fmt::format(fmt::runtime(pattern), fmt::arg("t", t), fmt::arg("d", d), fmt::arg("w", w)))
        .first->c_str();
  }

  // The session's user, database, application name and client address.
  void name_session(Session& s) {
    const Profile& p = *s.prof;
    const int t = p.tenants > 1 ? int(skewed(p.tenants)) : 0;
    const int w = p.workers > 1 ? int(r_.below(uint32_t(p.workers))) : 0;
    const int d = t / p.tenants_per_db;
    s.user = name(p.user, t, d, w);
    s.db = name(p.db, t, d, w);
    s.app = name(p.app, t, d, w);
    // With pods, a tenant's pool and addresses follow from its number (a
    // multiplicative hash spreads them): the same few every time, so the name
    // combinations of a long log stay bounded, as a real fleet's do.
    const uint64_t hash = uint64_t(t) * 2654435761u;
    const HostPool* pool = &p.pools[0];
    const double second = p.pools[1].weight / (pool->weight + p.pools[1].weight);
    if (p.pools[1].count && (p.pods ? double(hash % 1000) / 1000 : r_.unit()) < second) pool = &p.pools[1];
    const std::vector<std::string>& hosts = fleet_[pool];
    const uint32_t n = uint32_t(hosts.size());
    const uint32_t i = p.pods ? uint32_t((hash / 1000 + r_.below(uint32_t(p.pods)) * 40503u) % n)
                              : n > 1 ? skewed(int(n)) : 0;
    s.host = hosts[i].c_str();
  }

  // ---- bookkeeping

  void push(int64_t t, uint32_t sid, Kind k) {
    heap_.push(Item{t, seq_++, sid, sid == kNoSession ? 0 : sessions_[sid].gen, k});
    if (is_setup(k)) ++pending_setup_;
  }
  static constexpr uint32_t kNoSession = ~0u;

  uint32_t alloc_session() {
    uint32_t sid;
    if (!free_sessions_.empty()) {
      sid = free_sessions_.back();
      free_sessions_.pop_back();
    } else {
      sid = uint32_t(sessions_.size());
      sessions_.emplace_back();
    }
    Session& s = sessions_[sid];
    const uint32_t gen = s.gen + 1;
    s = Session{};
    s.gen = gen;
    return sid;
  }
  void free_session(uint32_t sid, bool release_pid) {
    Session& s = sessions_[sid];
    if (release_pid) free_pids_.push_back(s.pid);
    s.state = State::Free;
    ++s.gen;  // invalidates its scheduled items
    free_sessions_.push_back(sid);
  }
  // A free pid, but not one whose last backend started in this second: the
  // session id of csvlog and jsonlog is the start second and the pid, and a
  // real kernel does not hand a pid out again that fast (two backends with
  // one session id read as one backend whose lines came out of order).
  int take_pid() {
    uint32_t i = r_.below(uint32_t(free_pids_.size()));
    for (int tries = 0; tries < 64 && started_sec_[free_pids_[i]] == now_ / 1000; ++tries)
      i = r_.below(uint32_t(free_pids_.size()));
    const int pid = free_pids_[i];
    free_pids_[i] = free_pids_.back();
    free_pids_.pop_back();
    return pid;
  }
  void open_add(uint32_t sid) {
    sessions_[sid].open_idx = int(open_.size());
    open_.push_back(sid);
  }
  void open_remove(uint32_t sid) {
    const int i = sessions_[sid].open_idx;
    open_[i] = open_.back();
    sessions_[open_[i]].open_idx = i;
    open_.pop_back();
    sessions_[sid].open_idx = -1;
  }
  void opened(const Session& s) {
    ++connects_;
    users_.insert(s.user);
    dbs_.insert(s.db);
    apps_.insert(s.app);
    hosts_.insert(s.host);
    combinations_.insert(fmt::format("{}\t{}\t{}\t{}", s.user, s.db, s.app, s.host));
    if (++open_count_ > peak_) {
      peak_ = open_count_;
      peak_ms_ = now_;
    }
    if (s.leak) ++leak_open_;
    if (s.repl) ++repl_connects_;
  }
  void closed(const Session& s, EndReason why) {
    --open_count_;
    ++end_count_[int(why)];
    if (s.leak) --leak_open_;
  }

  // ---- server-wide

  void startup() {
    const int pm = 812;
    now_ = kStart - 2500;
    auto server = [&](int pid, int64_t step, auto f) {
      now_ += step;
      f(pid);
    };
    server(pm, 0, [&](int pid) {
      w_.line(now_, pid, Who::Server, nullptr, "LOG",
              "starting PostgreSQL 15.5 (Debian 15.5-0+deb12u1) on x86_64-pc-linux-gnu, compiled by "
              "gcc (Debian 12.2.0-14) 12.2.0, 64-bit");
    });
    server(pm, 1, [&](int pid) { w_.line(now_, pid, Who::Server, nullptr, "LOG", "listening on IPv4 address \"0.0.0.0\", port 5432"); });
    server(pm, 1, [&](int pid) { w_.line(now_, pid, Who::Server, nullptr, "LOG", "listening on IPv6 address \"::\", port 5432"); });
    server(pm, 2, [&](int pid) { w_.line(now_, pid, Who::Server, nullptr, "LOG", "listening on Unix socket \"/var/run/postgresql/.s.PGSQL.5432\""); });
    server(815, 9, [&](int pid) { w_.line(now_, pid, Who::Server, nullptr, "LOG", "database system was shut down at 2024-03-01 09:58:12 UTC"); });
    server(pm, 14, [&](int pid) { w_.line(now_, pid, Who::Server, nullptr, "LOG", "database system is ready to accept connections"); });
    now_ = kStart;
    push(kStart + 700, kNoSession, Kind::Replication);
    push(kStart + r_.range(5000, 30000), kNoSession, Kind::LeakArrival);
    push(kStart + 300000, kNoSession, Kind::CheckpointStart);
    push(kStart + r_.range(10000, 60000), kNoSession, Kind::Autovacuum);
  }

  void checkpoint_start() {
    w_.line(now_, 813, Who::Server, nullptr, "LOG", "checkpoint starting: time");
    push(now_ + r_.range(25000, 29999), kNoSession, Kind::CheckpointDone);
    push(now_ + 300000, kNoSession, Kind::CheckpointStart);
  }
  void checkpoint_done() {
    const int bufs = int(r_.range(200, 20000));
    const int64_t write_ms = r_.range(20000, 27000), sync_ms = r_.range(5, 400);
    const int files = int(r_.range(5, 80));
    const int dist = int(r_.range(2000, 90000));
    w_.line(now_, 813, Who::Server, nullptr, "LOG",
            "checkpoint complete: wrote {} buffers ({}.{}%); 0 WAL file(s) added, {} removed, {} "
            "recycled; write={}.{:03d} s, sync={}.{:03d} s, total={}.{:03d} s; sync files={}, "
            "longest=0.{:03d} s, average=0.00{} s; distance={} kB, estimate={} kB",
            bufs, bufs * 100 / 16384, bufs * 1000 / 16384 % 10, r_.range(0, 3), r_.range(0, 5),
            write_ms / 1000, int(write_ms % 1000), sync_ms / 1000, int(sync_ms % 1000),
            (write_ms + sync_ms) / 1000, int((write_ms + sync_ms) % 1000), files,
            int(r_.range(1, 120)), int(r_.range(1, 9)), dist, dist + int(r_.range(0, 5000)));
  }
  void autovacuum() {
    // An autovacuum worker: a pid from the same pool as client backends.
    push(now_ + r_.range(5000, 60000), kNoSession, Kind::Autovacuum);
    if (free_pids_.empty()) return;
    const int pid = take_pid();
    free_pids_.push_back(pid);
    const char* table = r_.pick(kTables);
    const char* db = r_.chance(0.8) ? "production" : "analytics";
    if (r_.chance(0.4)) {
      w_.line(now_, pid, Who::Server, nullptr, "LOG", "automatic analyze of table \"{}.public.{}\"", db, table);
      w_.cont("avg read rate: {}.{:03d} MB/s, avg write rate: {}.{:03d} MB/s", r_.range(0, 90),
              int(r_.range(0, 999)), r_.range(0, 20), int(r_.range(0, 999)));
      w_.cont("buffer usage: {} hits, {} misses, {} dirtied", r_.range(100, 90000), r_.range(0, 9000), r_.range(0, 900));
      w_.cont("system usage: CPU: user: 0.{:02d} s, system: 0.{:02d} s, elapsed: {}.{:02d} s",
              int(r_.range(0, 99)), int(r_.range(0, 99)), r_.range(0, 9), int(r_.range(0, 99)));
      return;
    }
    const int64_t pages = r_.range(50, 500000), dead = r_.range(100, 900000);
    w_.line(now_, pid, Who::Server, nullptr, "LOG",
            "automatic vacuum of table \"{}.public.{}\": index scans: {}", db, table, r_.range(0, 2));
    w_.cont("pages: 0 removed, {} remain, {} scanned (100.00% of total)", pages, pages);
    w_.cont("tuples: {} removed, {} remain, 0 are dead but not yet removable", dead, dead * 7);
    w_.cont("removable cutoff: {}, which was {} XIDs old when operation ended", r_.range(100000, 9999999), r_.range(0, 50));
    w_.cont("frozen: 0 pages from table (0.00% of total) had 0 tuples frozen");
    w_.cont("index scan needed: {} pages from table ({}.{:02d}% of total) had {} dead item identifiers removed",
            r_.range(1, 5000), r_.range(0, 40), int(r_.range(0, 99)), dead);
    w_.cont("avg read rate: {}.{:03d} MB/s, avg write rate: {}.{:03d} MB/s", r_.range(0, 90),
            int(r_.range(0, 999)), r_.range(0, 20), int(r_.range(0, 999)));
    w_.cont("buffer usage: {} hits, {} misses, {} dirtied", r_.range(100, 90000), r_.range(0, 9000), r_.range(0, 900));
    w_.cont("WAL usage: {} records, {} full page images, {} bytes", r_.range(0, 90000), r_.range(0, 900), r_.range(0, 9000000));
    w_.cont("system usage: CPU: user: 0.{:02d} s, system: 0.{:02d} s, elapsed: {}.{:02d} s",
            int(r_.range(0, 99)), int(r_.range(0, 99)), r_.range(0, 9), int(r_.range(0, 99)));
  }

  // ---- connections

  // Starts a connection: "connection received" now, the rest scheduled.
  void new_connection(const Profile* forced) {
    const Profile* p = forced;
    if (!p) {
      const double u = r_.unit();
      int i = 0;
      while (i + 1 < kNumProfiles && u >= cum_[i]) ++i;
      p = &kProfiles[i];
    }
    // Now and then the OS hands out the pid of a session whose end was never
    // logged (kill -9, a gap in the log): that session is lost.
    int pid = 0;
    if (!forced && r_.chance(kLostChance) && !open_.empty()) {
      const uint32_t victim = open_[r_.below(uint32_t(open_.size()))];
      Session& v = sessions_[victim];
      if (!v.leak && !v.repl && v.state == State::Open && now_ - v.auth_ms > 1000) {
        pid = v.pid;
        open_remove(victim);
        closed(v, EndReason::Lost);
        free_session(victim, false);
      }
    }
    if (pid == 0) {
      if (free_pids_.empty()) return;
      pid = take_pid();
    }
    started_sec_[pid] = now_ / 1000;
    const uint32_t sid = alloc_session();
    Session& s = sessions_[sid];
    s.state = State::Setup;
    s.prof = p;
    s.pid = pid;
    name_session(s);
    s.port = s.host[0] == '[' ? 0 : int(r_.range(32768, 60999));
    s.ssl = s.port && r_.chance(p->ssl);
    s.leak = p == &kLeakProfile;
    s.repl = p == &kReplProfile;
    s.start_ms = now_;
    ++received_;
    ++conn_lines_;
    if (s.port) {
      w_.line(now_, pid, Who::Unknown, &s, "LOG", "connection received: host={} port={}", s.host, s.port);
    } else {
      w_.line(now_, pid, Who::Unknown, &s, "LOG", "connection received: host={}", s.host);
    }

    // What becomes of it.
    if (!forced) {
      const double u = r_.unit();
      double acc = 0;
      auto band = [&](double width) { return u < (acc += width); };
      if (band(0.020)) {  // a health check or port scanner
        s.health = true;
        ++health_;
        if (r_.chance(0.3)) {
          push(now_ + r_.range(1, 4), sid, Kind::Incomplete);
        } else {
          free_session(sid, true);
        }
        return;
      }
      if (band(0.004)) s.reject = Reject::TooManyClients;
      else if (band(0.008)) s.reject = Reject::AuthFailed;
      else if (band(0.003)) s.reject = Reject::NoHbaEntry;
      else if (band(0.001)) s.reject = Reject::HbaReject;
      else if (band(0.0005)) s.reject = Reject::AuthTimeout;
      else if (band(0.004)) s.reject = Reject::NoDatabase;
      else if (band(0.003)) s.reject = Reject::RoleLimit;
      else if (band(0.003)) s.reject = Reject::ReservedSlots;
      else if (band(0.002)) s.reject = Reject::DbLimit;
      else if (band(0.001)) s.reject = Reject::NoRole;
      else if (band(0.001)) s.reject = Reject::LoginNotAllowed;
      else if (band(0.001)) s.reject = Reject::OtherPermission;
    }
    switch (s.reject) {
      case Reject::AuthFailed:
        if (r_.chance(0.4)) {
          s.user = r_.chance(0.5) ? "app" : "root";
          s.own_user = false;
        }
        break;
      case Reject::NoHbaEntry:
      case Reject::HbaReject:
        s.user = r_.chance(0.5) ? "postgres" : s.user;
        break;
      case Reject::NoDatabase:
        s.db = r_.chance(0.5) ? "prod" : "production_old";
        break;
      case Reject::RoleLimit:
        s.user = "reporting";
        s.db = "analytics";
        break;
      case Reject::NoRole:
      case Reject::LoginNotAllowed:
        s.user = s.reject == Reject::NoRole ? "deploy" : "app_owner";
        break;
      case Reject::OtherPermission:
        s.db = "payroll";
        break;
      default:
        break;
    }
    if (s.reject == Reject::AuthTimeout) {
      push(now_ + 60000 + r_.range(0, 5), sid, Kind::PreFatal);
    } else if (s.reject != Reject::None && !is_post_auth(s.reject)) {
      push(now_ + r_.range(2, 40), sid, Kind::PreFatal);
    } else if (p->auth != Auth::Trust && !s.repl) {
      push(now_ + r_.range(2, 12), sid, Kind::Authenticated);
    } else {
      push(now_ + r_.range(2, 12), sid, Kind::Authorized);
    }
  }

  void authenticated(uint32_t sid) {
    Session& s = sessions_[sid];
    ++conn_lines_;
    if (s.prof->auth == Auth::Peer) {
      w_.line(now_, s.pid, Who::Named, &s, "LOG",
              "connection authenticated: identity=\"{}\" method=peer (/etc/postgresql/15/main/pg_hba.conf:118)",
              s.user);
    } else {
      w_.line(now_, s.pid, Who::Named, &s, "LOG",
              "connection authenticated: identity=\"{}\" method=scram-sha-256 (/etc/postgresql/15/main/pg_hba.conf:{})",
              s.user, s.host[0] == '1' && s.host[1] == '0' ? 124 : 127);
    }
    push(now_ + r_.range(0, 2), sid, Kind::Authorized);
  }

  void authorized(uint32_t sid) {
    Session& s = sessions_[sid];
    s.auth_ms = now_;
    ++conn_lines_;
    w_.prefix(now_, s.pid, Who::Named, &s);
    if (s.repl) {
      fmt::format_to(w_.out(), "LOG:  replication connection authorized: user={}", s.user);
    } else {
      fmt::format_to(w_.out(), "LOG:  connection authorized: user={} database={}", s.user, s.db);
    }
    if (*s.app) {
      w_.put(" application_name=");
      w_.put(s.app);
    }
    if (s.ssl) w_.put(" SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)");
    w_.end();
    if (is_post_auth(s.reject)) {
      // Checked after "connection authorized": a FATAL on the same pid within
      // milliseconds, and no disconnection line.
      push(now_ + r_.range(0, 4), sid, Kind::PostFatal);
      return;
    }
    s.state = State::Open;
    opened(s);
    if (s.repl) return;  // streams until the end of the log
    open_add(sid);
    if (!s.leak) {
      const int64_t life = int64_t(1000 * r_.loguni(s.prof->life_min_s, s.prof->life_max_s));
      push(now_ + std::max<int64_t>(life, 5), sid, Kind::End);
    }
  }

  void pre_fatal(uint32_t sid) {
    Session& s = sessions_[sid];
    ++conn_lines_;
    ++reject_count_[int(s.reject)];
    switch (s.reject) {
      case Reject::TooManyClients:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL", "sorry, too many clients already");
        break;
      case Reject::AuthFailed:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL", "password authentication failed for user \"{}\"", s.user);
        if (s.own_user) {
          w_.line(now_, s.pid, Who::Named, &s, "DETAIL",
                  "Connection matched pg_hba.conf line 124: \"host all all 10.0.0.0/8 scram-sha-256\"");
        } else {
          w_.line(now_, s.pid, Who::Named, &s, "DETAIL", "Role \"{}\" does not exist.", s.user);
          w_.cont("Connection matched pg_hba.conf line 124: \"host all all 10.0.0.0/8 scram-sha-256\"");
        }
        break;
      case Reject::NoHbaEntry:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL",
                "no pg_hba.conf entry for host \"{}\", user \"{}\", database \"{}\", {}", s.host,
                s.user, s.db, s.ssl ? "SSL encryption" : "no encryption");
        break;
      case Reject::HbaReject:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL",
                "pg_hba.conf rejects connection for host \"{}\", user \"{}\", database \"{}\", {}",
                s.host, s.user, s.db, s.ssl ? "SSL encryption" : "no encryption");
        break;
      case Reject::AuthTimeout:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL", "canceling authentication due to timeout");
        break;
      default:
        break;
    }
    free_session(sid, true);
  }

  void post_fatal(uint32_t sid) {
    Session& s = sessions_[sid];
    ++conn_lines_;
    ++reject_count_[int(s.reject)];
    switch (s.reject) {
      case Reject::NoDatabase:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL", "database \"{}\" does not exist", s.db);
        break;
      case Reject::RoleLimit:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL", "too many connections for role \"{}\"", s.user);
        break;
      case Reject::ReservedSlots:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL",
                "remaining connection slots are reserved for non-replication superuser connections");
        break;
      case Reject::DbLimit:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL", "too many connections for database \"{}\"", s.db);
        break;
      case Reject::NoRole:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL", "role \"{}\" does not exist", s.user);
        break;
      case Reject::LoginNotAllowed:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL", "role \"{}\" is not permitted to log in", s.user);
        break;
      case Reject::OtherPermission:
        w_.line(now_, s.pid, Who::Named, &s, "FATAL", "permission denied for database \"{}\"", s.db);
        w_.line(now_, s.pid, Who::Named, &s, "DETAIL", "User does not have CONNECT privilege.");
        break;
      default:
        break;
    }
    free_session(sid, true);
  }

  void incomplete(uint32_t sid) {
    Session& s = sessions_[sid];
    w_.line(now_, s.pid, Who::Unknown, &s, "LOG", "incomplete startup packet");
    free_session(sid, true);
  }

  // A session's natural end: a plain disconnection, or a FATAL/LOG first.
  void end(uint32_t sid) {
    Session& s = sessions_[sid];
    if (s.statements < s.prof->min_statements) {
      statement(s);
      push(now_ + r_.range(1, 30), sid, Kind::End);
      return;
    }
    const double u = r_.unit();
    EndReason why = EndReason::Normal;
    if (s.statements > 0) {
      if (u < 0.010) why = EndReason::Terminated;
      else if (u < 0.015) why = EndReason::IdleInTxTimeout;
      else if (u < 0.020) why = EndReason::IdleTimeout;
      else if (u < 0.030) why = EndReason::ClientLost;
    }
    s.end = why;
    if (why == EndReason::Normal) {
      disconnect(sid);
      return;
    }
    switch (why) {
      case EndReason::Terminated:
        w_.line(now_, s.pid, Who::Session, &s, "FATAL", "terminating connection due to administrator command");
        break;
      case EndReason::IdleInTxTimeout:
        w_.line(now_, s.pid, Who::Session, &s, "FATAL", "terminating connection due to idle-in-transaction timeout");
        break;
      case EndReason::IdleTimeout:
        w_.line(now_, s.pid, Who::Session, &s, "FATAL", "terminating connection due to idle-session timeout");
        break;
      default:
        w_.line(now_, s.pid, Who::Session, &s, "LOG", "could not receive data from client: Connection reset by peer");
        break;
    }
    open_remove(sid);
    s.state = State::Ending;
    push(now_ + r_.range(0, 3), sid, Kind::Disconnect);
  }

  void disconnect(uint32_t sid) {
    Session& s = sessions_[sid];
    const int64_t t = now_ - s.start_ms;
    ++conn_lines_;
    w_.prefix(now_, s.pid, Who::Session, &s);
    fmt::format_to(w_.out(),
                   "LOG:  disconnection: session time: {}:{:02d}:{:02d}.{:03d} user={} database={} host={}",
                   t / 3600000, int(t / 60000 % 60), int(t / 1000 % 60), int(t % 1000), s.user, s.db, s.host);
    if (s.port) fmt::format_to(w_.out(), " port={}", s.port);
    w_.end();
    if (s.state == State::Open) open_remove(sid);
    closed(s, s.end);
    free_session(sid, true);
  }

  // ---- statements

  void activity() {
    // Busy apps are picked more often: rejection sampling on the weight.
    uint32_t sid = 0;
    for (int tries = 0; tries < 8; ++tries) {
      sid = open_[r_.below(uint32_t(open_.size()))];
      if (int(r_.below(10)) < sessions_[sid].prof->activity) break;
    }
    statement(sessions_[sid]);
  }

  void statement(Session& s) {
    ++s.statements;
    const int pid = s.pid;
    const uint32_t u = r_.below(1000);
    auto head = [&](std::string_view sev) {
      w_.prefix(now_, pid, Who::Session, &s);
      w_.put(sev);
      w_.put(":  ");
    };
    if (s.prof == &kProfiles[kExporter]) {
      // The exporter's own queries; some mention connections (grep counts them).
      static const char* const kMonitoring[] = {
          "SELECT count(*) AS connections, state FROM pg_stat_activity GROUP BY state",
          "SELECT setting::int AS max_connections FROM pg_settings WHERE name = 'max_connections'",
          "SELECT datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit FROM pg_stat_database",
          "SELECT client_addr, state, sent_lsn, write_lsn, flush_lsn, replay_lsn FROM pg_stat_replication",
          "SELECT pg_database_size(datname) FROM pg_database WHERE datallowconn",
      };
      head("LOG");
      duration(w_, r_);
      w_.put("statement: ");
      w_.put(r_.pick(kMonitoring));
      w_.end();
      return;
    }
    if (u < 560) {  // log_min_duration_statement = 0
      head("LOG");
      duration(w_, r_);
      w_.put("statement: ");
      simple_sql(w_, r_);
      w_.end();
    } else if (u < 740) {  // log_statement = 'all'
      head("LOG");
      w_.put("statement: ");
      simple_sql(w_, r_);
      w_.end();
    } else if (u < 820) {  // a multi-line statement
      head("LOG");
      if (r_.chance(0.5)) duration(w_, r_);
      w_.put("statement: ");
      const int which = multi_head(w_, r_);
      w_.end();
      multi_cont(w_, r_, which);
    } else if (u < 900) {  // extended protocol with parameters
      head("LOG");
      duration(w_, r_);
      fmt::format_to(w_.out(), "execute <unnamed>: SELECT * FROM {} WHERE id = $1 AND tenant_id = $2",
                     r_.pick(kTables));
      w_.end();
      w_.line(now_, pid, Who::Session, &s, "DETAIL", "parameters: $1 = '{}', $2 = '{}'", r_.range(1, 999999),
              r_.range(1, 40));
    } else if (u < 940) {
      error(s);
    } else if (u < 955) {  // lock wait
      const int other = 20000 + int(r_.below(79000));
      w_.line(now_, pid, Who::Session, &s, "LOG",
              "process {} still waiting for ShareLock on transaction {} after 1000.{:03d} ms", pid,
              r_.range(700000, 900000), int(r_.range(0, 999)));
      w_.line(now_, pid, Who::Session, &s, "DETAIL", "Process holding the lock: {}. Wait queue: {}.", other, pid);
      w_.line(now_, pid, Who::Session, &s, "CONTEXT", "while updating tuple ({},{}) in relation \"accounts\"",
              r_.range(0, 9000), r_.range(1, 80));
      w_.line(now_, pid, Who::Session, &s, "STATEMENT",
              "UPDATE accounts SET balance = balance + 10 WHERE id = {}", r_.range(1, 100000));
    } else if (u < 970) {  // temporary file
      w_.line(now_, pid, Who::Session, &s, "LOG", "temporary file: path \"base/pgsql_tmp/pgsql_tmp{}.{}\", size {}",
              pid, r_.range(0, 9), r_.range(1000000, 900000000));
      w_.line(now_, pid, Who::Session, &s, "STATEMENT",
              "SELECT * FROM orders ORDER BY created_at DESC, total DESC");
    } else if (u < 980) {  // an application's own audit text, which looks like ours
      head("LOG");
      duration(w_, r_);
      fmt::format_to(w_.out(),
                     "statement: INSERT INTO audit_log (message) VALUES ('connection received: host=10.9.{}.{} port={}')",
                     r_.range(0, 255), r_.range(1, 254), r_.range(1024, 65535));
      w_.end();
    } else {
      w_.line(now_, pid, Who::Session, &s, "WARNING", "there is no transaction in progress");
    }
  }

  void error(Session& s) {
    const int pid = s.pid;
    switch (r_.below(8)) {
      case 0: {
        const int64_t id = r_.range(1, 9999999);
        w_.line(now_, pid, Who::Session, &s, "ERROR", "duplicate key value violates unique constraint \"orders_pkey\"");
        w_.line(now_, pid, Who::Session, &s, "DETAIL", "Key (id)=({}) already exists.", id);
        w_.line(now_, pid, Who::Session, &s, "STATEMENT",
                "INSERT INTO orders (id, customer_id, status) VALUES ({}, {}, 'pending')", id, r_.range(1, 99999));
        break;
      }
      case 1:
        w_.line(now_, pid, Who::Session, &s, "ERROR", "relation \"order_archive\" does not exist at character 15");
        w_.line(now_, pid, Who::Session, &s, "STATEMENT", "SELECT * FROM order_archive WHERE id = {}", r_.range(1, 99999));
        break;
      case 2:
        w_.line(now_, pid, Who::Session, &s, "ERROR", "canceling statement due to statement timeout");
        w_.prefix(now_, pid, Who::Session, &s);
        w_.put("STATEMENT:  ");
        {
          const int which = multi_head(w_, r_);
          w_.end();
          multi_cont(w_, r_, which);
        }
        break;
      case 3:
        w_.line(now_, pid, Who::Session, &s, "ERROR", "column \"nme\" does not exist at character 8");
        w_.line(now_, pid, Who::Session, &s, "HINT", "Perhaps you meant to reference the column \"customers.name\".");
        w_.line(now_, pid, Who::Session, &s, "STATEMENT", "SELECT nme FROM customers WHERE id = {}", r_.range(1, 500000));
        break;
      case 4: {
        const int other = 20000 + int(r_.below(79000));
        const int64_t tx = r_.range(700000, 900000);
        w_.line(now_, pid, Who::Session, &s, "ERROR", "deadlock detected");
        w_.line(now_, pid, Who::Session, &s, "DETAIL",
                "Process {} waits for ShareLock on transaction {}; blocked by process {}.", pid, tx, other);
        w_.cont("Process {} waits for ShareLock on transaction {}; blocked by process {}.", other, tx + 1, pid);
        w_.cont("Process {}: UPDATE accounts SET balance = balance - 10 WHERE id = 1", pid);
        w_.cont("Process {}: UPDATE accounts SET balance = balance + 10 WHERE id = 2", other);
        w_.line(now_, pid, Who::Session, &s, "HINT", "See server log for query details.");
        w_.line(now_, pid, Who::Session, &s, "CONTEXT", "while updating tuple (0,{}) in relation \"accounts\"", r_.range(1, 90));
        w_.line(now_, pid, Who::Session, &s, "STATEMENT", "UPDATE accounts SET balance = balance - 10 WHERE id = 1");
        break;
      }
      case 5:
        w_.line(now_, pid, Who::Session, &s, "ERROR", "current transaction is aborted, commands ignored until end of transaction block");
        w_.line(now_, pid, Who::Session, &s, "STATEMENT", "SELECT 1");
        break;
      case 6:
        w_.line(now_, pid, Who::Session, &s, "ERROR", "syntax error at or near \"FORM\" at character 10");
        w_.line(now_, pid, Who::Session, &s, "STATEMENT", "SELECT * FORM orders LIMIT {}", r_.range(1, 100));
        break;
      default:
        w_.line(now_, pid, Who::Session, &s, "ERROR", "permission denied for table payroll");
        w_.line(now_, pid, Who::Session, &s, "STATEMENT", "SELECT * FROM payroll");
        break;
    }
  }

  // ---- dispatch

  // Runs a scheduled item; false when it was stale (its session moved on).
  bool do_item(const Item& it) {
    if (it.sid != kNoSession) {
      const Session& s = sessions_[it.sid];
      if (s.gen != it.gen || s.state == State::Free) return false;
    }
    switch (it.kind) {
      case Kind::Authenticated: authenticated(it.sid); break;
      case Kind::Authorized: authorized(it.sid); break;
      case Kind::PreFatal: pre_fatal(it.sid); break;
      case Kind::PostFatal: post_fatal(it.sid); break;
      case Kind::Incomplete: incomplete(it.sid); break;
      case Kind::End: end(it.sid); break;
      case Kind::Disconnect: disconnect(it.sid); break;
      case Kind::LeakArrival:
        push(now_ + r_.range(15000, 45000), kNoSession, Kind::LeakArrival);
        if (leak_opened_ >= kLeakCap) return false;
        ++leak_opened_;
        new_connection(&kLeakProfile);
        break;
      case Kind::CheckpointStart: checkpoint_start(); break;
      case Kind::CheckpointDone: checkpoint_done(); break;
      case Kind::Autovacuum: autovacuum(); break;
      case Kind::Replication: new_connection(&kReplProfile); break;
    }
    return true;
  }

  Rng r_;
  Writer w_;
  uint64_t target_;
  double new_conn_;
  bool stopping_ = false;
  int64_t now_ = 0;
  uint64_t seq_ = 0;
  int64_t pending_setup_ = 0;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap_;
  std::vector<Session> sessions_;
  std::vector<uint32_t> free_sessions_;
  std::vector<int> free_pids_;
  std::unordered_map<int, int64_t> started_sec_;  // pid -> second its last backend started
  std::vector<uint32_t> open_;  // sessions that may log statements
  std::vector<double> cum_;
  std::unordered_map<const HostPool*, std::vector<std::string>> fleet_;
  std::unordered_set<std::string> names_;  // node-based: c_str() stays valid
  std::unordered_set<std::string> users_, dbs_, apps_, hosts_, combinations_;  // truth

  // truth
  uint64_t conn_lines_ = 0, received_ = 0, health_ = 0, connects_ = 0;
  uint64_t reject_count_[int(Reject::Count)] = {};
  uint64_t end_count_[int(EndReason::Count)] = {};
  int64_t open_count_ = 0, peak_ = 0, peak_ms_ = 0;
  int leak_opened_ = 0, leak_open_ = 0, repl_connects_ = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "gen-log: %s\nusage: gen-log [--lines N] [--seed S] "
               "[--prefix=default|debian|pgbadger|lnum] [--format=stderr|csvlog|jsonlog] [--truth FILE] [--new-conn P]\n",
               why);
  std::exit(2);
}

uint64_t number(const char* opt, const char* v) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (!*v || *end || errno || v[0] == '-') usage(fmt::format("bad value for {}: {}", opt, v).c_str());
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t lines = 1000000, seed = 1;
  double new_conn = kNewConnChance;
  std::string prefix_name = "default", format_name = "stderr", truth;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string opt(a), val;
    bool has_val = false;
    if (auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
      opt = std::string(a.substr(0, eq));
      val = std::string(a.substr(eq + 1));
      has_val = true;
    }
    auto value = [&]() -> std::string {
      if (has_val) return val;
      if (i + 1 >= argc) usage(fmt::format("{} needs a value", opt).c_str());
      return argv[++i];
    };
    if (opt == "--lines") lines = number("--lines", value().c_str());
    else if (opt == "--seed") seed = number("--seed", value().c_str());
    else if (opt == "--prefix") prefix_name = value();
    else if (opt == "--format") format_name = value();
    else if (opt == "--truth") truth = value();
    else if (opt == "--new-conn") {
      const std::string v = value();
      char* end = nullptr;
      new_conn = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(new_conn > 0 && new_conn <= 1))
        usage(fmt::format("bad value for --new-conn: {} (a chance in (0, 1])", v).c_str());
    }
    else if (opt == "-h" || opt == "--help") {
      std::printf("usage: gen-log [--lines N] [--seed S] [--prefix=default|debian|pgbadger|lnum] [--format=stderr|csvlog|jsonlog] [--truth FILE] [--new-conn P]\n");
      return 0;
    } else {
      usage(fmt::format("unknown option {}", a).c_str());
    }
  }
  Prefix prefix;
  if (prefix_name == "default") prefix = Prefix::Default;
  else if (prefix_name == "debian") prefix = Prefix::Debian;
  else if (prefix_name == "pgbadger") prefix = Prefix::Pgbadger;
  else if (prefix_name == "lnum") prefix = Prefix::Lnum;
  else usage(fmt::format("unknown prefix {} (default, debian, pgbadger, lnum)", prefix_name).c_str());

  static char outbuf[1 << 16];
  std::setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  Format format;
  if (format_name == "stderr") format = Format::Stderr;
  else if (format_name == "csvlog") format = Format::Csvlog;
  else if (format_name == "jsonlog") format = Format::Jsonlog;
  else usage(fmt::format("unknown format {} (stderr, csvlog, jsonlog)", format_name).c_str());
  Generator g(seed, lines, prefix, new_conn, format);
  g.run();
  if (std::fflush(stdout) != 0) return 1;
  if (!truth.empty()) {
    FILE* f = std::fopen(truth.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "gen-log: %s: %s\n", truth.c_str(), std::strerror(errno));
      return 1;
    }
    g.write_truth(f, seed, prefix_name.c_str());
    if (std::fclose(f) != 0) return 1;
  }
  return 0;
}
