#!/usr/bin/env bash
# holes_server_test.sh: the holes of issue 13 part 4 that pgconn-parse
# closes, against a real PostgreSQL server. One throw-away cluster
# (pgcluster.sh) is taken through four runs, each with its own log file:
#
#   crash    `%m [%p] `: two sessions open, the postmaster and every child
#            killed with SIGKILL (no crash line is logged), a start, a new
#            session: the sessions of before end at `ready`, no disconnect
#            is invented.
#   app      pgBadger's `%t [%p]: user=%u,db=%d,app=%a,client=%h ` with
#            log_statement=all: sessions run SET application_name; the
#            statement lines after it move them (`update`), and a session
#            that logs no statement is moved by its disconnection line.
#   switch   `%m [%p] `, then log_destination csvlog, then jsonlog (ALTER
#            SYSTEM + reload) with sessions opened and ended across the
#            switches; the three files read in one run, and concatenated on
#            standard input.
#   empty    the empty prefix (PostgreSQL 9.6's default: no pid, no time):
#            pool connections set up at the same time, two of them ended by
#            pg_terminate_backend.
#
# In each run the sessions open in pg_stat_activity at the end are compared
# with the sessions the events leave open (connect opens, disconnect and
# reject close, a `server` event closes all of its server's; `update`
# renames), by count and by application name.
#
# Prints `ok - NAME` / `not ok - NAME: why`; exits 1 if any check failed.
# Needs PostgreSQL server binaries and jq. About 20 s.
#
# Environment: PGCONN_PARSE (default bin/pgconn-parse); PGCONN_E2E_KEEP=DIR
# keeps the logs and the events.
set -uo pipefail
exec </dev/null
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
e2e_begin parse jq
out=$WORK

e2e_pg_init 20
base=(log_connections=on log_disconnections=on)

# The sessions the events leave open, one "app" a line (sorted; "-" for
# none). Session keys are per server.
open_apps() {
  jq -rn 'reduce inputs as $e ({};
      (($e.server // "") + "\u0000") as $s |
      if $e.type == "connect" or $e.type == "update" then .[$s + $e.session] = ($e.app // "-")
      elif $e.type == "disconnect" or $e.type == "reject" then del(.[$s + $e.session])
      elif $e.type == "server" then with_entries(select(.key | startswith($s) | not))
      else . end) | .[]' "$1" | sort | tr '\n' ' '
}

# Client sessions open now (but ours), one application_name a line, sorted.
# Waits until our own disconnection has been logged (in FILE, counting
# "disconnection" lines).
server_apps() {
  local file=$1 n apps
  n=$(pgc_log_count "$file" "disconnection")
  apps=$(pgc_psql sock postgres postgres - -c "select coalesce(nullif(application_name, ''), '-')
    from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()
    order by 1") || return 1
  pgc_wait_log "$file" "disconnection" $((n + 1)) 10 || return 1
  printf '%s\n' "$apps" | sed '/^$/d' | sort | tr '\n' ' '
}

# ------------------------------------------------------------------ crash

pgc_start "${base[@]}" 'log_line_prefix=%m [%p] ' log_filename=crash.log ||
  fatal "crash: server starts" "see above"
err=$(pgc_setup app_user shop 2>&1) || fatal "crash: set-up" "$err"
log=$PGC_LOGDIR/crash.log
pgc_hold k1 tcp4 app_user shop before-1 && pgc_hold k2 sock postgres postgres before-2 ||
  fatal "crash: sessions open" "see above"
pgc_kill_all || fatal "crash: SIGKILL" "see above"
pgc_start "${base[@]}" 'log_line_prefix=%m [%p] ' log_filename=crash.log ||
  fatal "crash: server starts again after SIGKILL" "see above"
pgc_hold k3 sock postgres postgres after-1 || fatal "crash: a session after the start" "see above"
want=$(server_apps "$log") || fatal "crash: pg_stat_activity" "see above"
"$PARSE" "$log" >"$out/crash.ndjson" 2>"$out/crash.err"
check_eq "crash: pgconn-parse exits 0, nothing on stderr" "0 " "$? $(head -c 200 "$out/crash.err")"
check_eq "crash: open sessions as pg_stat_activity" "$want" "$(open_apps "$out/crash.ndjson")"
check_eq "crash: the sessions of before get no invented disconnect" 0 \
  "$(jq -s 'map(select(.type == "disconnect" and (.app // "" | startswith("before")))) | length' "$out/crash.ndjson")"
check_eq "crash: ready events (start, start after SIGKILL)" 2 \
  "$(jq -s 'map(select(.type == "server" and .state == "ready")) | length' "$out/crash.ndjson")"
pgc_close_all

# -------------------------------------------------------------------- app

pgc_stop fast 2>/dev/null || pgc_stop immediate
pgc_start "${base[@]}" 'log_line_prefix=%t [%p]: user=%u,db=%d,app=%a,client=%h ' \
  log_statement=all log_filename=app.log || fatal "app: server starts" "see above"
log=$PGC_LOGDIR/app.log
pgc_hold a1 tcp4 app_user shop pool && pgc_hold a2 sock postgres postgres keep &&
  pgc_hold a3 sock postgres postgres quiet-before || fatal "app: sessions open" "see above"
pgc_send a1 "SET application_name = 'worker-7';"
pgc_send a1 "select 1;"
pgc_send a2 "SET application_name = 'renamed';"
pgc_send a2 "select 2;"
pgc_wait_log "$log" "select 2" 1 10 || fatal "app: statements logged" "see above"
want=$(server_apps "$log") || fatal "app: pg_stat_activity" "see above"
"$PARSE" "$log" >"$out/app-open.ndjson" 2>"$out/app.err"
check_eq "app: open sessions and their names as pg_stat_activity" "$want" "$(open_apps "$out/app-open.ndjson")"
# a3 stops logging its statements: only its disconnection line shows the name.
pgc_send a3 "SET log_statement = 'none';"
pgc_send a3 "SET application_name = 'quiet-after';"
pgc_send a3 "select 3;"
n=$(pgc_log_count "$log" "disconnection")
pgc_close a1 && pgc_close a3 || not_ok "app: sessions close" "see above"
pgc_wait_log "$log" "disconnection" $((n + 2)) 10
"$PARSE" "$log" >"$out/app.ndjson" 2>"$out/app.err"
check_eq "app: pgconn-parse exits 0, nothing on stderr" "0 " "$? $(head -c 200 "$out/app.err")"
check_eq "app: update events (worker-7, renamed, quiet-after)" "quiet-after renamed worker-7" \
  "$(jq -r 'select(.type == "update") | .app' "$out/app.ndjson" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "app: the disconnects carry the new names" "quiet-after worker-7" \
  "$(jq -r 'select(.type == "disconnect" and .matched) | .app' "$out/app.ndjson" | grep -v '^psql$' | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "app: keys of update in the standard order" "type,ts,pid,session,user,db,app,host,port" \
  "$(jq -rs 'map(select(.type == "update" and .app == "worker-7"))[0] | keys_unsorted | join(",")' "$out/app.ndjson")"
pgc_close_all

# ----------------------------------------------------------------- switch

pgc_stop fast || fatal "switch: server stops" "see above"
pgc_start "${base[@]}" 'log_line_prefix=%m [%p] ' log_filename=switch.log ||
  fatal "switch: server starts" "see above"
pgc_psql sock postgres postgres - -q -c "alter system reset log_destination" -c "select pg_reload_conf()" >/dev/null
pgc_hold s1 tcp4 app_user shop switch-1 && pgc_hold s2 sock postgres postgres switch-2 ||
  fatal "switch: sessions open" "see above"
switch_to() { # DEST APP: reload with DEST, then end the session named APP at once
  pgc_psql sock postgres postgres - -q -c "alter system set log_destination = '$1'" \
    -c "select pg_reload_conf(), pg_sleep(0.05)" \
    -c "select pg_terminate_backend(pid) from pg_stat_activity where application_name = '$2'" >/dev/null
}
switch_to csvlog switch-1
pgc_hold s3 tcp4 app_user shop switch-3 || fatal "switch: a session in csvlog" "see above"
switch_to jsonlog switch-2
pgc_hold s4 sock postgres postgres switch-4 || fatal "switch: a session in jsonlog" "see above"
want=$(server_apps "$PGC_LOGDIR/switch.json") || fatal "switch: pg_stat_activity" "see above"
pgc_psql sock postgres postgres - -q -c "alter system reset log_destination" -c "select pg_reload_conf()" >/dev/null
files=("$PGC_LOGDIR/switch.log" "$PGC_LOGDIR/switch.csv" "$PGC_LOGDIR/switch.json")
"$PARSE" "${files[@]}" >"$out/switch.ndjson" 2>"$out/switch.err"
check_eq "switch: pgconn-parse exits 0, nothing on stderr" "0 " "$? $(head -c 200 "$out/switch.err")"
cp "${files[@]}" "$out/" 2>/dev/null
# Only what was logged up to the count (the files grow on).
check_eq "switch: the three files in one run leave open what pg_stat_activity shows" "$want" \
  "$(jq -c 'select(.app != "psql" or .type == "server")' "$out/switch.ndjson" | open_apps /dev/stdin | sed 's/psql //g')"
cat "${files[@]}" | "$PARSE" >"$out/switch-stdin.ndjson" 2>"$out/switch-stdin.err"
check_eq "switch: the same concatenated on standard input" "$want" \
  "$(jq -c 'select(.app != "psql" or .type == "server")' "$out/switch-stdin.ndjson" | open_apps /dev/stdin | sed 's/psql //g')"
pgc_close_all

# ------------------------------------------------------------------ empty

pgc_stop fast || fatal "empty: server stops" "see above"
pgc_start "${base[@]}" log_line_prefix= log_filename=empty.log || fatal "empty: server starts" "see above"
log=$PGC_LOGDIR/empty.log
pids=()
for i in 1 2 3 4; do
  pgc_psql tcp4 app_user shop "pool-$i" -c "select pg_sleep(2)" >/dev/null 2>&1 &
  pids+=($!)
done
pgc_hold e5 tcp4 app_user shop pool-5 || fatal "empty: a pool session" "see above"
sleep 0.5
pgc_psql sock postgres postgres - -q -c "select pg_terminate_backend(pid) from pg_stat_activity
  where application_name in ('pool-1', 'pool-3')" >/dev/null
wait "${pids[@]}"
want=$(server_apps "$log") || fatal "empty: pg_stat_activity" "see above"
"$PARSE" "$log" >"$out/empty.ndjson" 2>"$out/empty.err"
check_eq "empty: pgconn-parse exits 0, nothing on stderr" "0 " "$? $(head -c 200 "$out/empty.err")"
check_eq "empty: open sessions as pg_stat_activity" "$(wc -w <<<"$want")" "$(open_apps "$out/empty.ndjson" | wc -w)"
check_eq "empty: every disconnection closes a session" \
  "$(pgc_log_count "$log" "disconnection")" \
  "$(jq -s 'map(select(.type == "disconnect" and .matched)) | length' "$out/empty.ndjson")"

lib_done
