#!/usr/bin/env bash
# Runs every EXAMPLES pipeline of man/*.1 and man/*.5 against the bundled
# logs, and lints the pages. Prints "ok - NAME" / "not ok - NAME: why".
#
# An example is a `.Dl $ COMMAND` line in the EXAMPLES section, taken as
# mandoc renders it (so roff escapes such as \(dq and \e are resolved). It
# runs from the top of the tree with bin/ first in PATH, under
# `set -o pipefail`, and must exit 0, print something and write nothing on
# stderr. Before it runs:
#   /var/log/postgresql/postgresql-16-main.log, pg.log -> tests/sample/sample.log
#   /var/log/pgconn/fleet.log                           -> tests/sample/fleet.log
#   /var/log/postgresql/pgbouncer.log                   -> tests/sample/pgbouncer.log
#   postgresql-2024-05-01.csv                           -> tests/golden/csvlog24.log
#   tail -F / tail -n 0 -F / tail -n +1 -F              -> tail -n +1 (ends)
# An example that cannot run here (it needs a server or a network) has the
# comment line `.\" not run: WHY` just before its .Dl; keep those few.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
T=$LIB_TMP

command -v mandoc >/dev/null || { echo "ok - man page examples skipped: no mandoc"; exit 0; }

substitute() {
  sed -E -e 's#tail( -n (0|\+1))? -F #tail -n +1 #g' \
         -e 's#/var/log/postgresql/postgresql-16-main\.log#tests/sample/sample.log#g' \
         -e 's#/var/log/postgresql/pgbouncer\.log#tests/sample/pgbouncer.log#g' \
         -e 's#(^|[ =])pg\.log( |$)#\1tests/sample/sample.log\2#g' \
         -e 's#/var/log/pgconn/fleet\.log#tests/sample/fleet.log#g' \
         -e 's#postgresql-2024-05-01\.csv#tests/golden/csvlog24.log#g'
}

for page in man/*.[1-9]; do
  name=$(basename "$page")
  if mandoc -Tlint -Wwarning "$page" >"$T/lint" 2>&1; then ok "$name lints clean"; else
    not_ok "$name lints clean" "$(head -n 3 "$T/lint" | tr '\n' ' ')"
  fi
  # Which .Dl examples (by their order) are marked not to run.
  skip=$(awk '/^\.Sh /{ex = ($2 == "EXAMPLES")} ex && /^\.Dl \$ /{n++; if (prev ~ /^\.\\" not run:/) print n} {prev = $0}' "$page")
  mandoc -Tascii -Owidth=1000 "$page" | col -bx |
    awk '/^[A-Z]/{ex = ($0 == "EXAMPLES")} ex && /^ +\$ /{sub(/^ +\$ /, ""); print}' >"$T/examples"
  n_src=$(awk '/^\.Sh /{ex = ($2 == "EXAMPLES")} ex && /^\.Dl \$ /' "$page" | wc -l)
  if [ "$n_src" -eq 0 ] || [ "$(wc -l <"$T/examples")" -ne "$n_src" ]; then
    not_ok "$name: EXAMPLES" "$n_src .Dl examples in the source, $(wc -l <"$T/examples") rendered"
    continue
  fi
  i=0
  while IFS= read -r example; do
    i=$((i + 1))
    if grep -qx "$i" <<<"$skip"; then ok "$name example $i not run (marked): $example"; continue; fi
    cmd=$(substitute <<<"$example")
    (PATH="$LIB_BIN:$PATH" within 20 bash -o pipefail -c "$cmd" </dev/null >"$T/out" 2>"$T/err")
    rc=$?
    if [ $rc -ne 0 ]; then
      not_ok "$name example $i: $example" "exit $rc: $(head -c 300 "$T/err")"
    elif [ ! -s "$T/out" ]; then
      not_ok "$name example $i: $example" "no output (ran: $cmd)"
    elif [ -s "$T/err" ]; then
      not_ok "$name example $i: $example" "stderr: $(head -c 300 "$T/err")"
    else
      ok "$name example $i: $example ($(wc -l <"$T/out") lines)"
    fi
  done <"$T/examples"
done

lib_done
