# gen_pgbouncer_log.awk: a realistic PgBouncer 1.18+ log for `make bench`
# (tests/perf/bench.sh): awk -v lines=N -v seed=S -f gen_pgbouncer_log.awk.
# Clients of a busy pooler: about 300 open at a time over 64 application
# hosts, each a `login attempt` ... `closing because` pair on a C-0x pointer
# reused from a free list (as PgBouncer's slab does); 1 in 100 logins is a
# wrong password (ERROR, close, WARNING pooler error), 1 in 200 closes with
# `client unexpected eof`; 1 in 60 logins opens a server connection (S-
# `new connection to server`) and as often an S- connection closes (`server
# lifetime over`, `close_needed`, `server idle timeout`, ...); a `stats:`
# line every 60 s. Times advance 1-3 ms per line. Writes the ground truth
# (connects, rejects, disconnects) to stderr at the end.
#
# The mix follows the real busy poolers of ../shared/corpus/pgbouncer/:
# darold_pgbadger/pgbouncer.1.21.log.gz (100,000 lines: 99.3% client login
# attempts and closes, 0.35% S- new connection, 0.39% S- closing, a stats
# line every 60 s, 145 bytes a line) and darold_pgbadger/pgbouncer.log.gz
# (1.9.0, 127,910 lines: 99.98% client logins and closes, 126 bytes a
# line). Here (1 M lines, seed 1): 97.4% client login/close lines, 1.6% S-
# lines, 1% ERROR and WARNING lines of refused logins (none in those two
# logs), 131 bytes a line.
function ts(   s, ms) {
  s = int(now / 1000); ms = now % 1000
  return sprintf("2026-12-04 %02d:%02d:%02d.%03d UTC [4242]", int(s / 3600) % 24, int(s / 60) % 60, s % 60, ms)
}
function who(i) { return sprintf("%s/%s@10.1.%d.%d:%d", db[i], user[i], host[i] / 250, host[i] % 250 + 1, port[i]) }
BEGIN {
  srand(seed + 0)
  if (lines == 0) lines = 1000000
  split("shop analytics billing", dbs, " "); split("app etl reporting web", users, " ")
  split("server lifetime over|close_needed|server idle timeout|obsolete connection|database configuration changed", sclose, "|")
  now = 8 * 3600 * 1000; next_stats = now + 60000; nfree = 0; nopen = 0; nextport = 20000
  for (p = 0; p < 400; p++) { free[nfree++] = sprintf("0x55d8f1%06x", 9412144 + p * 688) }
  n = 0
  while (n < lines) {
    now += 1 + int(rand() * 3)
    if (now >= next_stats) {
      print ts() " LOG stats: 412 xacts/s, 1630 queries/s, 0 client parses/s, 0 server parses/s, 0 binds/s, in 290314 B/s, out 1533241 B/s, xact 2315 us, query 512 us, wait 97 us"
      next_stats += 60000; n++; continue
    }
    if (nopen < 150 || (nopen < 380 && rand() < 0.5)) {
      ptr = free[--nfree]; i = ptr
      db[i] = dbs[1 + int(rand() * 3)]; user[i] = users[1 + int(rand() * 4)]
      host[i] = int(rand() * 64); port[i] = nextport; nextport = nextport >= 65000 ? 20000 : nextport + 1
      print ts() " LOG C-" ptr ": " who(i) " login attempt: db=" db[i] " user=" user[i] " tls=no"; n++
      if (rand() < 0.01) {
        print ts() " ERROR C-" ptr ": " who(i) " password authentication failed"
        print ts() " LOG C-" ptr ": " who(i) " closing because: SASL authentication failed (age=0s)"
        print ts() " WARNING C-" ptr ": " who(i) " pooler error: SASL authentication failed"
        n += 3; rejects++; free[nfree++] = ptr; continue
      }
      connects++
      if (rand() < 1 / 60) {
        print ts() " LOG S-0x55d8f2" sprintf("%06x", int(rand() * 65536) * 16) ": " db[i] "/" user[i] "@10.0.0.5:5432 new connection to server (from 10.0.0.9:" 30000 + int(rand() * 30000) ")"; n++
      }
      if (rand() < 1 / 60) {
        print ts() " LOG S-0x55d8f2" sprintf("%06x", int(rand() * 65536) * 16) ": " db[i] "/" user[i] "@10.0.0.5:5432 closing because: " sclose[1 + int(rand() * 5)] " (age=" int(rand() * 3600) "s)"; n++
      }
      open[nopen++] = ptr
    } else {
      k = int(rand() * nopen); ptr = open[k]; open[k] = open[--nopen]; i = ptr
      why = rand() < 0.005 ? "client unexpected eof" : "client close request"
      print ts() " LOG C-" ptr ": " who(i) " closing because: " why " (age=" int(rand() * 90) "s)"; n++
      disconnects++; free[nfree++] = ptr
    }
  }
  printf "connects %d\nrejects %d\ndisconnects %d\nopen_at_end %d\n", connects, rejects, disconnects, nopen > "/dev/stderr"
}
