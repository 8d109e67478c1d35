#!/usr/bin/env bash
# Runs every test: the Catch2 unit tests, then each shell suite in tests/
# (tests/*_test.sh, then the server suites tests/e2e/*_test.sh).
# Shell suites print "ok - NAME" / "not ok - NAME: why" lines. The last line
# of the run is "N passed, N failed" over all of them.
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
# PGCONN_SAN_OPT (the flags it was built with).
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-build}
bin=${BIN:-bin}
passed=0 failed=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# unit_tests PROGRAM PREFIX: runs the Catch2 tests and counts their cases.
unit_tests() {
  local out rc p=0 f=0
  echo "== ${2}unit tests"
  out=$("$1" 2>&1)
  rc=$?
  echo "$out" | tail -n 30
  # Catch2 2.x: "All tests passed (12 assertions in 4 test cases)" or
  # "test cases: 5 | 4 passed | 1 failed".
  if [[ $out =~ All\ tests\ passed\ \([0-9]+\ assertions?\ in\ ([0-9]+)\ test\ cases? ]]; then
    p=${BASH_REMATCH[1]}
  elif [[ $out =~ test\ cases:\ +([0-9]+)\ \|\ +([0-9]+)\ passed\ \|\ +([0-9]+)\ failed ]]; then
    p=${BASH_REMATCH[2]} f=${BASH_REMATCH[3]}
  elif [[ $out =~ test\ cases:\ +([0-9]+)\ \|\ +([0-9]+)\ failed ]]; then
    f=${BASH_REMATCH[2]}
  else
    f=1
  fi
  [ $rc -eq 0 ] || [ $f -gt 0 ] || f=1
  passed=$((passed + p)); failed=$((failed + f))
}

# run_suite SUITE PREFIX [REPORTS]: runs one shell suite and counts its
# lines; REPORTS is the directory sanitizer reports are written to.
run_suite() {
  local suite=$1 prefix=$2 reports=${3:-} out rc p f
  [ -x "$suite" ] || return 0
  echo "== $prefix$suite"
  local start=$SECONDS
  out=$("$suite" 2>&1)
  rc=$?
  echo "$out" | grep -E '^(not ok|ok) ' | grep -v '^ok ' | sed "s/^\(not ok - \)/\1$prefix/" || true
  p=$(echo "$out" | grep -c '^ok ')
  f=$(echo "$out" | grep -c '^not ok ')
  if [ -n "$reports" ] && compgen -G "$reports/*" >/dev/null; then
    echo "not ok - ${prefix}$suite: sanitizer reports:"
    head -n 40 "$reports"/* | sed 's/^/# /'
    rm -f "$reports"/*
    f=$((f + 1))
  fi
  echo "$p passed, $f failed ($((SECONDS - start)) s)"
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$out" | tail -n 20
    f=1
  fi
  passed=$((passed + p)); failed=$((failed + f))
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

use_programs "$bin" "$build"
unit_tests "$build/unit-tests" ""
for suite in "${suites[@]}"; do run_suite "$suite" ""; done
# real_server_test.sh keeps the logs it captured (every log configuration
# of capture_logs.sh) for envelope_server_test.sh and the sanitized stage.
captured=$scratch/e2e/capture
for suite in "${server_suites[@]}"; do
  case $suite in
    */real_server_test.sh) PGCONN_E2E_KEEP=$scratch/e2e run_suite "$suite" "" ;;
    */envelope_server_test.sh) [ -d "$captured" ] && export PGCONN_E2E_LOGS=$captured
                               run_suite "$suite" ""; unset PGCONN_E2E_LOGS ;;
    *) run_suite "$suite" "" ;;
  esac
done

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
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=$leaks:log_path=$reports/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
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
  for suite in "${suites[@]}"; do run_suite "$suite" "asan: " "$reports"; done
  # The fleet suite (two servers, three rsyslogd) and the envelope suite are
  # left out here to keep make test near 10 minutes on 2 cores: they add no
  # code path of their own (syslog and envelope parsing, --by=server run
  # sanitized in golden_test.sh, envelope_cli_test.sh, adversarial_test.sh
  # and agg_cli_test.sh), only set-up and repetition.
  for suite in "${server_suites[@]}"; do
    case $suite in */fleet_test.sh | */envelope_server_test.sh) continue ;; esac
    if [[ $suite == */real_server_test.sh ]] && [ -d "$captured" ]; then
      PGCONN_E2E_LOGS=$captured run_suite "$suite" "asan: " "$reports"
    else
      run_suite "$suite" "asan: " "$reports"
    fi
  done
fi

echo
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
