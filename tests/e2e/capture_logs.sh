#!/usr/bin/env bash
# capture_logs.sh OUTDIR [CONFIG...]
#
# Runs one scripted connection scenario against a real PostgreSQL server per
# log configuration and writes, per configuration NAME:
#
#   OUTDIR/NAME.log     the raw stderr-format log (log_line_prefix of NAME)
#   OUTDIR/NAME.csv     csvlog and jsonlog of the same run, kept for the
#   OUTDIR/NAME.json    configurations marked below (they ignore the prefix)
#   OUTDIR/NAME.expect  what the scenario did, one JSON object a line:
#     {"kind":"config","name":…,"prefix":…,"needs_prefix":…,"has_pid":…,
#      "has_time":…,"ts_ms":…,"session_ids":…,"files":["log","csv","json"]}
#     {"kind":"session","tag":…,"user":…,"db":…,"app":…,"host":…,"tcp":…,"end":…}
#        one per session that was established; `app` is left out when the
#        client sent none; `end` is normal, terminated, idle_timeout,
#        idle_in_transaction_timeout, client_lost, crash (no disconnection
#        line is logged) or shutdown
#     {"kind":"reject","reason":…,"user":…,"db":…,"host":…,"after_auth":…,"message":…}
#        `message` is the FATAL text the client received; "replication":true
#        for a replication connection
#     {"kind":"server","state":"ready"|"crash"|"shutdown"}
#     {"kind":"healthcheck","host":…}   a connection that logs only
#                                       `connection received` (pg_isready)
#     {"kind":"counts",…}               the totals of the lines above
#
# With CONFIG names, runs only those. Needs PostgreSQL server binaries
# (Debian layout) and jq; as root, runs the server as the `postgres` user.
# Takes about 30 s. Exit status 0 on success, 1 on any failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=pgcluster.sh
. "$here/pgcluster.sh"

die() { printf 'capture_logs: %s\n' "$*" >&2; exit 1; }

[[ $# -ge 1 ]] || die "usage: capture_logs.sh OUTDIR [CONFIG...]"
command -v jq >/dev/null || die "jq is needed"
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
shift

# name | log_line_prefix | extra settings (space-separated k=v) | flags
#   crash: end with a kill -9 of a backend and a fast shutdown with open
#          sessions; keep: keep the csvlog and jsonlog; prefix: the prefix is
#          not auto-detectable and must be passed with --prefix
CONFIGS=(
  "default|%m [%p] ||crash keep"
  "debian|%m [%p] %q%u@%d ||crash"
  "rds|%t:%r:%u@%d:[%p]:||"
  "pgbadger|%t [%p]: user=%u,db=%d,app=%a,client=%h ||crash"
  "session_id|%m [%p] %c ||"
  "line_numbers|%t [%p-%l] ||"
  "empty|||crash"
  "exotic|%-12u|%10d|%b|%e|%x|%v|%i|[%p]: ||crash prefix"
  "verbose|%m [%p] |log_error_verbosity=verbose|crash keep"
)
# The exotic prefix contains '|': split the table on the first and last two.
config_fields() { # LINE -> NAME PREFIX EXTRA FLAGS in C_NAME C_PREFIX C_EXTRA C_FLAGS
  local line=$1
  C_NAME=${line%%|*}; line=${line#*|}
  C_FLAGS=${line##*|}; line=${line%|*}
  C_EXTRA=${line##*|}; C_PREFIX=${line%|*}
}

selected=("$@")
want() {
  local n
  ((${#selected[@]} == 0)) && return 0
  for n in "${selected[@]}"; do [[ $n == "$1" ]] && return 0; done
  return 1
}

# ---------------------------------------------------------------- expect file

EXPECT=""
declare -A S_JSON=() S_END=()
S_ORDER=()

emit() { printf '%s\n' "$1" >>"$EXPECT"; }

# A JSON string (the names here are ASCII; escapes what JSON requires).
js() {
  local v=${1//\\/\\\\}
  v=${v//\"/\\\"}; v=${v//$'\t'/\\t}; v=${v//$'\n'/\\n}; v=${v//$'\r'/\\r}
  printf '"%s"' "$v"
}

# session_open TAG USER DB APP TRANSPORT (APP as pgc_psql takes it)
session_open() {
  local tag=$1 user=$2 db=$3 app=$4 transport=$5 host tcp=false sent
  case $transport in sock) host='[local]' ;; tcp4) host=127.0.0.1; tcp=true ;; tcp6) host=::1; tcp=true ;; esac
  case $app in -) sent=psql ;; *) sent=$app ;; esac
  local app_kv=""
  [[ -z $sent ]] || app_kv=",\"app\":$(js "$sent")"
  S_JSON[$tag]="{\"kind\":\"session\",\"tag\":$(js "$tag"),\"user\":$(js "$user"),\"db\":$(js "$db")$app_kv,\"host\":$(js "$host"),\"tcp\":$tcp"
  S_END[$tag]=open
  S_ORDER+=("$tag")
}
session_end() { S_END[$1]=$2; }
flush_sessions() {
  local tag
  for tag in "${S_ORDER[@]}"; do
    [[ ${S_END[$tag]} != open ]] || die "session $tag was never ended"
    emit "${S_JSON[$tag]},\"end\":$(js "${S_END[$tag]}")}"
  done
  S_ORDER=(); S_JSON=(); S_END=()
}

transport_host() { case $1 in sock) echo '[local]' ;; tcp4) echo 127.0.0.1 ;; tcp6) echo ::1 ;; esac; }

# ---------------------------------------------------------------- scenario steps

# One short successful session: ok TRANSPORT USER DB APP
ok() {
  local err
  if ! err=$(pgc_settle pgc_psql "$1" "$2" "$3" "$4" -c 'select 1' 2>&1 >/dev/null); then
    die "session $2@$3 over $1 failed: $err"
  fi
  local tag=${4:-"(none)"}; [[ $tag != - ]] || tag="(psql fallback)"
  session_open "$tag/$2/$3/$1" "$2" "$3" "$4" "$1"
  session_end "$tag/$2/$3/$1" normal
}

# A session kept open: hold TAG TRANSPORT USER DB (the app is TAG)
hold() {
  pgc_hold "$1" "$2" "$3" "$4" "$1" ||
    die "holding $1 ($3@$4 over $2) failed: $(cat "$PGC_DIR/hold/$1.err" 2>/dev/null)"
  session_open "$1" "$3" "$4" "$1" "$2"
}

# A refused connection: reject REASON TRANSPORT USER DB [EXPECTED_TEXT]
# Checks the FATAL the client got against the reason, records it.
reject() {
  local reason=$1 transport=$2 user=$3 db=$4 err msg after=false pattern
  if err=$(pgc_settle pgc_psql "$transport" "$user" "$db" - -c 'select 1' 2>&1 >/dev/null); then
    die "expected $reason for $user@$db over $transport, but it connected"
  fi
  msg=${err#*FATAL:  }; msg=${msg%%$'\n'*}
  case $reason in
    auth_failed) pattern="password authentication failed for user \"$user\"" ;;
    no_role) pattern="role \"$user\" does not exist"; after=true ;;
    no_database) pattern="database \"$db\" does not exist"; after=true ;;
    login_not_allowed) pattern="role \"$user\" is not permitted to log in"; after=true ;;
    role_limit) pattern="too many connections for role \"$user\""; after=true ;;
    db_limit) pattern="too many connections for database \"$db\""; after=true ;;
    reserved_slots) pattern="remaining connection slots are reserved for non-replication superuser connections"; after=true ;;
    too_many_clients) pattern="sorry, too many clients already" ;;
    hba_reject) pattern="pg_hba.conf rejects connection for host"'*' ;;
    no_hba_entry) pattern="no pg_hba.conf entry for "'*' ;;
    *) die "unknown reason $reason" ;;
  esac
  # shellcheck disable=SC2053
  [[ $msg == $pattern ]] || die "expected $reason for $user@$db over $transport, got: $err"
  local repl=false
  [[ ${PGC_EXTRA_CI:-} != *replication=* ]] || repl=true
  local extra=""
  [[ $repl == false ]] || extra=',"replication":true'
  emit "{\"kind\":\"reject\",\"reason\":$(js "$reason"),\"user\":$(js "$user"),\"db\":$(js "$db"),\"host\":$(js "$(transport_host "$transport")"),\"after_auth\":$after,\"message\":$(js "$msg")$extra}"
}

server_event() { emit "{\"kind\":\"server\",\"state\":\"$1\"}"; }

# Waits until backend pid $1 has exited.
backend_gone() { pgc_wait_gone "$1" 10 || die "backend $1 did not exit"; }

# The six-plus-rejections-plus-limits scenario, the same for every config.
scenario() {
  local log=$1 crash=$2 six=tcp6 pid
  ((PGC_HAVE_IPV6)) || six=tcp4

  # A health check that logs only `connection received` (pgc_start ran it).
  emit '{"kind":"healthcheck","host":"127.0.0.1"}'

  # Successful short sessions over every transport.
  ok tcp4 app_user shop web-1
  ok "$six" app_user analytics 'etl job'
  ok sock admin postgres admin-console
  ok "$six" readonly shop ''                  # no application_name sent at all
  ok sock postgres postgres -                 # PGAPPNAME unset: psql sends "psql"
  ok tcp4 readonly analytics 'pgAdmin 4 - DB:analytics'

  # Rejections before and after `connection authorized`.
  PGC_PASS_OVERRIDE=wrong-password reject auth_failed tcp4 app_user shop
  reject auth_failed "$six" ghost shop        # no such role, password method
  reject no_role sock ghost postgres          # no such role, trust
  reject no_database sock app_user nosuchdb
  reject no_database tcp4 readonly nosuchdb
  reject login_not_allowed sock nologin_role postgres
  reject hba_reject tcp4 hba_blocked shop
  reject no_hba_entry "$six" app_user template1
  PGC_EXTRA_CI='replication=true' reject no_hba_entry tcp4 app_user shop

  # Limits, with several sessions held open at the same time.
  hold limited-1 sock limited_role shop
  reject role_limit tcp4 limited_role shop
  hold limited-db-1 "$six" app_user limited_db
  reject db_limit sock readonly limited_db
  hold pool-1 tcp4 app_user shop
  hold pool-2 "$six" readonly analytics
  hold pool-3 sock app_user analytics
  reject reserved_slots tcp4 readonly shop    # 5 of 8 used, 3 reserved
  hold su-1 sock postgres shop
  hold su-2 tcp4 admin postgres
  hold su-3 "$six" admin shop
  reject too_many_clients sock admin postgres # all 8 used
  pgc_close su-3; session_end su-3 normal

  # pg_terminate_backend of a backend found in pg_stat_activity.
  pid=$(pgc_settle pgc_backend_pid_of pool-1 sock postgres postgres ctl-lookup) || die "pid lookup failed"
  session_open ctl-lookup postgres postgres ctl-lookup sock; session_end ctl-lookup normal
  [[ $pid == "${PGC_HOLD_BACKEND[pool-1]}" ]] || die "pg_stat_activity says pool-1 is '$pid', psql says ${PGC_HOLD_BACKEND[pool-1]}"
  # From a held session, which ends only after the terminated backend has
  # exited: with no pid in the prefix, the FATAL of pool-1 must not be
  # followed by the disconnection of another session.
  hold ctl-terminate sock postgres postgres
  pgc_send ctl-terminate "select pg_terminate_backend($pid);"
  backend_gone "$pid"
  pgc_close ctl-terminate; session_end ctl-terminate normal
  pgc_close pool-1; session_end pool-1 terminated

  # Timeouts and a client that vanishes in a transaction.
  pid=${PGC_HOLD_BACKEND[pool-2]}
  pgc_send pool-2 "set idle_session_timeout = '100ms';"
  backend_gone "$pid"; pgc_close pool-2; session_end pool-2 idle_timeout
  pid=${PGC_HOLD_BACKEND[pool-3]}
  pgc_send pool-3 "set idle_in_transaction_session_timeout = '100ms'; begin; select 1;"
  backend_gone "$pid"; pgc_close pool-3; session_end pool-3 idle_in_transaction_timeout
  pgc_send limited-db-1 "begin; select 1;"
  sleep 0.1
  pgc_kill_client limited-db-1; session_end limited-db-1 client_lost

  pgc_close limited-1; session_end limited-1 normal
  pgc_close su-1; session_end su-1 normal
  pgc_close su-2; session_end su-2 normal

  if [[ $crash == 1 ]]; then
    # kill -9 of one backend: the postmaster resets every backend.
    local ready
    ready=$(pgc_log_count "$log" 'database system is ready to accept connections')
    hold crash-victim tcp4 app_user shop
    hold crash-bystander sock readonly analytics
    kill -9 "${PGC_HOLD_BACKEND[crash-victim]}"
    pgc_wait_log "$log" 'database system is ready to accept connections' $((ready + 1)) 60 || die "no recovery after the crash"
    server_event crash
    server_event ready
    pgc_close_all
    session_end crash-victim crash; session_end crash-bystander crash
    ok tcp4 app_user shop after-crash

    # Fast shutdown with two sessions still open.
    hold shutdown-1 "$six" app_user shop
    hold shutdown-2 sock admin postgres
    pgc_stop fast
    pgc_close_all
    session_end shutdown-1 shutdown; session_end shutdown-2 shutdown
  else
    pgc_stop fast
  fi
  server_event shutdown
}

# ---------------------------------------------------------------- main

pgc_init 8   # max_connections: 5 for non-superusers, 3 reserved
trap 'pgc_cleanup' EXIT
((PGC_HAVE_IPV6)) || echo "capture_logs: no ::1 on lo: IPv4 and the socket only" >&2

# Roles and databases, logged to a file of their own.
pgc_start log_filename=setup.log log_destination=stderr log_connections=off log_disconnections=off
pgc_setup app_user admin readonly limited_role nologin_role hba_blocked shop analytics limited_db || die "setup failed"
pgc_stop fast

for line in "${CONFIGS[@]}"; do
  config_fields "$line"
  want "$C_NAME" || continue
  t0=$SECONDS
  EXPECT=$OUT/$C_NAME.expect
  rm -f "$OUT/$C_NAME".{log,csv,json,expect}
  : >"$EXPECT"
  crash=0; keep=0; needs_prefix=false
  [[ " $C_FLAGS " != *" crash "* ]] || crash=1
  [[ " $C_FLAGS " != *" keep "* ]] || keep=1
  [[ " $C_FLAGS " != *" prefix "* ]] || needs_prefix=true
  has_pid=false; [[ $C_PREFIX != *%p* ]] || has_pid=true
  has_time=false; [[ $C_PREFIX != *%[mtn]* ]] || has_time=true
  ts_ms=false; [[ $C_PREFIX != *%[mn]* ]] || ts_ms=true
  sids=false; [[ $C_PREFIX != *%c* ]] || sids=true
  files='["log"]'; ((keep)) && files='["log","csv","json"]'
  emit "$(jq -cn --arg name "$C_NAME" --arg prefix "$C_PREFIX" --argjson np "$needs_prefix" \
    --argjson pid "$has_pid" --argjson time "$has_time" --argjson ms "$ts_ms" --argjson sids "$sids" \
    --argjson files "$files" --arg extra "$C_EXTRA" --argjson ipv6 "$( ((PGC_HAVE_IPV6)) && echo true || echo false)" \
    '{kind:"config",name:$name,prefix:$prefix,settings:$extra,needs_prefix:$np,has_pid:$pid,has_time:$time,
      ts_ms:$ms,session_ids:$sids,ipv6:$ipv6,files:$files}')"

  rm -f "$PGC_LOGDIR/$C_NAME".*
  # shellcheck disable=SC2086
  pgc_start "log_filename=$C_NAME.log" "log_line_prefix=$C_PREFIX" \
    log_destination=stderr,csvlog,jsonlog log_connections=on log_disconnections=on $C_EXTRA
  server_event ready
  scenario "$PGC_LOGDIR/$C_NAME.log" "$crash"
  flush_sessions

  cp "$PGC_LOGDIR/$C_NAME.log" "$OUT/$C_NAME.log"
  if ((keep)); then cp "$PGC_LOGDIR/$C_NAME.csv" "$PGC_LOGDIR/$C_NAME.json" "$OUT/"; fi
  # The totals, for people and for the test.
  jq -cs '
    (map(select(.kind == "session"))) as $s | (map(select(.kind == "reject"))) as $r |
    {kind:"counts",
     connect: ($s | length),
     disconnect_logged: ($s | map(select(.end != "crash")) | length),
     reject: ($r | length),
     reject_reasons: ($r | group_by(.reason) | map({key:.[0].reason, value:length}) | from_entries),
     disconnect_reasons: ($s | group_by(.end) | map({key:.[0].end, value:length}) | from_entries),
     server: (map(select(.kind == "server")) | group_by(.state) | map({key:.[0].state, value:length}) | from_entries)}' \
    "$EXPECT" >>"$EXPECT.tmp"
  cat "$EXPECT.tmp" >>"$EXPECT"; rm -f "$EXPECT.tmp"
  printf 'capture_logs: %-13s %4d lines, %ds\n' "$C_NAME" "$(wc -l <"$OUT/$C_NAME.log")" $((SECONDS - t0)) >&2
done
