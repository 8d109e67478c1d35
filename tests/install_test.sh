#!/usr/bin/env bash
# make install and make uninstall into a DESTDIR, and the installed programs,
# man pages and bash completions. Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
T=$LIB_TMP

D=$T/root
P=/usr/local
TOOLS="pgconn-parse pgconn-agg pgconn-watch pgconn-tail"
make_args=(-s --no-print-directory DESTDIR="$D" PREFIX="$P" BIN="${PGCONN_BIN:-bin}" BUILD="${BUILD:-build}")

make "${make_args[@]}" install >"$T/install.out" 2>&1; rc=$?
check "make install DESTDIR=… PREFIX=$P exits 0" "[ $rc = 0 ]" "exit $rc: $(tail -n 3 "$T/install.out")"
(cd "$D" && find . -type f -printf '%m %p\n' | sort) >"$T/files"
cat >"$T/want" <<W
644 ./usr/local/share/bash-completion/completions/pgconn-agg
644 ./usr/local/share/bash-completion/completions/pgconn-parse
644 ./usr/local/share/bash-completion/completions/pgconn-tail
644 ./usr/local/share/bash-completion/completions/pgconn-watch
644 ./usr/local/share/man/man1/pgconn-agg.1
644 ./usr/local/share/man/man1/pgconn-parse.1
644 ./usr/local/share/man/man1/pgconn-tail.1
644 ./usr/local/share/man/man1/pgconn-watch.1
644 ./usr/local/share/man/man5/pgconn-events.5
755 ./usr/local/bin/pgconn-agg
755 ./usr/local/bin/pgconn-parse
755 ./usr/local/bin/pgconn-tail
755 ./usr/local/bin/pgconn-watch
W
sort -o "$T/want" "$T/want"
check "installs the programs, man pages and completions, with their modes" "diff '$T/want' '$T/files' >/dev/null" "$(diff "$T/want" "$T/files" | tr '\n' ' ')"

for t in $TOOLS; do
  v=$("$D$P/bin/$t" --version 2>&1); rc=$?
  check "installed $t --version" "[ $rc = 0 ] && [[ \"$v\" =~ ^$t\ [0-9]+\.[0-9]+ ]]" "exit $rc: $v"
done
out=$("$D$P/bin/pgconn-parse" tests/sample/sample.log | "$D$P/bin/pgconn-agg" --json | jq .active 2>&1)
check "the installed pipeline runs" "[ '$out' = 29 ]" "active: $out"

if command -v mandoc >/dev/null; then
  for m in man1/pgconn-parse.1 man1/pgconn-agg.1 man1/pgconn-watch.1 man1/pgconn-tail.1 man5/pgconn-events.5; do
    check "installed $m lints clean" "mandoc -Tlint -Wwarning '$D$P/share/man/$m'"
  done
fi
if command -v man >/dev/null; then
  out=$(MANPATH="$D$P/share/man" MANPAGER=cat MANWIDTH=80 man 5 pgconn-events 2>&1 | col -b | head -n 5)
  check "man finds pgconn-events(5) under the installed MANPATH" "grep -q 'pgconn-events .* the connection event stream of pgconn-parse' <<<\"\$out\"" "$out"
fi

# The completion as bash-completion's lazy loader would: source the file
# named after the command, then complete.
for t in $TOOLS; do
  got=$(PATH="$D$P/bin:$PATH" bash -c '. "$1"; COMP_WORDS=("$2" --vers); COMP_CWORD=1; _pgconn; echo "${COMPREPLY[*]}"' _ \
    "$D$P/share/bash-completion/completions/$t" "$t" 2>&1)
  check "installed completion for $t" "[ '$got' = --version ]" "$got"
done

make "${make_args[@]}" uninstall >"$T/uninstall.out" 2>&1; rc=$?
left=$(cd "$D" && find . -type f | sort | tr '\n' ' ')
check "make uninstall removes every installed file" "[ $rc = 0 ] && [ -z '$left' ]" "exit $rc, left: $left"
make "${make_args[@]}" uninstall >"$T/uninstall.out" 2>&1; rc=$?
check "make uninstall twice is fine" "[ $rc = 0 ]" "$(cat "$T/uninstall.out")"

lib_done
