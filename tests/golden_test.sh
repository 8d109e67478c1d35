#!/usr/bin/env bash
# Golden tests of pgconn-parse: every tests/golden/NAME.log is parsed and the
# output compared byte for byte with tests/golden/NAME.ndjson. Extra options
# (--prefix, --input, --label…) go in an optional NAME.args, one argument per
# line (kept verbatim: a prefix may end in a space).
# Prints "ok - golden NAME" or "not ok - golden NAME" and a unified diff;
# exits 1 when any failed.
set -u
cd "$(dirname "$0")/.."
bin=${PGCONN_BIN:-${BIN:-bin}}
parse="$bin/pgconn-parse"
if [ ! -x "$parse" ]; then
  echo "not ok - golden: $parse not built"
  exit 1
fi

failed=0
shopt -s nullglob
for log in tests/golden/*.log; do
  name=$(basename "$log" .log)
  expected="tests/golden/$name.ndjson"
  args=()
  if [ -f "tests/golden/$name.args" ]; then
    mapfile -t args < "tests/golden/$name.args"
  fi
  if [ ! -f "$expected" ]; then
    echo "not ok - golden $name: no $expected"
    failed=1
    continue
  fi
  actual=$(mktemp)
  "$parse" "${args[@]}" "$log" > "$actual" 2> "$actual.err"
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "not ok - golden $name: exit status $rc"
    sed 's/^/# /' "$actual.err"
    failed=1
  elif cmp -s "$expected" "$actual"; then
    echo "ok - golden $name"
  else
    echo "not ok - golden $name"
    diff -u --label "$expected" --label "actual" "$expected" "$actual"
    failed=1
  fi
  rm -f "$actual" "$actual.err"
done
exit $failed
