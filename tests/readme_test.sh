#!/usr/bin/env bash
# The README shows real output: every `$ COMMAND` in an indented block that
# reads the bundled logs (tests/sample/) is run from the top of the tree,
# with bin/ first in PATH, and must print exactly the lines shown under it
# (up to the next `$ ` line or the end of the block). The fleet's rsyslog
# snippets must be in the README as they are in contrib/rsyslog/.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
T=$LIB_TMP

# Splits the README's indented blocks into T/cmd.N (the command) and
# T/want.N (the lines shown after it, trailing blank lines dropped).
awk -v dir="$T" '
  function close_cmd() { if (n) { close(dir "/cmd." n); close(dir "/want." n) } }
  /^    \$ / { close_cmd(); n++; sub(/^    \$ /, ""); print > (dir "/cmd." n); printf "" > (dir "/want." n); blank = 0; in_out = 1; next }
  in_out && /^    / { while (blank > 0) { print "" > (dir "/want." n); blank-- } sub(/^    /, ""); print > (dir "/want." n); next }
  in_out && /^$/ { blank++; next }
  { in_out = 0; blank = 0 }
' README.md

ran=0
for cmdf in "$T"/cmd.*; do
  [ -e "$cmdf" ] || continue
  i=${cmdf##*.}
  cmd=$(cat "$cmdf")
  [[ $cmd == *tests/sample/* ]] || continue
  ran=$((ran + 1))
  (PATH="$LIB_BIN:$PATH" within 20 bash -o pipefail -c "$cmd" </dev/null >"$T/got.$i" 2>"$T/err.$i")
  rc=$?
  if [ $rc -ne 0 ] || [ -s "$T/err.$i" ]; then
    not_ok "README: $cmd" "exit $rc: $(head -c 300 "$T/err.$i")"
  elif diff "$T/want.$i" "$T/got.$i" >"$T/diff.$i"; then
    ok "README: $cmd ($(wc -l <"$T/got.$i") lines as shown)"
  else
    not_ok "README: $cmd" "output differs from the README: $(head -n 6 "$T/diff.$i" | tr '\n' ' ')"
  fi
done
if [ $ran -ge 5 ]; then ok "README: $ran commands on the bundled logs"; else not_ok "README: commands on the bundled logs" "only $ran found"; fi

for f in contrib/rsyslog/*.conf; do
  sed 's/^./    &/' "$f" >"$T/indented"
  if [[ $(cat README.md) == *"$(cat "$T/indented")"* ]]; then
    ok "README shows $f as it is"
  else
    not_ok "README shows $f as it is" "the README's copy differs"
  fi
done

lib_done
