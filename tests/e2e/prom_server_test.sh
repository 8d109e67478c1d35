#!/usr/bin/env bash
# prom_server_test.sh: pgconn-agg --prom-file end to end (issue 16), against
# real programs on free loopback ports with temporary directories, all
# stopped by pid:
#
#   PostgreSQL (pgcluster.sh) -> its log -> tail -F | pgconn-parse --label=db1
#   | pgconn-agg --prom-file=TEXTFILE_DIR/pgconn.prom --interval=250ms
#   -> prometheus-node-exporter (only the textfile collector)
#   -> prometheus scraping it every second -> its HTTP API
#
# Sessions (one with quotes and a backslash in its application_name, one
# with none), one-shot sessions, and every rejection that is cheap to cause
# (10 kinds: all but auth_timeout, which takes a second, and the start,
# shutdown and recovery ones, which need the server down). Then Prometheus
# must say what PostgreSQL says:
# sum(pgconn_sessions_active) and the sums by datname, usename and
# application_name equal pg_stat_activity's client backends;
# pgconn_rejects_total by reason equals the attempts made (every other
# reason at 0); pgconn_session_duration_seconds_count equals the log's
# disconnection lines. A restart of the pipeline replays the log and writes
# the same counters (no reset for Prometheus); SIGHUP writes every counter
# at 0 (Prometheus sees the reset), increase() counts what came after, and
# the open sessions stay; pgconn_view_complete is 1 (the log has the start).
#
# Prints `ok - NAME` / `not ok - NAME: why`. About 40 s. Needs PostgreSQL,
# prometheus, prometheus-node-exporter, curl and jq (skips with an ok line
# when prometheus or node_exporter is missing).
# Environment: PGCONN_PARSE, PGCONN_AGG (default bin/...); PGCONN_E2E_KEEP=DIR
# keeps the log, the .prom file, the daemons' output (tests/e2e/e2e.sh).
set -uo pipefail
exec </dev/null
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
# shellcheck source=promstack.sh
. "$here/promstack.sh"

e2e_begin parse agg
if ! promstack_available; then
  for t in prometheus prometheus-node-exporter; do
    command -v $t >/dev/null || { ok "prom_server skipped: no $t (Debian package $t)"; exit 0; }
  done
fi
e2e_begin curl jq

start=$SECONDS
TXT=$WORK/textfile

# ------------------------------------------------------------ node_exporter and prometheus
promstack_start "$TXT"
NE_PORT=$PROM_NE_PORT
# until_equal SECONDS COMMAND-A COMMAND-B: waits until both print the same.
until_equal() {
  local deadline=$((SECONDS + $1))
  while :; do
    A_OUT=$(eval "$2") B_OUT=$(eval "$3")
    [[ $A_OUT == "$B_OUT" ]] && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}

# ------------------------------------------------------------ PostgreSQL and the pipeline
e2e_pg_init 10
LOG=$PGC_LOGDIR/prom.log
e2e_pg_start log_filename=prom.log "log_line_prefix=%m [%p] %q%u@%d " log_destination=stderr \
  log_connections=on log_disconnections=on superuser_reserved_connections=3

PROM_FILE=$TXT/pgconn.prom
start_pipeline() {
  rm -f "$WORK/tail.fifo" "$WORK/parse.fifo"
  mkfifo "$WORK/tail.fifo" "$WORK/parse.fifo"
  tail -n +1 -F "$LOG" >"$WORK/tail.fifo" 2>/dev/null &
  e2e_track pipeline $!
  "$PARSE" --label=db1 <"$WORK/tail.fifo" >"$WORK/parse.fifo" 2>>"$WORK/parse.err" &
  e2e_track pipeline $!
  "$AGG" --prom-file="$PROM_FILE" --interval=250ms <"$WORK/parse.fifo" >"$WORK/agg.out" 2>>"$WORK/agg.err" &
  AGG_PID=$!
  e2e_track pipeline $!
}
start_pipeline
ok "PostgreSQL $(pgc_version) on port $PGC_PORT, node_exporter on $NE_PORT, prometheus on $PROM_PORT"

err=$(pgc_setup app_user admin readonly limited_role nologin_role hba_blocked shop analytics limited_db 2>&1) ||
  fatal "create roles and databases" "$err"

# ------------------------------------------------------------ sessions and rejections
hold() { e2e_hold "$@"; }
close() { e2e_close "$1"; }
once() { err=$(pgc_settle pgc_psql "$@" -c 'select 1' 2>&1 >/dev/null) || fatal "one-shot session $*" "$err"; }
reject() { e2e_reject "$@"; }  # REASON TRANSPORT USER DB PATTERN

hold console sock admin postgres 'admin console'
hold web-1 tcp4 app_user shop web
hold web-2 tcp4 app_user shop web
hold noapp sock readonly analytics ''
hold quoted sock app_user shop 'say "hi" C:\tmp'
hold limited tcp4 limited_role shop 'limited app'
hold batch sock app_user limited_db 'batch job'
close web-2
once sock app_user shop web
once tcp4 readonly analytics report
once sock postgres postgres -

PGC_PASS_OVERRIDE=wrong-password reject auth_failed tcp4 app_user shop 'password authentication failed for user "app_user"'
reject auth_failed tcp4 ghost shop 'password authentication failed for user "ghost"'
reject no_role sock ghost postgres 'role "ghost" does not exist'
reject no_database sock app_user nosuchdb 'database "nosuchdb" does not exist'
reject login_not_allowed sock nologin_role postgres 'role "nologin_role" is not permitted to log in'
reject role_limit tcp4 limited_role shop 'too many connections for role "limited_role"'
reject db_limit sock readonly limited_db 'too many connections for database "limited_db"'
reject hba_reject tcp4 hba_blocked shop 'pg_hba.conf rejects connection for host*'
reject no_hba_entry tcp4 app_user template1 'no pg_hba.conf entry for host*'
# The slots: 10 max_connections, 3 reserved for superusers.
i=0 open_now=6
while ((open_now < 7)); do i=$((i + 1)); open_now=$((open_now + 1)); hold "filler-$i" sock app_user postgres "filler"; done
reject reserved_slots tcp4 readonly shop 'remaining connection slots are reserved for *'
while ((open_now < 10)); do i=$((i + 1)); open_now=$((open_now + 1)); hold "filler-$i" sock admin postgres "filler"; done
reject too_many_clients sock admin postgres 'sorry, too many clients already'
for ((; i > 0; i--)); do close "filler-$i"; done
n_rejects=0
for r in "${!E2E_REJECTS[@]}"; do n_rejects=$((n_rejects + E2E_REJECTS[$r])); done

# What PostgreSQL says, from a one-shot session that leaves itself out.
pg_activity() {  # COLUMN: "name|count" lines, sorted
  pgc_settle pgc_psql sock postgres postgres observer -At -F '|' -c \
    "select coalesce($1, '') as k, count(*) from pg_stat_activity
     where backend_type = 'client backend' and pid <> pg_backend_pid() group by 1 order by 1" 2>/dev/null
}
for col in datname usename application_name; do pg_activity "$col" | sed 's/|\([0-9]*\)$/=\1/' | sort >"$WORK/pg.$col"; done
pg_total=$(awk -F= '{ s += $2 } END { print s + 0 }' "$WORK/pg.datname")
check "pg_stat_activity: 6 client backends (the test's held sessions)" "[ $pg_total = 6 ]" "$(cat "$WORK/pg.datname")"
pgc_wait_log "$LOG" 'FATAL:  ' "$n_rejects" 15 2>/dev/null || not_ok "the log" "want $n_rejects FATAL lines"
ended=$(pgc_log_count "$LOG" 'disconnection: session time:')

# ------------------------------------------------------------ Prometheus says what PostgreSQL says
until_equal 20 "prom_scalar 'up'" "echo 1" || fatal "prometheus scrapes node_exporter" "up: '$A_OUT' after 20 s; $(tail -3 "$WORK/prometheus.log")"
ok "prometheus scrapes node_exporter ($((SECONDS - start)) s after the start)"
# prom_by LABEL: "name=count" lines of sum by (LABEL), zeros left out.
prom_by() {
  curl -s -G "$PROM_API" --data-urlencode "query=sum by ($1) (pgconn_sessions_active) != 0" |
    jq -r --arg l "$1" '.data.result[] | "\(.metric[$l] // "")=\(.value[1])"' | sort
}
until_equal 15 "prom_scalar 'sum(pgconn_sessions_active)'" "echo $pg_total"
check "sum(pgconn_sessions_active) = pg_stat_activity's $pg_total" "[ '$A_OUT' = '$pg_total' ]" "prometheus: '$A_OUT'"
for col in datname usename application_name; do
  until_equal 5 "prom_by $col" "cat '$WORK/pg.$col'"
  check "sum by ($col) (pgconn_sessions_active) = pg_stat_activity" "[ \"\$A_OUT\" = \"\$B_OUT\" ]" \
    "prometheus: $(echo $A_OUT) / postgres: $(echo $B_OUT)"
done
want_rejects=$(for r in "${!E2E_REJECTS[@]}"; do echo "reason=$r ${E2E_REJECTS[$r]}"; done | sort)
nonzero_rejects() { prom_query 'sum by (reason) (pgconn_rejects_total)' | awk '$2 != 0'; }
until_equal 5 nonzero_rejects "echo \"\$want_rejects\""
check "pgconn_rejects_total by reason = the $n_rejects attempts (${#E2E_REJECTS[@]} reasons)" "[ \"\$A_OUT\" = \"\$B_OUT\" ]" \
  "prometheus: $(echo $A_OUT) / attempts: $(echo $B_OUT)"
check "pgconn_rejects_total: all 15 reasons of server db1 present" \
  "[ \$(prom_query 'pgconn_rejects_total{server=\"db1\"}' | wc -l) -ge 15 ]"
until_equal 5 "prom_scalar 'sum(pgconn_session_duration_seconds_count)'" "echo $ended"
check "sum(pgconn_session_duration_seconds_count) = the log's $ended disconnection lines" "[ '$A_OUT' = '$ended' ]" "prometheus: '$A_OUT'"
check "the +Inf buckets equal the counts" \
  "[ \"\$(prom_scalar 'sum(pgconn_session_duration_seconds_bucket{le=\"+Inf\"})')\" = '$ended' ]"
q=$(prom_scalar 'sum(pgconn_connects_total{application_name="say \"hi\" C:\\tmp"})')
check "an application_name with quotes and a backslash comes through" "[ '$q' = 1 ]" "prometheus: '$q'"
check "pgconn_view_complete{server=\"db1\"} 1 (the log begins with the server's start)" \
  "[ \"\$(prom_scalar 'pgconn_view_complete{server=\"db1\"}')\" = 1 ]"
check "node_textfile_scrape_error 0" "[ \"\$(prom_scalar node_textfile_scrape_error)\" = 0 ]"

# ------------------------------------------------------------ a restart of the pipeline
connects=$(prom_scalar 'sum(pgconn_connects_total)')
reset1=$(prom_scalar 'max(pgconn_stats_reset_timestamp_seconds)')
e2e_stop pipeline
sleep 1.2  # at least one scrape of the old file
start_pipeline
until_equal 10 "prom_scalar 'max(pgconn_stats_reset_timestamp_seconds) > bool $reset1'" "echo 1" ||
  not_ok "restart: a new pgconn_stats_reset_timestamp_seconds" "still $reset1"
sleep 1.2
check "restart: the replayed log gives the same connects ($connects)" \
  "[ \"\$(prom_scalar 'sum(pgconn_connects_total)')\" = '$connects' ]"
check "restart: Prometheus sees no counter reset" \
  "[ \"\$(prom_scalar 'sum(resets(pgconn_connects_total[30s])) + sum(resets(pgconn_rejects_total[30s])) + sum(resets(pgconn_session_duration_seconds_count[30s]))')\" = 0 ]"
check "restart: sum(pgconn_sessions_active) still $pg_total" "[ \"\$(prom_scalar 'sum(pgconn_sessions_active)')\" = '$pg_total' ]"

# ------------------------------------------------------------ SIGHUP
web='pgconn_connects_total{application_name="web"}'
before=$(prom_scalar "sum($web)")
kill -HUP "$AGG_PID"
until_equal 5 "prom_scalar 'sum($web)'" "echo 0" || not_ok "SIGHUP: the counters at 0" "web connects: $A_OUT"
once sock app_user shop web
once tcp4 app_user shop web
until_equal 5 "prom_scalar 'sum($web)'" "echo 2" || not_ok "SIGHUP: 2 connects after it" "web connects: $A_OUT"
sleep 1.2
check "SIGHUP: Prometheus saw the counter reset ($before, 0, 2)" "[ \"\$(prom_scalar 'sum(resets(${web}[20s]))')\" -ge 1 ]"
inc=$(prom_scalar "sum(increase(${web}[15s]))")
check "SIGHUP: increase() over it counts the 2 new connects ($inc)" "awk 'BEGIN { exit !($inc >= 2 && $inc < 3) }'"
check "SIGHUP: the open sessions stay (sum(pgconn_sessions_active) = $pg_total)" \
  "[ \"\$(prom_scalar 'sum(pgconn_sessions_active)')\" = '$pg_total' ]"
check "pgconn-agg wrote no warning" "! grep -q warning '$WORK/agg.err'" "$(head -3 "$WORK/agg.err")"
ok "done in $((SECONDS - start)) s"
lib_done
