#!/usr/bin/env bash
# fleet_test.sh: the README's fleet recipe, end to end, on one machine.
#
#   PostgreSQL db1 --log file--> rsyslog edge db1 --TCP--+
#                                                        +--> rsyslog central --> fleet.log
#   PostgreSQL db2 --log file--> rsyslog edge db2 --TCP--+
#
#   tail -n +1 -F fleet.log | pgconn-parse --input=syslog | tee EVENTS |
#     pgconn-agg --by=server,db --json --interval=200ms > OUT
#
# Two throw-away PostgreSQL clusters (pgcluster.sh, Debian's prefix
# `%m [%p] %q%u@%d `, logging collector) on two ports; three rsyslogd
# (Debian's rsyslog) started by this test with temporary configurations made
# from contrib/rsyslog/pgconn-edge.conf and pgconn-central.conf, the files the
# README tells a DBA to install, with only the log file, the target, the
# port (unprivileged, on 127.0.0.1) and the host name changed: both servers
# run on this machine, so each edge names itself db1 or db2 with
# global(localHostname=...). Nothing outside temporary directories is
# touched; the system's /dev/log is not used.
#
# At each checkpoint it asks both servers' pg_stat_activity (client
# backends but the asking session) and waits until the newest record of the
# live pgconn-agg shows the same active sessions by server and by database
# (summed over the servers), and the connects, disconnects and rejects the
# test caused; then `pgconn-agg --server=dbN --by=db,user,app` on the events
# so far must show server N's own sessions by database, user and
# application. Both servers get sessions with the same user, database and
# application, so only the server tells them apart.
#
#   1  sessions on both servers
#   2  some closed on db1, more opened on db2, a refused connection on db2
#   3  db1 restarted with sessions open (fast shutdown): db1 drops to 0,
#      db2 keeps its sessions; then a new session on db1
#   4  everything closed
#   and pgconn-watch on the events names the server on every line once the
#   stream has shown two servers; --server=db2 shows db2's only; and the
#   central's RFC 5424 copy (contrib/rsyslog/pgconn-central-rfc5424.conf's
#   ruleset, called from the classic one) gives fleet.log's very events.
#
# Prints `ok - NAME` / `not ok - NAME: why`; exits 1 if a check failed.
# Needs PostgreSQL server binaries, rsyslogd and jq. About 20 s.
#
# Environment:
#   PGCONN_PARSE, PGCONN_AGG, PGCONN_WATCH   the programs (default bin/...)
#   PGCONN_E2E_KEEP=DIR   keep fleet.log, the events, the records, the configs
#
# shellcheck disable=SC2016  # single-quoted $names are jq variables
# shellcheck disable=SC2317  # functions called through traps
set -uo pipefail
exec </dev/null
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
# shellcheck source=rsyslog.sh
. "$here/rsyslog.sh"
e2e_begin parse agg watch jq
rs_available || fatal "rsyslogd installed" "no rsyslogd (apt-get install rsyslog, or make deps as root)"

FLEET=$WORK/fleet.log
FLEET5424=$WORK/fleet-rfc5424.log
EVENTS=$WORK/events.ndjson
OUT=$WORK/records.out
start=$SECONDS

# Two clusters (pgcluster.sh's pgc_use/pgc_on): `on N CMD...` runs CMD with
# server N's. Held sessions have names unique over both servers.
on() { pgc_on "$@"; }

# ------------------------------------------------------------ rsyslog

e2e_free_port CENTRAL_PORT || fatal "rsyslog ports" "no free TCP port"
mkdir -p "$WORK/central"
{
  echo "# test wrapper: own work directory, the README's central snippet; the RFC 5424"
  echo "# receiver's ruleset (its module and input dropped) called from it too"
  echo "global(workDirectory=\"$WORK/central\")"
  sed -e '/^module(/d; /^input(/d' -e "s|/var/log/pgconn/fleet-rfc5424.log|$FLEET5424|" \
      "$root/contrib/rsyslog/pgconn-central-rfc5424.conf"
  sed -e "s|port=\"10514\"|port=\"$CENTRAL_PORT\" address=\"127.0.0.1\"|" \
      -e "s|/var/log/pgconn/fleet.log|$FLEET|" \
      -e 's|^ruleset(name="pgconn") {|&\n  call pgconn_rfc5424|' "$root/contrib/rsyslog/pgconn-central.conf"
} >"$WORK/central.conf"
grep -qF "$FLEET5424" "$WORK/central.conf" && grep -q '^  call pgconn_rfc5424' "$WORK/central.conf" ||
  fatal "central configuration" "contrib/rsyslog/pgconn-central-rfc5424.conf no longer writes /var/log/pgconn/fleet-rfc5424.log from ruleset pgconn_rfc5424"
grep -q "port=\"$CENTRAL_PORT\"" "$WORK/central.conf" && grep -qF "$FLEET" "$WORK/central.conf" ||
  fatal "central configuration" "contrib/rsyslog/pgconn-central.conf no longer has port 10514 and /var/log/pgconn/fleet.log"
rs_start central "$WORK/central.conf"
rs_wait_listening central "$CENTRAL_PORT"
ok "rsyslog $(rs_version) central on 127.0.0.1:$CENTRAL_PORT writing fleet.log"

# start_edge N [CONF]: the edge of server N, following its log file
# (CONF: pgconn-edge.conf, or pgconn-edge-rfc5424.conf: forwarding RFC 5424).
start_edge() {
  local n=$1 name=db$1 conf=${2:-pgconn-edge.conf} logdir
  pgc_use "$n"
  logdir=$PGC_LOGDIR
  mkdir -p "$WORK/$name"
  {
    echo "# test wrapper: own work directory and host name, the README's edge snippet"
    echo "global(workDirectory=\"$WORK/$name\" localHostname=\"$name\")"
    sed -e "s|/var/log/postgresql/postgresql-16-main.log|$logdir/pg.log|" \
        -e "s|target=\"pgconn-central.example.com\" port=\"10514\"|target=\"127.0.0.1\" port=\"$CENTRAL_PORT\"|" \
        "$root/contrib/rsyslog/$conf"
  } >"$WORK/$name.conf"
  grep -q "port=\"$CENTRAL_PORT\"" "$WORK/$name.conf" && grep -qF "$logdir/pg.log" "$WORK/$name.conf" ||
    fatal "edge configuration" "contrib/rsyslog/$conf no longer names the Debian log file and pgconn-central.example.com:10514"
  rs_start "$name" "$WORK/$name.conf"
}

# ------------------------------------------------------------ the servers

SETTINGS=(log_filename=pg.log "log_line_prefix=%m [%p] %q%u@%d " log_destination=stderr
  log_connections=on log_disconnections=on)

declare -A SRV_PORT=()
for n in 1 2; do
  on "$n" e2e_pg_init 20
  on "$n" e2e_pg_start "${SETTINGS[@]}"
  SRV_PORT[$n]=$PGC_PORT
done
ok "PostgreSQL $(pgc_version) db1 on port ${SRV_PORT[1]}, db2 on port ${SRV_PORT[2]}"

declare -A EXP_CONNECTS=([1]=0 [2]=0) EXP_DISCONNECTS=([1]=0 [2]=0)
EXP_REJECTS=0
declare -A S_SRV=()   # held session name -> server

for n in 1 2; do
  err=$(on "$n" pgc_setup app_user shop analytics 2>&1) || fatal "db$n: create role and databases" "$err"
  EXP_CONNECTS[$n]=$((EXP_CONNECTS[$n] + 1)) EXP_DISCONNECTS[$n]=$((EXP_DISCONNECTS[$n] + 1))
done

start_edge 1
start_edge 2 pgconn-edge-rfc5424.conf  # db2 forwards RFC 5424 frames

# The pipeline of the README, for the whole run (FIFOs to know each pid).
mkfifo "$WORK/tail.fifo" "$WORK/parse.fifo"
tail -n +1 -F "$FLEET" >"$WORK/tail.fifo" 2>"$WORK/tail.err" &
TAIL_PID=$!; e2e_track live $!
"$PARSE" --input=syslog <"$WORK/tail.fifo" 2>"$WORK/parse.err" | tee "$EVENTS" >"$WORK/parse.fifo" &
PARSE_PID=$!; e2e_track live $!
"$AGG" --by=server,db --json --interval=200ms <"$WORK/parse.fifo" >"$OUT" 2>"$WORK/agg.err" &
AGG_PID=$!; e2e_track live $!

# ------------------------------------------------------------ sessions

open_session() {   # open_session SERVER NAME TRANSPORT USER DB APP
  local n=$1 name=$2
  on "$n" e2e_hold "$name" "$3" "$4" "$5" "$6"
  S_SRV[$name]=$n
  EXP_CONNECTS[$n]=$((EXP_CONNECTS[$n] + 1))
}

close_session() {   # close_session NAME
  local name=$1 n=${S_SRV[$1]}
  on "$n" pgc_close "$name" || fatal "db$n: close session $name" "its backend did not exit"
  unset "S_SRV[$name]"
  EXP_DISCONNECTS[$n]=$((EXP_DISCONNECTS[$n] + 1))
}

last_record() { tail -n 1 "$OUT" 2>/dev/null; }

# The fleet view pg_stat_activity implies: {active, server, db, connects,
# disconnects, rejects} from the two servers' answers.
fleet_view() {
  jq -cSn --argjson a "$1" --argjson b "$2" --argjson c "$3" --argjson d "$4" --argjson r "$5" '
    def nz: with_entries(select(.value != 0));
    {active: ($a.active + $b.active),
     server: ({db1: $a.active, db2: $b.active} | nz),
     db: ([$a.db, $b.db] | map(to_entries[]) | group_by(.key)
          | map({key: .[0].key, value: (map(.value) | add)}) | from_entries),
     connects: $c, disconnects: $d, rejects: $r}'
}
AGG_VIEW='{active, server: .by.server, db: .by.db, connects, disconnects, rejects: ([.rejects[]] | add // 0)}'

# checkpoint NAME: both servers' pg_stat_activity, then the live record, then
# the --server filter on the events so far.
checkpoint() {
  local name=$1 n psa pid want got deadline
  declare -A view=()
  for n in 1 2; do
    psa=$(on "$n" pgc_settle pgc_psql sock postgres postgres pgconn-ctl -c "$E2E_PSA_GROUPS") ||
      fatal "$name: db$n pg_stat_activity" "psql failed: $psa"
    EXP_CONNECTS[$n]=$((EXP_CONNECTS[$n] + 1)) EXP_DISCONNECTS[$n]=$((EXP_DISCONNECTS[$n] + 1))
    pid=$(jq -r .pid <<<"$psa")
    view[$n]=$(jq -c 'del(.pid, .host)' <<<"$psa")
    # The asking session's end comes after every line of the steps before
    # it: once it is in fleet.log, so is everything the check needs.
    deadline=$(($(now_ms) + 15000))
    until grep -E " db$n postgres:? " "$FLEET" 2>/dev/null | grep -qF "[$pid] postgres@postgres LOG:  disconnection:"; do
      (($(now_ms) < deadline)) || fatal "$name: fleet.log" "no disconnection line of db$n's control session (pid $pid) after 15 s"
      sleep 0.02
    done
  done
  want=$(fleet_view "${view[1]}" "${view[2]}" \
    $((EXP_CONNECTS[1] + EXP_CONNECTS[2])) $((EXP_DISCONNECTS[1] + EXP_DISCONNECTS[2])) "$EXP_REJECTS")
  deadline=$(($(now_ms) + 5000))
  while :; do
    got=$(last_record | jq -cS "$AGG_VIEW" 2>/dev/null)
    [[ $got != "$want" ]] || break
    (($(now_ms) < deadline)) || break
    sleep 0.05
  done
  if [[ $got == "$want" ]]; then
    ok "$name: fleet view as pg_stat_activity: $(jq -r '"active \(.active), by server \(.server | tostring), by db \(.db | tostring), connects \(.connects), disconnects \(.disconnects), rejects \(.rejects)"' <<<"$want")"
  else
    not_ok "$name: fleet view as pg_stat_activity" "want $want, pgconn-agg $got"
  fi
  for n in 1 2; do
    want=$(jq -cS '{active, db, user, app}' <<<"${view[$n]}")
    deadline=$(($(now_ms) + 5000))
    while :; do
      got=$(sed '$!b; /}$/!d' "$EVENTS" | "$AGG" --server="db$n" --by=db,user,app --json 2>&1 |
        jq -cS '{active, db: .by.db, user: .by.user, app: .by.app}' 2>&1)
      [[ $got != "$want" ]] || break
      (($(now_ms) < deadline)) || break
      sleep 0.1
    done
    if [[ $got == "$want" ]]; then
      ok "$name: pgconn-agg --server=db$n shows db$n's sessions: $want"
    else
      not_ok "$name: pgconn-agg --server=db$n shows db$n's sessions" "pg_stat_activity $want, pgconn-agg $got"
    fi
  done
}

# ------------------------------------------------------------ 1

open_session 1 a-web1 tcp4 app_user shop web
open_session 1 a-web2 tcp4 app_user shop web
open_session 1 a-console sock postgres postgres console
open_session 2 b-web1 tcp4 app_user shop web
open_session 2 b-report sock app_user analytics ''
checkpoint "1 (3 sessions on db1, 2 on db2)"

# ------------------------------------------------------------ 2

close_session a-web1
open_session 2 b-web2 tcp4 app_user shop web
open_session 2 b-web3 sock app_user shop web
if err=$(on 2 pgc_settle pgc_psql sock app_user nosuchdb web -c 'select 1' 2>&1); then
  fatal "2: db2 refuses a connection to a missing database" "it was accepted"
fi
EXP_REJECTS=$((EXP_REJECTS + 1))
checkpoint "2 (1 closed on db1, 2 opened and 1 refused on db2)"

# ------------------------------------------------------------ 3

n_open=0
for s in "${!S_SRV[@]}"; do [[ ${S_SRV[$s]} != 1 ]] || n_open=$((n_open + 1)); done
on 1 pgc_stop fast 2>"$WORK/stop.err" || fatal "3: db1 fast shutdown" "$(cat "$WORK/stop.err")"
for s in "${!S_SRV[@]}"; do
  [[ ${S_SRV[$s]} == 1 ]] || continue
  on 1 pgc_hold_reap "$s"; unset "S_SRV[$s]"
done
EXP_DISCONNECTS[1]=$((EXP_DISCONNECTS[1] + n_open))   # fast shutdown: each logs its end
on 1 pgc_start "${SETTINGS[@]}" >"$WORK/start1.out" 2>&1 ||
  fatal "3: start db1 again" "$(tail -n 5 "$WORK/start1.out" | tr '\n' ' ')"
checkpoint "3a (db1 restarted with $n_open sessions open; db2 untouched)"
open_session 1 a-web3 tcp4 app_user shop web
checkpoint "3b (a new session on db1)"

# ------------------------------------------------------------ 4

for s in "${!S_SRV[@]}"; do close_session "$s"; done
checkpoint "4 (everything closed)"

# ------------------------------------------------------------ watch

sed '$!b; /}$/!d' "$EVENTS" >"$WORK/events-final.ndjson"
"$WATCH" --color=never "$WORK/events-final.ndjson" >"$WORK/watch.out" 2>"$WORK/watch.err"
first2=$(jq -r '.server // empty' "$WORK/events-final.ndjson" | awk '!seen[$0]++ { n++ } n == 2 { print NR; exit }')
unnamed=$(tail -n +"${first2:-1}" "$WORK/watch.out" | grep -cvE '^\[.\] [0-9:]{8} db[12]: ')
if [[ -n $first2 && $unnamed == 0 && -s $WORK/watch.out ]]; then
  ok "pgconn-watch names the server on every line from db2's first event on ($(grep -c ' db1: ' "$WORK/watch.out") db1, $(grep -c ' db2: ' "$WORK/watch.out") db2 lines)"
else
  not_ok "pgconn-watch names the server on every line" "$unnamed lines without one after event ${first2:-?}: $(tail -n +"${first2:-1}" "$WORK/watch.out" | grep -vE '^\[.\] [0-9:]{8} db[12]: ' | head -n 2 | tr '\n' ' ')"
fi
"$WATCH" --color=never --server=db2 "$WORK/events-final.ndjson" >"$WORK/watch2.out" 2>>"$WORK/watch.err"
want=$(jq -c 'select(.server == "db2")' "$WORK/events-final.ndjson" | wc -l)
if [[ $(wc -l <"$WORK/watch2.out") == "$want" ]] && ! grep -q ' db1: ' "$WORK/watch2.out"; then
  ok "pgconn-watch --server=db2 shows db2's $want events only"
else
  not_ok "pgconn-watch --server=db2 shows db2's events only" "$(wc -l <"$WORK/watch2.out") lines for $want events"
fi

# ------------------------------------------------------------ the end

kill "$TAIL_PID" 2>/dev/null; wait "$TAIL_PID" 2>/dev/null; TAIL_PID=""
wait "$PARSE_PID"; prc=$?
wait "$AGG_PID"; arc=$?
PARSE_PID="" AGG_PID=""
if ((prc == 0 && arc == 0)); then ok "pgconn-parse and pgconn-agg exit 0 at end of input"; else
  not_ok "pgconn-parse and pgconn-agg exit 0 at end of input" "pgconn-parse $prc, pgconn-agg $arc"
fi
if [[ ! -s $WORK/parse.err && ! -s $WORK/agg.err && ! -s $WORK/watch.err ]]; then ok "nothing on stderr"; else
  not_ok "nothing on stderr" "$(cat "$WORK/parse.err" "$WORK/agg.err" "$WORK/watch.err" | head -n 3 | cut -c1-200 | tr '\n' ' ')"
fi
# The RFC 5424 receiver's file: the same events, read by auto-detection.
"$PARSE" "$FLEET5424" >"$WORK/events-rfc5424.ndjson" 2>"$WORK/parse-rfc5424.err"; prc=$?
"$PARSE" --input=syslog "$FLEET" >"$WORK/events-file.ndjson" 2>/dev/null
if ((prc == 0)) && [[ ! -s $WORK/parse-rfc5424.err && -s $WORK/events-rfc5424.ndjson ]] &&
  cmp -s "$WORK/events-rfc5424.ndjson" "$WORK/events-file.ndjson"; then
  ok "the RFC 5424 receiver's file gives fleet.log's $(wc -l <"$WORK/events-rfc5424.ndjson") events, servers $(jq -r .server "$WORK/events-rfc5424.ndjson" | sort -u | tr '\n' ' ')"
else
  not_ok "the RFC 5424 receiver's file gives fleet.log's events" "exit $prc, $(head -c 200 "$WORK/parse-rfc5424.err") $(diff "$WORK/events-file.ndjson" "$WORK/events-rfc5424.ndjson" | head -n 4 | cut -c1-200 | tr '\n' ' ')"
fi
for name in db1 db2 central; do rs_stop "$name"; done
errors=$(rs_errors)
if [[ -n $errors ]]; then
  not_ok "rsyslog ran without errors" "$(head -n 2 <<<"$errors")"
else
  ok "rsyslog ran without errors; fleet.log has $(wc -l <"$FLEET") lines from $(awk '{print $2}' "$FLEET" | sort -u | tr '\n' ' ')"
fi
ok "done in $((SECONDS - start)) s"
lib_done
