// PgbouncerAhead reads every line of a block as parse_pgbouncer_line()
// does, with the line's place in the block and its message classified.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "pgbouncer_ahead.hpp"

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
  std::vector<PooledLine> out(12);  // more than needed: cut to the lines
  ahead.read(block, &out);
  REQUIRE(out.size() == 7);
  size_t pos = 0;
  for (const PooledLine& l : out) {
    INFO(pos);
    CHECK(l.begin == pos);
    const size_t nl = block.find('\n', pos);
    const size_t end = nl == std::string::npos ? block.size() : nl;
    CHECK(l.end == end);
    std::string_view text = std::string_view(block).substr(pos, end - pos);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    LogRecord want;
    const bool parsed = parse_pgbouncer_line(text, &want);
    CHECK(l.parsed == parsed);
    if (parsed) {
      CHECK(l.record.time.wall_ms == want.time.wall_ms);
      CHECK(l.record.pid == want.pid);
      CHECK(l.record.severity == want.severity);
      CHECK(l.record.socket == want.socket);
      CHECK(l.record.db == want.db);
      CHECK(l.record.user == want.user);
      CHECK(l.record.host == want.host);
      CHECK(l.record.port == want.port);
      CHECK(l.record.message == want.message);
      const BouncerMessage m = classify_pgbouncer(want.severity, want.socket, want.message);
      CHECK(l.message.kind == m.kind);
      CHECK(l.message.reason == m.reason);
    }
    pos = end + 1;
  }
  CHECK_FALSE(out[2].parsed);  // a continuation line
  CHECK_FALSE(out[3].parsed);  // an empty line
  CHECK(out[5].record.message == "stats: 0 xacts/s\r");  // one '\r' left out, as LogParser::line
  CHECK(out[6].record.port == 40022);  // the last line, without '\n'
  CHECK(out[1].message.kind == BouncerKind::kClose);
}
