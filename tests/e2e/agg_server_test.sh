#!/usr/bin/env bash
# agg_server_test.sh: pgconn-agg, fed live from a real PostgreSQL server's
# log, against what the server itself says in pg_stat_activity.
#
# Starts a throw-away PostgreSQL cluster (pgcluster.sh: Debian prefix
# `%m [%p] %q%u@%d `, lc_messages C, logging collector, log_connections and
# log_disconnections on) and, for the whole run, the pipeline a user would
# type:
#
#   tail -n +1 -F LOG | pgconn-parse | pgconn-agg --json --by=db,user,app,host --interval=200ms > OUT
#
# Then it opens, closes, rejects, terminates, crashes and restarts, and at
# each checkpoint it asks pg_stat_activity (client backends, not the asking
# session) and compares its counts (total, by datname, usename,
# application_name with '' as "unknown", client_addr with NULL as
# `[local]`) with the newest record in OUT, once the log has every line of
# the step and a fresh record has been printed. It also checks connects,
# disconnects and rejects (by reason) against what the test did.
#
#   1  sessions over the socket, IPv4 and IPv6, several users, databases and
#      application names (one with spaces, one unset, one psql's fallback)
#   2  some of them closed
#   3  rejections: bad password, no such role (TCP and socket), no such
#      database, NOLOGIN, role and database CONNECTION LIMIT, pg_hba reject,
#      no pg_hba entry, authentication timeout, reserved slots,
#      max_connections; active never moves while they happen
#   4  pg_terminate_backend of one session
#   5  kill -9 of a backend (crash and reinitialisation): 0 active, then the
#      sessions opened after it
#   6  restart (smart shutdown refusing a new connection, upgraded to fast
#      with sessions open), 0 active, then new sessions
#   7  fast shutdown with sessions open, end of input: the final record, exit
#      statuses, stderr
#
# Prints `ok - NAME` / `not ok - NAME: why`; exits 1 if any check failed.
# Needs PostgreSQL server binaries and jq; as root, the server runs as the
# `postgres` OS user. About 30 s.
#
# Environment:
#   PGCONN_PARSE, PGCONN_AGG   the programs (default bin/pgconn-parse, bin/pgconn-agg)
#   PGCONN_E2E_KEEP=DIR        keep the log, the events and the records in DIR
#
# shellcheck disable=SC2016  # single-quoted $names are jq variables
# shellcheck disable=SC2317  # functions called through traps and pgc_settle
set -uo pipefail
exec </dev/null
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
e2e_begin parse agg jq

LOG="" OUT=""

# ------------------------------------------------------------ bookkeeping
#
# What the test did: the sessions open now (name -> user, db, app as
# pg_stat_activity shows it, host), connects, disconnects and rejects.

declare -A S_USER=() S_DB=() S_APP=() S_HOST=()
EXP_CONNECTS=0
EXP_DISCONNECTS=0      # sessions whose end the server logged
CRASH_ENDED=0          # sessions ended by the crash (no line of their own)
SIX=tcp6

transport_host() { case $1 in sock) echo '[local]' ;; tcp4) echo 127.0.0.1 ;; tcp6) echo ::1 ;; esac; }

# open_session NAME TRANSPORT USER DB APP (APP as pgc_hold takes it: '-' for
# psql's fallback, '' for none)
open_session() {
  local name=$1 transport=$2 user=$3 db=$4 app=$5 shown
  e2e_hold "$name" "$transport" "$user" "$db" "$app"
  case $app in -) shown=psql ;; '') shown=unknown ;; *) shown=$app ;; esac
  S_USER[$name]=$user S_DB[$name]=$db S_APP[$name]=$shown S_HOST[$name]=$(transport_host "$transport")
  EXP_CONNECTS=$((EXP_CONNECTS + 1))
}

forget_session() { unset "S_USER[$1]" "S_DB[$1]" "S_APP[$1]" "S_HOST[$1]"; }

close_session() {
  pgc_close "$1" || fatal "close session $1" "its backend did not exit"
  forget_session "$1"
  EXP_DISCONNECTS=$((EXP_DISCONNECTS + 1))
}

# Every open session ended by the server (crash: no line; shutdown: logged).
all_sessions_ended() {
  local n=${#S_USER[@]}
  if [[ $1 == crash ]]; then CRASH_ENDED=$((CRASH_ENDED + n)); else EXP_DISCONNECTS=$((EXP_DISCONNECTS + n)); fi
  pgc_close_all
  S_USER=() S_DB=() S_APP=() S_HOST=()
}

# reject REASON TRANSPORT USER DB PATTERN: a connection that must be refused
# with a FATAL matching PATTERN (a glob).
reject() { e2e_reject "$@"; }

# An authentication timeout (authentication_timeout = 1s): a startup packet
# for app_user@shop over TCP, then silence until the server hangs up.
reject_auth_timeout() {
  local fd user=app_user db=shop body len off
  off=$(log_size)
  body="user"$'\x01'"$user"$'\x01'"database"$'\x01'"$db"$'\x01'$'\x01'
  len=$((8 + ${#body}))
  exec {fd}<>"/dev/tcp/127.0.0.1/$PGC_PORT" || fatal "reject auth_timeout" "cannot connect to 127.0.0.1:$PGC_PORT"
  # length, protocol 3.0, then the NUL-separated parameters
  printf '%b' "\\x00\\x00\\x$(printf %02x $((len >> 8)))\\x$(printf %02x $((len & 255)))\\x00\\x03\\x00\\x00" >&"$fd"
  printf '%s' "$body" | tr '\001' '\000' >&"$fd"
  timeout 10 cat <&"$fd" >/dev/null 2>&1
  exec {fd}<&-
  wait_log_after "$off" 'FATAL:  canceling authentication due to timeout' 1 10 ||
    fatal "reject auth_timeout" "no 'canceling authentication due to timeout' in the log"$'\n'"$(log_tail)"
  E2E_REJECTS[auth_timeout]=$((${E2E_REJECTS[auth_timeout]:-0} + 1))
}

# ------------------------------------------------------------ log and records

log_size() { stat -c %s "$LOG" 2>/dev/null || echo 0; }

# wait_log_after OFFSET STRING [N] [SECONDS]: waits until the log, from byte
# OFFSET on, has N lines containing STRING.
wait_log_after() {
  local off=$1 str=$2 n=${3:-1} limit=${4:-15} deadline c
  deadline=$(($(now_ms) + limit * 1000))
  while :; do
    c=$(tail -c +$((off + 1)) "$LOG" 2>/dev/null | grep -cF -- "$str")
    ((c >= n)) && return 0
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}

# Complete records printed so far.
records() { local n; n=$(wc -l <"$OUT" 2>/dev/null) || n=0; echo "${n:-0}"; }
record_at() { sed -n "${1}p" "$OUT"; }

# wait_records N: waits until OUT has at least N complete records.
wait_records() {
  local n=$1 deadline
  deadline=$(($(now_ms) + 5000))
  while (($(records) < n)); do
    kill -0 "$AGG_PID" 2>/dev/null || return 1
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}

# The tail of the log, for a failure message.
log_tail() { tail -n 12 "$LOG" | cut -c1-220 | sed 's/^/    /'; }

# ------------------------------------------------------------ pg_stat_activity

# The open sessions as the test knows them, in the same shape (one jq: this
# runs at every checkpoint).
own_view() {
  local n
  for n in "${!S_USER[@]}"; do
    printf '%s\t%s\t%s\t%s\n' "${S_DB[$n]}" "${S_USER[$n]}" "${S_APP[$n]}" "${S_HOST[$n]}"
  done | jq -cRs 'split("\n") | map(select(. != "") | split("\t")) |
    def count(i): group_by(.[i]) | map({key: .[0][i], value: length}) | from_entries;
    {active: length, db: count(0), user: count(1), app: count(2), host: count(3)}'
}

expected_totals() {
  local r
  for r in "${!E2E_REJECTS[@]}"; do printf '%s\t%s\n' "$r" "${E2E_REJECTS[$r]}"; done |
    jq -cRs --argjson c "$EXP_CONNECTS" --argjson d "$EXP_DISCONNECTS" --argjson x "$CRASH_ENDED" '
      {connects: $c, disconnects: $d, crash_ended: $x,
       rejects: (split("\n") | map(select(. != "") | split("\t") | {key: .[0], value: (.[1] | tonumber)}) | from_entries)}'
}

# Differences between a record and pg_stat_activity (one line each).
JQ_ACTIVE='
  (if $rec.active != $psa.active then "active: pgconn \($rec.active), \($src) \($psa.active)" else empty end),
  (["db", "user", "app", "host"][] as $k | ($rec.by[$k] // {}) as $g | $psa[$k] as $w |
   if $g != $w then "by \($k): pgconn \($g | tojson), \($src) \($w | tojson)" else empty end)'
# Differences between a record and the test's totals. The sessions a crash
# ends have no line of their own: pgconn may count them as disconnects or
# not (the `server` crash event ends them); both are accepted.
JQ_TOTALS='
  (if $rec.connects != $exp.connects then "connects: pgconn \($rec.connects), the test made \($exp.connects)" else empty end),
  (if $rec.disconnects != $exp.disconnects and $rec.disconnects != $exp.disconnects + $exp.crash_ended then
     "disconnects: pgconn \($rec.disconnects), the server logged \($exp.disconnects)" +
     (if $exp.crash_ended > 0 then " (\($exp.disconnects + $exp.crash_ended) with the \($exp.crash_ended) sessions the crash ended)" else "" end)
   else empty end),
  (($rec.rejects // {}) as $g | $exp.rejects as $w | ($g + $w | keys[]) as $r |
   if $g[$r] != $w[$r] then "rejects \($r): pgconn \($g[$r] // 0), the test provoked \($w[$r] // 0)" else empty end)'

SRC=pg_stat_activity   # what the active sessions are compared with
diffs() { # PROGRAM REC PSA EXP
  jq -rn --argjson rec "$2" --argjson psa "$3" --argjson exp "$4" --arg src "$SRC" "$1" 2>&1
}

# await_match NAME PSA EXP: waits for a fresh record (two intervals after
# now: the caller has seen every line of the step in the log), then allows
# a little more time for the pipeline (settling, tail) while the newest
# record differs. Sets REC_LINE, REC, D_ACT, D_TOT (empty: no difference).
await_match() {
  local name=$1 psa=$2 exp=$3 n0 deadline
  n0=$(records)
  wait_records $((n0 + 2)) || fatal "$name: fresh record" "pgconn-agg printed no record for 5 s (OUT has $(records) lines)"
  deadline=$(($(now_ms) + 2000))
  while :; do
    REC_LINE=$(records)
    REC=$(record_at "$REC_LINE")
    if jq -e 'type == "object"' >/dev/null 2>&1 <<<"$REC"; then
      D_ACT=$(diffs "$JQ_ACTIVE" "$REC" "$psa" "$exp")
      D_TOT=$(diffs "$JQ_TOTALS" "$REC" "$psa" "$exp")
    else
      D_ACT="record $REC_LINE is not a JSON object: $(cut -c1-200 <<<"$REC")" D_TOT=$D_ACT
    fi
    [[ -n $D_ACT || -n $D_TOT ]] || return 0
    (($(now_ms) < deadline)) || return 1
    wait_records $((REC_LINE + 1)) || return 1
  done
}

one_line() { tr '\n' ';' <<<"$1" | sed 's/;$//; s/;/; /g'; }

# report NAME PSA EXP: the ok / not ok lines of a compared record.
report() {
  local name=$1 psa=$2 exp=$3
  if [[ -z $D_ACT ]]; then
    ok "$name: active $(jq .active <<<"$psa"), by db/user/app/host as in $SRC"
  else
    not_ok "$name: active and groups as in $SRC" "$(one_line "$D_ACT") [record $REC_LINE]"
  fi
  if [[ -z $D_TOT ]]; then
    ok "$name: $(jq -r '"connects \(.connects), disconnects \(.disconnects), rejects \([.rejects[]] | add // 0)"' <<<"$REC") (by reason) as the test did"
  else
    not_ok "$name: connects, disconnects, rejects as the test did" "$(one_line "$D_TOT")"
  fi
}

CP_LINE=0     # the record accepted at the last checkpoint (line in OUT)
CP_ACTIVE=0

# checkpoint NAME: asks pg_stat_activity, waits for the log and a fresh
# record, compares.
checkpoint() {
  local name=$1 off psa pid own exp
  off=$(log_size)
  psa=$(pgc_settle pgc_psql sock postgres postgres pgconn-ctl -c "$E2E_PSA_GROUPS") ||
    fatal "$name: query pg_stat_activity" "psql failed: $psa"
  EXP_CONNECTS=$((EXP_CONNECTS + 1)) EXP_DISCONNECTS=$((EXP_DISCONNECTS + 1))
  pid=$(jq -r .pid <<<"$psa")
  psa=$(jq -c 'del(.pid)' <<<"$psa")
  # The asking session's own disconnection comes after every line of the
  # steps before it (their processes wrote them before it started).
  wait_log_after "$off" "[$pid] postgres@postgres LOG:  disconnection:" 1 15 ||
    fatal "$name: log" "no disconnection line for the control session (pid $pid) after 15 s"$'\n'"$(log_tail)"

  own=$(own_view)
  if ! jq -en --argjson a "$psa" --argjson b "$own" '$a == $b' >/dev/null; then
    not_ok "$name: pg_stat_activity shows the sessions the test opened" "pg_stat_activity $psa, test $own"
  fi
  exp=$(expected_totals)
  await_match "$name" "$psa" "$exp"
  report "$name" "$psa" "$exp"
  CP_LINE=$REC_LINE
  CP_ACTIVE=$(jq .active <<<"$psa")
}

# ------------------------------------------------------------ the server

start=$SECONDS
e2e_pg_init 10
((PGC_HAVE_IPV6)) || SIX=tcp4
LOG=$PGC_LOGDIR/agg.log
OUT=$WORK/records.out
SERVER_SETTINGS=(log_filename=agg.log "log_line_prefix=%m [%p] %q%u@%d " log_destination=stderr
  log_connections=on log_disconnections=on superuser_reserved_connections=3 authentication_timeout=1s)

# The pipeline, for the whole run (FIFOs instead of `|` to know each pid).
mkfifo "$WORK/tail.fifo" "$WORK/parse.fifo"
tail -n +1 -F "$LOG" >"$WORK/tail.fifo" 2>"$WORK/tail.err" &
TAIL_PID=$!; e2e_track live $!
if [[ -n ${PGCONN_E2E_KEEP:-} ]]; then
  "$PARSE" <"$WORK/tail.fifo" 2>"$WORK/parse.err" | tee "$WORK/events.ndjson" >"$WORK/parse.fifo" &
else
  "$PARSE" <"$WORK/tail.fifo" >"$WORK/parse.fifo" 2>"$WORK/parse.err" &
fi
PARSE_PID=$!; e2e_track live $!
"$AGG" --json --by=db,user,app,host --interval=200ms <"$WORK/parse.fifo" >"$OUT" 2>"$WORK/agg.err" &
AGG_PID=$!; e2e_track live $!

e2e_pg_start "${SERVER_SETTINGS[@]}"
ok "PostgreSQL $(pgc_version) on port $PGC_PORT, pipeline following $(basename "$LOG")"

err=$(pgc_setup app_user admin readonly limited_role nologin_role hba_blocked shop analytics limited_db 2>&1) ||
  fatal "create roles and databases" "$err"
EXP_CONNECTS=$((EXP_CONNECTS + 1)) EXP_DISCONNECTS=$((EXP_DISCONNECTS + 1))

# ------------------------------------------------------------ 1: sessions open

open_session console sock admin postgres 'admin console'
open_session web-1a tcp4 app_user shop web-1
open_session noapp "$SIX" readonly analytics ''
open_session limited tcp4 limited_role shop 'limited app'
open_session batch "$SIX" app_user limited_db 'batch job'
open_session fallback sock postgres shop -
open_session web-1b "$SIX" app_user shop web-1
checkpoint "1 (7 sessions: socket, IPv4, $( ((PGC_HAVE_IPV6)) && echo IPv6 || echo "no IPv6 here"))"

# ------------------------------------------------------------ 2: some closed

close_session noapp
close_session web-1b
close_session fallback
checkpoint "2 (3 closed)"

# ------------------------------------------------------------ 3: rejections

fatal_before=$(pgc_log_count "$LOG" 'FATAL:  ')
c2_connects=$EXP_CONNECTS
PGC_PASS_OVERRIDE=wrong-password reject auth_failed tcp4 app_user shop 'password authentication failed for user "app_user"'
reject auth_failed "$SIX" ghost shop 'password authentication failed for user "ghost"'
reject no_role sock ghost postgres 'role "ghost" does not exist'
reject no_database sock app_user nosuchdb 'database "nosuchdb" does not exist'
reject no_database tcp4 readonly nosuchdb 'database "nosuchdb" does not exist'
reject login_not_allowed sock nologin_role postgres 'role "nologin_role" is not permitted to log in'
reject role_limit tcp4 limited_role shop 'too many connections for role "limited_role"'
reject db_limit sock readonly limited_db 'too many connections for database "limited_db"'
reject hba_reject tcp4 hba_blocked shop 'pg_hba.conf rejects connection for host*'
reject no_hba_entry "$SIX" app_user template1 'no pg_hba.conf entry for host*'
pgc_settle reject_auth_timeout
n_rejects=11
# Every FATAL in the log, then two fresh records: active and connects must
# not have moved in any record since checkpoint 2.
if ! pgc_wait_log "$LOG" 'FATAL:  ' $((fatal_before + n_rejects)) 15 2>/dev/null; then
  not_ok "3: log" "want $n_rejects FATAL lines, have $(($(pgc_log_count "$LOG" 'FATAL:  ') - fatal_before))"
fi
n0=$(records)
wait_records $((n0 + 2)) || fatal "3: fresh record" "pgconn-agg printed no record for 5 s"
sleep 0.3   # a little time for settling; records keep coming
moved=$(sed -n "${CP_LINE},\$p" "$OUT" | jq -rc --argjson a "$CP_ACTIVE" --argjson c "$c2_connects" \
  'select(.active != $a or .connects != $c) | "active \(.active), connects \(.connects)"' 2>&1 | sort | uniq -c |
  awk '{ n = $1; sub(/^ *[0-9]+ /, ""); printf "%s%d records with %s", sep, n, $0; sep = "; " }')
if [[ -z $moved ]]; then
  ok "3: active $CP_ACTIVE and connects $c2_connects unchanged in all $(($(records) - CP_LINE + 1)) records during $n_rejects rejections"
else
  not_ok "3: active and connects unchanged during the rejections" \
    "want active $CP_ACTIVE, connects $c2_connects in every record since checkpoint 2; $moved"
fi

# Fill the slots: regular roles up to max_connections - reserved, then a
# regular role gets reserved_slots; superusers up to max_connections, then
# anyone gets too_many_clients.
max_conn=10 reserved=3
i=0
while ((${#S_USER[@]} < max_conn - reserved)); do
  i=$((i + 1)); open_session "filler-$i" sock app_user postgres "filler $i"
done
reject reserved_slots tcp4 readonly shop 'remaining connection slots are reserved for *'
while ((${#S_USER[@]} < max_conn)); do
  i=$((i + 1)); open_session "filler-$i" sock admin postgres "filler $i"
done
reject too_many_clients sock admin postgres 'sorry, too many clients already'
for ((; i > 0; i--)); do close_session "filler-$i"; done
checkpoint "3 (after $((n_rejects + 2)) rejections of 12 kinds)"

# ------------------------------------------------------------ 4: terminated

victim=${PGC_HOLD_BACKEND[web-1a]}
res=$(pgc_settle pgc_psql sock postgres postgres pgconn-ctl -c "select pg_terminate_backend($victim)") ||
  fatal "4: pg_terminate_backend" "$res"
EXP_CONNECTS=$((EXP_CONNECTS + 1)) EXP_DISCONNECTS=$((EXP_DISCONNECTS + 1))
pgc_wait_gone "$victim" 10 || fatal "4: pg_terminate_backend" "backend $victim still there after 10 s"
close_session web-1a      # the psql of the terminated session (its end is logged once)
checkpoint "4 (pg_terminate_backend)"

# ------------------------------------------------------------ 5: crash

ready=$(pgc_log_count "$LOG" 'database system is ready to accept connections')
kill -9 "${PGC_HOLD_BACKEND[batch]}" || fatal "5: kill -9 a backend" "kill failed"
pgc_wait_log "$LOG" 'database system is ready to accept connections' $((ready + 1)) 60 2>/dev/null ||
  fatal "5: crash recovery" "no 'ready to accept connections' after 60 s"$'\n'"$(log_tail)"
all_sessions_ended crash
checkpoint "5a (after a crash)"
open_session after-crash-1 tcp4 app_user analytics 'after crash'
open_session after-crash-2 sock readonly shop 'report runner'
open_session after-crash-3 "$SIX" admin analytics ''
checkpoint "5b (3 sessions opened after the crash)"

# ------------------------------------------------------------ 6: restart

smart_off=$(log_size)
pgc_as_server "$PGC_BIN/pg_ctl" -D "$PGC_DATA" -m smart -W -s stop >/dev/null 2>&1 ||
  fatal "6: smart shutdown" "pg_ctl stop -m smart failed"
wait_log_after "$smart_off" 'received smart shutdown request' 1 10 || fatal "6: smart shutdown" "not in the log"
reject shutting_down sock app_user postgres 'the database system is shutting down'
pgc_stop fast 2>"$WORK/stop.err" || fatal "6: fast shutdown" "$(cat "$WORK/stop.err")"
all_sessions_ended shutdown
pgc_start "${SERVER_SETTINGS[@]}" >"$WORK/start.out" 2>&1 ||
  fatal "6: start again" "$(tail -n 5 "$WORK/start.out")"
checkpoint "6a (after a restart with 3 sessions open)"
open_session web-2 "$SIX" app_user shop web-1
open_session console-2 sock admin analytics 'admin console'
open_session noapp-2 tcp4 readonly postgres ''
open_session web-3 tcp4 app_user shop web-1
checkpoint "6b (4 sessions opened after the restart)"

# ------------------------------------------------------------ 7: the end

pgc_stop fast 2>"$WORK/stop.err" || fatal "7: fast shutdown" "$(cat "$WORK/stop.err")"
all_sessions_ended shutdown
# The logger has exited: the log is complete. The live record first, then
# end of input and the final record.
exp=$(expected_totals)
SRC="the stopped server"
none='{"active":0,"db":{},"user":{},"app":{},"host":{}}'
await_match "7 (fast shutdown with 4 sessions open)" "$none" "$exp"
report "7 (fast shutdown with 4 sessions open)" "$none" "$exp"
kill "$TAIL_PID" 2>/dev/null
wait "$TAIL_PID" 2>/dev/null
TAIL_PID=""
deadline=$(($(now_ms) + 5000))
while kill -0 "$PARSE_PID" 2>/dev/null || kill -0 "$AGG_PID" 2>/dev/null; do
  (($(now_ms) < deadline)) || break
  sleep 0.02
done
if kill -0 "$PARSE_PID" 2>/dev/null || kill -0 "$AGG_PID" 2>/dev/null; then
  not_ok "7: pgconn-parse and pgconn-agg end at end of input" "still running 5 s after tail ended"
else
  wait "$PARSE_PID"; prc=$?
  wait "$AGG_PID"; arc=$?
  PARSE_PID="" AGG_PID=""
  if ((prc == 0 && arc == 0)); then ok "7: pgconn-parse and pgconn-agg exit 0 at end of input"; else
    not_ok "7: pgconn-parse and pgconn-agg exit 0 at end of input" "pgconn-parse $prc, pgconn-agg $arc"
  fi
fi
REC_LINE=$(records)
REC=$(record_at "$REC_LINE")
D_ACT=$(diffs "$JQ_ACTIVE" "$REC" "$none" "$exp")
D_TOT=$(diffs "$JQ_TOTALS" "$REC" "$none" "$exp")
report "7 (record at end of input)" "$none" "$exp"
bad=$(jq -R 'fromjson? // "BAD" | if type == "object" and has("active") then empty else 1 end' "$OUT" | wc -l)
if ((bad == 0)); then ok "7: all $(records) records are JSON summaries"; else
  not_ok "7: all records are JSON summaries" "$bad of $(records) are not"
fi
if [[ ! -s $WORK/parse.err && ! -s $WORK/agg.err ]]; then ok "7: nothing on stderr"; else
  not_ok "7: nothing on stderr" "$(cat "$WORK/parse.err" "$WORK/agg.err" | head -n 3 | cut -c1-200 | tr '\n' ' ')"
fi
ok "done in $((SECONDS - start)) s"

lib_done
