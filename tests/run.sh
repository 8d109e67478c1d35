#!/usr/bin/env bash
# Runs every test: the Catch2 unit tests, then each shell suite in tests/
# (tests/*_test.sh, and the server suites tests/e2e/*_test.sh). Shell suites print
# "ok - NAME" / "not ok - NAME: why" lines. The last line of the run is
# "N passed, N failed" over all of them.
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-build}
passed=0 failed=0

echo "== unit tests"
unit_out=$("$build/unit-tests" 2>&1)
unit_rc=$?
echo "$unit_out" | tail -n 30
# Catch2 2.x: "All tests passed (12 assertions in 4 test cases)" or
# "test cases: 5 | 4 passed | 1 failed".
if [[ $unit_out =~ All\ tests\ passed\ \([0-9]+\ assertions?\ in\ ([0-9]+)\ test\ cases? ]]; then
  passed=$((passed + BASH_REMATCH[1]))
elif [[ $unit_out =~ test\ cases:\ +([0-9]+)\ \|\ +([0-9]+)\ passed\ \|\ +([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[2])); failed=$((failed + BASH_REMATCH[3]))
elif [[ $unit_out =~ test\ cases:\ +([0-9]+)\ \|\ +([0-9]+)\ failed ]]; then
  failed=$((failed + BASH_REMATCH[2]))
else
  failed=$((failed + 1))
fi
[ $unit_rc -eq 0 ] || [ $failed -gt 0 ] || failed=$((failed + 1))

suites=(tests/*_test.sh)
if [ "${PGCONN_SKIP_SERVER:-}" != 1 ]; then
  suites+=(tests/e2e/real_server_test.sh tests/e2e/agg_server_test.sh tests/e2e/peak_server_test.sh tests/e2e/fleet_test.sh
           tests/e2e/envelope_server_test.sh)
fi
for suite in "${suites[@]}"; do
  [ -x "$suite" ] || continue
  echo "== $suite"
  out=$("$suite" 2>&1)
  rc=$?
  echo "$out" | grep -E '^(not ok|ok) ' | grep -v '^ok ' || true
  p=$(echo "$out" | grep -c '^ok ')
  f=$(echo "$out" | grep -c '^not ok ')
  echo "$p passed, $f failed"
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$out" | tail -n 20
    f=1
  fi
  passed=$((passed + p)); failed=$((failed + f))
done

echo
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
