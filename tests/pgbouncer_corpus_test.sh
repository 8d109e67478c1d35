#!/usr/bin/env bash
# pgbouncer_corpus_test.sh: every PgBouncer log of ../shared/corpus/pgbouncer/
# (real logs other projects committed, 1.7.2 to 1.24.1; read in place, never
# copied) through pgconn-parse: no crash, every line valid JSON, and the
# events counted by type and reason equal to counts worked out by hand from
# each file, as written down below. The hand counts use only grep on the
# file (L = `grep -c ' C-0x[0-9a-f]*: .* login attempt: '`, C = the same for
# `closing because: `, their reasons by `sed 's/.*closing because: //;
# s/ (age=.*//' | sort | uniq -c`, and `process up` / exit lines) and the
# rules of pgbouncer.md §3-§5.
# Prints "ok - NAME" / "not ok - NAME: why"; exits 1 when any failed.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
parse=$PARSE
corpus=../shared/corpus/pgbouncer
if [ ! -d "$corpus" ]; then skip "pgbouncer corpus" "no $corpus"; lib_done; fi
command -v jq >/dev/null || { skip "pgbouncer corpus" "no jq"; lib_done; }
T=$LIB_TMP

# corpus_check FILE "EXPECTED" [pgconn-parse options]: EXPECTED is the sorted
# "TYPE[ REASON|STATE]=N" list of the events, comma-separated.
corpus_check() {
  local file=$1 want=$2 name got rc
  shift 2
  name="corpus ${file#"$corpus"/}"
  zcat -f "$corpus/$file" | "$parse" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ $rc -ne 0 ]; then not_ok "$name" "exit status $rc: $(head -n 2 "$T/err")"; return; fi
  if ! jq -e . "$T/out" >/dev/null 2>&1; then not_ok "$name" "output is not JSON lines"; return; fi
  if grep -q 'terminate\|Assertion\|Sanitizer' "$T/err"; then not_ok "$name" "$(head -n 2 "$T/err")"; return; fi
  got=$(jq -r '.type + (if .reason then " " + .reason elif .state then " " + .state else "" end)' "$T/out" |
        sort | uniq -c | awk '{ c = $1; $1 = ""; sub(/^ /, ""); printf "%s%s=%d", sep, $0, c; sep = ", " }')
  if [ "$got" = "$want" ]; then ok "$name: $want"; else not_ok "$name" "want [$want] got [$got]"; fi
  pooled=$(jq -r 'select(.via != "pgbouncer") | .type' "$T/out" | wc -l)
  [ "$pooled" -eq 0 ] || not_ok "$name" "$pooled events without via pgbouncer"
}

# pgBadger's 1.9.0 fixture: L = 63,943, C = 63,943, all "client close
# request"; no S- closes; 1 process up, no exit. Every login is closed on
# the same pointer and address before the pointer's next login, so 63,943
# connects and 63,943 disconnects: pgBadger's t/03_consistency.t expects
# 63,943 sessions, the lines ending in "(age=N)" (here the C- closes only).
corpus_check darold_pgbadger/pgbouncer.log.gz "connect=63943, disconnect=63943, server ready=1"

# pgBadger's 1.21 fixture (cut from a longer log, no process up): L = 49,626,
# C = 49,627 "client close request" (plus 390 S- closes, which pgBadger
# counts as sessions too: 50,017). 140 closes have no login before them in
# the file (their start is before its first line: matched false), 139 logins
# are still open at its end; 49,626 connects, 49,627 disconnects.
corpus_check darold_pgbadger/pgbouncer.1.21.log.gz "connect=49626, disconnect=49627"
n=$(zcat "$corpus/darold_pgbadger/pgbouncer.1.21.log.gz" | "$parse" | jq -r 'select(.matched == false) | .type' | sort | uniq -c | tr -s ' ')
check_eq "corpus 1.21: 140 closes without their login" " 140 disconnect" "$n"

# wttw/pgx, 1.7.2: L = 4,114, C = 4,118: 3,834 "client close request",
# 278 "client unexpected eof" (client_lost), "bad packet header" after a
# login (a session that was: disconnect terminated), and, with no login
# (1.7 refuses before it): "No such database" x2 (no_database), "No such
# user" x2 (no_role), "Unsupported startup parameter" (other). 5 process up
# (ready), 5 "Got SIGINT" each followed by "server connections dropped,
# exiting" (shutdown). 4,114 connects; the one left open ends at a shutdown.
corpus_check wttw_pgx/pgbouncer.log.gz "connect=4114, disconnect=3834, disconnect client_lost=278, disconnect terminated=1, reject no_database=2, reject no_role=2, reject other=1, server ready=5, server shutdown=5"

# paul828919/CONNECT, 1.24.1 macOS: L = 132, C = 126: 107 "client close
# request", 18 "client unexpected eof", 1 "not allowed" (admin console,
# after its login: reject login_not_allowed). 6 logins are followed by
# another login on the same pointer with no close between (psql asking for
# a password; awk over pointers): the first (port 55061) 1 ms before the
# next, never settled, so no event; the other 5 waited over a second, were
# settled as connects, and end as "lost". 132 - 1 - 1 = 130 connects.
# 3 process up; 1 "server connections dropped, exiting"; the other starts
# found no client open.
corpus_check paul828919_CONNECT/logs_pgbouncer.log "connect=130, disconnect=107, disconnect client_lost=18, disconnect lost=5, reject login_not_allowed=1, server ready=3, server shutdown=1"

# SESGPreSales, 1.24.0 Docker: L = 19, C = 18: 4 "password authentication
# failed" and 1 "not allowed" follow their logins at once (rejects); 13
# "client_login_timeout (server down)" come 60 s after theirs (settled as
# connects, then a late reject that retracts each: server_unavailable).
# 19 - 5 = 14 connects. 17 process up; 15 "fast exit"/"dropped, exiting".
corpus_check SESGPreSales_datalinktest/pgbouncer_pgbouncer.log "connect=14, reject auth_failed=4, reject login_not_allowed=1, reject server_unavailable=13, server ready=17, server shutdown=15"

# nbdevs, 1.17.0 Docker: L = 59, C = 51: 25 "password authentication
# failed" + 3 'password authentication failed for user "airflow"'
# (PostgreSQL's refusal relayed) = 28 auth_failed; 1 "server login failed:
# wrong password type" (server_unavailable); these 29 follow logins. 4
# "bouncer config error" have no login (reject other); 18 "client close
# request". 59 - 29 = 30 connects. 30 process up, 30 exits.
corpus_check nbdevs_postgres-db-cluster/pgbouncer_pgbouncer.log "connect=30, disconnect=18, reject auth_failed=28, reject other=4, reject server_unavailable=1, server ready=30, server shutdown=30"

# divyenduz, 1.10.0 macOS (bare pid, "age=0s"): L = 11, C = 15: 3 "client
# close request", 8 "client unexpected eof", 4 "no such database: NAME"
# without a login (1.10). 3 process up, 3 exits.
corpus_check divyenduz_dev-infrastructure/pgbouncer_pgbouncer.log "connect=11, disconnect=3, disconnect client_lost=8, reject no_database=4, server ready=3, server shutdown=3"

# wleong1, 1.23.1: L = 1, C = 1 ("client close request"); 1 process up,
# 1 exit.
corpus_check wleong1_StockTracker/pgbouncer_pgbouncer.log "connect=1, disconnect=1, server ready=1, server shutdown=1"

# azamat-li, 1.14.0, zone "+05" (first 130 lines): no client lines; 1
# process up.
corpus_check azamat-li_laravel-8-with-my-sql-wood-master-site-template/pgbouncer.log.head130 "server ready=1"

# Bereket-G (6 lines: stats only), akatruk (failed starts: ERROR/FATAL, no
# process up), bradtraversy (verbose, no C- lines): nothing, and a hint.
for f in Bereket-G_PostgresDB-Load-balancing-pooling-with-pgBouncer-HAProxy/pgbouncer.log \
         akatruk_PostgreSQL/pgbouncer.log bradtraversy_prostore/pgbouncer.log; do
  corpus_check "$f" ""
  check "corpus $f: the PgBouncer hint" \
    "grep -q \"no client connection lines found in .* lines of PgBouncer's log\" '$T/err'" "$(cat "$T/err")"
done

# achanda/dieseltest: `docker compose logs` lines ("NAME  | " before each)
# of PostgreSQL and PgBouncer: the compose prefix hides PgBouncer's lines
# (L = 10 after it): only PostgreSQL's "ready" is read, and no event is a
# pooler's. (Read PgBouncer's own stream: docker compose logs --no-log-prefix pgbouncer.)
zcat -f "$corpus/achanda_dieseltest/README.md.excerpt.log" | "$parse" >"$T/out" 2>"$T/err"
check_eq "corpus achanda compose excerpt: no pooler event" '["server","ready",null]' "$(jq -c '[.type,.state,.via]' "$T/out")"
sed 's/^[^|]*| //' "$corpus/achanda_dieseltest/README.md.excerpt.log" | grep ' C-0x\| S-0x\|process up\|stats:' |
  "$parse" --input=pgbouncer >"$T/out" 2>"$T/err"
n=$(jq -r 'select(.type == "connect") | .via' "$T/out" | sort | uniq -c | tr -s ' ')
# L = 10 logins, 7 "client close request"; the 3 left open are the
# compose excerpt's end.
check_eq "corpus achanda PgBouncer lines alone: 10 connects" " 10 pgbouncer" "$n"

# Every file again as one stream, --label given: as many events, no crash.
all=$(for f in "$corpus"/*/*; do zcat -f "$f" | "$parse" --input=pgbouncer --label=x 2>/dev/null | wc -l; done | awk '{ s += $1 } END { print s }')
check "corpus with --input=pgbouncer: $all events" "[ '$all' -gt 227000 ]"
lib_done
