#!/usr/bin/env bash
# live_test.sh: the whole pipeline, live (SPEC.md §3 "Stdout is flushed
# before every blocking read", §5 "Each event is written and flushed as soon
# as it is read"; STYLE.md's latency test).
#
# 1. A log file followed by `tail -n 0 -F FILE | pgconn-parse | pgconn-watch`
#    (and `... | pgconn-agg --interval=500ms --json`) in the background: each
#    connection's lines are appended and its watch line must show within 1 s
#    with no further input; then the file is rotated (mv, new file) and
#    truncated (: >), and the events after each must still come, none lost,
#    none invented.
# 2. A real PostgreSQL 15 server (tests/e2e/pgcluster.sh): its log followed by
#    `tail -n +1 -F LOG | pgconn-parse | pgconn-watch` on a pseudo-terminal,
#    psql sessions opened and closed, the coloured [+]/[-]/[!] lines checked,
#    `app=myapp` filtering, the server's shutdown, Ctrl+C.
#    PGCONN_SKIP_SERVER=1 skips this part.
#
# Prints "ok - NAME" / "not ok - NAME: why"; exits 1 when a check failed.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
T=$LIB_TMP
# Pipelines on a pty whose pid file we had not read yet.
lib_on_exit 'for f in "$T"/*.pid; do [ -s "$f" ] && lib_track_group "$(cat "$f")"; done'

for t in pgconn-parse pgconn-watch pgconn-agg; do
  [ -x "$LIB_BIN/$t" ] || fatal "$t built" "no executable $LIB_BIN/$t (run make)"
done
# start_group NAME 'PIPELINE': runs the pipeline in a session of its own
# (bash -c, so one process group to signal, as a terminal's Ctrl+C does);
# SIGINT back to its default action (a script's background job starts with
# it ignored; `trap : INT` lets bash outlive it). PIPESTATUS goes to
# $T/NAME.status when it ends. Sets GROUP to the group's id.
start_group() {
  setsid env --default-signal=INT bash -c 'trap : INT; '"$2"'; echo "${PIPESTATUS[*]}" >'"'$T/$1.status'" </dev/null &
  GROUP=$!
  lib_track_group "$GROUP"
}
# pid of the process of group $1 whose command name is $2.
group_member() {
  local f line rest pgid
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    [[ $line == *"($2)"* ]] || continue
    rest=${line##*) }
    read -r _ _ pgid _ <<<"$rest"
    [ "$pgid" = "$1" ] || continue
    f=${f#/proc/}; echo "${f%/stat}"; return 0
  done
  return 1
}
# Waits until `tail` of group $1 has file $2 open (then it follows it from
# its end; -n 0 would skip lines appended before that).
wait_tail_open() {
  local i pid fd
  for ((i = 0; i < 100; i++)); do
    if pid=$(group_member "$1" tail); then
      for fd in /proc/"$pid"/fd/*; do
        [ "$(readlink "$fd" 2>/dev/null)" = "$2" ] && { sleep 0.2; return 0; }
      done
    fi
    sleep 0.05
  done
  return 1
}
# Waits until FILE contains the fixed string S at least N times, for up to
# MS milliseconds; prints the milliseconds it took. Fails on time-out.
wait_count() {
  local file=$1 s=$2 n=$3 ms=$4 start n_now
  start=$(now_ms)
  while :; do
    n_now=$(no_sgr "$file" 2>/dev/null | grep -cF -- "$s")
    if [ "${n_now:-0}" -ge "$n" ]; then echo $(($(now_ms) - start)); return 0; fi
    if [ $(($(now_ms) - start)) -ge "$ms" ]; then echo $(($(now_ms) - start)); return 1; fi
    sleep 0.02
  done
}
# Appends lines (arguments) to the log in one write.
append() { printf '%s\n' "$@" >>"$LOG"; }
# live_event NAME LINE: LINE must show once in the watch output within 1 s.
live_event() {
  local ms
  if ms=$(wait_count "$WOUT" "$2" 1 1000); then
    ok "$1 (${ms} ms)"
  else
    not_ok "$1" "not shown within 1 s ($(no_sgr "$WOUT" | tail -n 3 | tr '\n' '|'))"
  fi
}
# The newest pgconn-agg record has these values (a jq condition), within MS.
agg_says() {
  local i cond=$2 ms=${3:-1500} start
  start=$(now_ms)
  while :; do
    if [ -s "$AOUT" ] && tail -n 1 "$AOUT" | jq -e "$cond" >/dev/null 2>&1; then
      ok "$1 ($(($(now_ms) - start)) ms)"; return 0
    fi
    if [ $(($(now_ms) - start)) -ge "$ms" ]; then
      not_ok "$1" "newest record: $(tail -n 1 "$AOUT")"; return 1
    fi
    sleep 0.05
  done
}

########################################################################
# 1. A log file that grows, is rotated and is truncated.
LOG=$T/pg.log
WOUT=$T/watch.out
AOUT=$T/agg.out
: >"$LOG"
P=$PARSE
start_group watch "tail -n 0 -F '$LOG' 2>'$T/tail.err' | '$P' 2>'$T/parse.err' | '$WATCH' >'$WOUT' 2>'$T/watch.err'"
G_WATCH=$GROUP
start_group agg "tail -n 0 -F '$LOG' 2>'$T/tail2.err' | '$P' 2>'$T/parse2.err' | '$AGG' --interval=500ms --json >'$AOUT' 2>'$T/agg.err'"
G_AGG=$GROUP
if wait_tail_open "$G_WATCH" "$LOG" && wait_tail_open "$G_AGG" "$LOG"; then
  ok "both pipelines follow the log"
else
  not_ok "both pipelines follow the log" "tail did not open $LOG"
fi

append '2024-05-01 10:00:00.000 UTC [1001] LOG:  connection received: host=10.0.1.5 port=50001' \
  '2024-05-01 10:00:00.010 UTC [1001] LOG:  connection authorized: user=app_user database=shop application_name=rails'
live_event "live: a connect shows within 1 s, no further input" \
  "[+] 10:00:00 rails connected from 10.0.1.5 (user: app_user, db: shop)"
agg_says "live: pgconn-agg counts it within an interval" '.active == 1 and .connects == 1'
append '2024-05-01 10:00:02.310 UTC [1001] LOG:  disconnection: session time: 0:00:02.300 user=app_user database=shop host=10.0.1.5 port=50001'
live_event "live: its disconnect shows within 1 s" \
  "[-] 10:00:02 rails disconnected (duration: 2.3s, user: app_user, db: shop)"
append '2024-05-01 10:00:03.000 UTC [1002] LOG:  connection received: host=[local]' \
  '2024-05-01 10:00:03.001 UTC [1002] LOG:  connection authorized: user=bob database=nosuch' \
  '2024-05-01 10:00:03.002 UTC [1002] FATAL:  database "nosuch" does not exist'
live_event "live: a rejection shows within 1 s" \
  "[!] 10:00:03 Connection failed: database does not exist (user: bob, db: nosuch, host: [local])"
append '2024-05-01 10:00:04.000 UTC [1004] LOG:  connection received: host=10.0.1.6 port=50002' \
  '2024-05-01 10:00:04.020 UTC [1004] LOG:  connection authorized: user=app_user database=shop application_name=sidekiq'
live_event "live: a second connect shows within 1 s" \
  "[+] 10:00:04 sidekiq connected from 10.0.1.6 (user: app_user, db: shop)"
agg_says "live: pgconn-agg before the rotation" \
  '.active == 1 and .connects == 2 and .disconnects == 1 and .rejects == {"no_database": 1}'

# Rotation: the session of pid 1004 ends in the new file.
mv "$LOG" "$LOG.1"
: >"$LOG"
append '2024-05-01 10:01:04.520 UTC [1004] LOG:  disconnection: session time: 0:01:00.500 user=app_user database=shop host=10.0.1.6 port=50002' \
  '2024-05-01 10:01:05.000 UTC [1003] LOG:  connection received: host=[local]' \
  '2024-05-01 10:01:05.002 UTC [1003] LOG:  connection authorized: user=admin database=postgres application_name=myapp'
if wait_for_text "$T/tail.err" "following new file" 50; then ok "rotation: tail -F follows the new file"
else not_ok "rotation: tail -F follows the new file" "tail said: $(cat "$T/tail.err")"; fi
if ms=$(wait_count "$WOUT" "[-] 10:01:04 sidekiq disconnected (duration: 1m00s, user: app_user, db: shop)" 1 3000); then
  ok "rotation: a session that ends in the new file keeps its app ($ms ms)"
else not_ok "rotation: a session that ends in the new file keeps its app" "$(no_sgr "$WOUT" | tail -n 3 | tr '\n' '|')"; fi
if ms=$(wait_count "$WOUT" "[+] 10:01:05 myapp connected from [local] (user: admin, db: postgres)" 1 3000); then
  ok "rotation: a connect in the new file shows ($ms ms)"
else not_ok "rotation: a connect in the new file shows" "$(no_sgr "$WOUT" | tail -n 3 | tr '\n' '|')"; fi
agg_says "rotation: pgconn-agg after it" '.active == 1 and .connects == 3 and .disconnects == 2' 3000

# Truncation: tail must see it before the file grows past its old size.
: >"$LOG"
if wait_for_text "$T/tail.err" "file truncated" 50 && wait_for_text "$T/tail2.err" "file truncated" 50; then
  ok "truncation: tail -F notices"
else not_ok "truncation: tail -F notices" "tail said: $(cat "$T/tail.err")"; fi
append '2024-05-01 10:02:05.002 UTC [1003] LOG:  disconnection: session time: 0:01:00.000 user=admin database=postgres host=[local]'
live_event "truncation: a disconnect after it shows within 1 s" \
  "[-] 10:02:05 myapp disconnected (duration: 1m00s, user: admin, db: postgres)"
append '2024-05-01 10:02:06.000 UTC [1005] LOG:  connection received: host=10.0.1.7 port=50003' \
  '2024-05-01 10:02:06.004 UTC [1005] LOG:  connection authorized: user=app_user database=shop application_name=psql'
live_event "truncation: a connect after it shows within 1 s" \
  "[+] 10:02:06 psql connected from 10.0.1.7 (user: app_user, db: shop)"
agg_says "truncation: pgconn-agg after it" \
  '.active == 1 and .connects == 4 and .disconnects == 3 and .rejects == {"no_database": 1} and .by.app == {"psql": 1}'

# Nothing lost, nothing invented, nothing twice, in order.
sleep 0.3
# shellcheck disable=SC2034  # used inside check's eval
EXPECTED='[+] 10:00:00 rails connected from 10.0.1.5 (user: app_user, db: shop)
[-] 10:00:02 rails disconnected (duration: 2.3s, user: app_user, db: shop)
[!] 10:00:03 Connection failed: database does not exist (user: bob, db: nosuch, host: [local])
[+] 10:00:04 sidekiq connected from 10.0.1.6 (user: app_user, db: shop)
[-] 10:01:04 sidekiq disconnected (duration: 1m00s, user: app_user, db: shop)
[+] 10:01:05 myapp connected from [local] (user: admin, db: postgres)
[-] 10:02:05 myapp disconnected (duration: 1m00s, user: admin, db: postgres)
[+] 10:02:06 psql connected from 10.0.1.7 (user: app_user, db: shop)'
# Ctrl+C to both pipelines (the whole process group, as a terminal does).
kill -INT -- "-$G_WATCH" "-$G_AGG" 2>/dev/null
for i in $(seq 1 100); do [ -s "$T/watch.status" ] && [ -s "$T/agg.status" ] && break; sleep 0.05; done
check_why "live: Ctrl+C: pgconn-parse and pgconn-watch exit 0" \
  "[ \"\$(cut -d' ' -f2,3 '$T/watch.status' 2>/dev/null)\" = '0 0' ]" "echo 'PIPESTATUS (tail parse watch):'; cat '$T/watch.status'; cat '$T/watch.err' '$T/parse.err'"
check_why "live: Ctrl+C: pgconn-agg exits 0 after a final record" \
  "[ \"\$(cut -d' ' -f3 '$T/agg.status' 2>/dev/null)\" = 0 ] && tail -n 1 '$AOUT' | jq -e '.connects == 4 and .disconnects == 3 and .active == 1' >/dev/null" \
  "echo 'PIPESTATUS (tail parse agg):'; cat '$T/agg.status'; tail -n 1 '$AOUT'; cat '$T/agg.err'"
check_why "live: exactly the 8 events, in order, Ctrl+C added none (4 connects, 3 disconnects, 1 reject)" \
  "[ \"\$(cat '$WOUT')\" = \"\$EXPECTED\" ]" "cat '$WOUT'"
check_why "live: the watch output into a pipe has no header and no ESC byte" \
  "! grep -q \$'\\x1b' '$WOUT' && ! grep -q Watching '$WOUT'" "show_bytes '$WOUT'"
# pgconn-agg has stopped writing: its whole output.
check_why "live: every pgconn-agg record is one JSON object" \
  "[ \$(jq -c . '$AOUT' 2>/dev/null | wc -l) = \$(wc -l <'$AOUT') ] && [ \$(wc -l <'$AOUT') -ge 4 ]" "head -c 400 '$AOUT'"
check_why "live: pgconn-agg's counts never went down (no event twice or undone)" \
  "jq -s '[.[].connects] as \$c | [.[].disconnects] as \$d | (\$c == (\$c|sort)) and (\$d == (\$d|sort)) and (\$c|max) == 4' '$AOUT' | grep -qx true" \
  "jq -c '[.connects,.disconnects,.active]' '$AOUT' | tr '\n' ' '"

check_why "live: no warnings from parse or watch" "[ ! -s '$T/parse.err' ] && ! grep -qvx 'pgconn-watch: exited watch mode' '$T/watch.err'" \
  "cat '$T/parse.err' '$T/watch.err'"

########################################################################
# 2. A real PostgreSQL server.
if [ "${PGCONN_SKIP_SERVER:-}" = 1 ]; then
  skip "real PostgreSQL server" "PGCONN_SKIP_SERVER=1"
  lib_done
fi
[ -n "$PYTHON" ] || fatal "python3 for the pseudo-terminal" "python3 not found"
# shellcheck source=e2e/pgcluster.sh
source "$LIB_ROOT/tests/e2e/pgcluster.sh"
lib_on_exit pgc_cleanup
start=$SECONDS
if pgc_init 20 >"$T/pgc.out" 2>&1 &&
   pgc_start log_filename=live.log log_connections=on log_disconnections=on \
     "log_line_prefix=%m [%p] " >>"$T/pgc.out" 2>&1; then
  ok "a PostgreSQL server runs ($((SECONDS - start)) s, port $PGC_PORT)"
else
  fatal "a PostgreSQL server runs" "$(tail -n 5 "$T/pgc.out")"
fi
PLOG=$PGC_LOGDIR/live.log
POUT=$T/pg-watch.out
FOUT=$T/pg-filter.out
# Both on a pseudo-terminal, TERM set, NO_COLOR unset: colour. `trap : INT`:
# bash outlives Ctrl+C (its children get SIGINT's default action) and exits
# with watch's status.
LIB_PTY_PIDFILE=$T/pg-watch.pid on_pty "$POUT" \
  bash -c "trap : INT; tail -n +1 -F '$PLOG' 2>/dev/null | '$P' 2>'$T/pg-parse.err' | '$WATCH' 2>'$T/pg-watch.err'; exit \${PIPESTATUS[2]}" &
PTY_JOB=$!
LIB_PTY_PIDFILE=$T/pg-filter.pid on_pty "$FOUT" \
  bash -c "trap : INT; tail -n +1 -F '$PLOG' 2>/dev/null | '$P' 2>/dev/null | '$WATCH' app=myapp; exit \${PIPESTATUS[2]}" &
PTY_JOB2=$!
wait_until 5 "[ -s '$T/pg-watch.pid' ] && [ -s '$T/pg-filter.pid' ]"
G_PG=$(cat "$T/pg-watch.pid" 2>/dev/null) && lib_track_group "$G_PG"
G_PF=$(cat "$T/pg-filter.pid" 2>/dev/null) && lib_track_group "$G_PF"
# The log from the start: the server became ready.
if ms=$(wait_count "$POUT" "Server ready to accept connections" 1 5000); then
  ok "server: the watcher shows 'Server ready' from the log ($ms ms)"
else not_ok "server: the watcher shows 'Server ready' from the log" "$(show_bytes "$POUT")"; fi
check_why "server: the header on the terminal" "[ \"\$(head -1 '$POUT')\" = 'Watching connections (Ctrl+C to exit)' ]" "show_bytes '$POUT'"
# The filtered watcher is a pipeline of its own: it may come later (it did
# under ASan, with another suite beside it).
wait_count "$FOUT" "Server ready to accept connections" 1 5000 >/dev/null
check_why "server: the filtered header on the terminal" \
  "[ \"\$(head -1 '$FOUT')\" = 'Watching connections for application: myapp (Ctrl+C to exit)' ]" "show_bytes '$FOUT'"

# A session held open: its [+] shows while it lasts, its [-] when it ends.
if pgc_hold s1 sock postgres postgres console 2>>"$T/pgc.out"; then
  if ms=$(wait_count "$POUT" "console connected from [local] (user: postgres, db: postgres)" 1 2000); then
    ok "server: an open session's [+] line shows while it is open ($ms ms)"
  else not_ok "server: an open session's [+] line shows while it is open" "$(no_sgr "$POUT" | tail -n 3 | tr '\n' '|')"; fi
  pgc_close s1 2>>"$T/pgc.out"
  if ms=$(wait_count "$POUT" "console disconnected (duration: " 1 2000); then
    ok "server: its [-] line when it ends ($ms ms)"
  else not_ok "server: its [-] line when it ends" "$(no_sgr "$POUT" | tail -n 3 | tr '\n' '|')"; fi
else
  not_ok "server: a held session" "$(tail -n 3 "$T/pgc.out" | tr '\n' ' ')"
fi
pgc_settle pgc_psql sock postgres postgres myapp -c 'select 1' >/dev/null 2>>"$T/pgc.out"
pgc_settle pgc_psql sock postgres postgres - -c 'select 1' >/dev/null 2>>"$T/pgc.out"
pgc_settle pgc_psql sock postgres postgres myapp -c 'select 2' >/dev/null 2>>"$T/pgc.out"
# Over TCP the postgres role has no password: a rejection.
pgc_settle pgc_psql tcp4 postgres postgres myapp -c 'select 1' >/dev/null 2>&1
if ms=$(wait_count "$POUT" "Connection failed: authentication failed (user: postgres, host: 127.0.0.1)" 1 2000); then
  ok "server: a failed login shows as [!] ($ms ms)"
else not_ok "server: a failed login shows as [!]" "$(no_sgr "$POUT" | tail -n 3 | tr '\n' '|')"; fi
wait_count "$POUT" "psql disconnected" 1 2000 >/dev/null
wait_count "$FOUT" "myapp disconnected" 2 2000 >/dev/null
check_why "server: myapp connected twice over the socket" \
  "[ \$(no_sgr '$POUT' | grep -cxE '\\[\\+\\] [0-9:]{8} myapp connected from \\[local\\] \\(user: postgres, db: postgres\\)') = 2 ]" "no_sgr '$POUT'"
check_why "server: myapp disconnected twice, with durations" \
  "[ \$(no_sgr '$POUT' | grep -cxE '\\[-\\] [0-9:]{8} myapp disconnected \\(duration: [0-9.]+m?s, user: postgres, db: postgres\\)') = 2 ]" "no_sgr '$POUT'"
check_why "server: psql (no application_name set) connected and disconnected once" \
  "[ \$(no_sgr '$POUT' | grep -c '\\] [0-9:]* psql connected from \\[local\\]') = 1 ] && [ \$(no_sgr '$POUT' | grep -c '\\] [0-9:]* psql disconnected') = 1 ]" "no_sgr '$POUT'"
check_why "server: 4 connects, 4 disconnects, 1 rejection in all" \
  "[ \$(no_sgr '$POUT' | grep -c ' connected from ') = 4 ] && [ \$(no_sgr '$POUT' | grep -c ' disconnected') = 4 ] && [ \$(no_sgr '$POUT' | grep -c 'Connection failed') = 1 ]" "no_sgr '$POUT'"
# 4 connects; the server's start is [*] (issue 13: [+] is a connection only).
check_why "server: [+] lines are green, one per connect" "[ \$(grep -cF \$'\\x1b[32m[+]\\x1b[0m' '$POUT') = 4 ]" "show_bytes '$POUT'"
check_why "server: the server's start is a green [*]" "[ \$(grep -cF \$'\\x1b[32m[*]\\x1b[0m' '$POUT') = 1 ]" "show_bytes '$POUT'"
check_why "server: [-] lines are yellow" "[ \$(grep -cF \$'\\x1b[33m[-]\\x1b[0m' '$POUT') = 4 ]" "show_bytes '$POUT'"
check_why "server: [!] lines are red" "[ \$(grep -cF \$'\\x1b[31m[!]\\x1b[0m' '$POUT') = 1 ]" "show_bytes '$POUT'"
check_why "server: app=myapp shows only myapp's sessions (and the server's own lines)" \
  "[ \$(no_sgr '$FOUT' | grep -c 'myapp connected from \\[local\\]') = 2 ] && [ \$(no_sgr '$FOUT' | grep -c 'myapp disconnected') = 2 ] && ! no_sgr '$FOUT' | grep -qE 'console|psql|Connection failed'" \
  "no_sgr '$FOUT'"
check_why "server: app=myapp output is coloured too" "grep -qF \$'\\x1b[32m[+]' '$FOUT'" "show_bytes '$FOUT'"

# The server shuts down: one line says every session ended.
pgc_stop fast 2>>"$T/pgc.out"
if ms=$(wait_count "$POUT" "Server shut down: every session ended" 1 3000); then
  ok "server: its shutdown shows ($ms ms)"
else not_ok "server: its shutdown shows" "$(no_sgr "$POUT" | tail -n 3 | tr '\n' '|')"; fi

# Ctrl+C: the terminal signals the whole pipeline.
kill -INT -- "-$G_PG" "-$G_PF" 2>/dev/null
# Regression (was a bug): tail dies of the same SIGINT, and watch, reading
# that EOF, ended as at the end of its input (watch_cli_test.sh tries it
# many times).
wait "$PTY_JOB"; rc=$?
check_why "server: Ctrl+C: 'Exited watch mode.' and exit 0" \
  "[ $rc = 0 ] && [ \"\$(tail -n 1 '$POUT')\" = 'Exited watch mode.' ]" "echo rc=$rc; no_sgr '$POUT' | tail -n 2; cat '$T/pg-watch.err'"
wait "$PTY_JOB2"; rc=$?
check_why "server: Ctrl+C on the filtered watcher: exit 0" \
  "[ $rc = 0 ] && [ \"\$(tail -n 1 '$FOUT')\" = 'Exited watch mode.' ]" "echo rc=$rc; no_sgr '$FOUT' | tail -n 2"
check_why "server: no warnings from parse or watch" "[ ! -s '$T/pg-parse.err' ] && [ ! -s '$T/pg-watch.err' ]" \
  "cat '$T/pg-parse.err' '$T/pg-watch.err'"

lib_done
