// PgbouncerAhead reads every line of a block as parse_pgbouncer_line()
// does, with the line's place in the block and its message classified.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "pipeline/pgbouncer_ahead.hpp"

using namespace pgconn;

TEST_CASE("PgbouncerAhead reads every line of a block as parse_pgbouncer_line", "[pgbouncer_ahead]") {
  const std::string block =
      "2026-12-04 04:10:00.456 UTC [6505] LOG C-0x55d8f18f9e30: appdb/app@127.0.0.1:60544 "
      "login attempt: db=appdb user=app tls=no\r\n"
      "2026-12-04 04:10:00.457 UTC [6505] LOG C-0x55d8f18f9e30: appdb/app@127.0.0.1:60544 "
      "closing because: client close request (age=0s)\n"
      "\tnot a line of its own\n"
      "\n"
      "2026-12-04 04:11:01.001 UTC [6505] WARNING C-0x55d8f18f9e31: appdb/app@[::1]:6000 "
      "pooler error: no more connections allowed (max_client_conn)\n"
      "2026-12-04 04:11:01.002 UTC [6505] LOG stats: 0 xacts/s\r\r\n"
      "2026-12-04 04:11:01.003 6505 LOG C-0x55d8f18f9e32: db/u@10.0.0.5:40022 "
      "closing because: client unexpected eof (age=3)";
  PgbouncerAhead ahead;
  PooledLines out;
  out.lines.resize(12);   // what an earlier block left: replaced
  out.records.resize(9);
  ahead.read(block, &out);
  REQUIRE(out.lines.size() == 7);
  CHECK(out.records.size() == 5);  // the PgBouncer lines
  size_t pos = 0;
  int32_t next_record = 0;
  for (const PooledLine& l : out.lines) {
    INFO(pos);
    CHECK(l.begin == pos);
    const size_t nl = block.find('\n', pos);
    const size_t end = nl == std::string::npos ? block.size() : nl;
    CHECK(l.end == end);
    std::string_view text = std::string_view(block).substr(pos, end - pos);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    LogRecord want;
    const bool parsed = parse_pgbouncer_line(text, &want);
    CHECK((l.record >= 0) == parsed);
    if (parsed) {
      REQUIRE(l.record == next_record++);  // in line order
      const PooledRecord& p = out.records[l.record];
      CHECK(p.record.time.wall_ms == want.time.wall_ms);
      CHECK(p.record.pid == want.pid);
      CHECK(p.record.severity == want.severity);
      CHECK(p.record.socket == want.socket);
      CHECK(p.record.db == want.db);
      CHECK(p.record.user == want.user);
      CHECK(p.record.host == want.host);
      CHECK(p.record.port == want.port);
      CHECK(p.record.message == want.message);
      const BouncerMessage m = classify_pgbouncer(want.severity, want.socket, want.message);
      CHECK(p.message.kind == m.kind);
      CHECK(p.message.reason == m.reason);
    }
    pos = end + 1;
  }
  CHECK(out.lines[2].record == -1);  // a continuation line
  CHECK(out.lines[3].record == -1);  // an empty line
  // One '\r' left out, as LogParser::line.
  CHECK(out.records[out.lines[5].record].record.message == "stats: 0 xacts/s\r");
  CHECK(out.records[out.lines[6].record].record.port == 40022);  // the last line, without '\n'
  CHECK(out.records[out.lines[1].record].message.kind == BouncerKind::kClose);
}
