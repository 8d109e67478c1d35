# tests/lib.sh: the one library of the shell suites (sourced, never run).
#
#   cd "$(dirname "$0")/.." || exit 1; . tests/lib.sh    # tests/*.sh
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"          # tests/e2e/*.sh
#
# Sourcing it sets up the temporary directory, the exit trap (do not set
# another EXIT trap: use lib_on_exit) and the variables below.
#
# Why a small library of our own and not bats-core: every suite already
# prints TAP-style `ok - NAME` / `not ok - NAME: why` lines that tests/run.sh
# counts, most checks are one-line shell conditions over a program's output,
# and many suites run one long scenario (a server, a live pipeline) whose
# steps depend on each other; bats runs each @test in a subshell of its own,
# so such a scenario would have to be split or kept in global set-up, and
# bats adds three packages to the set-up. These ~200 lines give the same
# checks, diffs on failure and clean-up; tests/lib_test.sh tests them.
#
# What a suite gets:
#   ok NAME / not_ok NAME WHY / skip NAME WHY     one TAP line each
#   fatal NAME WHY          not_ok, then exit (the suite cannot go on)
#   check NAME COND [WHY]   ok when `eval COND` succeeds, else not_ok with WHY
#                           (default: COND itself)
#   check_why NAME COND [WHY_CMD]  as check, but WHY_CMD is run (eval) only
#                           on failure and its output (800 bytes) is the reason
#   check_eq NAME WANT GOT  ok when the strings are equal, else a diff
#   check_file NAME WANT GOT  ok when the files are equal, else a diff
#   $LIB_TMP                the suite's temporary directory, made when lib.sh
#                           is sourced, removed on exit; with PGCONN_KEEP=DIR
#                           its contents are copied into DIR first
#   lib_tmpdir VAR TAG      makes a new directory $LIB_TMP/TAG (TAG.2, ... when
#                           taken) and assigns its path
#                           to VAR. Not `VAR=$(lib_tmpdir ...)`: that runs it in
#                           a subshell. Everything lives below $LIB_TMP, so
#                           clean-up and PGCONN_KEEP never miss a directory,
#                           even one made in a subshell or background job.
#   lib_on_exit CMD         runs CMD (eval) on exit, last registered first
#   lib_track_pid PID       killed (TERM, then KILL) on exit if still running
#                           (the same process: its start time is kept, since
#                           pid_max may be 32768 and a waited-for pid reused)
#   lib_track_group PGID    the same for a whole process group (setsid, on_pty)
#   within SECS CMD...      CMD with a time limit (exit 124 when it ran over)
#   wait_until SECS COND    polls COND (eval) every 50 ms; false on time-out
#                           (SECS may be fractional: 0.5)
#   wait_for_text FILE S [TENTHS]  waits until FILE contains the string S
#   now_ms                  wall-clock milliseconds
#   on_pty OUT CMD...       CMD with stdout on a new pseudo-terminal, copied
#                           into OUT; its pid in $LIB_PTY_PIDFILE (default
#                           $LIB_TMP/pty.pid; set it per pipeline when several
#                           run at once); needs $PYTHON (python3, found
#                           when lib.sh is sourced unless set)
#   lib_done                the suite's exit status: 1 if any check failed
# The programs under test, absolute paths (set when lib.sh is sourced):
#   $LIB_BIN                their directory: PGCONN_BIN (relative to the
#                           repository, or absolute), default bin
#   $PARSE $AGG $WATCH $TAIL  pgconn-parse, -agg, -watch, -tail in it, unless
#                           PGCONN_PARSE, PGCONN_AGG, PGCONN_WATCH or
#                           PGCONN_TAIL names another (tests/run.sh sets all)
# Helpers for conditions and reasons:
#   all_json FILE           FILE has a line and every line is one JSON object
#   show_bytes FILE [N]     FILE's first N bytes (600) on one line, as od -c
#   no_sgr FILE             FILE without SGR colour sequences (ESC [ ... m)
#
# `failures` counts the not_ok lines. Exit status: a suite that ends with
# lib_done (or falls off its end) exits 1 when any check failed.
# shellcheck shell=bash

LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case ${PGCONN_BIN:-bin} in
  /*) LIB_BIN=$PGCONN_BIN ;;
  *) LIB_BIN=$LIB_ROOT/${PGCONN_BIN:-bin} ;;
esac
# shellcheck disable=SC2034  # for the suites
PARSE=${PGCONN_PARSE:-$LIB_BIN/pgconn-parse}
# shellcheck disable=SC2034
AGG=${PGCONN_AGG:-$LIB_BIN/pgconn-agg}
# shellcheck disable=SC2034
WATCH=${PGCONN_WATCH:-$LIB_BIN/pgconn-watch}
# shellcheck disable=SC2034
TAIL=${PGCONN_TAIL:-$LIB_BIN/pgconn-tail}
failures=0
_lib_pids=()
_lib_groups=()
_lib_exit_cmds=()

ok() { printf 'ok - %s\n' "$1"; }
not_ok() {
  # A multi-line reason is folded into one TAP line plus '#' comment lines.
  local why=${2:-}
  printf 'not ok - %s: %s\n' "$1" "${why%%$'\n'*}"
  [[ $why != *$'\n'* ]] || printf '%s\n' "${why#*$'\n'}" | sed 's/^/#   /'
  failures=$((failures + 1))
}
skip() { printf 'ok - %s # SKIP %s\n' "$1" "$2"; }
fatal() { not_ok "$1" "$2"; exit 1; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1" "${3:-$2}"; fi; }
check_why() {
  if eval "$2"; then ok "$1"
  elif (($# < 3)); then not_ok "$1" "$2"
  else not_ok "$1" "$(eval "$3" 2>&1 | head -c 800)"; fi
}

check_eq() {
  if [[ $2 == "$3" ]]; then ok "$1"; return 0; fi
  not_ok "$1" "differs (- wanted, + got)"$'\n'"$(diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") | tail -n +3 | head -n 40)"
  return 1
}

check_file() {
  if cmp -s "$2" "$3"; then ok "$1"; return 0; fi
  not_ok "$1" "$3 differs from $2 (- wanted, + got)"$'\n'"$(diff -u "$2" "$3" 2>&1 | tail -n +3 | head -n 40)"
  return 1
}

[[ -z ${PGCONN_KEEP:-} || $PGCONN_KEEP == /* ]] || PGCONN_KEEP=$PWD/$PGCONN_KEEP
LIB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pgconn-$(basename "$0" .sh).XXXXXX") ||
  { echo "lib.sh: mktemp -d failed" >&2; exit 1; }

lib_tmpdir() {
  local tag=${2:-} d n=1
  if (($# != 2)) || [[ ! $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    # Refused loudly: the old form T=$(lib_tmpdir TAG) would set T to "".
    echo "lib_tmpdir: use it as 'lib_tmpdir VAR TAG', not VAR=\$(lib_tmpdir ...)" >&2
    kill -TERM "$$"  # the suite itself, even from a subshell: it must not go on
    exit 1
  fi
  d=$LIB_TMP/$tag
  while ! mkdir "$d" 2>/dev/null; do
    [[ -d $LIB_TMP ]] || { echo "lib_tmpdir: $LIB_TMP is gone" >&2; return 1; }
    n=$((n + 1)); d=$LIB_TMP/$tag.$n
  done
  printf -v "$1" '%s' "$d"
}

lib_on_exit() { _lib_exit_cmds+=("$1"); }
# _lib_started PID: $REPLY = PID's start time (/proc/PID/stat field 22);
# false when there is no such process.
_lib_started() {
  local _s _f
  REPLY=""
  read -r _s 2>/dev/null <"/proc/$1/stat" || return 1
  read -ra _f <<<"${_s##*) }"
  REPLY=${_f[19]:-}
}
lib_track_pid() { _lib_started "$1" && _lib_pids+=("$1:$REPLY"); }
lib_track_group() { _lib_groups+=("$1"); }

_lib_cleanup() {
  local rc=$? i p entry
  set +e
  for ((i = ${#_lib_exit_cmds[@]} - 1; i >= 0; i--)); do eval "${_lib_exit_cmds[i]}"; done
  # Process groups as "-PGID": kill(1) signals the whole group.
  local _kill=()
  for entry in "${_lib_pids[@]}"; do
    _lib_started "${entry%%:*}" && [[ $REPLY == "${entry#*:}" ]] && _kill+=("${entry%%:*}")
  done
  for p in "${_lib_groups[@]}"; do _kill+=("-$p"); done
  for p in "${_kill[@]}"; do kill -TERM -- "$p" 2>/dev/null; done
  for p in "${_kill[@]}"; do
    for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "$p" 2>/dev/null
  done
  if [[ -n ${PGCONN_KEEP:-} ]]; then
    mkdir -p "$PGCONN_KEEP" && cp -a "$LIB_TMP/." "$PGCONN_KEEP/" 2>/dev/null
  fi
  rm -rf "$LIB_TMP"
  ((rc != 0 || failures == 0)) || rc=1
  exit "$rc"
}
trap _lib_cleanup EXIT
trap 'exit 1' INT TERM HUP

within() {
  local secs=$1; shift
  timeout --kill-after=5 "$secs" "$@"
}

wait_until() {
  # SECS may have up to three decimals (0.5, 2.25).
  local s=${1%%.*} f=${1#*.}
  [[ $1 == *.* ]] || f=0
  f=${f}000
  local deadline=$(($(now_ms) + 10#${s:-0} * 1000 + 10#${f:0:3}))
  until eval "$2"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.05
  done
}

wait_for_text() {
  local i
  for ((i = 0; i < ${3:-50}; i++)); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# $PYTHON: a plain interpreter first (a version manager's shim can take
# seconds to start); empty when there is none.
if [[ -z ${PYTHON:-} ]]; then
  for _lib_c in /usr/bin/python3 /usr/local/bin/python3 python3; do
    if command -v "$_lib_c" >/dev/null; then PYTHON=$(command -v "$_lib_c"); break; fi
  done
  unset _lib_c
fi
LIB_PTY_PIDFILE=$LIB_TMP/pty.pid
# No NO_COLOR unless the caller's `env` says otherwise; TERM is a colour one.
on_pty() {
  local out=$1; shift
  [[ -n ${PYTHON:-} ]] || { echo "on_pty: no python3" >&2; return 127; }
  : >"$out"
  env -u NO_COLOR TERM=xterm-256color "$PYTHON" "$LIB_ROOT/tests/ptyrun.py" "$out" "$LIB_PTY_PIDFILE" "$@"
}

lib_done() { ((failures == 0)); exit $?; }

all_json() { [ -s "$1" ] && [ "$(jq -c 'objects' "$1" 2>/dev/null | wc -l)" = "$(wc -l <"$1")" ]; }
show_bytes() { head -c "${2:-600}" "$1" | od -An -c | tr -s ' \n' ' '; }
no_sgr() { sed $'s/\x1b\\[[0-9;]*m//g' "$1"; }
