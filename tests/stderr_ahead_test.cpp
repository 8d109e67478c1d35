// StderrAhead reads candidate lines as StderrFormat::parse() does with the
// same prefix first.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>

#include "pipeline/stderr_ahead.hpp"
#include "formats/stderr_format.hpp"

using namespace pgconn;

TEST_CASE("StderrAhead reads each candidate as the prefix in use reads it", "[stderr_ahead]") {
  const std::string block =
      "2024-03-01 10:00:00.100 UTC [812] app@shop LOG:  connection received: host=[local]\r\n"
      "2024-03-01 10:00:00.101 UTC [812] app@shop LOG:  statement: SELECT 1\n"
      "\tconnection in a statement's second line\n"
      "2024-03-01 10:00:00.102 UTC [812] app@shop FATAL:  role \"x\" does not exist\n"
      "not a prefix at all: connection\n"
      "2024-03-01 10:00:00.103 UTC [812] app@shop DETAIL:  connection detail\n"
      "2024-03-01 10:00:00.104 UTC [813] LOG:  disconnection: session time: 0:00:01.000 "
      "user=app database=shop host=[local]";
  BlockScan scan;
  scan_block(block, &scan);
  REQUIRE(scan.candidates.size() == 6);
  StderrAhead ahead;
  LinesAhead out;
  ahead.read("", block, scan, &out);
  CHECK(out.prefix.empty());
  ahead.read("%m [%p] %q%u@%d ", block, scan, &out);
  CHECK(out.prefix == "%m [%p] %q%u@%d ");
  REQUIRE(out.lines.size() == scan.candidates.size());
  auto fixed = PrefixMatcher::compile("%m [%p] %q%u@%d ");
  REQUIRE(fixed.ok());
  StderrFormat format(std::move(*fixed));
  for (size_t i = 0; i < scan.candidates.size(); ++i) {
    const Candidate& c = scan.candidates[i];
    std::string_view text = std::string_view(block).substr(c.begin, c.end - c.begin);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    INFO(text);
    LogRecord want;
    bool report = format.parse(text, &want);
    const LineAhead& got = out.lines[i];
    bool matched = !text.empty() && text[0] != '\t' && want.pid >= 0;
    CHECK(got.matched == matched);
    if (!got.matched) continue;
    CHECK(is_report_severity(got.record.severity) == report);
    CHECK(got.record.pid == want.pid);
    CHECK(got.record.user == want.user);
    CHECK(got.record.db == want.db);
    CHECK(got.record.severity == want.severity);
    CHECK(got.record.message == want.message);
    CHECK(got.record.time.sort_ms() == want.time.sort_ms());
    Message m = classify_message(want.severity, want.message);
    CHECK(got.message.kind == m.kind);
    CHECK(got.message.user == m.user);
  }
  CHECK(out.lines[0].message.kind == MsgKind::kReceived);
  CHECK(out.lines[0].record.message.back() != '\r');
  CHECK_FALSE(out.lines[1].matched);  // the '\t' line
  CHECK(out.lines[5].record.user.empty());  // %q: a line without user@db
  // A prefix that changes: compiled anew.
  ahead.read("%m [%p] ", block, scan, &out);
  CHECK(out.prefix == "%m [%p] ");
  CHECK(out.lines[0].record.user.empty());
}

TEST_CASE("StderrAhead stops reading once hurried, keeping the lines read", "[stderr_ahead]") {
  std::string block;
  for (int i = 0; i < 10; ++i)
    block += "2024-03-01 10:00:00.100 UTC [" + std::to_string(800 + i) +
             "] LOG:  connection received: host=[local]\n";
  BlockScan scan;
  scan_block(block, &scan);
  REQUIRE(scan.candidates.size() == 10);
  StderrAhead ahead;
  LinesAhead out;
  std::atomic<bool> hurry{false};
  ahead.read("%m [%p] ", block, scan, &out, &hurry);
  REQUIRE(out.lines.size() == 10);
  CHECK(out.lines[9].record.pid == 809);
  hurry = true;
  ahead.read("%m [%p] ", block, scan, &out, &hurry);
  CHECK(out.prefix == "%m [%p] ");  // read with it: none, so far
  CHECK(out.lines.empty());
}
