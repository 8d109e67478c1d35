#!/usr/bin/env bash
# The same records in every format give the same events (issue 15): the
# bench generator (tests/perf/gen_log.cpp) writes one realistic stream of a
# server (diverse names and hosts, multi-line statements, post-authorization
# FATALs, pid reuse) with Debian's prefix, with Debian's prefix and %l, as
# csvlog and as jsonlog. pgconn-parse must write the same events for all
# four, but for the session key (a line number or %c where the log has
# one), and as many as the generator's ground truth says.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
P=$PARSE
GEN=${PGCONN_GEN_LOG:-$PWD/build/gen-log}
T=$LIB_TMP

[ -x "$P" ] || fatal "pgconn-parse built" "no $P (run make)"
[ -x "$GEN" ] || fatal "gen-log built" "no $GEN (run make build/gen-log)"
lines=${PGCONN_IDENTITY_LINES:-60000}
[ -z "${PGCONN_SANITIZED:-}" ] || lines=20000

"$GEN" --lines "$lines" --seed 11 --prefix=debian --truth "$T/truth" >"$T/stderr.log"
"$GEN" --lines "$lines" --seed 11 --prefix=lnum >"$T/lnum.log"
"$GEN" --lines "$lines" --seed 11 --format=csvlog >"$T/csv.log"
"$GEN" --lines "$lines" --seed 11 --format=jsonlog >"$T/json.log"
for f in stderr lnum csv json; do
  "$P" "$T/$f.log" 2>"$T/$f.err" | jq -c 'del(.session)' >"$T/$f.ev"
done
n=$(wc -l <"$T/stderr.ev")
connects=$(grep -c '"type":"connect"' "$T/stderr.ev")
want=$(awk '$1 == "connects" { print $2 }' "$T/truth")
if [ -n "$want" ] && [ "$connects" = "$want" ]; then
  ok "stderr: $connects connects, as the generator's truth ($n events in all)"
else
  not_ok "stderr: connects as the generator's truth" "pgconn $connects, truth ${want:-unreadable: $(head -c 200 "$T/truth")}"
fi
# The names are the generator's too, and as diverse as a fleet's (issue 15:
# gen-log once had 18 user/db/app/host combinations in all): the distinct
# users, databases, apps, hosts and combinations of the connects, as the
# truth counts them, and more than half as many combinations as sessions.
names() { jq -r "select(.type == \"connect\") | $1" "$T/stderr.ev" | sort -u | wc -l; }
for k in users:.user databases:.db apps:.app hosts:.host \
  'combinations:[.user, .db // "", .app // "", .host] | join("\t")'; do
  got=$(names "${k#*:} // \"\"") want=$(awk -v k="distinct_${k%%:*}" '$1 == k { print $2 }' "$T/truth")
  check_eq "stderr: distinct ${k%%:*} of the connects, as the generator's truth" "$want" "$got"
done
combos=$(awk '$1 == "distinct_combinations" { print $2 }' "$T/truth")
check "gen-log: diverse names (more user/db/app/host combinations than half the sessions)" \
  "[ $((2 * ${combos:-0})) -gt $connects ]" "$combos combinations among $connects connects"
for f in lnum csv json; do
  if cmp -s "$T/stderr.ev" "$T/$f.ev"; then
    ok "$f: the same $n events as the stderr log"
  else
    not_ok "$f: the same events as the stderr log" \
      "$(diff "$T/stderr.ev" "$T/$f.ev" | grep -c '^[<>]') lines differ, first: $(diff "$T/stderr.ev" "$T/$f.ev" | grep '^[<>]' | head -n 2 | tr '\n' ' ' | cut -c1-400)"
  fi
done
# No line out of order: gen-log gives every backend its own session id, as
# a server does (issue 15: it once handed a pid out again within the second,
# and two backends shared a session id).
for f in lnum csv json; do
  if [ -s "$T/$f.err" ]; then not_ok "$f: nothing on stderr" "$(head -n 2 "$T/$f.err")"; else ok "$f: nothing on stderr"; fi
done
lib_done
