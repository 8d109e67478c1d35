# shellcheck shell=bash
# tests/e2e/rsyslog.sh: throw-away rsyslogd instances for end-to-end
# suites (sourced after e2e.sh, never run).
#
#   rs_start central "$WORK/central.conf"   # config checked first (-N1)
#   rs_wait_listening central "$PORT"       # a TCP input is up
#   rs_stop central                         # by its pid; rs_errors lists errors
#
# Each instance is Debian's rsyslogd in the foreground (-n) of a background
# job, with the configuration the suite wrote (its own workDirectory, a
# loopback port from e2e_free_port, files below WORK; the system's
# /dev/log and /etc/rsyslog.conf are not used), its own pid file
# WORK/NAME.pid, stdout and stderr in WORK/NAME.out and WORK/NAME.err. It
# runs as root: rsyslogd needs no other user and drops nothing here. Every
# instance still running is stopped on exit (SIGTERM to its pid, then a
# wait), before e2e.sh copies WORK when it is kept.
#
#   RSYSLOGD               the program (default: rsyslogd on PATH or
#                          /usr/sbin/rsyslogd)
#   rs_available           true when it is installed
#   rs_start NAME CONF     fatal when the configuration does not pass -N1
#   rs_wait_listening NAME PORT  fatal unless something listens on
#                          127.0.0.1:PORT within 5 s
#   rs_stop NAME           SIGTERM, then waits for it
#   rs_errors              the lines of every instance's stderr that say
#                          "error" (empty: none)

RSYSLOGD=${RSYSLOGD:-$(command -v rsyslogd || echo /usr/sbin/rsyslogd)}
declare -gA RS_PID=()
RS_NAMES=()   # every instance started, stopped or not

rs_available() { [[ -x $RSYSLOGD ]]; }

rs_version() { "$RSYSLOGD" -v | awk 'NR == 1 {print $2}'; }

rs_start() {
  local name=$1 conf=$2
  if ! "$RSYSLOGD" -N1 -f "$conf" >"$WORK/$name.check.err" 2>&1; then
    fatal "rsyslog $name: configuration" "$(grep -v '^rsyslogd: version' "$WORK/$name.check.err" | head -n 3)"
  fi
  "$RSYSLOGD" -n -f "$conf" -i "$WORK/$name.pid" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  RS_PID[$name]=$!
  RS_NAMES+=("$name")
}

rs_wait_listening() {
  local name=$1 port=$2
  wait_until 5 "! pgc_port_free $port" ||
    fatal "rsyslog $name" "not listening on 127.0.0.1:$port after 5 s: $(cat "$WORK/$name.err")"
}

rs_stop() {
  local pid=${RS_PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "RS_PID[$1]"
}

rs_errors() {
  local n
  for n in "${RS_NAMES[@]}"; do grep -hi error "$WORK/$n.err"; done
}

_rs_stop_all() {
  local n
  for n in "${!RS_PID[@]}"; do rs_stop "$n"; done
}
lib_on_exit _rs_stop_all
