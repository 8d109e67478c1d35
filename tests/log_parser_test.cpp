// LogParser: formats picked per input and per record, and the %a scan
// (issue 13). Whole logs are fed as in-memory blocks; a fake sink keeps
// the events.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "pipeline/log_parser.hpp"

using namespace pgconn;

namespace {

struct Sink : EventSink {
  std::vector<Event> events;
  bool on_event(const Event& e) override {
    events.push_back(e);
    return true;
  }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const Event& e : events) out.emplace_back(event_type_name(e.type));
    return out;
  }
};

struct Warnings : Reporter {
  std::vector<std::string> seen;
  void on_malformed(uint64_t line_no, std::string_view what) override {
    seen.push_back(std::to_string(line_no) + ": " + std::string(what));
  }
};

struct Run {
  Sink sink;
  Warnings warnings;
  Tracker tracker{&sink, TrackerOptions()};
  std::unique_ptr<LogParser> parser;
  explicit Run(ParserOptions o = {}) {
    auto p = LogParser::create(o, &tracker, &warnings);
    REQUIRE(p.ok());
    parser = std::move(*p);
  }
  // One input, fed in blocks of `block` bytes cut at line ends.
  void input(const std::string& text, size_t block = 1 << 20) {
    parser->begin_input();
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = std::min(text.size(), pos + block);
      if (end < text.size()) {  // whole lines, as LineReader hands them on
        size_t nl = text.rfind('\n', end - 1);
        end = nl != std::string::npos && nl >= pos ? nl + 1 : text.find('\n', end) + 1;
      }
      REQUIRE(parser->feed(std::string_view(text).substr(pos, end - pos)));
      pos = end;
    }
    REQUIRE(parser->end_input());
    REQUIRE(parser->idle());
  }
};

const char* const kBadgerSession =
    "2024-12-05 13:00:00 UTC [500]: user=,db=,app=,client= LOG:  database system is ready to accept connections\n"
    "2024-12-05 13:00:01 UTC [13010]: user=[unknown],db=[unknown],app=[unknown],client=10.16.0.5 LOG:  connection received: host=10.16.0.5 port=53000\n"
    "2024-12-05 13:00:01 UTC [13010]: user=app,db=shop,app=[unknown],client=10.16.0.5 LOG:  connection authorized: user=app database=shop application_name=psql\n"
    "2024-12-05 13:00:02 UTC [13010]: user=app,db=shop,app=psql,client=10.16.0.5 LOG:  statement: SET application_name = 'worker-7'\n"
    "2024-12-05 13:00:03 UTC [13010]: user=app,db=shop,app=worker-7,client=10.16.0.5 LOG:  duration: 0.051 ms\n"
    "2024-12-05 13:00:04 UTC [13010]: user=app,db=shop,app=worker-7,client=10.16.0.5 LOG:  statement: SELECT 1\n"
    "\tFROM t\n"
    "2024-12-05 13:00:09 UTC [13010]: user=app,db=shop,app=worker-7,client=10.16.0.5 LOG:  disconnection: session time: 0:00:08.000 user=app database=shop host=10.16.0.5 port=53000\n";

}  // namespace

TEST_CASE("issue_13 LogParser: a statement line with another %a moves the session", "[log_parser]") {
  for (bool given : {false, true}) {
    for (size_t block : {size_t{1} << 20, size_t{64}}) {
      INFO("prefix given " << given << ", block " << block);
      ParserOptions o;
      if (given) {
        o.prefix = "%t [%p]: user=%u,db=%d,app=%a,client=%h ";
        o.has_prefix = true;
      }
      Run run(o);
      run.input(kBadgerSession, block);
      CHECK(run.sink.types() == std::vector<std::string>{"server", "connect", "update", "disconnect"});
      REQUIRE(run.sink.events.size() == 4);
      CHECK(run.sink.events[2].ts == "2024-12-05T13:00:03Z");  // the first line that shows it
      CHECK(run.sink.events[2].app == "worker-7");
      CHECK(run.sink.events[2].session == run.sink.events[1].session);
      CHECK(run.sink.events[3].app == "worker-7");
      CHECK(run.warnings.seen.empty());
    }
  }
}

TEST_CASE("issue_13 PrefixMatcher::probe reads pid and %a as match() does", "[log_parser]") {
  auto m = PrefixMatcher::compile("%t [%p]: user=%u,db=%d,app=%a,client=%h ");
  REQUIRE(m.ok());
  int64_t pid = 0;
  std::string_view app;
  CHECK(m->probe("2024-12-05 13:00:03 UTC [13010]: user=a b,db=shop,app=worker 7,client=10.16.0.5 "
                 "LOG:  duration: 0.051 ms",
                 &pid, &app));
  CHECK(pid == 13010);
  CHECK(app == "worker 7");
  CHECK(m->probe("2024-12-05 13:00:03 UTC [13010]: user=,db=,app=[unknown],client= LOG:  x", &pid, &app));
  CHECK(app.empty());
  CHECK_FALSE(m->probe("\tFROM t", &pid, &app));
  CHECK_FALSE(m->probe("2024-12-05 13:00:03 UTC [x]: user=,db=,app=a,client= LOG:  x", &pid, &app));
  CHECK_FALSE(m->probe("2024-12-05 13:00:03 UTC [1]: user=,db=,app=a,client= nothing", &pid, &app));
  // Prefixes it cannot read without the pattern: no %a, padding, fields
  // with nothing between them.
  CHECK_FALSE(PrefixMatcher::compile("%m [%p] ")->probe("2024-12-05 13:00:03.000 UTC [1] LOG:  x", &pid, &app));
  CHECK_FALSE(PrefixMatcher::compile("%-10a[%p] ")->probe("psql      [1] LOG:  x", &pid, &app));
  CHECK_FALSE(PrefixMatcher::compile("%a%p ")->probe("psql1 LOG:  x", &pid, &app));
}

TEST_CASE("issue_13 LogParser: csvlog and jsonlog records inside a stderr file are read",
          "[log_parser]") {
  // A log_destination switch to csvlog, then to jsonlog, with a reload: the
  // first records of each new destination land in the stderr file.
  const std::string log =
      "2024-11-04 09:00:00.400 UTC [9001] LOG:  database system is ready to accept connections\n"
      "2024-11-04 09:00:01.000 UTC [9010] LOG:  connection received: host=10.0.0.5 port=40000\n"
      "2024-11-04 09:00:01.005 UTC [9010] LOG:  connection authorized: user=app database=shop application_name=psql\n"
      "2024-11-04 09:00:01.100 UTC [9011] LOG:  connection received: host=10.0.0.5 port=40002\n"
      "2024-11-04 09:00:01.105 UTC [9011] LOG:  connection authorized: user=app database=shop application_name=job\n"
      "2024-11-04 09:00:02.000 UTC [9001] LOG:  received SIGHUP, reloading configuration files\n"
      "2024-11-04 09:00:02.000 UTC [9001] LOG:  parameter \"log_destination\" changed to \"csvlog\"\n"
      "2024-11-04 09:00:03.000 UTC,\"app\",\"shop\",9010,\"10.0.0.5:40000\",67288d11.2332,3,\"idle\","
      "2024-11-04 09:00:01 UTC,,0,LOG,00000,\"disconnection: session time: 0:00:02.000 user=app "
      "database=shop host=10.0.0.5 port=40000\",,,,,,,,,\"psql\",\"client backend\",,0\n"
      "{\"timestamp\":\"2024-11-04 09:00:04.000 UTC\",\"user\":\"app\",\"dbname\":\"shop\",\"pid\":9011,"
      "\"remote_host\":\"10.0.0.5\",\"remote_port\":40002,\"session_id\":\"67288d11.2333\",\"line_num\":3,"
      "\"error_severity\":\"LOG\",\"message\":\"disconnection: session time: 0:00:02.900 user=app "
      "database=shop host=10.0.0.5 port=40002\",\"application_name\":\"job\","
      "\"backend_type\":\"client backend\",\"query_id\":0}\n"
      "2024-11-04 09:00:05.000 UTC [9012] LOG:  connection received: host=[local]\n";
  Run run;
  run.input(log);
  CHECK(run.sink.types() == std::vector<std::string>{"server", "connect", "connect", "disconnect", "disconnect"});
  REQUIRE(run.sink.events.size() == 5);
  CHECK(run.sink.events[3].matched == Flag::kTrue);
  CHECK(run.sink.events[3].duration_ms == 2000);
  CHECK(run.sink.events[4].matched == Flag::kTrue);
  CHECK(run.sink.events[4].app == "job");
  CHECK(run.warnings.seen.empty());
}

TEST_CASE("issue_13 LogParser: stderr lines inside a csvlog input are read", "[log_parser]") {
  const std::string log =
      "2024-11-04 09:00:01.000 UTC,,,9010,\"10.0.0.5:40000\",67288d11.2332,1,\"\",2024-11-04 09:00:01 UTC,,0,"
      "LOG,00000,\"connection received: host=10.0.0.5 port=40000\",,,,,,,,,\"\",\"not initialized\",,0\n"
      "2024-11-04 09:00:01.005 UTC,\"app\",\"shop\",9010,\"10.0.0.5:40000\",67288d11.2332,2,\"authentication\","
      "2024-11-04 09:00:01 UTC,3/1,0,LOG,00000,\"connection authorized: user=app database=shop "
      "application_name=psql\",,,,,,,,,\"\",\"client backend\",,0\n"
      "2024-11-04 09:00:03.000 UTC [9010] LOG:  disconnection: session time: 0:00:02.000 user=app "
      "database=shop host=10.0.0.5 port=40000\n";
  Run run;
  run.input(log);
  CHECK(run.sink.types() == std::vector<std::string>{"connect", "disconnect"});
  REQUIRE(run.sink.events.size() == 2);
  CHECK(run.sink.events[1].matched == Flag::kTrue);
}

TEST_CASE("issue_13 PrefixMatcher::probe agrees with match() or declines", "[log_parser]") {
  struct Case {
    const char* prefix;
    const char* line;
  };
  const Case kCases[] = {
      {"%m [%p] %q%u@%d %a ", "2024-05-01 10:00:00.000 UTC [42] app@shop worker LOG:  statement: SELECT 1"},
      {"%m [%p] %a ", "2024-05-01 10:00:00.000 UTC [42] pgAdmin 4 - DB:postgres LOG:  statement: x"},
      {"%t:%r:%u@%d:[%p]:%a:", "2024-05-01 10:00:00 UTC:10.0.0.5(5432):app@shop:[42]:psql:LOG:  x"},
      {"%t:%r:%u@%d:[%p]:%a:", "2024-05-01 10:00:00 UTC:[local]:app@shop:[42]:[unknown]:LOG:  x"},
      {"%t [%p]: user=%u,db=%d,app=%a,client=%h ",
       "2024-05-01 10:00:00 UTC [42]: user=a,app=b,db=shop,app=x,client=h LOG:  x"},
      {"%t [%p]: user=%u,db=%d,app=%a,client=%h ", "2024-05-01 10:00:00 UTC [42]: user=a LOG:  x"},
  };
  for (const Case& c : kCases) {
    INFO(c.prefix << " | " << c.line);
    auto m = PrefixMatcher::compile(c.prefix);
    REQUIRE(m.ok());
    LogRecord r;
    const bool matched = m->match(c.line, &r);
    int64_t pid = -1;
    std::string_view app;
    if (m->probe(c.line, &pid, &app)) {
      REQUIRE(matched);
      CHECK(pid == r.pid);
      CHECK(app == r.app);
    }
  }
  // The plain cases are read without the pattern.
  int64_t pid = -1;
  std::string_view app;
  CHECK(PrefixMatcher::compile("%m [%p] %q%u@%d %a ")->probe(kCases[0].line, &pid, &app));
  CHECK(app == "worker");
  CHECK(PrefixMatcher::compile("%t:%r:%u@%d:[%p]:%a:")->probe(kCases[2].line, &pid, &app));
  CHECK(app == "psql");
}

namespace {

// How the records of each block are framed ahead in run_blocks().
enum class Framed { kNone, kAsAsked, kStale };

// The events and warnings of `text` fed in blocks of about `block` bytes,
// each with its scan_block() when `scanned` (and its candidates read with
// prefix_ahead() when `read`, as the thread of scan_ahead.hpp does), its
// records framed ahead as records_ahead() asks (kAsAsked) or as it did not
// ask (kStale: the other format, or another column count), or on the
// reference path. `partly`: the reading ahead stops early (StderrAhead's
// `hurry`) in two blocks of three, before the first candidate or halfway.
std::pair<std::vector<std::string>, std::vector<std::string>> run_blocks(
    const std::string& text, size_t block, bool scanned, bool reference, bool read = false,
    Framed framed = Framed::kNone, bool partly = false) {
  ParserOptions o;
  o.reference = reference;
  Run run(o);
  run.parser->begin_input();
  size_t pos = 0;
  BlockScan scan;
  StderrAhead reader;
  LinesAhead lines;
  RecordsAhead records;
  size_t blocks = 0;
  while (pos < text.size()) {
    size_t end = std::min(text.size(), pos + block);
    if (end < text.size()) {
      size_t nl = text.rfind('\n', end - 1);
      end = nl != std::string::npos && nl >= pos ? nl + 1 : text.find('\n', end) + 1;
    }
    std::string_view b = std::string_view(text).substr(pos, end - pos);
    if (scanned) scan_block(b, &scan);
    if (read) {
      // partly: what a hurry set before the first candidate (blocks 0, 3,
      // …) or halfway (blocks 1, 4, …) leaves read.
      const size_t kind = partly ? blocks++ % 3 : 2;
      const std::atomic<bool> hurry{kind == 0};
      reader.read(run.parser->prefix_ahead(), b, scan, &lines, &hurry);
      if (kind == 1) lines.lines.resize(lines.lines.size() / 2);
    }
    size_t columns = 0;
    AheadFormat format = run.parser->records_ahead(&columns);
    if (framed == Framed::kStale) {
      if (format == AheadFormat::kCsv) ++columns;
      if (format == AheadFormat::kJson) format = AheadFormat::kCsv;
    }
    read_records_ahead(format, columns, b, &records);
    REQUIRE(run.parser->feed(b, scanned ? &scan : nullptr, read ? &lines : nullptr,
                             framed == Framed::kNone ? nullptr : &records));
    pos = end;
  }
  REQUIRE(run.parser->end_input());
  REQUIRE(run.parser->idle());
  std::vector<std::string> events;
  for (const Event& e : run.sink.events)
    events.push_back(std::string(event_type_name(e.type)) + " " + std::to_string(e.pid) + " " +
                     e.user + "@" + e.db + " " + e.app);
  run.warnings.seen.push_back("lines " + std::to_string(run.parser->lines()));
  return {events, run.warnings.seen};
}

}  // namespace

TEST_CASE("LogParser::feed with a scan made ahead gives the events and line numbers of the "
          "reference path", "[log_parser]") {
  std::string log;
  for (int i = 0; i < 3000; ++i) {
    std::string pid = std::to_string(1000 + i % 40);
    std::string head = "2024-03-01 10:00:" + std::string(i % 60 < 10 ? "0" : "") +
                       std::to_string(i % 60) + ".123 UTC [" + pid + "] app@shop ";
    switch (i % 6) {
      case 0: log += head + "LOG:  connection received: host=10.0.0.1 port=" + pid + "\n"; break;
      case 1: log += head + "LOG:  connection authorized: user=app database=shop\n"; break;
      case 2: log += head + "LOG:  statement: SELECT 1\n\tFROM t\n"; break;
      case 3: log += head + "LOG:  connection received: host=10.0.0.1 port=x\r\n"; break;  // malformed
      case 4: log += head + "FATAL:  password authentication failed for user \"app\"\n"; break;
      case 5: log += head + "LOG:  disconnection: session time: 0:00:01.000 user=app database=shop "
                            "host=10.0.0.1 port=" + pid + "\n"; break;
    }
  }
  // A line of another prefix among them: the first prefix fails it, the
  // detection moves on (and the lines read ahead with the old one are read
  // again).
  log.insert(log.find('\n', log.size() / 2) + 1,
             "2024-03-01 10:00:30 UTC [77] LOG:  connection received: host=10.0.0.2 port=5\n");
  log += "last line connection received: host=[local]";  // no newline: a warning
  auto want = run_blocks(log, 1 << 20, false, true);
  REQUIRE(want.first.size() > 100);
  for (size_t block : {size_t{64}, size_t{1000}, size_t{4096}, size_t{1} << 20}) {
    INFO(block);
    CHECK(run_blocks(log, block, true, false) == want);
    CHECK(run_blocks(log, block, true, false, true) == want);
    CHECK(run_blocks(log, block, true, false, true, Framed::kNone, true) == want);
    CHECK(run_blocks(log, block, false, false) == want);
  }
}

TEST_CASE("issue_15 LogParser: %l lines read ahead give the events and line numbers of the "
          "reference path", "[log_parser][stderr_ahead]") {
  // log_line_prefix '%m [%p-%l] %q%u@%d ': sessions of 40 pids interleaved,
  // each line numbered in its backend, each pid's backends one after the
  // other (line 1 again); statements (no marker) leave gaps, a refused
  // login has a DETAIL line with a marker (read ahead, it only counts), and
  // some lines have a lifecycle head they do not parse.
  std::string log;
  std::vector<int> next(40, 1);
  auto put = [&](int k, int i, const std::string& rest) {
    const std::string ss = (i / 50 % 60 < 10 ? "0" : "") + std::to_string(i / 50 % 60);
    log += "2024-03-01 10:" + std::string(i / 3000 < 10 ? "0" : "") + std::to_string(i / 3000) +
           ":" + ss + "." + std::to_string(100 + i % 900) + " UTC [" + std::to_string(3000 + k) +
           "-" + std::to_string(next[k]++) + "] " + rest + "\n";
  };
  for (int i = 0; i < 4000; ++i) {
    const int k = i % 40;
    const int cycle = i / 280;
    const bool refused = (k + cycle) % 5 == 0;
    const std::string pid = std::to_string(3000 + k);
    switch (i / 40 % 7) {
      case 0:
        next[k] = 1;  // a new backend on this pid
        put(k, i, "LOG:  connection received: host=10.0.0.1 port=" + pid);
        break;
      case 1:
        if (refused) {
          put(k, i, "app@shop FATAL:  password authentication failed for user \"app\"");
          put(k, i, "app@shop DETAIL:  Connection matched file \"pg_hba.conf\" line 5");
        } else {
          put(k, i, "app@shop LOG:  connection authorized: user=app database=shop");
        }
        break;
      case 2:
        if (!refused) put(k, i, "app@shop LOG:  statement: SELECT 1");
        break;
      case 3:
        if (!refused && k % 7 == 1) put(k, i, "app@shop LOG:  connection authorized: user=app port=x");
        if (!refused && k % 7 != 1) put(k, i, "app@shop LOG:  duration: 0.051 ms");
        break;
      case 4:
        if (!refused) put(k, i, "app@shop LOG:  statement: SELECT 2");
        break;
      case 5:
        if (!refused) put(k, i, "app@shop LOG:  connection ready: setup total=1.5 ms");
        break;
      case 6:
        if (!refused)
          put(k, i, "app@shop LOG:  disconnection: session time: 0:00:01.000 user=app "
                    "database=shop host=10.0.0.1 port=" + pid);
        break;
    }
  }
  // A new backend halfway, its first two lines swapped (a collected log):
  // its `connection authorized` waits for line 1.
  {
    size_t at = log.find('\n', log.size() / 2) + 1;
    const std::string time = log.substr(at, 27);  // "2024-03-01 10:00:24.300 UTC"
    const std::string lines[] = {
        time + " [4000-2] app@shop LOG:  connection authorized: user=late database=shop\n",
        time + " [4000-1] LOG:  connection received: host=10.0.0.9 port=4000\n",
        time + " [4000-3] late@shop LOG:  disconnection: session time: 0:00:00.001 user=late "
               "database=shop host=10.0.0.9 port=4000\n"};
    for (const std::string& l : lines) {
      log.insert(at, l);
      at = log.find('\n', log.find('\n', at + l.size()) + 1) + 1;  // one line between
    }
  }
  auto want = run_blocks(log, 1 << 20, false, true);
  REQUIRE(want.first.size() > 300);
  REQUIRE(std::count(want.first.begin(), want.first.end(), "connect 4000 late@shop ") == 1);
  for (size_t block : {size_t{64}, size_t{1000}, size_t{4096}, size_t{1} << 20}) {
    INFO(block);
    CHECK(run_blocks(log, block, true, false, true) == want);
    CHECK(run_blocks(log, block, true, false, true, Framed::kNone, true) == want);
    CHECK(run_blocks(log, block, true, false) == want);
  }
}

TEST_CASE("LogParser::feed with csvlog and jsonlog records framed ahead gives the events and "
          "line numbers of the reference path", "[log_parser][records_ahead]") {
  // Sessions two at a time, their records interleaved: one renames itself
  // in a record without a marker, and its update must come out before the
  // other's next event. The messages are written with "\\n" and "\\\""
  // for a newline and a quote, which each format then writes its own way
  // (issue 15: raw ones made JSON objects cut across lines, records the
  // reader rejects, whose line numbers the reference path then waited for).
  std::string csv, json;
  int n = 0;
  for (int s = 0; s < 1000; s += 2)
    for (int t = 0; t < 6; ++t)
      for (int k = s; k < s + 2; ++k, ++n) {
    const std::string pid = std::to_string(2000 + k % 40);
    const std::string ss = (n / 100 % 60 < 10 ? "0" : "") + std::to_string(n / 100 % 60);
    const std::string time = "2024-03-01 10:" + std::string(n / 6000 < 10 ? "0" : "") +
                             std::to_string(n / 6000) + ":" + ss + "." +
                             std::to_string(100 + n % 100) + " UTC";
    const std::string app = k % 3 == 0 && t >= 3 ? "job-" + std::to_string(k % 5) : "psql";
    std::string msg;
    switch (t) {
      case 0: msg = "connection received: host=10.0.0.1 port=" + pid; break;
      case 1: msg = "connection authorized: user=app database=shop application_name=psql"; break;
      case 2: msg = "statement: SELECT 1\\nFROM t"; break;
      case 3: msg = "statement: SELECT q\\nFROM \\\"t\\\"\\nWHERE 1"; break;
      case 4: msg = "duration: 0.051 ms"; break;
      case 5:
        msg = "disconnection: session time: 0:00:01.000 user=app database=shop host=10.0.0.1 "
              "port=" + pid;
        break;
    }
    std::string csv_msg, json_msg;
    for (size_t c = 0; c < msg.size(); ++c) {
      if (msg[c] == '\\' && c + 1 < msg.size() && msg[c + 1] == 'n') {
        csv_msg += '\n';
        json_msg += "\\n";
        ++c;
      } else if (msg[c] == '\\' && c + 1 < msg.size() && msg[c + 1] == '"') {
        csv_msg += "\"\"";
        json_msg += "\\\"";
        ++c;
      } else {
        csv_msg += msg[c];
        json_msg += msg[c];
      }
    }
    csv += time + ",\"app\",\"shop\"," + pid + ",\"10.0.0.1:" + pid + "\",65e1a8c0." + std::to_string(k) + "," +
           std::to_string(t + 1) + ",\"idle\",2024-03-01 10:00:00 UTC,3/1,0,LOG,00000,\"" + csv_msg +
           "\",,,,,,,,,\"" + app + "\",\"client backend\",,0\n";
    json += "{\"timestamp\":\"" + time + "\",\"user\":\"app\",\"dbname\":\"shop\",\"pid\":" + pid +
            ",\"remote_host\":\"10.0.0.1\",\"remote_port\":" + pid +
            ",\"session_id\":\"65e1a8c0." + std::to_string(k) + "\",\"line_num\":" + std::to_string(t + 1) +
            ",\"error_severity\":\"LOG\",\"message\":\"" + json_msg + "\",\"application_name\":\"" +
            app + "\",\"backend_type\":\"client backend\",\"query_id\":0}\n";
  }
  // A stderr line with an odd count of '"' among the csvlog records: foreign.
  csv.insert(csv.find('\n', csv.size() / 2) + 1,
             "2024-03-01 10:00:30 UTC [77] LOG:  statement: SELECT 'a\"b'\n");
  // Every JSON object whole, on a line of its own.
  for (size_t at = 0; at < json.size(); at = json.find('\n', at) + 1) {
    REQUIRE(json[at] == '{');
    REQUIRE(json[json.find('\n', at) - 1] == '}');
  }
  // The events are the reference path's, and the records framed ahead,
  // stale or not, change nothing.
  for (const std::string* log : {&csv, &json}) {
    auto reference = run_blocks(*log, 1 << 20, false, true);
    REQUIRE(reference.first.size() > 400);
    CHECK(std::count_if(reference.first.begin(), reference.first.end(), [](const std::string& e) {
            return e.rfind("update", 0) == 0;
          }) > 100);
    for (size_t block : {size_t{64}, size_t{1000}, size_t{4096}, size_t{1} << 20}) {
      INFO(block);
      auto want = run_blocks(*log, block, false, false);
      CHECK(want == reference);
      CHECK(run_blocks(*log, block, false, false, false, Framed::kAsAsked) == want);
      CHECK(run_blocks(*log, block, false, false, false, Framed::kStale) == want);
    }
  }
}

TEST_CASE("LogParser: each line before the format is known is read as by a new stderr reader",
          "[log_parser]") {
  // The DETAIL line is no report: it decides nothing, and that the prefix
  // "%t [%p] %q%u@%d " read it must not drop "%m [%p] %q%u@%d " for the
  // next line. Text of other programs first.
  std::string log;
  for (int i = 0; i < 150; ++i) log += "pg_ctl: some other output " + std::to_string(i) + "\n";
  log += "2024-03-01 10:00:00 UTC [77] DETAIL:  not a report\n"
         "2024-03-01 10:00:00.123 UTC [78] LOG:  connection received: host=10.0.0.1 port=5\n"
         "2024-03-01 10:00:00.124 UTC [78] app@shop LOG:  connection authorized: user=app "
         "database=shop\n";
  Run run;
  run.input(log);
  CHECK(run.parser->describe() == "stderr, log_line_prefix '%m [%p] %q%u@%d '");
  REQUIRE(run.sink.events.size() == 1);
  CHECK(run.sink.events[0].pid == 78);
  CHECK(run.sink.events[0].user == "app");
}
