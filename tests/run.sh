#!/usr/bin/env bash
# Runs every test: the Catch2 unit tests, then each shell suite in tests/
# (tests/*_test.sh, then the server suites tests/e2e/*_test.sh).
# Shell suites print "ok - NAME" / "not ok - NAME: why" lines (tests/lib.sh),
# a failure's details as "#" lines after it; the unit tests run with Catch2's
# XML reporter, read by tests/catch_report.py into the same form (one
# "not ok" per failed test case). Each stage prints its failures and
# "P passed, F failed (T s)"; the last line of the run is
# "N passed, N failed" over all of them (unit tests count test cases, suites
# their ok lines).
#
# When PGCONN_SAN_BUILD names a sanitized build (make test builds one in
# build/asan: AddressSanitizer, LeakSanitizer and UBSan), the unit tests and
# the suites run a second time on its programs, each result named
# "asan: ..."; a sanitizer report from any of its processes (even one whose
# exit status a check ignores) fails that suite.
#
# Environment: BUILD (default build), BIN (default bin; both relative to the
# repository), PGCONN_SKIP_SERVER=1 (no real PostgreSQL server),
# PGCONN_SAN_BUILD (the sanitized build; unset: no sanitized stage),
# PGCONN_SAN_OPT (the flags it was built with), PGCONN_JOBS (shell suites
# at a time, default 1), PGCONN_SERVER_JOBS (server suites at a time,
# default 2). Each stage's unit tests run first; the suites' reports are
# printed in a fixed order whatever order they finish in.
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-build}
bin=${BIN:-bin}
passed=0 failed=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# unit_tests PROGRAM PREFIX: runs the Catch2 tests (XML reporter), prints
# a "not ok" line per failed test case with its details, the tail of the
# program's own output when something failed, and "P passed, F failed";
# adds the test cases to the counts.
unit_tests() {
  local rc report last p=0 f=1 start=$SECONDS
  echo "== ${2}unit tests"
  rm -f "$scratch/unit.xml"
  "$1" -r xml -o "$scratch/unit.xml" >"$scratch/unit.out" 2>&1
  rc=$?
  report=$(python3 tests/catch_report.py "$scratch/unit.xml" "$rc" "$2" 2>&1)
  last=$(tail -n 1 <<<"$report")
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
    sed '$d' <<<"$report"
  else
    echo "not ok - ${2}unit tests: no report"
    sed 's/^/# /' <<<"$report"
  fi
  if [ "$f" -gt 0 ] && [ -s "$scratch/unit.out" ]; then
    tail -n 20 "$scratch/unit.out" | sed 's/^/# /'
  fi
  echo "$p passed, $f failed ($((SECONDS - start)) s)"
  passed=$((passed + p)); failed=$((failed + f))
}

# run_suite SUITE PREFIX [REPORTS]: runs one shell suite and prints its
# failures and a last line "P passed, F failed (T s)"; REPORTS is a
# directory of its own for sanitizer reports (made empty first).
run_suite() {
  local suite=$1 prefix=$2 reports=${3:-} out rc p f
  local start=$SECONDS
  if [ -n "$reports" ]; then
    rm -rf "$reports"; mkdir -p "$reports"
    out=$(ASAN_OPTIONS="$ASAN_BASE:log_path=$reports/asan" \
          UBSAN_OPTIONS="$UBSAN_BASE:log_path=$reports/ubsan" "$suite" 2>&1)
  else
    out=$("$suite" 2>&1)
  fi
  rc=$?
  # The not ok lines, each with the "#" lines that follow it, and where
  # tests/e2e/e2e.sh kept a failed suite's files.
  echo "$out" | awk -v prefix="$prefix" '/^not ok - / { print "not ok - " prefix substr($0, 10); more = 1; next }
                                         more && /^#/ { print; next } { more = 0 }
                                         /^# .*: its files are kept in / { print }'
  p=$(echo "$out" | grep -c '^ok ')
  f=$(echo "$out" | grep -c '^not ok ')
  if [ -n "$reports" ] && compgen -G "$reports/*" >/dev/null; then
    echo "not ok - ${prefix}$suite: sanitizer reports:"
    head -n 40 "$reports"/* | sed 's/^/# /'
    f=$((f + 1))
  fi
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$out" | tail -n 20
    f=1
  fi
  echo "$p passed, $f failed ($((SECONDS - start)) s)"
}

# run_suites JOBS PREFIX REPORTS SUITE...: runs the suites, JOBS at a time
# (each in the background with its output in a file), then prints each
# one's report in the given order and adds up the counts. A suite reads
# extra environment from SUITE_ENV[suite] ("NAME=VALUE ..."). Suites that
# run at the same time share nothing: each starts its own servers on free
# ports in its own temporary directories.
declare -A SUITE_ENV=()
run_suites() {
  local jobs=$1 prefix=$2 reports=$3 i=0 n suite last
  shift 3
  local files=()
  for suite in "$@"; do
    [ -x "$suite" ] || continue
    i=$((i + 1))
    files+=("$scratch/suite.$i")
    # shellcheck disable=SC2086  # SUITE_ENV holds words
    ( [ -z "${SUITE_ENV[$suite]:-}" ] || export ${SUITE_ENV[$suite]}
      run_suite "$suite" "$prefix" "${reports:+$reports/$i}" ) >"$scratch/suite.$i" 2>&1 &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  done
  wait
  i=0
  for suite in "$@"; do
    [ -x "$suite" ] || continue
    i=$((i + 1))
    echo "== $prefix$suite"
    cat "$scratch/suite.$i"
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$scratch/suite.$i" | tail -n 1)
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
      passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
    else
      echo "not ok - $prefix$suite: no result (the runner itself failed)"
      failed=$((failed + 1))
    fi
  done
}

suites=(tests/*_test.sh)
server_suites=()
if [ "${PGCONN_SKIP_SERVER:-}" != 1 ]; then
  server_suites=(tests/e2e/real_server_test.sh tests/e2e/agg_server_test.sh
                 tests/e2e/peak_server_test.sh tests/e2e/fleet_test.sh
                 tests/e2e/envelope_server_test.sh tests/e2e/view_server_test.sh
                 tests/e2e/holes_server_test.sh tests/e2e/tail_server_test.sh
                 tests/e2e/snapshot_server_test.sh tests/e2e/weeks_server_test.sh
                 tests/e2e/pgbouncer_server_test.sh tests/e2e/prom_server_test.sh)
fi

# use_programs BIN BUILD: the suites take the programs from PGCONN_BIN
# (relative to the repository) or, for tests/e2e, PGCONN_PARSE, PGCONN_AGG
# and PGCONN_WATCH; install_test.sh runs make with BIN and BUILD.
use_programs() {
  export PGCONN_BIN=$1 BUILD=$2
  export PGCONN_PARSE=$PWD/$1/pgconn-parse PGCONN_AGG=$PWD/$1/pgconn-agg \
         PGCONN_WATCH=$PWD/$1/pgconn-watch PGCONN_TAIL=$PWD/$1/pgconn-tail
}

# Suites at a time: the shell suites one by one unless PGCONN_JOBS says
# otherwise (some measure latencies), the server suites two at a time
# (they wait on servers more than they compute).
cli_jobs=${PGCONN_JOBS:-1}
server_jobs=${PGCONN_SERVER_JOBS:-2}

use_programs "$bin" "$build"
unit_tests "$build/unit-tests" ""
run_suites "$cli_jobs" "" "" "${suites[@]}"
# real_server_test.sh keeps the logs it captured (every log configuration
# of capture_logs.sh) for envelope_server_test.sh and the sanitized stage,
# so that one runs after it.
captured=$scratch/e2e/capture
first=() after=()
for suite in "${server_suites[@]}"; do
  case $suite in
    */real_server_test.sh) SUITE_ENV[$suite]="PGCONN_E2E_KEEP=$scratch/e2e"; first+=("$suite") ;;
    */envelope_server_test.sh) SUITE_ENV[$suite]="PGCONN_E2E_LOGS=$captured"; after+=("$suite") ;;
    *) first+=("$suite") ;;
  esac
done
run_suites "$server_jobs" "" "" "${first[@]}"
[ -d "$captured" ] || unset 'SUITE_ENV[tests/e2e/envelope_server_test.sh]'
run_suites "$server_jobs" "" "" "${after[@]}"

if [ -n "${PGCONN_SAN_BUILD:-}" ]; then
  san=$PGCONN_SAN_BUILD
  reports=$scratch/sanitizer
  mkdir -p "$reports"
  # halt_on_error: the first report ends the process with a failure;
  # log_path: every report also lands in $reports, which fails the suite
  # even where a check looks only at stdout. LeakSanitizer runs at exit.
  # LeakSanitizer stops the process with ptrace at exit; where that is not
  # allowed (some containers) it can only fail, so it is left out, said once.
  leaks=1
  if ASAN_OPTIONS=detect_leaks=1 "$san/bin/pgconn-parse" --version 2>&1 |
     grep -q 'LeakSanitizer has encountered a fatal error'; then
    leaks=0
    echo "# LeakSanitizer cannot run here (ptrace not allowed): detect_leaks=0"
  fi
  ASAN_BASE="halt_on_error=1:detect_leaks=$leaks"
  UBSAN_BASE="halt_on_error=1:print_stacktrace=1"
  export ASAN_OPTIONS="$ASAN_BASE:log_path=$reports/asan"
  export UBSAN_OPTIONS="$UBSAN_BASE:log_path=$reports/ubsan"
  # Checks with a time limit allow this many times as long (the programs
  # run 2 to 5 times slower sanitized); the normal stage keeps the limits.
  export PGCONN_TIME_FACTOR=4
  # ... and the suites may scale a big case down (adversarial_test.sh).
  export PGCONN_SANITIZED=1
  use_programs "$san/bin" "$san"
  # A make run by a suite (install_test.sh) builds with the same flags.
  [ -n "${PGCONN_SAN_OPT:-}" ] && export OPT=$PGCONN_SAN_OPT
  unit_tests "$san/unit-tests" "asan: "
  if compgen -G "$reports/*" >/dev/null; then
    echo "not ok - asan: unit tests: sanitizer reports:"
    head -n 40 "$reports"/* | sed 's/^/# /'
    rm -f "$reports"/*
    failed=$((failed + 1))
  fi
  run_suites "$cli_jobs" "asan: " "$reports" "${suites[@]}"
  # The fleet suite (two servers, three rsyslogd) and the envelope suite are
  # left out here to keep make test near 10 minutes on 2 cores: they add no
  # code path of their own (syslog and envelope parsing, --by=server run
  # sanitized in golden_test.sh, envelope_cli_test.sh, adversarial_test.sh
  # and agg_cli_test.sh), only set-up and repetition.
  san_servers=()
  for suite in "${server_suites[@]}"; do
    case $suite in */fleet_test.sh | */envelope_server_test.sh) continue ;; esac
    san_servers+=("$suite")
  done
  SUITE_ENV=()
  [ -d "$captured" ] && SUITE_ENV[tests/e2e/real_server_test.sh]="PGCONN_E2E_LOGS=$captured"
  run_suites "$server_jobs" "asan: " "$reports" "${san_servers[@]}"
fi

echo
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
