// latency: how long a line appended to a log file takes to come out of a live
// pipeline (tests/perf/bench.sh, SPEC.md §7 "Watch"). Built by bench.sh:
//   g++ -std=c++20 -O2 tests/perf/latency.cpp -o build/bench/latency
//
//   latency --mode=events|lines --file=FILE|- [--samples=N] [--warmup=N]
//           [--gap-ms=MIN:MAX] [--timeout-ms=N] [--noise-ms=N [--noise-received=K]]
//           [--raw=PREFIX] -- COMMAND
//
// Truncates FILE, starts COMMAND with /bin/sh -c (its own process group,
// stdout into a pipe that this program reads, stdin /dev/null, stderr
// inherited), then, sample by sample, appends to FILE with one write(2) and
// waits for the matching line on the pipe. With --file=- the appends go to
// COMMAND's stdin (a pipe) instead. A sample is the CLOCK_MONOTONIC time from
// just before the write(2) to just after the read(2) that completed the
// matching line. Samples are spaced by a random gap (fixed seed) so each one
// is independent of the last; the first --warmup ones are discarded.
//
//   --mode=events  COMMAND is e.g. tail -F FILE | pgconn-parse | pgconn-watch
//                  --color=never. Per sample: "connection received" +
//                  "connection authorized" (one write; pgconn-parse holds it
//                  until it is settled) waiting for "[+] ... latN ...", then,
//                  after a gap, the session's "disconnection" line (not
//                  held) waiting for "[-] ... latN ...". Kinds: connect,
//                  disconnect. Lines have PostgreSQL's default prefix and
//                  the current time.
//   --mode=lines   COMMAND echoes the file (tail -F FILE): one log line per
//                  sample, waiting for that same line. Kind: line.
//
//   --noise-ms=N   meanwhile a background thread appends a statement line of
//                  another backend every N ms (a busy server's traffic), and
//   --noise-received=K  every Kth of those is a "connection received" of a
//                  new backend that goes no further (a health check).
//
// Prints one line per kind on stdout (milliseconds):
//   KIND n=N lost=L median=X p90=X p99=X max=X mean=X
// percentiles by nearest rank. A sample that did not arrive within
// --timeout-ms (default 1000) is "lost" and counts as the timeout. Unexpected
// output lines are reported on stderr. --raw=PREFIX writes PREFIX.KIND.txt,
// one sample (ms) per line in the order taken. Exit 0 when it ran (whatever
// the numbers), 1 when the command could not be started or its output ended,
// 2 on bad usage.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// The command's process group, ended whenever this program ends.
volatile pid_t g_group = 0;

void end_group() {
  if (g_group > 0) kill(-g_group, SIGTERM);
}

void on_signal(int sig) {
  end_group();
  signal(sig, SIG_DFL);
  raise(sig);
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "latency: %s\nusage: latency --mode=events|lines --file=FILE [--samples=N] "
               "[--warmup=N] [--gap-ms=MIN:MAX] [--timeout-ms=N] [--raw=PREFIX] -- COMMAND\n",
               why.c_str());
  std::exit(2);
}

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "latency: %s\n", why.c_str());
  end_group();
  std::exit(1);
}

int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void sleep_ms(int ms) {
  timespec ts{ms / 1000, long(ms % 1000) * 1000000};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
  }
}

// "2024-03-01 10:00:00.123 UTC": PostgreSQL's %m, now.
std::string log_time() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03ld UTC", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
  return buf;
}

struct Options {
  std::string mode, file, raw, command;
  int samples = 200, warmup = 5, gap_min = 50, gap_max = 100, timeout_ms = 1000;
  int noise_ms = 0, noise_received = 0;
};

class Pipeline {
 public:
  // to_stdin: the command's stdin is a pipe, written through input_fd().
  Pipeline(const std::string& command, bool to_stdin) {
    int fds[2], in[2] = {-1, -1};
    if (pipe2(fds, O_CLOEXEC) != 0 || (to_stdin && pipe2(in, O_CLOEXEC) != 0))
      fail(std::string("pipe: ") + std::strerror(errno));
    pid_ = fork();
    if (pid_ < 0) fail(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
      setpgid(0, 0);
      int null = to_stdin ? in[0] : open("/dev/null", O_RDONLY);
      if (null >= 0) dup2(null, STDIN_FILENO);
      dup2(fds[1], STDOUT_FILENO);
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    setpgid(pid_, pid_);  // also here: no race with kill(-pid_) below
    g_group = pid_;
    close(fds[1]);
    fd_ = fds[0];
    if (to_stdin) {
      close(in[0]);
      in_ = in[1];
    }
  }
  int input_fd() const { return in_; }
  ~Pipeline() { stop(); }

  void stop() {
    if (pid_ <= 0) return;
    if (in_ >= 0) close(in_);
    in_ = -1;
    kill(-pid_, SIGTERM);
    g_group = 0;
    int st;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    close(fd_);
  }

  // Waits until a line containing every needle arrives or the deadline
  // passes. Returns the arrival time (ns) or -1. Other lines are counted.
  int64_t wait_for(const std::vector<std::string>& needles, int64_t deadline) {
    while (true) {
      size_t nl;
      while ((nl = buf_.find('\n')) != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        bool all = true;
        for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
        if (all) return last_read_;
        if (++unexpected_ <= 5) std::fprintf(stderr, "latency: unexpected line: %s\n", line.c_str());
      }
      const int64_t now = mono_ns();
      if (now >= deadline) return -1;
      pollfd p{fd_, POLLIN, 0};
      int r = poll(&p, 1, int((deadline - now + 999999) / 1000000));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) continue;
      char chunk[65536];
      ssize_t n = read(fd_, chunk, sizeof chunk);
      last_read_ = mono_ns();
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("the command's output ended (did it fail? see its stderr)");
      buf_.append(chunk, size_t(n));
    }
  }
  uint64_t unexpected() const { return unexpected_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  int in_ = -1;
  std::string buf_;
  int64_t last_read_ = 0;
  uint64_t unexpected_ = 0;
};

struct Series {
  std::vector<double> ms;  // in the order taken; a lost sample counts as the timeout
  size_t lost = 0;
};

void report(const std::string& kind, const Series& s, const std::string& raw) {
  std::vector<double> v = s.ms;
  const size_t lost = s.lost;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) -> double {  // nearest rank
    if (v.empty()) return NAN;
    size_t k = size_t(std::ceil(p * double(v.size())));
    return v[std::clamp<size_t>(k, 1, v.size()) - 1];
  };
  double sum = 0;
  for (double x : v) sum += x;
  std::printf("%s n=%zu lost=%zu median=%.2f p90=%.2f p99=%.2f max=%.2f mean=%.2f\n", kind.c_str(),
              v.size(), lost, rank(0.5), rank(0.9), rank(0.99), v.empty() ? NAN : v.back(),
              v.empty() ? NAN : sum / double(v.size()));
  if (!raw.empty()) {
    std::string path = raw + "." + kind + ".txt";
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) fail(path + ": " + std::strerror(errno));
    for (double x : s.ms) std::fprintf(f, "%.3f\n", x);
    std::fclose(f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    auto eq = a.find('=');
    if (!a.starts_with("--") || eq == std::string_view::npos) usage("bad argument " + std::string(a));
    std::string key(a.substr(0, eq)), val(a.substr(eq + 1));
    auto num = [&] {
      char* end;
      long n = std::strtol(val.c_str(), &end, 10);
      if (val.empty() || *end || n < 0) usage("bad value for " + key);
      return int(n);
    };
    if (key == "--mode") o.mode = val;
    else if (key == "--file") o.file = val;
    else if (key == "--raw") o.raw = val;
    else if (key == "--samples") o.samples = num();
    else if (key == "--warmup") o.warmup = num();
    else if (key == "--timeout-ms") o.timeout_ms = num();
    else if (key == "--noise-ms") o.noise_ms = num();
    else if (key == "--noise-received") o.noise_received = num();
    else if (key == "--gap-ms") {
      if (std::sscanf(val.c_str(), "%d:%d", &o.gap_min, &o.gap_max) != 2 || o.gap_min < 0 ||
          o.gap_max < o.gap_min)
        usage("bad --gap-ms (MIN:MAX)");
    } else usage("unknown option " + key);
  }
  for (; i < argc; ++i) o.command += (o.command.empty() ? "" : " ") + std::string(argv[i]);
  if (o.mode != "events" && o.mode != "lines") usage("--mode must be events or lines");
  if (o.file.empty() || o.command.empty()) usage("--file and a command are required");
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_signal);

  const bool to_stdin = o.file == "-";
  int log = -1;
  if (!to_stdin) {
    log = open(o.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) fail(o.file + ": " + std::strerror(errno));
  }
  auto append = [&](const std::string& text) {
    const int64_t t0 = mono_ns();
    if (write(log, text.data(), text.size()) != ssize_t(text.size()))
      fail(o.file + ": short write");
    return t0;
  };

  Pipeline pipeline(o.command, to_stdin);
  if (to_stdin) log = pipeline.input_fd();
  sleep_ms(300);  // let tail open the file and set up its watch
  // Background traffic of other backends, as on a busy server: a statement
  // line every --noise-ms, every --noise-received'th of them a "connection
  // received" of a new backend that goes no further (a health check).
  volatile bool noise_stop = false;
  std::thread noise;
  if (o.noise_ms > 0) {
    noise = std::thread([&] {
      for (uint64_t n = 0; !noise_stop; ++n) {
        std::string line;
        if (o.noise_received > 0 && n % uint64_t(o.noise_received) == 0)
          line = log_time() + " [" + std::to_string(60000 + n / uint64_t(o.noise_received) % 30000) +
                 "] [unknown]@[unknown] LOG:  connection received: host=10.0.5.2 port=50000\n";
        else
          line = log_time() +
                 " [19999] app_user@production LOG:  duration: 0.050 ms  statement: SELECT 1\n";
        if (write(log, line.data(), line.size()) != ssize_t(line.size())) break;
        sleep_ms(o.noise_ms);
      }
    });
  }
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> gap(o.gap_min, o.gap_max);
  std::map<std::string, Series> series;
  const int64_t timeout_ns = int64_t(o.timeout_ms) * 1000000;
  auto take = [&](const std::string& kind, bool keep, const std::string& text,
                  const std::vector<std::string>& needles) {
    const int64_t t0 = append(text);
    const int64_t t1 = pipeline.wait_for(needles, t0 + timeout_ns);
    if (keep) {
      Series& s = series[kind];
      if (t1 < 0) ++s.lost;
      s.ms.push_back(double((t1 < 0 ? t0 + timeout_ns : t1) - t0) / 1e6);
    }
    sleep_ms(gap(rng));
  };

  for (int n = 0; n < o.warmup + o.samples; ++n) {
    const bool keep = n >= o.warmup;
    const std::string app = "lat" + std::to_string(n);
    const int pid = 20000 + n % 40000, port = 30000 + n % 30000;
    if (o.mode == "lines") {
      std::string line = log_time() + " [" + std::to_string(pid) +
                         "] LOG:  duration: 0.042 ms  statement: SELECT " + app + " FROM bench";
      take("line", keep, line + "\n", {line});
      continue;
    }
    const std::string p = " [" + std::to_string(pid) + "] ";
    const std::string t = log_time();
    take("connect", keep,
         t + p + "[unknown]@[unknown] LOG:  connection received: host=10.0.1.6 port=" +
             std::to_string(port) + "\n" + t + p +
             "app_user@production LOG:  connection authorized: user=app_user database=production "
             "application_name=" + app + "\n",
         {"[+] ", " " + app + " "});
    take("disconnect", keep,
         log_time() + p +
             "app_user@production LOG:  disconnection: session time: 0:00:00.080 user=app_user "
             "database=production host=10.0.1.6 port=" + std::to_string(port) + "\n",
         {"[-] ", " " + app + " "});
  }
  noise_stop = true;
  if (noise.joinable()) noise.join();
  if (!to_stdin) close(log);
  pipeline.stop();
  if (pipeline.unexpected() > 0)
    std::fprintf(stderr, "latency: %llu unexpected output lines\n",
                 static_cast<unsigned long long>(pipeline.unexpected()));
  for (const auto& [kind, s] : series) report(kind, s, o.raw);
  return 0;
}
