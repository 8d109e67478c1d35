#!/usr/bin/env bash
# view_server_test.sh: pgconn-agg's count against pg_stat_activity on a real
# PostgreSQL server when the log does not show every session (issue 13):
#
#   pool-1..3     opened, then the log is "rotated" (read from the next line)
#   pool-4, 5     opened after it; pool-1 closed
#   whole log     complete, active = pg_stat_activity (4)
#   from the cut  "complete":false, active 2 (a lower bound), 1 session from
#                 before the cut seen ending, the note line under the count
#   live + HUP    tail -F | pgconn-parse | pgconn-agg, then kill -HUP: the 4
#                 open sessions stay counted (issue 13 saw 0), totals are 0,
#                 the peak starts again from 4; one more session: 5 = 5
#   SIGKILL       the postmaster and every backend killed, then a start (no
#                 crash line is logged): pgconn-agg counts 0, as the server,
#                 and 1 after a new session
#
# Prints `ok - NAME` / `not ok - NAME: why`; exits 1 if any check failed.
# Needs PostgreSQL server binaries and jq. About 15 s.
#
# Environment: PGCONN_PARSE, PGCONN_AGG (default bin/pgconn-parse,
# bin/pgconn-agg); PGCONN_E2E_KEEP=DIR keeps the log and the outputs.
set -uo pipefail
exec </dev/null
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
e2e_begin parse agg jq
start=$SECONDS

SETTINGS=(log_filename=view.log "log_line_prefix=%m [%p] %q%u@%d " log_destination=stderr
          log_connections=on log_disconnections=on)
e2e_pg_init 20
LOG=$PGC_LOGDIR/view.log
e2e_pg_start "${SETTINGS[@]}"
ok "PostgreSQL $(pgc_version) on port $PGC_PORT"
err=$(pgc_setup app_user shop 2>&1) || fatal "create a role and a database" "$err"

hold() { e2e_hold "$1" tcp4 app_user shop pool; }
# Client sessions pg_stat_activity shows, the asking one left out.
truth() {
  pgc_settle pgc_psql sock postgres postgres check \
    -c "select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()"
}
# Waits until the log has N `connection authorized` and M `disconnection` lines.
log_has() {
  pgc_wait_log "$LOG" "connection authorized" "$1" 10 && pgc_wait_log "$LOG" "disconnection:" "$2" 10
}
auth=$(pgc_log_count "$LOG" "connection authorized")
disc=$(pgc_log_count "$LOG" "disconnection:")

for s in pool-1 pool-2 pool-3; do hold "$s"; done
log_has $((auth + 3)) "$disc" || fatal "the log shows the first sessions" "$(tail -n 3 "$LOG")"
cut=$(wc -l <"$LOG")  # a rotation: the lines after this one are "the current file"
hold pool-4
hold pool-5
pgc_close pool-1 || fatal "close pool-1" "failed"
want=$(truth) || fatal "ask pg_stat_activity" "$want"
# The control session of truth() logs its own lines; wait for all of them.
log_has $((auth + 6)) $((disc + 2)) || fatal "the log shows every session" "$(tail -n 3 "$LOG")"

# --- the whole log: the server's start is in it
"$PARSE" "$LOG" 2>"$WORK/parse.err" | "$AGG" --json >"$WORK/whole.json"
g=$(jq -c '[.active, .complete]' "$WORK/whole.json")
check "whole log: complete, active = pg_stat_activity ($want)" "[ '$g' = '[$want,true]' ] && [ $want = 4 ]" "$g, server $want"

# --- from the cut: a lower bound, and said so
tail -n +$((cut + 1)) "$LOG" | "$PARSE" 2>>"$WORK/parse.err" | tee "$WORK/cut.ndjson" | "$AGG" --json >"$WORK/cut.json"
g=$(jq -c '[.active, .complete, .ended_before]' "$WORK/cut.json")
check "issue_13: log from the cut: complete false, 2 of the $want open seen, pool-1's end counted" \
  "[ '$g' = '[2,false,1]' ]" "$g, server $want"
"$AGG" "$WORK/cut.ndjson" >"$WORK/cut.out"
check "issue_13: log from the cut: the text says it is a lower bound" \
  "sed -n 2p '$WORK/cut.out' | grep -Eq '^  \\(at least: the log begins [0-9-]+ [0-9:]+; 1 session from before it has ended since\\)\$'" \
  "$(head -3 "$WORK/cut.out")"

# --- live, then SIGHUP (pgconn-agg's "clear statistics")
mkfifo "$WORK/a" "$WORK/b"
tail -n +1 -F "$LOG" >"$WORK/a" 2>/dev/null &
lib_track_pid $!; tail_pid=$!
"$PARSE" <"$WORK/a" >"$WORK/b" 2>>"$WORK/parse.err" &
lib_track_pid $!
# A summary every 100 ms (a signal before pgconn-agg has its handlers, while
# the shell still waits to open the FIFO, would kill it).
"$AGG" --json --interval=100ms <"$WORK/b" >"$WORK/live.json" 2>"$WORK/live.err" &
lib_track_pid $!; agg_pid=$!
# Waits for a summary whose active count is $1 (10 s at most); prints the last.
summary_until() {
  local i line=""
  for ((i = 0; i < 100; i++)); do
    sleep 0.1
    line=$(tail -n 1 "$WORK/live.json" 2>/dev/null)
    [[ $(jq -c .active <<<"$line" 2>/dev/null) == "$1" ]] && break
  done
  echo "$line"
}
g=$(summary_until "$want" | jq -c '[.active, .complete]')
check "live: active = pg_stat_activity" "[ '$g' = '[$want,true]' ]" "$g, server $want"
# Every line of the log read (pgconn-parse holds a connect up to a second)
# before the HUP: as many connects as the whole log had.
total=$(jq .connects "$WORK/whole.json")
for ((i = 0; i < 100; i++)); do [ "$(tail -n 1 "$WORK/live.json" | jq .connects)" = "$total" ] && break; sleep 0.1; done
kill -HUP "$agg_pid"  # it printed a summary: its handlers are in place
for ((i = 0; i < 100; i++)); do grep -q 'statistics cleared' "$WORK/live.err" && break; sleep 0.05; done
n=$(wc -l <"$WORK/live.json")
for ((i = 0; i < 50; i++)); do [ "$(wc -l <"$WORK/live.json")" -gt "$n" ] && break; sleep 0.05; done
g=$(summary_until "$want" | jq -c '[.active, .connects, .disconnects, .peak.active, .complete]')
check "issue_13: kill -HUP keeps the $want open sessions, clears the totals, the peak starts from them" \
  "[ '$g' = '[$want,0,0,$want,true]' ]" "$g, server $want"
hold pool-6
want=$(truth) || fatal "ask pg_stat_activity" "$want"
# Connects since the HUP: pool-6 and the session that asked pg_stat_activity
# (open beside the 5 others: the peak is 6).
g=$(summary_until "$want" | jq -c '[.active, .connects, .peak.active]')
check "issue_13: after the HUP, one more session: active = pg_stat_activity ($want), counted from the HUP" \
  "[ '$g' = '[$want,2,$((want + 1))]' ] && [ $want = 5 ]" "$g, server $want"

# --- SIGKILL of the postmaster and its backends (an OOM kill, a power cut),
# then a start: PostgreSQL logs no crash, only its start.
pgc_kill_all || fatal "SIGKILL" "see above"
ready=$(pgc_log_count "$LOG" "ready to accept connections")
pgc_start "${SETTINGS[@]}" >"$WORK/start2.out" 2>&1 ||
  fatal "start PostgreSQL after SIGKILL" "$(tail -n 5 "$WORK/start2.out")"
pgc_wait_log "$LOG" "ready to accept connections" $((ready + 1)) 10 || fatal "the restart is logged" "$(tail -n 3 "$LOG")"
want=$(truth) || fatal "ask pg_stat_activity" "$want"
g=$(summary_until "$want" | jq -c '[.active, .complete]')
check "issue_13: after SIGKILL and a start: active = pg_stat_activity ($want), live" "[ '$g' = '[$want,true]' ] && [ $want = 0 ]" "$g, server $want"
auth=$(pgc_log_count "$LOG" "connection authorized")
disc=$(pgc_log_count "$LOG" "disconnection:")
hold after-1
want=$(truth)
g=$(summary_until "$want" | jq -c '.active')
check "issue_13: a session after the restart: active = pg_stat_activity ($want)" "[ '$g' = '$want' ] && [ $want = 1 ]" "$g, server $want"
log_has $((auth + 2)) $((disc + 1)) || fatal "the log shows the new session" "$(tail -n 3 "$LOG")"
"$PARSE" "$LOG" 2>>"$WORK/parse.err" | "$AGG" --json >"$WORK/after.json"
g=$(jq -c '[.active, .complete]' "$WORK/after.json")
check "issue_13: the whole log after the restart: active = pg_stat_activity ($want)" "[ '$g' = '[$want,true]' ]" "$g, server $want"

kill "$tail_pid" 2>/dev/null
wait "$agg_pid"; rc=$?
check "live: pgconn-agg ends with its input, exit 0" "[ $rc = 0 ]" "rc=$rc $(cat "$WORK/live.err")"
check "nothing unexpected on stderr" "! grep -v 'statistics cleared' '$WORK/live.err' | grep -q . && [ ! -s '$WORK/parse.err' ]" \
  "$(cat "$WORK/live.err" "$WORK/parse.err" | head -5)"
ok "took $((SECONDS - start)) s"
lib_done
