#!/usr/bin/env bash
# Golden tests of pgconn-parse: every tests/golden/NAME.log is parsed and the
# output compared byte for byte with tests/golden/NAME.ndjson. Extra options
# (--prefix, --input, --label…) go in an optional NAME.args, one argument per
# line (kept verbatim: a prefix may end in a space).
# Prints "ok - golden NAME" or "not ok - golden NAME: ..." and the diff
# (tests/lib.sh's check_file: its first 40 lines, as # lines); exits 1 when
# any failed.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
parse=$PARSE
[ -x "$parse" ] || fatal "golden" "$parse not built"

shopt -s nullglob
for log in tests/golden/*.log; do
  name=$(basename "$log" .log)
  expected="tests/golden/$name.ndjson"
  args=()
  if [ -f "tests/golden/$name.args" ]; then
    mapfile -t args < "tests/golden/$name.args"
  fi
  if [ ! -f "$expected" ]; then
    not_ok "golden $name" "no $expected"
    continue
  fi
  "$parse" "${args[@]}" "$log" >"$LIB_TMP/actual" 2>"$LIB_TMP/err"
  rc=$?
  if [ $rc -ne 0 ]; then
    not_ok "golden $name" "exit status $rc"$'\n'"$(cat "$LIB_TMP/err")"
  else
    check_file "golden $name" "$expected" "$LIB_TMP/actual"
  fi
done
lib_done
