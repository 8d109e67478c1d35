#!/usr/bin/awk -f
# gen_events.awk: a pgconn event stream (SPEC.md §2 NDJSON, as pgconn-parse
# writes it) with as many distinct names as asked, for pgconn-agg's
# throughput and memory measurements (tests/perf/bench.sh, tests/agg_cli_test.sh).
#
#   awk -f tests/perf/gen_events.awk -v sessions=N [-v apps=A] [-v users=U]
#       [-v hosts=H] [-v dbs=D] [-v open=K] [-v seed=S]
#
# N sessions, each a connect and, once K more have opened (a fleet keeps
# about K sessions open), its disconnect with its duration_ms; every 50th
# session is rejected instead (auth_failed). Session i is named app (i*7919
# mod A), user (i mod U), host (i*31 mod H), db (i mod D): every name of each
# dimension comes up, the combinations spread. A new port and pid-sequence
# session key per session; times rise by 1-3 ms per event. Defaults: 5,000
# apps, 2,000 users, 3,000 hosts, 20 dbs, 200 open: "thousands of distinct
# users, apps, hosts" (issue 15). Deterministic for a seed.
BEGIN {
  if (sessions == "") sessions = 100000
  if (apps == "") apps = 5000
  if (users == "") users = 2000
  if (hosts == "") hosts = 3000
  if (dbs == "") dbs = 20
  if (open == "") open = 200
  if (seed == "") seed = 1
  srand(seed)
  t = 0  # ms since 2024-03-01T10:00:00Z (kept small: mawk writes big numbers as %.6g)
  for (i = 0; i < sessions; i++) {
    pid = 1000 + i % 30000
    a = (i * 7919) % apps; u = i % users; h = (i * 31) % hosts; d = i % dbs
    who = sprintf("\"user\":\"user_%d\",\"db\":\"db_%d\",\"app\":\"app-%d\",\"host\":\"10.%d.%d.%d\",\"port\":%d",
                  u, d, a, int(h / 65536) % 256, int(h / 256) % 256, h % 256, 32768 + i % 28000)
    key = sprintf("\"pid\":%d,\"session\":\"%d-%d\"", pid, pid, i)
    t += 1 + int(rand() * 3)
    if (i % 50 == 49) {
      printf "{\"type\":\"reject\",\"ts\":\"%s\",%s,%s,\"reason\":\"auth_failed\",\"matched\":true}\n", iso(t), key, who
    } else {
      printf "{\"type\":\"connect\",\"ts\":\"%s\",%s,%s}\n", iso(t), key, who
      q[i % open] = key "\t" who "\t" t
    }
    j = (i + 1) % open
    if (j in q) {
      split(q[j], f, "\t")
      delete q[j]
      t += 1 + int(rand() * 3)
      printf "{\"type\":\"disconnect\",\"ts\":\"%s\",%s,%s,\"duration_ms\":%d,\"matched\":true}\n",
             iso(t), f[1], f[2], t - f[3]
    }
  }
}
# RFC 3339 UTC with milliseconds of `ms` after 2024-03-01T10:00:00Z.
function iso(ms,   s, z, era, doe, yoe, doy, mp, d, m, y) {
  s = int(ms / 1000) + 1709287200; ms = ms % 1000; z = int(s / 86400) + 719468
  era = int(z / 146097); doe = z - era * 146097
  yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
  doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100)); mp = int((5 * doy + 2) / 153)
  d = doy - int((153 * mp + 2) / 5) + 1; m = mp < 10 ? mp + 3 : mp - 9; y = yoe + era * 400 + (m <= 2)
  return sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, int(s % 86400 / 3600), int(s % 3600 / 60), s % 60, ms)
}
