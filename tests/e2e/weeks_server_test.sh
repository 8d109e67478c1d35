#!/usr/bin/env bash
# weeks_server_test.sh: a server that has run for weeks (issue 13), against
# what the server itself says in pg_stat_activity.
#
# A real PostgreSQL 15 writes Debian's single log file (prefix
# `%m [%p] %q%u@%d `). Pool sessions are opened before each of two rotations
# by Debian's own logrotate stanza (postgresql-common: weekly, rotate 10,
# copytruncate, delaycompress, compress; forced, with a state file of ours),
# some are closed after, so the oldest file ends gzipped. Then:
#
#   1  the rotated set read from the server's start (the .gz natively): exact,
#      "complete": true; the same with --snapshot: nothing counted twice
#   2  the oldest file gone (retention shorter than uptime): a lower bound
#      with "complete": false and "since"; with --snapshot: exact, complete
#   3  the current file alone with --snapshot: exact by db, user and host
#   4  `tail -n 0 -F LOG | pgconn-parse --snapshot=PID | pgconn-agg` live: exact
#      at once, and after more sessions open and close
#   5  SIGHUP to that pgconn-agg: totals start again, the active count stays
#   6  the README's recipe, `pgconn-tail --from-start LOG | pgconn-parse
#      --snapshot | pgconn-agg`: exact from its first summary, and live
#   7  the postmaster and every backend killed with SIGKILL, then a start:
#      the sessions from before are gone, the new ones are counted
#
# Prints `ok - NAME` / `not ok - NAME: why`. Needs PostgreSQL server
# binaries, logrotate, gzip and jq; as root, the server runs as `postgres`.
# About 20 s.
#
# Environment: PGCONN_PARSE, PGCONN_AGG, PGCONN_TAIL (default
# bin/pgconn-parse, bin/pgconn-agg, bin/pgconn-tail); PGCONN_E2E_KEEP=DIR
# keeps the logs and the records (tests/e2e/e2e.sh).
#
# shellcheck disable=SC2317  # functions called through traps
set -uo pipefail
exec </dev/null
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
e2e_begin parse agg tail jq logrotate gzip

e2e_pg_init 20
LOG=$PGC_LOGDIR/postgresql.log
SETTINGS=(log_filename=postgresql.log "log_line_prefix=%m [%p] %q%u@%d " log_destination=stderr
  log_connections=on log_disconnections=on)
e2e_pg_start "${SETTINGS[@]}"
ok "PostgreSQL on port $PGC_PORT writing $(basename "$LOG")"
err=$(pgc_setup app_user shop 2>&1) || fatal "create role and database" "$err"

# Debian's stanza (postgresql-common), for our log directory.
e2e_logrotate_conf "$WORK/logrotate.conf" "$PGC_LOGDIR/*.log"
rotate() {
  logrotate -f -s "$WORK/logrotate.state" "$WORK/logrotate.conf" 2>"$WORK/logrotate.err" ||
    fatal "logrotate" "$(head -n 3 "$WORK/logrotate.err" | tr '\n' ' ')"
}

hold() { e2e_hold "$@"; }
short() { pgc_settle pgc_psql "$@" -c 'select 1' >/dev/null || fatal "short session $*" "psql failed"; }

# pg_stat_activity's client backends (not the asking one), as
# {"active":N,"db":{..},"user":{..},"host":{..}}; the asking session has
# exited when this returns, and the log has its disconnection.
psa() {
  local n0 out
  n0=$(pgc_log_count "$LOG" 'disconnection:')
  out=$(pgc_settle pgc_psql sock postgres postgres pgconn-ctl -c "$E2E_PSA_GROUPS") || fatal "query pg_stat_activity" "$out"
  out=$(jq -c '{active, db, user, host}' <<<"$out")
  pgc_wait_log "$LOG" 'disconnection:' $((n0 + 1)) 15 || fatal "log" "the control session's disconnection never came"
  echo "$out"
}
# The view of an agg --json record in pg_stat_activity's shape.
view() { jq -c '{active, db: (.by.db // {}), user: (.by.user // {}), host: (.by.host // {})}'; }
summary() { "$AGG" --json --by=db,user,host "$@"; }

# ------------------------------------------------------------ weeks of log

hold a1 sock app_user shop pool-a
hold a2 tcp4 app_user shop pool-a
hold a3 sock postgres postgres pool-b
short tcp4 app_user shop report
rotate
hold b1 tcp4 app_user shop pool-a
hold b2 sock postgres shop pool-b
e2e_close a1
short sock app_user shop report
rotate
hold c1 tcp4 app_user postgres pool-c
e2e_close b1
short tcp4 app_user shop report
want=$(psa)
n=$(jq .active <<<"$want")
if [[ -f $LOG.2.gz && -f $LOG.1 && -s $LOG ]]; then
  ok "two Debian rotations: $(cd "$PGC_LOGDIR" && ls postgresql.log* | tr '\n' ' ')with $n sessions open"
else
  fatal "two Debian rotations" "files: $(ls "$PGC_LOGDIR" | tr '\n' ' ')"
fi
all=("$LOG.2.gz" "$LOG.1" "$LOG")

# ------------------------------------------------------------ 1: from the start

out=$("$PARSE" "${all[@]}" 2>"$WORK/p1.err" | summary)
check_json "1: the rotated set (.gz read natively) equals pg_stat_activity" "$want" "$(view <<<"$out")"
check_json "1: ... and says it is complete" true "$(jq .complete <<<"$out")"
out=$("$PARSE" --snapshot "${all[@]}" 2>"$WORK/p1s.err" | summary)
check_json "1: with --snapshot too (nothing counted twice)" "$want" "$(view <<<"$out")"

# ------------------------------------------------------------ 2: oldest file gone

out=$("$PARSE" "$LOG.1" "$LOG" 2>/dev/null | summary)
got=$(jq .active <<<"$out")
if ((got < n)); then ok "2: without the oldest file: a lower bound ($got of $n)"; else not_ok "2: without the oldest file: a lower bound" "$got of $n"; fi
check_json "2: ... marked incomplete" false "$(jq .complete <<<"$out")"
first_ts=$("$PARSE" "$LOG.1" 2>/dev/null | head -n 1 | jq -r .ts)
check_json "2: ... since the first event" "$first_ts" "$(jq -r .since <<<"$out")"
text=$("$PARSE" "$LOG.1" "$LOG" 2>/dev/null | "$AGG")
if grep -A1 '^Active connections:' <<<"$text" | tail -n 1 | grep -qi 'log begins\|lower bound\|at least'; then
  ok "2: the text view says the count is a lower bound"
else
  not_ok "2: the text view says the count is a lower bound" "$(head -n 3 <<<"$text" | tr '\n' '|')"
fi
out=$("$PARSE" --snapshot "$LOG.1" "$LOG" 2>/dev/null | summary)
check_json "2: with --snapshot: exact" "$want" "$(view <<<"$out")"
check_json "2: with --snapshot: complete" true "$(jq .complete <<<"$out")"

# ------------------------------------------------------------ 3: current file alone

out=$("$PARSE" --snapshot "$LOG" 2>"$WORK/p3.err" | summary)
check_json "3: the current file alone with --snapshot: exact by db, user, host" "$want" "$(view <<<"$out")"
check_json "3: ... complete" true "$(jq .complete <<<"$out")"
if grep -q . "$WORK/p3.err"; then not_ok "3: no warning" "$(head -n 2 "$WORK/p3.err" | tr '\n' ' ')"; else ok "3: no warning"; fi

# ------------------------------------------------------------ 4: live, tail -n 0

OUT=$WORK/live.out
mkfifo "$WORK/tail.fifo" "$WORK/parse.fifo"
tail -n 0 -F "$LOG" >"$WORK/tail.fifo" 2>/dev/null &
e2e_track live $!
# No line has named a backend yet, so the postmaster is named: other
# clusters may run on this host (the README says the same).
"$PARSE" --snapshot="$PGC_PM_PID" <"$WORK/tail.fifo" >"$WORK/parse.fifo" 2>"$WORK/live-parse.err" &
e2e_track live $!
"$AGG" --json --by=db,user,host --interval=200ms <"$WORK/parse.fifo" >"$OUT" 2>"$WORK/live-agg.err" &
AGG_PID=$!; e2e_track live $!

# await NAME WANT: the newest record equals WANT within 5 s.
await() {
  local name=$1 w=$2 got="" i
  for ((i = 0; i < 250; i++)); do
    got=$(tail -n 1 "$OUT" 2>/dev/null | view 2>/dev/null)
    if [[ -n $got ]] && jq -en --argjson a "$w" --argjson b "$got" '$a == $b' >/dev/null 2>&1; then
      ok "$name"; return 0
    fi
    sleep 0.02
  done
  not_ok "$name" "want $w, got ${got:-nothing}"
}
await "4: tail -n 0 -F | parse --snapshot=PID | agg: exact at once" "$want"
check_json "4: ... complete" true "$(tail -n 1 "$OUT" | jq .complete)"
hold d1 sock app_user shop pool-d
e2e_close a2
short tcp4 app_user shop report
want=$(psa)
await "4: after more sessions opened and closed: exact" "$want"

# ------------------------------------------------------------ 5: SIGHUP

kill -HUP "$AGG_PID"
sleep 0.5
rec=$(tail -n 1 "$OUT")
check_json "5: SIGHUP: active stays" "$(jq .active <<<"$want")" "$(jq .active <<<"$rec")"
check_json "5: SIGHUP: connects start again" 0 "$(jq .connects <<<"$rec")"

# ------------------------------------------------------------ 6: the README's recipe

e2e_stop live
OUT=$WORK/recipe.out
"$TAIL" --from-start "$LOG" >"$WORK/tail.fifo" 2>"$WORK/recipe-tail.err" &
e2e_track live $!
"$PARSE" --snapshot <"$WORK/tail.fifo" >"$WORK/parse.fifo" 2>"$WORK/recipe-parse.err" &
e2e_track live $!
"$AGG" --json --by=db,user,host --interval=200ms <"$WORK/parse.fifo" >"$OUT" 2>"$WORK/recipe-agg.err" &
AGG_PID=$!; e2e_track live $!
await "6: pgconn-tail --from-start | parse --snapshot | agg: exact" "$want"
first=$(jq -c 'select(.complete) | .active' "$OUT" | head -n 1)
check_json "6: ... from its first complete summary" "$(jq .active <<<"$want")" "$first"
e2e_close b2
hold f1 tcp4 app_user postgres pool-f
want=$(psa)
await "6: ... and live after more sessions" "$want"

# ------------------------------------------------------------ 7: SIGKILL, then a start

pgc_kill_all || fatal "SIGKILL" "see above"
pgc_start "${SETTINGS[@]}" >"$WORK/start2.out" 2>&1 ||
  fatal "7: start after SIGKILL" "$(tail -n 5 "$WORK/start2.out")"
hold e1 tcp4 app_user shop pool-e
want=$(psa)
await "7: SIGKILL of the postmaster and backends, then a start: only the new sessions" "$want"

e2e_stop live
lib_done
