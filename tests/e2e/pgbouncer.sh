# shellcheck shell=bash
# pgbouncer.sh: a throw-away PgBouncer in front of a pgcluster.sh server,
# for end-to-end tests. Source pgcluster.sh first, then this, then:
#
#   pgc_init; pgc_start ...          # PostgreSQL (pgcluster.sh)
#   pgb_init                         # dir, free port, auth file
#   trap 'pgb_cleanup; pgc_cleanup' EXIT   # (e2e.sh's suites: done for them)
#   pgb_start max_client_conn=5      # settings on top of the base ones
#   pgb_psql tcp4 app_user shop -c 'select 1'
#   pgb_hold s1 sock app_user shop   # a client kept open (pgc_hold through PgBouncer)
#   pgb_close s1; pgb_kill s1        # \q, or kill -9 of its psql
#   pgb_admin 'SHOW CLIENTS'         # admin console (user pgb_admin)
#   pgb_stop TERM                    # by the pid in the pid file
#
# PgBouncer listens on 127.0.0.1 (and ::1 with PGC_HAVE_IPV6) and on a Unix
# socket in PGC_DIR, port PGB_PORT; auth_type scram-sha-256 with plain
# passwords in its auth file (app_user, etl_user: PGC_PASSWORD; pgb_admin:
# PGB_ADMIN_PASSWORD), so it does SCRAM towards PostgreSQL too. It runs as
# the server's OS user (pgc_as_server: PgBouncer refuses root), its log is
# PGB_LOG, its databases are shop, analytics and reports (all the server's
# `shop` except analytics). Every wait has a time limit; on failure a
# function prints `pgbouncer: ...` on stderr and returns 1. Its files
# (pgbouncer.ini, pgbouncer.log, start.out) are in PGC_DIR/pgbouncer, so
# e2e.sh keeps them with the cluster's; in a suite of e2e.sh (lib.sh
# loaded), pgb_init registers pgb_cleanup to run on exit before the
# cluster is stopped.

PGB_ADMIN_PASSWORD=${PGB_ADMIN_PASSWORD:-pgconn-e2e-admin}
PGB_DIR="" PGB_PORT="" PGB_LOG="" PGB_PID=""

pgb_err() { printf 'pgbouncer: %s\n' "$*" >&2; return 1; }

# pgb_init: PGB_DIR (in PGC_DIR), a free port, the auth file.
pgb_init() {
  command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]] ||
    { pgb_err "no pgbouncer binary (apt-get install pgbouncer)"; return 1; }
  [[ -n $PGC_DIR ]] || { pgb_err "pgc_init first"; return 1; }
  ! declare -F lib_on_exit >/dev/null || lib_on_exit pgb_cleanup
  PGB_DIR=$PGC_DIR/pgbouncer
  pgc_as_server mkdir -p "$PGB_DIR" || return 1
  PGB_LOG=$PGB_DIR/pgbouncer.log
  local p=$((PGC_PORT + 1000)) i
  for ((i = 0; i < 200; i++, p++)); do
    if pgc_port_free "$p"; then PGB_PORT=$p; break; fi
  done
  [[ -n $PGB_PORT ]] || { pgb_err "no free TCP port"; return 1; }
  printf '"app_user" "%s"\n"etl_user" "%s"\n"pgb_admin" "%s"\n' \
    "$PGC_PASSWORD" "$PGC_PASSWORD" "$PGB_ADMIN_PASSWORD" |
    pgc_as_server tee "$PGB_DIR/userlist.txt" >/dev/null
}

pgb_bin() { command -v pgbouncer 2>/dev/null || echo /usr/sbin/pgbouncer; }

# pgb_start [NAME=VALUE ...]: writes the config (base settings, then these)
# and starts PgBouncer as a daemon; waits until its pid file is there and
# the log says `process up` once more.
pgb_start() {
  [[ -n $PGB_DIR ]] || { pgb_err "pgb_init first"; return 1; }
  local listen=127.0.0.1 kv ups i
  ((PGC_HAVE_IPV6)) && listen=127.0.0.1,::1
  {
    echo "[databases]"
    echo "shop = host=127.0.0.1 port=$PGC_PORT dbname=shop"
    echo "analytics = host=127.0.0.1 port=$PGC_PORT dbname=analytics"
    echo "reports = host=127.0.0.1 port=$PGC_PORT dbname=shop"
    echo "[pgbouncer]"
    echo "listen_addr = $listen"
    echo "listen_port = $PGB_PORT"
    echo "unix_socket_dir = $PGC_DIR"
    echo "auth_type = scram-sha-256"
    echo "auth_file = $PGB_DIR/userlist.txt"
    echo "admin_users = pgb_admin"
    echo "pool_mode = session"
    echo "logfile = $PGB_LOG"
    echo "pidfile = $PGB_DIR/pgbouncer.pid"
    echo "stats_period = 60"
    for kv in "$@"; do
      [[ $kv == *=* ]] || { pgb_err "setting without '=': $kv"; return 1; }
      echo "${kv%%=*} = ${kv#*=}"
    done
  } | pgc_as_server tee "$PGB_DIR/pgbouncer.ini" >/dev/null
  ups=$(pgc_log_count "$PGB_LOG" "process up:")
  pgc_as_server "$(pgb_bin)" -d "$PGB_DIR/pgbouncer.ini" >"$PGB_DIR/start.out" 2>&1 ||
    { cat "$PGB_DIR/start.out" >&2; pgb_err "pgbouncer -d failed"; return 1; }
  for ((i = 0; i < 500; i++)); do
    if [[ -s $PGB_DIR/pgbouncer.pid ]] && (($(pgc_log_count "$PGB_LOG" "process up:") > ups)); then
      PGB_PID=$(<"$PGB_DIR/pgbouncer.pid")
      return 0
    fi
    sleep 0.02
  done
  pgb_err "pgbouncer did not start"
}

# pgb_stop [SIGNAL]: signals the PgBouncer of the pid file (INT by default)
# and waits (10 s) until it removed its pid file; then QUIT, then KILL.
pgb_stop() {
  local sig=${1:-INT} i
  [[ -n $PGB_PID ]] || return 0
  kill "-$sig" "$PGB_PID" 2>/dev/null
  for ((i = 0; i < 500; i++)); do
    [[ -f $PGB_DIR/pgbouncer.pid ]] || { PGB_PID=""; return 0; }
    sleep 0.02
  done
  kill -QUIT "$PGB_PID" 2>/dev/null; sleep 1
  kill -KILL "$PGB_PID" 2>/dev/null
  pgc_as_server rm -f "$PGB_DIR/pgbouncer.pid"
  PGB_PID=""
  pgb_err "pgbouncer did not exit on SIG$sig"
}

# pgb_psql TRANSPORT USER DB APP [psql args...]: one client through PgBouncer.
pgb_psql() { PGC_PORT=$PGB_PORT pgc_psql "$@"; }

# pgb_hold NAME TRANSPORT USER DB APP: a client kept open (pgc_hold).
pgb_hold() { PGC_PORT=$PGB_PORT pgc_hold "$@"; }

# pgb_close NAME: ends a held client with \q and waits for its psql (the
# server connection stays in PgBouncer's pool).
pgb_close() {
  [[ -n ${PGC_HOLD_PID[$1]:-} ]] || { pgb_err "no session $1"; return 1; }
  printf '\\q\n' 2>/dev/null 1>&"${PGC_HOLD_FD[$1]}" || true
  pgc_hold_reap "$1"
  unset "PGC_HOLD_BACKEND[$1]"
}

# pgb_kill NAME: kill -9 of a held client's psql.
pgb_kill() {
  local pid=${PGC_HOLD_PID[$1]:-}
  [[ -n $pid ]] || { pgb_err "no session $1"; return 1; }
  kill -9 "$pid" 2>/dev/null || true
  pgc_hold_reap "$1"
  unset "PGC_HOLD_BACKEND[$1]"
}

# pgb_admin COMMAND: runs a command on the admin console over TCP; rows as
# psql -A -t prints them ('|' between fields).
pgb_admin() {
  env -u PGAPPNAME PGPASSWORD="$PGB_ADMIN_PASSWORD" PGSSLMODE=disable \
    "$PGC_BIN/psql" -X -w -q -A -t \
    "host=127.0.0.1 port=$PGB_PORT user=pgb_admin dbname=pgbouncer connect_timeout=10" \
    -c "$1" </dev/null
}

# pgb_cleanup: for the EXIT trap, before pgc_cleanup.
pgb_cleanup() {
  [[ -z $PGB_PID ]] || pgb_stop INT 2>/dev/null || true
}
