# shellcheck shell=bash
# pgcluster.sh: a throw-away PostgreSQL cluster for end-to-end tests.
#
# Source it, then:
#
#   pgc_init                      # initdb into a fresh temp dir, pick a free port
#   trap pgc_cleanup EXIT         # always: stops the server, ends held sessions
#   pgc_start log_line_prefix='%m [%p] ' log_filename=run.log
#   pgc_psql tcp4 app_user shop 'etl job' -c 'select 1'
#   pgc_hold s1 sock admin postgres console   # a session kept open
#   pgc_send s1 'select 1;'
#   pgc_close s1
#   pgc_stop fast
#
# Transports: `sock` (Unix socket, pg_hba `trust`), `tcp4` (127.0.0.1) and
# `tcp6` (::1), both `scram-sha-256`. The application name argument is sent
# as PGAPPNAME; `-` leaves PGAPPNAME unset (psql then sends its fallback,
# "psql"), and the empty string sends no application_name at all (libpq does
# not send an empty one).
#
# The server runs as the `postgres` OS user when we are root (PostgreSQL
# refuses root), as ourselves otherwise. Nothing here touches anything outside
# PGC_DIR. Every wait has a time limit; on failure a function prints
# `pgcluster: ...` on stderr and returns 1.
#
# Variables after pgc_init: PGC_BIN PGC_DIR PGC_DATA PGC_PORT PGC_LOGDIR
# PGC_HAVE_IPV6 (1/0; PGC_NO_IPV6=1 forces 0); after pgc_start: PGC_PM_PID,
# PGC_LOGGER_PID.
#
# Several clusters: `pgc_use NAME` makes cluster NAME the current one (the
# first time: a new one, for pgc_init), keeping the current one's variables
# aside; `pgc_on NAME CMD...` runs CMD on cluster NAME and keeps what it
# changed; `pgc_names` lists them. The first cluster is `main`. Held session
# names are shared by all clusters.
#
# Set-up and clean-up: `pgc_setup NAME...` creates the standard roles and
# databases (see there) in one session; `pgc_version` prints the server's
# version; `pgc_copy_files DIR` copies the cluster's files but the data
# directory (logs, postmaster.out, a PgBouncer's) into DIR.

PGC_PASSWORD=${PGC_PASSWORD:-pgconn-e2e-secret}
PGC_DIR=""
PGC_DATA=""
PGC_PORT=""
PGC_LOGDIR=""
PGC_PM_PID=""
PGC_LOGGER_PID=""
PGC_HAVE_IPV6=0
declare -gA PGC_HOLD_PID=() PGC_HOLD_FD=() PGC_HOLD_BACKEND=()
PGC_NAME=main
declare -gA PGC_SAVED=()

pgc_err() { printf 'pgcluster: %s\n' "$*" >&2; return 1; }

# pgc_use NAME: cluster NAME becomes the current one (its PGC_* variables);
# the current one's are kept for a later pgc_use.
pgc_use() {
  [[ $1 != "$PGC_NAME" ]] || return 0
  PGC_SAVED[$PGC_NAME]="$PGC_DIR|$PGC_DATA|$PGC_PORT|$PGC_LOGDIR|$PGC_PM_PID|$PGC_LOGGER_PID"
  PGC_NAME=$1
  IFS='|' read -r PGC_DIR PGC_DATA PGC_PORT PGC_LOGDIR PGC_PM_PID PGC_LOGGER_PID <<<"${PGC_SAVED[$1]:-|||||}"
}

# pgc_on NAME CMD...: CMD on cluster NAME, which stays the current one.
pgc_on() {
  pgc_use "$1"
  shift
  "$@"
}

# The clusters' names, the current one's among them, one a line.
pgc_names() {
  { printf '%s\n' "$PGC_NAME"; [[ ${#PGC_SAVED[@]} -eq 0 ]] || printf '%s\n' "${!PGC_SAVED[@]}"; } | sort -u
}

# Finds the newest PostgreSQL server binaries (Debian layout), or PGC_BIN.
pgc_find_bin() {
  if [[ -n ${PGC_BIN:-} && -x $PGC_BIN/postgres ]]; then return 0; fi
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x $d/postgres && -x $d/initdb ]] || continue
    if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n 1) == "$d" ]]; then
      best=$d
    fi
  done
  if [[ -z $best ]] && command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null) && [[ -x $d/postgres ]] && best=$d
  fi
  [[ -n $best ]] || { pgc_err "no PostgreSQL server binaries (initdb, postgres) found"; return 1; }
  PGC_BIN=$best
}

# Runs a command as the server's OS user.
pgc_as_server() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# True when nothing listens on TCP port $1 (IPv4 or IPv6 loopback) and no
# socket file of ours would clash.
pgc_port_free() {
  local p=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -z $(ss -Hltn "sport = :$p" 2>/dev/null) ]] || return 1
  fi
  # A successful connect means someone listens.
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then return 1; fi
  return 0
}

# Picks a free port at or above $1 (default 54000, or a random offset to
# keep two runs at the same time apart).
pgc_pick_port() {
  local p=${1:-$((54000 + RANDOM % 900))} i
  for ((i = 0; i < 200; i++, p++)); do
    if pgc_port_free "$p"; then PGC_PORT=$p; return 0; fi
  done
  pgc_err "no free TCP port found"
}

# pgc_init [MAX_CONNECTIONS]: creates the cluster (once per PGC_DIR).
# pg_hba: trust on the socket; on TCP, a `reject` line for role hba_blocked,
# then scram-sha-256 for the databases postgres, shop, analytics, limited_db,
# nosuchdb (so template1 over TCP has no pg_hba.conf entry).
pgc_init() {
  pgc_find_bin || return 1
  [[ $EUID -ne 0 ]] || id postgres >/dev/null 2>&1 || { pgc_err "no 'postgres' OS user to run the server as"; return 1; }
  PGC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pgconn-e2e.XXXXXX") || return 1
  PGC_DATA=$PGC_DIR/data
  PGC_LOGDIR=$PGC_DIR/log
  mkdir -p "$PGC_DIR/hold"
  if [[ $EUID -eq 0 ]]; then chown postgres: "$PGC_DIR"; fi
  chmod 700 "$PGC_DIR"
  pgc_as_server mkdir -p "$PGC_LOGDIR" || return 1
  if grep -qi '^0\{31\}1 .* lo$' /proc/net/if_inet6 2>/dev/null; then PGC_HAVE_IPV6=1; else PGC_HAVE_IPV6=0; fi
  [[ ${PGC_NO_IPV6:-0} != 1 ]] || PGC_HAVE_IPV6=0   # to test the IPv4-only path
  if ! pgc_as_server "$PGC_BIN/initdb" -D "$PGC_DATA" -U postgres -A trust --no-sync \
      --no-instructions -E UTF8 --locale=C >"$PGC_DIR/initdb.out" 2>&1; then
    cat "$PGC_DIR/initdb.out" >&2
    pgc_err "initdb failed"; return 1
  fi
  local listen="127.0.0.1" six=""
  if ((PGC_HAVE_IPV6)); then listen="127.0.0.1,::1"; six=1; fi
  local dbs=postgres,shop,analytics,limited_db,nosuchdb
  {
    echo "# pgconn e2e: trust on the socket, passwords over TCP"
    echo "local   all   all                         trust"
    echo "host    all   hba_blocked   127.0.0.1/32  reject"
    [[ -z $six ]] || echo "host    all   hba_blocked   ::1/128       reject"
    echo "host    $dbs  all  127.0.0.1/32  scram-sha-256"
    [[ -z $six ]] || echo "host    $dbs  all  ::1/128       scram-sha-256"
  } | pgc_as_server tee "$PGC_DATA/pg_hba.conf" >/dev/null
  {
    echo "# pgconn e2e base settings"
    echo "listen_addresses = '$listen'"
    echo "unix_socket_directories = '$PGC_DIR'"
    echo "max_connections = ${1:-8}"
    echo "superuser_reserved_connections = 3"
    echo "password_encryption = 'scram-sha-256'"
    echo "autovacuum = off"
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    echo "shared_buffers = '16MB'"
    echo "lc_messages = 'C'"
    echo "log_timezone = 'UTC'"
    echo "logging_collector = on"
    echo "log_directory = '$PGC_LOGDIR'"
    echo "log_rotation_age = 0"
    echo "log_rotation_size = 0"
    echo "log_checkpoints = off"
    echo "include_if_exists = 'pgconn_e2e_run.conf'"
  } | pgc_as_server tee -a "$PGC_DATA/postgresql.conf" >/dev/null
}

# Quotes a value for postgresql.conf.
pgc_conf_quote() {
  local v=${1//\\/\\\\}
  printf "'%s'" "${v//\'/\'\'}"
}

# pgc_start [NAME=VALUE ...]: starts the server with these settings on top
# of the base ones (replacing those of the previous start) and waits until it
# accepts connections. Retries on another port when ours was taken.
pgc_start() {
  [[ -n $PGC_DATA ]] || { pgc_err "pgc_init first"; return 1; }
  local kv
  {
    echo "# settings of this run"
    for kv in "$@"; do
      [[ $kv == *=* ]] || { pgc_err "setting without '=': $kv"; return 1; }
      printf '%s = %s\n' "${kv%%=*}" "$(pgc_conf_quote "${kv#*=}")"
    done
  } | pgc_as_server tee "$PGC_DATA/pgconn_e2e_run.conf" >/dev/null
  [[ -n $PGC_PORT ]] || pgc_pick_port || return 1
  for _ in 1 2 3 4 5; do
    if pgc_as_server "$PGC_BIN/pg_ctl" -D "$PGC_DATA" -o "-p $PGC_PORT" -w -t 60 -s \
        -l "$PGC_DIR/postmaster.out" start >/dev/null 2>"$PGC_DIR/pg_ctl.err"; then
      PGC_PM_PID=$(head -n 1 "$PGC_DATA/postmaster.pid")
      PGC_LOGGER_PID=$(pgc_child_pid 'postgres: logger') || PGC_LOGGER_PID=""
      pgc_wait_ready || return 1
      return 0
    fi
    if grep -qi 'could not bind\|could not create lock file\|Address already in use' \
        "$PGC_DIR/postmaster.out" "$PGC_LOGDIR"/* 2>/dev/null; then
      PGC_PORT=""; pgc_pick_port $((54000 + RANDOM % 900)) || return 1
      continue
    fi
    break
  done
  cat "$PGC_DIR/pg_ctl.err" "$PGC_DIR/postmaster.out" >&2 2>/dev/null
  pgc_err "server did not start"
}

# pgc_stop [MODE]: stops the server (fast by default) and waits until the
# logging collector has written everything and exited.
pgc_stop() {
  local mode=${1:-fast}
  [[ -n $PGC_PM_PID ]] || return 0
  pgc_as_server "$PGC_BIN/pg_ctl" -D "$PGC_DATA" -m "$mode" -w -t 60 -s stop >/dev/null 2>&1 ||
    { pgc_err "pg_ctl stop -m $mode failed"; return 1; }
  pgc_wait_gone "$PGC_LOGGER_PID" 20 || { pgc_err "logging collector did not exit"; return 1; }
  PGC_PM_PID="" PGC_LOGGER_PID=""
}

# pgc_restart [NAME=VALUE ...]
pgc_restart() { pgc_stop fast && pgc_start "$@"; }

# Waits until pid $1 no longer exists (zombies count as gone); $2 seconds.
pgc_wait_gone() {
  local pid=$1 limit=${2:-10} i st
  [[ -n $pid ]] || return 0
  for ((i = 0; i < limit * 100; i++)); do
    read -r st 2>/dev/null <"/proc/$pid/stat" || return 0
    [[ ${st##*) } != Z* ]] || return 0
    sleep 0.01
  done
  return 1
}

# Live (not zombie) children of the postmaster, one pid a line. Reads /proc
# with builtins only: this runs in polling loops, and a fork of ps costs
# more than the scan.
pgc_children() {
  [[ -n $PGC_PM_PID ]] || return 0
  local f line rest
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    rest=${line##*) }          # after the command name, which may hold spaces
    # rest: state ppid ...
    [[ $rest == [!Z]" $PGC_PM_PID "* ]] || continue
    f=${f#/proc/}; echo "${f%/stat}"
  done
}

# pid of the postmaster's child whose command line starts with $1.
pgc_child_pid() {
  local c
  for c in $(pgc_children); do
    if [[ $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) == "$1"* ]]; then echo "$c"; return 0; fi
  done
  return 1
}

# Waits until the server accepts connections: pg_isready over TCP as a role
# that needs a password, so the probe logs nothing but `connection received`
# (libpq hangs up at the password request; the server logs no FATAL for that).
pgc_wait_ready() {
  local i
  for ((i = 0; i < 300; i++)); do
    if "$PGC_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGC_PORT" -U app_user -d postgres -t 2; then return 0; fi
    sleep 0.05
  done
  pgc_err "server not ready on port $PGC_PORT"
}

# Host argument for a transport.
pgc_host() {
  case $1 in
    sock) echo "$PGC_DIR" ;;
    tcp4) echo 127.0.0.1 ;;
    tcp6) ((PGC_HAVE_IPV6)) || { pgc_err "no IPv6 loopback"; return 1; }; echo ::1 ;;
    *) pgc_err "unknown transport '$1' (sock, tcp4, tcp6)"; return 1 ;;
  esac
}

# Quotes a conninfo value.
pgc_ci_quote() {
  local v=${1//\\/\\\\}
  printf "'%s'" "${v//\'/\\\'}"
}

# Builds the psql command line for TRANSPORT USER DB APP into the array
# PGC_CMD and the environment into PGC_ENV (for `env`). Extra conninfo
# keywords (e.g. replication=true) may follow in PGC_EXTRA_CI.
pgc_build() {
  local transport=$1 user=$2 db=$3 app=$4 host ci
  host=$(pgc_host "$transport") || return 1
  ci="host=$(pgc_ci_quote "$host") port=$PGC_PORT user=$(pgc_ci_quote "$user") dbname=$(pgc_ci_quote "$db") connect_timeout=10"
  PGC_ENV=(-u PGAPPNAME -u PGSERVICE -u PGOPTIONS -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE
           -u PGSSLMODE "PGPASSWORD=${PGC_PASS_OVERRIDE:-$PGC_PASSWORD}" PGSSLMODE=disable PGGSSENCMODE=disable)
  if [[ $app == "" ]]; then
    ci+=" application_name=''"
  elif [[ $app != - ]]; then
    PGC_ENV+=("PGAPPNAME=$app")
  fi
  [[ -z ${PGC_EXTRA_CI:-} ]] || ci+=" $PGC_EXTRA_CI"
  PGC_CMD=("$PGC_BIN/psql" -X -w -q -A -t -v ON_ERROR_STOP=1 "$ci")
}

# pgc_psql TRANSPORT USER DB APP [psql args...]: one client run; its status
# is psql's. PGC_PASS_OVERRIDE=... sends another password.
pgc_psql() {
  local PGC_CMD PGC_ENV
  pgc_build "$1" "$2" "$3" "$4" || return 1
  shift 4
  env "${PGC_ENV[@]}" "${PGC_CMD[@]}" "$@" </dev/null
}

# pgc_settle COMMAND...: runs the command, then waits until every server
# process it caused has exited (all postmaster children that were not there
# before are gone), so that the next step starts from a quiet server and the
# log holds the lines of one connection after the other. Returns the
# command's status.
pgc_settle() {
  local before rc=0 c i pending
  before=" $(pgc_children | tr '\n' ' ') "
  "$@" || rc=$?
  for ((i = 0; i < 1000; i++)); do
    pending=""
    for c in $(pgc_children); do
      [[ $before == *" $c "* ]] || { pending=$c; break; }
    done
    [[ -n $pending ]] || return "$rc"
    sleep 0.01
  done
  pgc_err "server process $pending still running after 10 s"
  return "$rc"
}

# pgc_hold NAME TRANSPORT USER DB APP: opens a session that stays open
# (psql reading from a FIFO) and waits until it is established. Sets
# PGC_HOLD_BACKEND[NAME] to its backend pid. Fails (and cleans up) when the
# connection is refused; the psql error is then in $PGC_DIR/hold/NAME.err.
pgc_hold() {
  local name=$1 dir=$PGC_DIR/hold PGC_CMD PGC_ENV fd pid i out
  [[ -z ${PGC_HOLD_PID[$name]:-} ]] || { pgc_err "session $name is already open"; return 1; }
  pgc_build "$2" "$3" "$4" "$5" || return 1
  rm -f "$dir/$name.in" "$dir/$name.out" "$dir/$name.err"
  mkfifo "$dir/$name.in"
  # Read-write open never blocks, and keeps the FIFO open for psql until we
  # close our end.
  exec {fd}<>"$dir/$name.in"
  env "${PGC_ENV[@]}" "${PGC_CMD[@]}" <"$dir/$name.in" >"$dir/$name.out" 2>"$dir/$name.err" &
  pid=$!
  # Not a job of ours: no "Killed" notice when we kill -9 it; bash still
  # reaps it, and we poll for its end.
  disown "$pid"
  PGC_HOLD_PID[$name]=$pid
  PGC_HOLD_FD[$name]=$fd
  printf 'select pg_backend_pid();\n' >&"$fd"
  for ((i = 0; i < 1000; i++)); do
    out=$(head -n 1 "$dir/$name.out" 2>/dev/null)
    if [[ $out =~ ^[0-9]+$ ]]; then PGC_HOLD_BACKEND[$name]=$out; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.01
  done
  pgc_hold_reap "$name"
  return 1
}

# pgc_send NAME SQL: sends SQL (with its own ';') to a held session.
pgc_send() {
  local fd=${PGC_HOLD_FD[$1]:-}
  [[ -n $fd ]] || { pgc_err "no session $1"; return 1; }
  printf '%s\n' "$2" >&"$fd"
}

# Forgets a held session: closes our end of its FIFO and waits for psql
# (killing it after 5 s).
pgc_hold_reap() {
  local name=$1 fd=${PGC_HOLD_FD[$1]:-} pid=${PGC_HOLD_PID[$1]:-} i
  [[ -z $fd ]] || exec {fd}>&-
  if [[ -n $pid ]]; then
    for ((i = 0; i < 500; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
    kill -9 "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
  fi
  unset "PGC_HOLD_PID[$name]" "PGC_HOLD_FD[$name]"
  rm -f "$PGC_DIR/hold/$name.in"
}

# pgc_close NAME: ends a held session normally (\q) and waits until its
# backend has exited (so its `disconnection` line is on its way to the log).
pgc_close() {
  local name=$1 backend=${PGC_HOLD_BACKEND[$1]:-}
  [[ -n ${PGC_HOLD_PID[$name]:-} ]] || { pgc_err "no session $name"; return 1; }
  printf '\\q\n' 2>/dev/null 1>&"${PGC_HOLD_FD[$name]}" || true
  pgc_hold_reap "$name"
  pgc_wait_gone "$backend" 10 || { pgc_err "backend $backend of $name did not exit"; return 1; }
  unset "PGC_HOLD_BACKEND[$name]"
}

# pgc_kill_all: SIGKILL to the postmaster and every child (an OOM kill, a
# power cut: PostgreSQL logs no crash, only its next start), then what a
# reboot would clear: the dead postmaster may stay a zombie here (no init
# reaps it, as one would on a real host), which PostgreSQL would take for a
# running server, so its lock files and shared memory go by hand. Held
# sessions are forgotten. pgc_start starts it again.
pgc_kill_all() {
  [[ -n $PGC_PM_PID ]] || { pgc_err "no server running"; return 1; }
  local victims p shm_id=""
  victims="$PGC_PM_PID $(pgc_children | tr '\n' ' ')"
  read -r _ shm_id < <(sed -n 7p "$PGC_DATA/postmaster.pid" 2>/dev/null)
  # Stopped first, all of them: a backend that outlives the postmaster by a
  # moment would notice its death and log its own end, which a power cut
  # never does.
  # shellcheck disable=SC2086
  kill -STOP $victims 2>/dev/null
  # shellcheck disable=SC2086
  kill -9 $victims 2>/dev/null
  for p in $victims; do pgc_wait_gone "$p" 10 || { pgc_err "pid $p survived SIGKILL"; return 1; }; done
  pgc_close_all 2>/dev/null
  pgc_as_server rm -f "$PGC_DATA/postmaster.pid" "$PGC_DIR/.s.PGSQL.$PGC_PORT" "$PGC_DIR/.s.PGSQL.$PGC_PORT.lock"
  [[ -z $shm_id ]] || ipcrm -m "$shm_id" 2>/dev/null
  PGC_PM_PID="" PGC_LOGGER_PID=""
}

# pgc_kill_client NAME: kill -9 the psql of a held session (the server sees
# the client vanish).
pgc_kill_client() {
  local name=$1 backend=${PGC_HOLD_BACKEND[$1]:-} pid=${PGC_HOLD_PID[$1]:-}
  [[ -n $pid ]] || { pgc_err "no session $name"; return 1; }
  kill -9 "$pid" 2>/dev/null || true
  pgc_hold_reap "$name"
  pgc_wait_gone "$backend" 10 || { pgc_err "backend $backend of $name did not exit"; return 1; }
  unset "PGC_HOLD_BACKEND[$name]"
}

# pgc_close_all: ends every held session (as pgc_close, without waiting for
# backends that may already be gone).
pgc_close_all() {
  local name
  for name in "${!PGC_HOLD_PID[@]}"; do
    printf '\\q\n' 2>/dev/null 1>&"${PGC_HOLD_FD[$name]}" || true
    pgc_hold_reap "$name"
  done
  PGC_HOLD_BACKEND=()
}

# pgc_backend_pid_of APP [TRANSPORT USER DB CTL_APP]: backend pid of the
# client backend whose application_name is APP, looked up in
# pg_stat_activity by a control session (default: the socket, postgres@postgres).
pgc_backend_pid_of() {
  local app=$1 q
  q="select pid from pg_stat_activity where backend_type = 'client backend' and application_name = '${app//\'/\'\'}'"
  pgc_psql "${2:-sock}" "${3:-postgres}" "${4:-postgres}" "${5:--}" -c "$q"
}

# pgc_log_count FILE STRING: lines of FILE that contain STRING (fixed).
pgc_log_count() {
  local n
  n=$(grep -cF -- "$2" "$1" 2>/dev/null) || true
  echo "${n:-0}"
}

# pgc_wait_log FILE STRING N [SECONDS]: waits until FILE has at least N
# lines containing STRING (the collector writes asynchronously).
pgc_wait_log() {
  local file=$1 str=$2 n=$3 limit=${4:-30} i
  for ((i = 0; i < limit * 50; i++)); do
    (($(pgc_log_count "$file" "$str") >= n)) && return 0
    sleep 0.02
  done
  pgc_err "timed out waiting for $n x '$str' in $file"
}

# pgc_rotate: SELECT pg_rotate_logfile() (the logging collector opens its
# next file: a new time-based name, or the same name again after a rename).
pgc_rotate() {
  pgc_settle pgc_psql sock postgres postgres pgconn-ctl -c 'select pg_rotate_logfile()' >/dev/null
}

# pgc_client_count: client backends in pg_stat_activity, the asking one
# not counted (its own connect and disconnect are in the log by the time
# this returns).
pgc_client_count() {
  pgc_settle pgc_psql sock postgres postgres pgconn-ctl -c \
    "select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()"
}

# pgc_setup NAME...: one session (application `setup`, as postgres over the
# socket) that creates these roles and databases, in this order:
#   app_user, readonly, etl_user   login, password PGC_PASSWORD
#   admin                          the same, superuser
#   limited_role                   the same, connection limit 1
#   nologin_role                   nologin
#   hba_blocked                    login (pg_hba rejects it over TCP)
#   shop, analytics                databases
#   limited_db                     a database, connection limit 1
# Waits until the session's server process has exited (pgc_settle). On
# failure psql's error is on stderr.
pgc_setup() {
  local name q args=()
  for name in "$@"; do
    case $name in
      app_user | readonly | etl_user) q="create role $name login password '$PGC_PASSWORD'" ;;
      admin) q="create role admin login superuser password '$PGC_PASSWORD'" ;;
      limited_role) q="create role limited_role login connection limit 1 password '$PGC_PASSWORD'" ;;
      nologin_role) q="create role nologin_role nologin password '$PGC_PASSWORD'" ;;
      hba_blocked) q="create role hba_blocked login password '$PGC_PASSWORD'" ;;
      shop | analytics) q="create database $name" ;;
      limited_db) q="create database limited_db connection limit 1" ;;
      *) pgc_err "pgc_setup: unknown role or database '$name'"; return 1 ;;
    esac
    args+=(-c "$q")
  done
  pgc_settle pgc_psql sock postgres postgres setup "${args[@]}" >/dev/null
}

# The server's version (15.18).
pgc_version() { "$PGC_BIN/postgres" --version | awk '{print $3}'; }

# pgc_copy_files DIR: the cluster's files but its data directory and
# sockets (the log directory, initdb.out, postmaster.out, pg_ctl.err, held
# sessions' output, a PgBouncer's directory) into DIR.
pgc_copy_files() {
  [[ -n $PGC_DIR && -d $PGC_DIR ]] || return 0
  mkdir -p "$1" || return 1
  find "$PGC_DIR" -mindepth 1 -maxdepth 1 ! -name data ! -name '.s.PGSQL.*' -exec cp -r {} "$1/" \; 2>/dev/null
  return 0
}

# pgc_cleanup: for `trap pgc_cleanup EXIT`: ends held sessions, stops the
# server (immediate if fast fails), removes PGC_DIR unless PGC_KEEP=1.
pgc_cleanup() {
  local rc=$?
  set +e
  pgc_close_all 2>/dev/null
  if [[ -n $PGC_DATA && -f $PGC_DATA/postmaster.pid ]]; then
    pgc_as_server "$PGC_BIN/pg_ctl" -D "$PGC_DATA" -m fast -w -t 20 -s stop >/dev/null 2>&1 ||
      pgc_as_server "$PGC_BIN/pg_ctl" -D "$PGC_DATA" -m immediate -w -t 20 -s stop >/dev/null 2>&1
  fi
  [[ -z $PGC_LOGGER_PID ]] || pgc_wait_gone "$PGC_LOGGER_PID" 10
  PGC_PM_PID="" PGC_LOGGER_PID=""
  if [[ -n $PGC_DIR && -d $PGC_DIR && ${PGC_KEEP:-0} != 1 ]]; then rm -rf "$PGC_DIR"; fi
  return "$rc"
}
