# shellcheck shell=bash
# tests/e2e/e2e.sh: what every end-to-end suite shares (sourced, never run).
#
#   . "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
#   e2e_begin parse agg jq           # the programs and commands it needs
#
# Sourcing it sources ../lib.sh (ok/not_ok/check/check_eq/fatal, clean-up on
# exit; the programs under test $PARSE $AGG $WATCH $TAIL, see there) and
# pgcluster.sh (PostgreSQL), and sets:
#
#   here root            tests/e2e and the repository
#   WORK                 the suite's work directory ($LIB_TMP, removed on exit)
#
# Keeping files: with PGCONN_E2E_KEEP=DIR, WORK's contents (outputs, events,
# and the servers' logs, see below) are copied into DIR at exit, pass or
# fail; when a check failed (or the suite died), they are copied into a new
# ${TMPDIR:-/tmp}/pgconn-e2e-failed-SUITE.XXXXXX instead and a `# ...` line
# names it. The servers the helpers started are stopped on exit, each by its
# pid, before that copy: pgcluster.sh's clusters (their log directory,
# postmaster.out and the files of a PgBouncer in front land in
# WORK/pg-NAME/, NAME `main` unless pgc_use named it), pgbouncer.sh,
# rsyslog.sh, promstack.sh.
#
#   e2e_begin NEED...     fatal unless each NEED is there: parse, agg, watch,
#                         tail (built programs) or a command (jq, curl, ...)
#   e2e_keeping           true when WORK will be kept (for the helpers' exit)
#   check_json NAME WANT GOT  ok when equal as strings or as JSON values
#                         (key order aside), else not_ok "want WANT, got GOT"
#   e2e_track GROUP PID   PID (a background job) belongs to GROUP
#   e2e_stop GROUP        SIGTERM to GROUP's processes, then waits for them;
#                         every group still running is stopped so on exit
#   e2e_free_port VAR [BASE]  a free loopback TCP port (not one handed out
#                         before by this function) into VAR
#   e2e_pg_init [MAX_CONNECTIONS]  pgc_init (output in WORK/pg-init.out) or
#                         fatal; the cluster is stopped on exit
#   e2e_pg_start SETTING...  pgc_start (WORK/pg-start.out) or fatal
#   e2e_hold NAME TRANSPORT USER DB APP   pgc_hold or fatal (with psql's error)
#   e2e_close NAME        pgc_close or fatal
#   e2e_reject REASON TRANSPORT USER DB PATTERN [APP]  a connection the
#                         server must refuse with a FATAL matching PATTERN (a
#                         glob); fatal otherwise; counted in E2E_REJECTS[REASON]
#   e2e_captured_logs [CONFIG...]  sets `logs` to the directory of logs
#                         capture_logs.sh wrote: PGCONN_E2E_LOGS when set
#                         (captured before), else a capture of these
#                         configurations (all by default) into WORK/capture,
#                         with an ok line; fatal when it fails
#   e2e_logrotate_conf FILE PATH  writes into FILE postgresql-common's
#                         logrotate stanza (weekly, rotate 10, copytruncate,
#                         delaycompress, compress) for PATH (a glob may do)
#   E2E_PSA_GROUPS        SQL (for psql -c) of pg_stat_activity's client
#                         backends but the asking one, as one JSON object:
#                         {"pid":..., "active":N, "db":{..}, "user":{..},
#                         "app":{..}, "host":{..}} ('unknown' for no
#                         application_name, '[local]' for the socket)

# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=pgcluster.sh
. "$(dirname "${BASH_SOURCE[0]}")/pgcluster.sh"

# shellcheck disable=SC2034  # the suites' variables
{
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$LIB_ROOT
}
E2E_NAME=$(basename "$0" .sh)
WORK=$LIB_TMP
[[ -z ${PGCONN_E2E_KEEP:-} || $PGCONN_E2E_KEEP == /* ]] || PGCONN_E2E_KEEP=$PWD/$PGCONN_E2E_KEEP
# Other users (the postgres OS user, as which the servers and PgBouncer
# run) may have to read files a suite puts below it.
chmod 755 "$WORK"
declare -gA E2E_REJECTS=()
_e2e_ports=" "

e2e_begin() {
  local need prog
  for need in "$@"; do
    case $need in
      parse | agg | watch | tail)
        prog=${need^^}
        [[ -x ${!prog} ]] || fatal "pgconn-$need built" "no executable ${!prog} (run make)" ;;
      *) command -v "$need" >/dev/null 2>&1 || fatal "$need installed" "$need is needed" ;;
    esac
  done
}

# True when WORK is kept at exit. In an exit command `rc` is lib.sh's
# _lib_cleanup's (the suite's exit status; bash's locals are dynamic).
e2e_keeping() {
  [[ -n ${PGCONN_E2E_KEEP:-} ]] || ((failures > 0)) || ((${rc:-0} != 0))
}

check_json() {
  if [[ $2 == "$3" ]] || jq -en --argjson a "$2" --argjson b "$3" '$a == $b' >/dev/null 2>&1; then
    ok "$1"
  else
    not_ok "$1" "want $2, got $3"
  fi
}

_e2e_finish() {
  local to
  if [[ -n ${PGCONN_E2E_KEEP:-} ]]; then
    to=$PGCONN_E2E_KEEP
    mkdir -p "$to" || return
  elif e2e_keeping && [[ -n $(ls -A "$WORK" 2>/dev/null) ]]; then
    to=$(mktemp -d "${TMPDIR:-/tmp}/pgconn-e2e-failed-$E2E_NAME.XXXXXX") || return
    echo "# $E2E_NAME: its files are kept in $to"
  else
    return 0
  fi
  # Sockets are left out (cp cannot copy them); FIFOs are made anew.
  (cd "$WORK" && find . -mindepth 1 -maxdepth 1 -exec cp -a {} "$to/" \; 2>/dev/null)
  return 0
}
lib_on_exit _e2e_finish

declare -gA _e2e_groups=()
e2e_track() { _e2e_groups[$1]+=" $2"; }
# True when pid $1 is still a child of this shell (not a reused pid).
_e2e_ours() {
  local s
  read -r s 2>/dev/null <"/proc/$1/stat" || return 1
  s=${s##*) }; s=${s#* }
  [[ ${s%% *} == "$$" ]]
}
e2e_stop() {
  local p
  for p in ${_e2e_groups[$1]:-}; do ! _e2e_ours "$p" || kill "$p" 2>/dev/null; done
  for p in ${_e2e_groups[$1]:-}; do wait "$p" 2>/dev/null; done
  unset "_e2e_groups[$1]"
}
lib_on_exit 'for _g in "${!_e2e_groups[@]}"; do e2e_stop "$_g"; done'

e2e_free_port() {
  local -n _port=$1
  local p=${2:-$((20000 + RANDOM % 20000))} i
  for ((i = 0; i < 200; i++, p++)); do
    [[ $_e2e_ports != *" $p "* ]] || continue
    if pgc_port_free "$p"; then _e2e_ports+="$p "; _port=$p; return 0; fi
  done
  return 1
}

# ------------------------------------------------------------ PostgreSQL

# Every cluster pgcluster.sh knows: stopped; its files copied into WORK
# when kept; its directory removed.
_e2e_pg_down() {
  local n
  for n in $(pgc_names); do
    pgc_use "$n"
    [[ -n $PGC_DIR ]] || continue
    if e2e_keeping; then
      PGC_KEEP=1 pgc_cleanup
      pgc_copy_files "$WORK/pg-$n"
      rm -rf "$PGC_DIR"
    else
      pgc_cleanup
    fi
  done
}
_e2e_pg_registered=0

e2e_pg_init() {
  if ((!_e2e_pg_registered)); then lib_on_exit _e2e_pg_down; _e2e_pg_registered=1; fi
  pgc_init "$@" >"$WORK/pg-init.out" 2>&1 ||
    fatal "create a PostgreSQL cluster" "$(tail -n 5 "$WORK/pg-init.out")"
}

e2e_pg_start() {
  pgc_start "$@" >"$WORK/pg-start.out" 2>&1 ||
    fatal "start PostgreSQL" "$(tail -n 5 "$WORK/pg-start.out")"
}

e2e_hold() {
  pgc_hold "$@" || fatal "open session $1 ($3@$4 over $2)" "$(cat "$PGC_DIR/hold/$1.err" 2>/dev/null)"
}

e2e_close() { pgc_close "$1" || fatal "close session $1" "its backend did not exit"; }

e2e_reject() {
  local reason=$1 transport=$2 user=$3 db=$4 pattern=$5 err msg
  if err=$(pgc_settle pgc_psql "$transport" "$user" "$db" "${6:--}" -c 'select 1' 2>&1 >/dev/null); then
    fatal "reject $reason ($user@$db over $transport)" "the server accepted the connection"
  fi
  msg=${err#*FATAL:  }; msg=${msg%%$'\n'*}
  # shellcheck disable=SC2053
  [[ $msg == $pattern ]] || fatal "reject $reason ($user@$db over $transport)" "unexpected error: $err"
  E2E_REJECTS[$reason]=$((${E2E_REJECTS[$reason]:-0} + 1))
}

# shellcheck disable=SC2034  # for the suites
E2E_PSA_GROUPS="with a as (
  select coalesce(datname, '(none)') d, coalesce(usename, '(none)') u,
         coalesce(nullif(application_name, ''), 'unknown') ap,
         coalesce(host(client_addr), '[local]') h
  from pg_stat_activity
  where backend_type = 'client backend' and pid <> pg_backend_pid())
select json_build_object(
  'pid', pg_backend_pid(),
  'active', (select count(*) from a),
  'db', (select coalesce(json_object_agg(d, n), '{}') from (select d, count(*) n from a group by d) x),
  'user', (select coalesce(json_object_agg(u, n), '{}') from (select u, count(*) n from a group by u) x),
  'app', (select coalesce(json_object_agg(ap, n), '{}') from (select ap, count(*) n from a group by ap) x),
  'host', (select coalesce(json_object_agg(h, n), '{}') from (select h, count(*) n from a group by h) x))"

e2e_captured_logs() {
  local t0=$SECONDS
  if [[ -n ${PGCONN_E2E_LOGS:-} ]]; then
    logs=$(cd "$PGCONN_E2E_LOGS" && pwd) || fatal "captured logs" "no directory $PGCONN_E2E_LOGS"
    return 0
  fi
  logs=$WORK/capture
  if "$here/capture_logs.sh" "$logs" "$@" >"$WORK/capture.out" 2>&1; then
    ok "capture logs of a real PostgreSQL server ($((SECONDS - t0)) s)"
  else
    fatal "capture logs of a real PostgreSQL server" \
      "$(grep -v '^capture_logs: [a-z_]* *[0-9]* lines' "$WORK/capture.out" | tail -n 5)"
  fi
}

e2e_logrotate_conf() {
  cat >"$1" <<EOF
$2 {
       weekly
       rotate 10
       copytruncate
       delaycompress
       compress
       notifempty
       missingok
       su root root
}
EOF
}
