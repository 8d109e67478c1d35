#!/usr/bin/env bash
# pgbouncer_server_test.sh: the clients behind a real PgBouncer (issue 17).
#
# Starts a throw-away PostgreSQL (pgcluster.sh) and Debian's PgBouncer in
# front of it (pgbouncer.sh: loopback port, temp config, auth file, log and
# pid file, run unprivileged), follows PgBouncer's log live with
#   tail -n +1 -F pgbouncer.log | pgconn-parse > events
# and at checkpoints compares `pgconn-agg --json events` with the admin
# console's SHOW CLIENTS (the truth for pooler clients), and the rejections
# with the attempts made:
#   short clients over TCP (IPv4, IPv6 when the host has it) and the Unix
#   socket, two users; held clients; a wrong password (auth_failed), an
#   unknown database (no_database) and user (no_role), max_client_conn
#   (too_many_clients), query_wait_timeout with the pool paused; a client
#   killed with kill -9 (client_lost); a cancel request (no session);
#   SIGHUP (nothing changes); a restart of PgBouncer (a server shutdown
#   event ends its clients, a new pid starts afresh).
#
# Prints `ok - NAME` / `not ok - NAME: why`; exits 1 if any check failed.
# Needs PostgreSQL server binaries, pgbouncer and jq. About 25 s.
#
# Environment: PGCONN_PARSE, PGCONN_AGG (default bin/); PGCONN_E2E_KEEP=DIR
# keeps the logs and the events.
set -uo pipefail
exec </dev/null
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
# shellcheck source=pgbouncer.sh
. "$here/pgbouncer.sh"
e2e_begin parse agg jq

EV=$WORK/events.ndjson

e2e_pg_init 20
e2e_pg_start log_connections=on log_disconnections=on
err=$(pgc_setup app_user etl_user shop analytics 2>&1) || fatal "roles and databases created" "$err"
pgb_init || fatal "pgbouncer initialised" "pgb_init failed"
# The base settings of every start: 6 clients at most, a 2 s query wait.
pgb() { pgb_start max_client_conn=6 query_wait_timeout=2 default_pool_size=10 "$@"; }
pgb || fatal "pgbouncer started" "see above"
ok "pgbouncer $(pgbouncer --version 2>/dev/null | head -n 1 | awk '{print $2}') started on port $PGB_PORT"

# The live pipeline: a FIFO between tail and pgconn-parse, so each has a pid.
mkfifo "$WORK/pipe"
tail -n +1 -F "$PGB_LOG" >"$WORK/pipe" 2>/dev/null &
TAIL_PID=$!; e2e_track live $!
"$PARSE" --label=pooler1 <"$WORK/pipe" >"$EV" 2>"$WORK/parse.err" &
PARSE_PID=$!; e2e_track live $!

# clients SHOW CLIENTS lists, admin console left out: "user db" lines, sorted.
show_clients() {
  pgb_admin 'SHOW CLIENTS' | awk -F'|' '$3 != "pgbouncer" { print $2, $3 }' | sort
}
# the same from pgconn-agg: active pooler clients by user and db (the admin
# console's sessions left out), summed over the events so far.
agg_clients() {
  "$AGG" --json --by=user,db "$EV" 2>/dev/null | jq -r '
    .by.user as $u | .by.db as $d | ($d | del(.pgbouncer)) as $dd |
    "active " + ((($dd | add) // 0) | tostring)' 2>/dev/null
}
agg_active_nonadmin() {
  jq -s -r '
    reduce .[] as $e ({}; if $e.db == "pgbouncer" then . else
      if $e.type == "connect" then .[$e.session] = ($e.user + " " + $e.db)
      elif $e.type == "disconnect" or $e.type == "reject" then del(.[$e.session])
      elif $e.type == "server" and ($e.state == "shutdown" or $e.state == "crash") then {}
      else . end end) | .[]' "$EV" | sort
}
# checkpoint NAME: waits (8 s) until the events agree with SHOW CLIENTS,
# both as per-session lists and as pgconn-agg's active count.
checkpoint() {
  local name=$1 want got total i
  want=$(show_clients)
  for ((i = 0; i < 400; i++)); do
    got=$(agg_active_nonadmin)
    total=$("$AGG" --json --by=db "$EV" 2>/dev/null | jq -r '(.active - (.by.db.pgbouncer // 0))')
    [[ $got == "$want" && $total == "$(grep -c . <<<"$want")" ]] && break
    [[ -n $want || -n $got || $total != 0 ]] || break
    sleep 0.02
  done
  if [[ $got == "$want" ]] && { [[ -z $want && $total == 0 ]] || [[ $total == "$(grep -c . <<<"$want")" ]]; }; then
    ok "$name: pgconn-agg shows SHOW CLIENTS' $(grep -c . <<<"$want") clients by user and db"
  else
    not_ok "$name" "SHOW CLIENTS: [$(tr '\n' ',' <<<"$want")] events: [$(tr '\n' ',' <<<"$got")] agg active: $total"
  fi
}
wait_log() { pgc_wait_log "$PGB_LOG" "$1" "$2" 10 || not_ok "log line '$1' x$2" "not in the log"; }
closes() { pgc_log_count "$PGB_LOG" "closing because"; }

# 1. Short clients over every transport, then held ones.
pgb_psql tcp4 app_user shop web -c 'select 1' >/dev/null || not_ok "tcp4 client" "psql failed"
pgb_psql sock etl_user analytics etl -c 'select 1' >/dev/null || not_ok "unix socket client" "psql failed"
if ((PGC_HAVE_IPV6)); then
  pgb_psql tcp6 app_user analytics web -c 'select 1' >/dev/null || not_ok "tcp6 client" "psql failed"
fi
pgb_hold h1 tcp4 app_user shop web || fatal "held h1" "$(cat "$PGC_DIR/hold/h1.err")"
pgb_hold h2 sock etl_user analytics etl || fatal "held h2" "$(cat "$PGC_DIR/hold/h2.err")"
if ((PGC_HAVE_IPV6)); then
  pgb_hold h3 tcp6 app_user analytics report || fatal "held h3" "$(cat "$PGC_DIR/hold/h3.err")"
else
  pgb_hold h3 tcp4 app_user analytics report || fatal "held h3" "$(cat "$PGC_DIR/hold/h3.err")"
fi
checkpoint "three held clients"
check "a Unix socket client is [local] without a port" \
  '[[ $(jq -r "select(.type==\"connect\" and .user==\"etl_user\") | .host + \" \" + (.port|tostring)" "$EV" | sort -u) == "[local] null" ]]'
if ((PGC_HAVE_IPV6)); then
  check "an IPv6 client's host is ::1" '[[ $(jq -r "select(.type==\"connect\" and .host==\"::1\") | .db" "$EV" | sort -u) == analytics ]]'
fi

# 2. Refusals, each attempted once.
PGC_PASS_OVERRIDE=wrong pgb_psql tcp4 app_user shop web -c 'select 1' >/dev/null 2>&1 &&
  not_ok "wrong password refused" "psql succeeded"
pgb_psql tcp4 app_user nosuchdb web -c 'select 1' >/dev/null 2>&1 && not_ok "unknown database refused" "psql succeeded"
pgb_psql tcp4 ghost shop web -c 'select 1' >/dev/null 2>&1 && not_ok "unknown user refused" "psql succeeded"
pgb_hold m1 tcp4 app_user shop web || fatal "held m1" "$(cat "$PGC_DIR/hold/m1.err")"
pgb_hold m2 sock app_user shop web || fatal "held m2" "$(cat "$PGC_DIR/hold/m2.err")"
pgb_hold m3 tcp4 etl_user shop web || fatal "held m3" "$(cat "$PGC_DIR/hold/m3.err")"
checkpoint "six held clients (max_client_conn)"
pgb_psql tcp4 app_user shop web -c 'select 1' >/dev/null 2>"$WORK/max.err" && not_ok "max_client_conn refused" "psql succeeded"
grep -q 'max_client_conn' "$WORK/max.err" || not_ok "max_client_conn refused" "psql said: $(cat "$WORK/max.err")"
pgb_close m1; pgb_close m2; pgb_close m3
# query_wait_timeout: a pool with a server connection (its parameters
# known), paused; a client logs in and waits for a server in vain.
pgb_psql tcp4 etl_user reports etl -c 'select 1' >/dev/null || not_ok "reports client" "psql failed"
pgb_admin 'PAUSE reports' >/dev/null || not_ok "PAUSE reports" "admin console failed"
pgb_psql tcp4 etl_user reports etl -c 'select 1' >/dev/null 2>"$WORK/qwt.err" && not_ok "query_wait_timeout" "psql succeeded"
pgb_admin 'RESUME reports' >/dev/null || not_ok "RESUME reports" "admin console failed"
wait_log "query_wait_timeout (age=" 1
checkpoint "after the refusals"
want_rejects='{"auth_failed":1,"no_database":1,"no_role":1,"too_many_clients":1}'
got_rejects=""
for ((i = 0; i < 250; i++)); do
  got_rejects=$("$AGG" --json "$EV" | jq -c '.rejects')
  [[ $got_rejects == "$want_rejects" ]] && break
  sleep 0.02
done
check "rejections: one per refused attempt, by reason" '[[ $got_rejects == "$want_rejects" ]]' \
  "want $want_rejects, got $got_rejects"
check "query_wait_timeout: a disconnect of a session that was" \
  '[[ $(jq -c "select(.type==\"disconnect\" and .reason==\"query_wait_timeout\") | [.user,.db,.matched]" "$EV") == "[\"etl_user\",\"reports\",true]" ]]'

# 3. kill -9 of a client; a cancel request; SIGHUP.
n=$(closes)
pgb_kill h1
wait_log "closing because" $((n + 1))
checkpoint "after kill -9 of a client"
check "the killed client: a disconnect, client_lost" \
  '[[ $(jq -c "select(.type==\"disconnect\" and .reason==\"client_lost\") | [.user,.db]" "$EV") == "[\"app_user\",\"shop\"]" ]]'
count_connects() { jq -s '[.[] | select(.type=="connect" and .db != "pgbouncer")] | length' "$EV"; }
connects_before=$(count_connects)
pgb_hold c1 tcp4 app_user shop canceller || fatal "held c1" "$(cat "$PGC_DIR/hold/c1.err")"
pgc_send c1 'select pg_sleep(20);'
sleep 0.3
kill -INT "${PGC_HOLD_PID[c1]}"
wait_log "cancel request" 1
pgb_close c1
checkpoint "after a cancel request"
connects_after=$(count_connects)
check "a cancel request is no session (one connect: the cancelled client)" \
  '[[ $((connects_after - connects_before)) == 1 ]]' "connects went from $connects_before to $connects_after"
check "no unmatched disconnects" '[[ -z $(jq -c "select(.matched==false)" "$EV") ]]' \
  "$(jq -c 'select(.matched==false)' "$EV" | head -n 3)"
kill -HUP "$PGB_PID"
wait_log "got SIGHUP" 1
checkpoint "after SIGHUP"

# 4. A restart: the old process's clients end with it.
old_pid=$PGB_PID
pgb_stop TERM || not_ok "pgbouncer stopped" "see above"
pgc_close_all
for ((i = 0; i < 250; i++)); do
  [[ -n $(jq -c 'select(.type=="server" and .state=="shutdown")' "$EV") ]] && break
  sleep 0.02
done
check "PgBouncer's exit: a server shutdown event of pooler1 via pgbouncer" \
  '[[ $(jq -c "select(.type==\"server\" and .state==\"shutdown\") | [.server,.via,.pid]" "$EV") == "[\"pooler1\",\"pgbouncer\",$old_pid]" ]]'
pgb || fatal "pgbouncer restarted" "see above"
check "a new pid" '[[ $PGB_PID != "$old_pid" ]]'
pgb_hold r1 tcp4 app_user shop web || fatal "held r1" "$(cat "$PGC_DIR/hold/r1.err")"
pgb_hold r2 sock etl_user analytics etl || fatal "held r2" "$(cat "$PGC_DIR/hold/r2.err")"
checkpoint "after the restart, two new clients"
pgb_close r1
checkpoint "one closed"

# 5. The whole stream: valid, every event via pgbouncer, server pooler1.
pgc_close_all
pgb_stop INT || not_ok "pgbouncer stopped" "see above"
sleep 0.3
kill "$TAIL_PID" 2>/dev/null; TAIL_PID=""
wait "$PARSE_PID"; PARSE_PID=""
check "every line is a JSON event via pgbouncer of server pooler1" \
  '[[ $(jq -c "[.via,.server]" "$EV" | sort -u) == "[\"pgbouncer\",\"pooler1\"]" ]]' \
  "$(jq -c '[.via,.server]' "$EV" | sort | uniq -c)"
logins=$(pgc_log_count "$PGB_LOG" "login attempt:")
# Every login is a session that was connected or refused (on a live stream a
# refusal that comes more than ~20 ms after its login follows a connect of
# the same session, which it retracts); max_client_conn's refusal has no
# login.
events=$(jq -r 'select(.type=="connect" or .type=="reject") | .session' "$EV" | sort -u | wc -l)
check "every login attempt is one session, connected or refused ($logins + 1 refused before login)" \
  '[[ $events == $((logins + 1)) ]]' "sessions $events, logins $logins"
check "pgconn-parse said nothing on stderr" '[[ ! -s $WORK/parse.err ]]' "$(head -n 3 "$WORK/parse.err")"
lib_done
