#!/usr/bin/env bash
# Hostile and damaged input (SPEC.md §6 "Never crash, hang or grow without
# bound on any input", "Log content is untrusted"), and the I/O faults the
# other suites leave out. Each case: valid output, nothing lost that could be
# kept, the exit status SPEC.md gives. Prints "ok - NAME" / "not ok - NAME: why".
#
# Where each item of issue 6's list is checked (P parse, A agg, W watch):
#   binary garbage             P cli_test.sh; W watch_cli_test.sh; A here
#   invalid UTF-8, NUL bytes   P cli_test.sh; A W here (raw and \u escaped)
#   CRLF                       P cli_test.sh, golden crlf; A W here
#   a 10 MB line               P cli_test.sh; A W here
#   100,000-character app name P A W here
#   truncated last line        P cli_test.sh; A W here
#   timestamps going backwards P A W here
#   duplicated lines           P A here
#   disconnect before connect  P A here
#   two servers interleaved    P golden syslog_bsd, label; A here (--label, syslog)
#   unknown types              A agg_cli_test.sh; W watch_cli_test.sh
#   unknown keys               A W here
#   invalid JSON lines         A agg_cli_test.sh; W watch_cli_test.sh
#   escapes, control chars     A agg_cli_test.sh (ESC [2J, OSC 0, BEL, CSI);
#                              W watch_cli_test.sh (same, on a terminal);
#                              here: OSC 52, CR, backspace, DEL, every C1,
#                              bidi controls, in user/db/app/host, and JSON
#   format-string-like name    P A W here
#   regex-catastrophic line    P here (auto-detection and --prefix)
#   10 million open sessions   A here (one warning, peak RSS bounded)
# I/O faults:
#   | head -1                  cli_test.sh, agg_cli_test.sh, watch_cli_test.sh
#   >/dev/full                 the same three
#   missing file among several the same three; a directory among several: here
#   SIGINT/SIGTERM mid-stream  P SIGINT cli_test.sh, SIGTERM here; A
#                              agg_cli_test.sh; W watch_cli_test.sh, live_test.sh
#   rotated/truncated log      live_test.sh (tail -F, nothing lost or invented)
#
# Environment: PGCONN_BIN (the programs' directory, default bin);
# PGCONN_TIME_FACTOR (time limits are this many times longer, default 1);
# PGCONN_SANITIZED=1 (a sanitized build: 300,000 sessions instead of 10
# million, no RSS bound); PGCONN_SESSIONS overrides the number of sessions.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
P=$PARSE A=$AGG W=$WATCH
FACTOR=${PGCONN_TIME_FACTOR:-1}
SANITIZED=${PGCONN_SANITIZED:-}
T=$LIB_TMP
# Bytes a terminal could obey, in a text output: C0 controls but \n, DEL, C1
# controls (U+0080..U+009F), bidi controls, and bytes that are not UTF-8 (a
# raw 0x9B is CSI to an 8-bit terminal).
raw_ctl() {
  perl -MEncode -e 'local $/; my $s = <STDIN>;
    my $u = eval { Encode::decode("UTF-8", $s, Encode::FB_CROAK | Encode::LEAVE_SRC) };
    exit 0 unless defined $u;
    exit($u =~ /[\x00-\x09\x0b-\x1f\x7f-\x9f\x{061c}\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}]/ ? 0 : 1)' <"$1"
}

for t in "$P" "$A" "$W"; do
  [ -x "$t" ] || fatal "$t built" "no executable $t (run make)"
done

LOG=$T/base.log
cat >"$LOG" <<'L'
2024-05-01 10:00:00.100 UTC [812] LOG:  connection received: host=10.0.0.5 port=51234
2024-05-01 10:00:00.105 UTC [812] LOG:  connection authorized: user=app database=shop application_name=psql
2024-05-01 10:00:00.200 UTC [813] LOG:  connection received: host=10.0.0.6 port=51235
2024-05-01 10:00:00.205 UTC [813] LOG:  connection authorized: user=bob database=shop application_name=rails
2024-05-01 10:01:02.450 UTC [812] LOG:  disconnection: session time: 0:01:02.345 user=app database=shop host=10.0.0.5 port=51234
L
EV=$T/base.ndjson
$P "$LOG" >"$EV"
check_why "base log: 3 events" "[ \$(wc -l <'$EV') = 3 ]" "cat '$EV'"
CLEAN_JSON=$($A --json "$EV")

########################################################################
# A 100,000-character application_name: kept whole, JSON-escaped, and shown
# by agg and watch on one line of their own.
LONG=$(head -c 100000 /dev/zero | tr '\0' 'n')
WANT_APP="\"quoted\"\\$LONG"
{
  echo '2024-05-01 10:00:00.100 UTC [700] LOG:  connection received: host=10.0.0.7 port=40000'
  echo "2024-05-01 10:00:00.101 UTC [700] LOG:  connection authorized: user=app database=shop application_name=\"quoted\"\\$LONG"
  cat "$LOG"
  echo '2024-05-01 10:02:00.000 UTC [700] LOG:  disconnection: session time: 0:02:00.000 user=app database=shop host=10.0.0.7 port=40000'
} >"$T/long.log"
$P "$T/long.log" >"$T/long.ndjson" 2>"$T/err"; rc=$?
check_why "100k app name: parse exits 0, nothing on stderr" "[ $rc = 0 ] && [ ! -s '$T/err' ]" "echo rc=$rc; cat '$T/err'"
check_why "100k app name: every event is valid JSON, none lost" "all_json '$T/long.ndjson' && [ \$(wc -l <'$T/long.ndjson') = 5 ]" "cut -c1-200 '$T/long.ndjson'"
check_why "100k app name: kept whole on the connect and its disconnect" \
  "[ \"\$(jq -r --arg w \"\$WANT_APP\" 'select(.pid == 700) | [.type, (.app == \$w | tostring)] | join(\":\")' '$T/long.ndjson' | tr '\n' ' ')\" = 'connect:true disconnect:true ' ]" \
  "jq -c 'select(.pid == 700) | [.type, (.app | length), .app[0:12]]' '$T/long.ndjson'"
# The same session left open, for agg and watch.
grep -v '^2024-05-01 10:02:00.000 ' "$T/long.log" | $P >"$T/long-open.ndjson"
$A --by=app,user,host "$T/long-open.ndjson" >"$T/out" 2>"$T/err"; rc=$?
ROW_START='  "quoted"\\nnnnnnnnnn'  # the backslash shown escaped
check_why "100k app name: agg exits 0, the name on one row of its own" \
  "[ $rc = 0 ] && [ ! -s '$T/err' ] && [ \$(grep -c 'nnnnnnnnnn' '$T/out') = 1 ] && grep -qF -- \"\$ROW_START\" '$T/out' && grep -q 'nnnnn     1\$' '$T/out'" \
  "echo rc=$rc; cut -c1-120 '$T/out' '$T/err'"
check_why "100k app name: agg's other rows stay short" \
  "[ \$(grep -v nnnnnnnnnn '$T/out' | awk '{ if (length(\$0) > m) m = length(\$0) } END { print m + 0 }') -lt 100 ]" \
  "awk '{ print length(\$0) }' '$T/out' | tr '\n' ' '"
$A --json "$T/long-open.ndjson" >"$T/out"
check_why "100k app name: agg --json keeps it whole" \
  "jq -e --arg w \"\$WANT_APP\" '.by.app | has(\$w)' '$T/out' >/dev/null" "cut -c1-200 '$T/out'"
$A --history "$T/long-open.ndjson" >"$T/out"; rc=$?
check_why "100k app name: agg --history shows it in the growth" "[ $rc = 0 ] && grep -q '^  app .*nnnnnnnnnn' '$T/out'" "cut -c1-200 '$T/out'"
$W "$T/long-open.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "100k app name: watch exits 0, one line per event" \
  "[ $rc = 0 ] && [ ! -s '$T/err' ] && [ \$(wc -l <'$T/out') = 4 ] && [ \$(grep -c 'nnnnnnnnnn connected from 10.0.0.7' '$T/out') = 1 ]" \
  "echo rc=$rc; cut -c1-120 '$T/out' '$T/err'"

########################################################################
# Terminal escapes and control characters in every name: escaped in text,
# valid JSON that keeps them, never raw on a terminal.
ESC=$'\x1b'
HOSTILE_APP="a${ESC}[2J${ESC}]52;c;cHduZWQ="$'\x07\r'X$'\x08\x7f'
RAW9B=$'\x9b'
C1=""
for b in 80 81 85 8d 8e 8f 90 9b 9c 9d 9e 9f; do C1+=$(printf "\\xc2\\x$b"); done
BIDI=$'\xe2\x80\xae'evil$'\xe2\x81\xa6'$'\xe2\x80\x8f'$'\xd8\x9c'
printf '%s\n' \
  "2024-05-01 10:00:00.100 UTC [900] LOG:  connection received: host=10.0.0.9 port=40001" \
  "2024-05-01 10:00:00.101 UTC [900] LOG:  connection authorized: user=u${C1} database=d${BIDI} application_name=${HOSTILE_APP}" \
  "2024-05-01 10:00:00.200 UTC [901] LOG:  connection received: host=10.0.0.9 port=40002" \
  "2024-05-01 10:00:00.201 UTC [901] LOG:  connection authorized: user=v${RAW9B}31m database=d application_name=raw8bit" \
  >"$T/hostile.log"
$P "$T/hostile.log" >"$T/hostile.ndjson" 2>"$T/err"; rc=$?
check_why "control characters: parse exits 0, valid JSON, both sessions" \
  "[ $rc = 0 ] && all_json '$T/hostile.ndjson' && [ \$(wc -l <'$T/hostile.ndjson') = 2 ]" "echo rc=$rc; show_bytes '$T/hostile.ndjson'"
check_why "control characters: JSON escapes every C0 control" \
  "! LC_ALL=C grep -qP '[\x00-\x1f]' '$T/hostile.ndjson' && grep -qF '\\u001b[2J\\u001b]52;c;cHduZWQ=\\u0007\\rX\\u0008' '$T/hostile.ndjson'" \
  "show_bytes '$T/hostile.ndjson'"
check_why "control characters: the names decode to exactly what the log said" \
  "[ \"\$(jq -r 'select(.pid == 900) | .app' '$T/hostile.ndjson')\" = \"\$HOSTILE_APP\" ] &&
   [ \"\$(jq -r 'select(.pid == 900) | .user' '$T/hostile.ndjson')\" = \"u\$C1\" ] &&
   [ \"\$(jq -r 'select(.pid == 900) | .db' '$T/hostile.ndjson')\" = \"d\$BIDI\" ]" \
  "jq -c 'select(.pid == 900) | [.user, .db, .app]' '$T/hostile.ndjson'"
check_why "control characters: a raw 8-bit C1 byte becomes U+FFFD in JSON" \
  "[ \"\$(jq -r 'select(.pid == 901) | .user' '$T/hostile.ndjson')\" = \$'v\xef\xbf\xbd31m' ]" \
  "jq -c 'select(.pid == 901) | .user' '$T/hostile.ndjson'"
# The same names as JSON escapes in a hand-made stream (not from parse).
{
  cat "$T/hostile.ndjson"
  echo '{"type":"connect","ts":"2024-05-01T10:00:01Z","session":"h1","user":"\u001b]52;c;cHduZWQ=\u0007","db":"\u0085\u009b2J\u202e","app":"\r\b\u007f\u0000","host":"\u2066\u001b[1A"}'
  echo '{"type":"reject","ts":"2024-05-01T10:00:02Z","session":"h2","user":"\u001b[31m","db":"\u009d","host":"\u200f","reason":"auth_failed"}'
  echo '{"type":"disconnect","ts":"2024-05-01T10:00:03Z","session":"h3","user":"\u061c","db":"\r","app":"\u001bc","duration_ms":5}'
} >"$T/hostile-all.ndjson"
for by in "db,user,app,host" "server"; do
  $A --by=$by "$T/hostile-all.ndjson" >"$T/out" 2>"$T/err"; rc=$?
  check_why "control characters: agg --by=$by text has none raw" "[ $rc = 0 ] && [ ! -s '$T/err' ] && ! raw_ctl '$T/out'" \
    "echo rc=$rc; show_bytes '$T/out'; cat '$T/err'"
done
$A --by=db,user,app,host "$T/hostile-all.ndjson" >"$T/out"
check_why "control characters: agg shows them escaped" \
  "grep -qF 'a\\x1b[2J\\x1b]52;c;cHduZWQ=\\x07\\x0dX\\x08\\x7f' '$T/out' && grep -qF 'd\\xe2\\x80\\xaeevil\\xe2\\x81\\xa6' '$T/out' && grep -qF 'u\\xc2\\x80\\xc2\\x81' '$T/out'" \
  "cat -v '$T/out'"
$A --history "$T/hostile-all.ndjson" >"$T/out"; rc=$?
check_why "control characters: agg --history text has none raw" "[ $rc = 0 ] && ! raw_ctl '$T/out'" "show_bytes '$T/out'"
$A --app="a${ESC}[2J${ESC}]52;c;cHduZWQ=" --db="d$BIDI" "$T/hostile-all.ndjson" >"$T/out"
check_why "control characters: agg filter values echoed escaped" \
  "! raw_ctl '$T/out' && grep -qF 'app=a\\x1b[2J\\x1b]52;c;cHduZWQ=' '$T/out' && grep -qF 'db=d\\xe2\\x80\\xae' '$T/out'" "show_bytes '$T/out'"
$A --json --by=db,user,app,host "$T/hostile-all.ndjson" >"$T/out"
check_why "control characters: agg --json is valid and keeps the names" \
  "jq -e --arg app \"\$HOSTILE_APP\" '.by.app | has(\$app)' '$T/out' >/dev/null && ! LC_ALL=C grep -qP '[\x00-\x1f]' '$T/out'" "show_bytes '$T/out'"
$A --json --history "$T/hostile-all.ndjson" >"$T/out"
check_why "control characters: agg --history --json is valid" "jq -e '.growth.app | length > 0' '$T/out' >/dev/null && ! LC_ALL=C grep -qP '[\x00-\x1f]' '$T/out'" "show_bytes '$T/out'"
$W "$T/hostile-all.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "control characters: watch shows every event, none raw" \
  "[ $rc = 0 ] && [ ! -s '$T/err' ] && [ \$(wc -l <'$T/out') = 5 ] && ! raw_ctl '$T/out'" "echo rc=$rc; show_bytes '$T/out'; cat '$T/err'"
$W --color=always "$T/hostile-all.ndjson" | sed $'s/\x1b\\[[0-9;]*m//g' >"$T/out"
check_why "control characters: watch --color=always: only its own colour sequences" "! raw_ctl '$T/out'" "show_bytes '$T/out'"

########################################################################
# A name that looks like a format string passes through unchanged.
FMT='%s%n{}{0}%x{:>999999999}%%'
printf '%s\n' \
  "2024-05-01 10:00:00.100 UTC [950] LOG:  connection received: host=10.0.0.9 port=1" \
  "2024-05-01 10:00:00.101 UTC [950] LOG:  connection authorized: user=$FMT database=$FMT application_name=$FMT" \
  >"$T/fmt.log"
$P "$T/fmt.log" >"$T/fmt.ndjson" 2>"$T/err"; rc=$?
check_why "format-string name: parse keeps it" \
  "[ $rc = 0 ] && [ \"\$(jq -r '[.user, .db, .app] | unique | .[]' '$T/fmt.ndjson')\" = \"\$FMT\" ]" "echo rc=$rc; cat '$T/fmt.ndjson' '$T/err'"
$A "$T/fmt.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "format-string name: agg shows it as it is" "[ $rc = 0 ] && [ \$(grep -cF \"  \$FMT \" '$T/out') = 3 ]" "cat '$T/out' '$T/err'"
$A --json "$T/fmt.ndjson" >"$T/out"
check_why "format-string name: agg --json keeps it" "jq -e --arg f \"\$FMT\" '.by.user | has(\$f)' '$T/out' >/dev/null" "cat '$T/out'"
$W "$T/fmt.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "format-string name: watch shows it as it is" \
  "[ $rc = 0 ] && [ \"\$(cat '$T/out')\" = \"[+] 10:00:00 \$FMT connected from 10.0.0.9 (user: \$FMT, db: \$FMT)\" ]" "cat '$T/out' '$T/err'"

########################################################################
# Damaged event streams into agg and watch (the parse side is in cli_test.sh).
# Binary garbage around the events: they are all still counted.
{ head -c 200000 /dev/urandom; echo; cat "$EV"; head -c 200000 /dev/urandom; echo; } >"$T/garbage.ndjson"
$A --json "$T/garbage.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "binary garbage: agg exits 0 with the events counted" "[ $rc = 0 ] && [ \"\$(cat '$T/out')\" = \"\$CLEAN_JSON\" ]" "echo rc=$rc; cat '$T/out'"
check_why "binary garbage: agg warns once" "[ \$(wc -l <'$T/err') = 1 ] && grep -q '^pgconn-agg: warning: ' '$T/err'" "show_bytes '$T/err'"
head -c 300000 /dev/urandom | $A >"$T/out" 2>"$T/err"; rc=$?
check_why "binary garbage only: agg says no data, exit 0, text safe" \
  "[ $rc = 0 ] && head -1 '$T/out' | grep -qx 'No connection data available.' && [ \$(wc -l <'$T/err') -le 1 ] && ! raw_ctl '$T/out'" \
  "echo rc=$rc; show_bytes '$T/out'"
# Invalid UTF-8 and NUL inside event strings, raw and escaped.
# (a NUL inside a name shifted the names after it: user "x", db "y", app "d")
printf '%s\n' '{"type":"connect","ts":"2024-05-01T10:00:00Z","session":"n1","user":"x\u0000y","db":"d","app":"a\u0000"}' >"$T/utf8.ndjson"
printf '{"type":"connect","ts":"2024-05-01T10:00:01Z","session":"n2","user":"u\xff\xfe","db":"d\xc3\x28","app":"\xed\xa0\x80x"}\n' >>"$T/utf8.ndjson"
$A --by=user,db,app "$T/utf8.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "invalid UTF-8 and NUL: agg counts both sessions, shown escaped" \
  "[ $rc = 0 ] && grep -qx 'Active connections: 2' '$T/out' && grep -qF 'x\\x00y' '$T/out' && grep -qF 'a\\x00' '$T/out' && grep -qE '^  d +1\$' '$T/out' && grep -qF 'u\\xff\\xfe' '$T/out' && grep -qF '\\xed\\xa0\\x80x' '$T/out' && ! raw_ctl '$T/out'" \
  "echo rc=$rc; cat -v '$T/out' '$T/err'"
$A --json --by=user,db,app "$T/utf8.ndjson" >"$T/out"
check_why "invalid UTF-8 and NUL: agg --json is valid UTF-8 JSON" \
  "jq -e '.active == 2 and (.by.user | has(\"x\u0000y\")) and (.by.app | has(\"a\u0000\")) and .by.db.d == 1' '$T/out' >/dev/null && iconv -f UTF-8 -t UTF-8 '$T/out' >/dev/null" "cat -v '$T/out'"
$W "$T/utf8.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "invalid UTF-8 and NUL: watch shows both, escaped" \
  "[ $rc = 0 ] && [ \$(wc -l <'$T/out') = 2 ] && grep -qF 'user: x\\x00y' '$T/out' && grep -qF 'user: u\\xff\\xfe' '$T/out' && ! raw_ctl '$T/out'" \
  "echo rc=$rc; cat -v '$T/out' '$T/err'"
printf '{"type":"connect","ts":"2024-05-01T10:00:00Z","session":"n3","user":"raw\0nul"}\n' >"$T/nul.ndjson"
cat "$EV" >>"$T/nul.ndjson"
$A --json "$T/nul.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "a raw NUL byte in an event line: agg exits 0, the other events kept" \
  "[ $rc = 0 ] && jq -e '.connects >= 2 and .disconnects == 1' '$T/out' >/dev/null" "echo rc=$rc; cat -v '$T/out' '$T/err'"
# CRLF line ends.
sed 's/$/\r/' "$EV" >"$T/crlf.ndjson"
$A --json "$T/crlf.ndjson" >"$T/out" 2>"$T/err"
check_why "CRLF events: agg as with LF" "[ \"\$(cat '$T/out')\" = \"\$CLEAN_JSON\" ] && [ ! -s '$T/err' ]" "cat '$T/out' '$T/err'"
$W "$T/crlf.ndjson" >"$T/out" 2>"$T/err"
check_why "CRLF events: watch as with LF, no CR" "diff <($W '$EV') '$T/out' >/dev/null && [ ! -s '$T/err' ]" "cat -A '$T/out' '$T/err'"
# A 10 MB line between events.
{ head -1 "$EV"; printf '{"type":"connect","ts":"2024-05-01T10:00:01Z","session":"big","app":"'; head -c 10000000 /dev/zero | tr '\0' x; echo '"}'; tail -n +2 "$EV"; } >"$T/big.ndjson"
$A --json "$T/big.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "a 10 MB event line: agg exits 0, the events around it kept" "[ $rc = 0 ] && [ \"\$(cat '$T/out')\" = \"\$CLEAN_JSON\" ]" "echo rc=$rc; cat '$T/out'"
check_why "a 10 MB event line: agg warns once" "[ \$(wc -l <'$T/err') = 1 ] && grep -q 'over-long line' '$T/err'" "cat '$T/err'"
$W "$T/big.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "a 10 MB event line: watch exits 0, the events around it shown, one warning" \
  "[ $rc = 0 ] && diff <($W '$EV') '$T/out' >/dev/null && [ \$(wc -l <'$T/err') = 1 ]" "echo rc=$rc; cat '$T/out' '$T/err'"
# A truncated last line: kept when it is a whole event, counted when cut.
{ cat "$EV"; printf '%s' '{"type":"connect","ts":"2024-05-01T10:05:00Z","session":"last","user":"z"}'; } >"$T/nonl.ndjson"
{ cat "$EV"; printf '%s' '{"type":"connect","ts":"2024-05-01T10:05:00Z","sess'; } >"$T/cut.ndjson"
$A --json "$T/nonl.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "last event without newline: agg counts it" "[ $rc = 0 ] && jq -e '.connects == 3 and .by.user.z == 1' '$T/out' >/dev/null && [ ! -s '$T/err' ]" "cat '$T/out' '$T/err'"
$W "$T/nonl.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "last event without newline: watch shows it" "[ $rc = 0 ] && [ \$(wc -l <'$T/out') = 4 ] && tail -1 '$T/out' | grep -q 'user: z'" "cat '$T/out' '$T/err'"
$A --json "$T/cut.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "a cut last event: agg exits 0, the rest kept, one warning with its place" \
  "[ $rc = 0 ] && [ \"\$(cat '$T/out')\" = \"\$CLEAN_JSON\" ] && [ \$(wc -l <'$T/err') = 1 ] && grep -q 'cut.ndjson:4' '$T/err'" "cat '$T/out' '$T/err'"
$W "$T/cut.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "a cut last event: watch exits 0, the rest shown, one warning" \
  "[ $rc = 0 ] && [ \$(wc -l <'$T/out') = 3 ] && [ \$(wc -l <'$T/err') = 1 ]" "cat '$T/out' '$T/err'"
# Unknown keys (a newer pgconn-parse): ignored, silently.
sed 's/^{"type":"\([a-z]*\)",/{"type":"\1","x_new":{"a":[1,{"b":null}],"c":"\\u001b"},"n":1e308,"t":true,/; s/}$/,"z_last":[]}/' "$EV" >"$T/keys.ndjson"
$A --json "$T/keys.ndjson" >"$T/out" 2>"$T/err"
check_why "unknown keys: agg ignores them silently" "[ \"\$(cat '$T/out')\" = \"\$CLEAN_JSON\" ] && [ ! -s '$T/err' ] && grep -q x_new '$T/keys.ndjson'" "cat '$T/out' '$T/err'"
$W "$T/keys.ndjson" >"$T/out" 2>"$T/err"
check_why "unknown keys: watch ignores them silently" "diff <($W '$EV') '$T/out' >/dev/null && [ ! -s '$T/err' ]" "cat '$T/out' '$T/err'"

########################################################################
# Time going backwards, duplicated lines, a disconnect before its connect.
cat >"$T/back.log" <<'L'
2024-05-01 10:05:00.100 UTC [900] LOG:  connection received: host=10.0.0.5 port=1
2024-05-01 10:05:00.105 UTC [900] LOG:  connection authorized: user=app database=shop application_name=late
2024-05-01 09:00:00.100 UTC [901] LOG:  connection received: host=10.0.0.6 port=2
2024-05-01 09:00:00.105 UTC [901] LOG:  connection authorized: user=app database=shop application_name=early
2024-05-01 08:00:00.000 UTC [900] LOG:  disconnection: session time: 0:00:01.000 user=app database=shop host=10.0.0.5 port=1
L
$P "$T/back.log" >"$T/back.ndjson" 2>"$T/err"; rc=$?
check_why "time going backwards: parse keeps every event, in log order" \
  "[ $rc = 0 ] && [ \"\$(jq -r '[.type, .app, .matched] | join(\":\")' '$T/back.ndjson' | tr '\n' ' ')\" = 'connect:late: connect:early: disconnect:late:true ' ]" \
  "echo rc=$rc; cat '$T/back.ndjson' '$T/err'"
$A --json "$T/back.ndjson" >"$T/out"; rc=$?
check_why "time going backwards: agg's summary" "[ $rc = 0 ] && jq -e '.active == 1 and .by.app == {\"early\": 1}' '$T/out' >/dev/null" "cat '$T/out'"
$A --json --history "$T/back.ndjson" >"$T/out"; rc=$?
check_why "time going backwards: agg --history: 4 buckets, never negative, ends at the summary's active" \
  "[ $rc = 0 ] && jq -e '(.buckets | length) == 4 and all(.buckets[]; .active >= 0) and .buckets[-1].active == 1' '$T/out' >/dev/null" "cat '$T/out'"
$A --history "$T/back.ndjson" >"$T/out"; rc=$?
check_why "time going backwards: agg --history text" "[ $rc = 0 ] && [ \$(grep -cE '^[0-9]{2}:[0-9]{2} ' '$T/out') = 4 ]" "cat '$T/out'"
$W "$T/back.ndjson" >"$T/out"; rc=$?
check_why "time going backwards: watch shows all three" "[ $rc = 0 ] && [ \$(wc -l <'$T/out') = 3 ]" "cat '$T/out'"
# Far-apart times: the history is still --last / --bucket buckets.
printf '%s\n' '{"type":"connect","ts":"1970-01-01T00:00:00Z","session":"t0"}' \
  '{"type":"connect","ts":"9999-12-31T23:59:59.999Z","session":"t1"}' \
  '{"type":"connect","ts":"2024-05-01T10:00:00+14:00","session":"t2"}' >"$T/far.ndjson"
$A --json --history "$T/far.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check_why "times 8,000 years apart: agg --history has 4 buckets" \
  "[ $rc = 0 ] && jq -e '(.buckets | length) == 4 and .buckets[-1].active == 3' '$T/out' >/dev/null" "echo rc=$rc; cat '$T/out' '$T/err'"

# Every log line twice: valid events, nothing left open that was not open.
awk '{ print; print }' "$LOG" >"$T/dup.log"
$P "$T/dup.log" >"$T/dup.ndjson" 2>"$T/err"; rc=$?
check_why "every line twice: parse exits 0, valid JSON" "[ $rc = 0 ] && all_json '$T/dup.ndjson'" "echo rc=$rc; cat '$T/dup.ndjson' '$T/err'"
$A --json "$T/dup.ndjson" >"$T/out"
check_why "every line twice: agg has the same sessions open (rails)" \
  "jq -e '.active == 1 and .by.app == {\"rails\": 1}' '$T/out' >/dev/null" "cat '$T/out'"
cat "$LOG" "$LOG" | $P >"$T/dup2.ndjson"
# (rails never logged its end: the second copy reuses its pid, so it is lost)
check_why "the whole log twice: each session twice, every disconnect matched" \
  "[ \"\$(jq -r '.type + \":\" + .app + \":\" + (.reason // \"\")' '$T/dup2.ndjson' | sort | uniq -c | tr -s ' \n' ' ')\" = ' 2 connect:psql: 2 connect:rails: 2 disconnect:psql: 1 disconnect:rails:lost ' ] && [ \$(grep -c '\"matched\":false' '$T/dup2.ndjson') = 0 ]" \
  "cat '$T/dup2.ndjson'"
awk '{ print; print }' "$EV" | $A --json >"$T/out"
check_why "every event twice: agg's active as once" "jq -e '.active == 1 and .by.app == {\"rails\": 1} and .disconnects >= 1' '$T/out' >/dev/null" "cat '$T/out'"
# A disconnect before its connect.
{ tail -1 "$LOG"; head -4 "$LOG"; } >"$T/early.log"
$P "$T/early.log" >"$T/early.ndjson" 2>"$T/err"; rc=$?
check_why "disconnect before its connect: parse writes it unmatched, then the connects" \
  "[ $rc = 0 ] && [ \"\$(jq -r '[.type, .matched] | join(\":\")' '$T/early.ndjson' | tr '\n' ' ')\" = 'disconnect:false connect: connect: ' ]" \
  "cat '$T/early.ndjson' '$T/err'"
tac "$EV" | $A --json >"$T/out"; rc=$?
check_why "disconnect event before its connect: agg never goes negative" \
  "[ $rc = 0 ] && jq -e '.active == 2 and .disconnects == 1 and .connects == 2' '$T/out' >/dev/null" "cat '$T/out'"
tail -1 "$EV" | $A --json --history >"$T/out"; rc=$?
check_why "only a disconnect: agg --history at 0 active" "[ $rc = 0 ] && jq -e 'all(.buckets[]; .active == 0)' '$T/out' >/dev/null" "cat '$T/out'"

########################################################################
# Two servers with the same pids and session keys, interleaved.
$P --label=db1 "$LOG" >"$T/s1.ndjson"
# db2: the same lines but the disconnection: its psql session stays open.
head -4 "$LOG" | $P --label=db2 2>/dev/null >"$T/s2.ndjson"
paste -d '\n' "$T/s1.ndjson" "$T/s2.ndjson" | grep -v '^$' >"$T/both.ndjson"
$A --json --by=server,app "$T/both.ndjson" >"$T/out"; rc=$?
check_why "two --label servers interleaved: agg keeps their sessions apart" \
  "[ $rc = 0 ] && jq -e '.active == 3 and .by.server == {\"db1\": 1, \"db2\": 2} and .by.app == {\"rails\": 2, \"psql\": 1}' '$T/out' >/dev/null" \
  "cat '$T/out'; cut -c1-80 '$T/both.ndjson'"
$A --json --server=db2 --by=app "$T/both.ndjson" >"$T/out"
check_why "two --label servers interleaved: --server=db2" "jq -e '.active == 2 and .by.app == {\"psql\": 1, \"rails\": 1}' '$T/out' >/dev/null" "cat '$T/out'"
# syslog: two hosts, the same pid, one stream; db1's session ends.
{ head -6 tests/golden/syslog_bsd.log
  echo 'Dec  2 10:00:05 db1 postgres[1100]: [5-1] 2024-12-02 10:00:05.000 UTC [1100] LOG:  disconnection: session time: 0:00:04.000 user=app database=shop host=10.12.0.5 port=49000'
} | $P | $A --json --by=server,app >"$T/out"; rc=$?
check_why "syslog hosts interleaved, same pid: agg keeps their sessions apart" \
  "[ $rc = 0 ] && jq -e '.active == 1 and .by.server == {\"db2\": 1} and .by.app == {\"metabase\": 1}' '$T/out' >/dev/null" "cat '$T/out'"

########################################################################
# A line built to make a prefix matcher backtrack: 100 kB of fragments that
# each almost start a line, for auto-detection and for several --prefix.
for frag in '2024-05-01 10:00:00.100 UTC [4242] app@db ' 'user=a,db=b,app=c,client=d ' \
            '2024-05-01 10:00:00 UTC:10.0.0.1(5):u@d:[4242]:' '[4242]: [1-1] ' '%%%%[[[(((' \
            'connection authorized: user=a database=b application_name='; do
  rep=$(awk -v f="$frag" 'BEGIN { n = int(100000 / length(f)); for (i = 0; i < n; i++) s = s f; print s }')
  printf '%s\n' "${rep}LOG:  connection received: host=10.0.0.5 port=1" \
    "2024-05-01 10:00:00.100 UTC [4242] LOG:  connection authorized: user=${rep} database=x" "$rep" "${rep}x"
done >"$T/redos.body"
{ head -2 "$LOG"; cat "$T/redos.body"; tail -n +3 "$LOG"; } >"$T/redos.log"
limit=$((2000 * FACTOR))
for prefix in auto '%m [%p] %q%u@%d ' '%t [%p]: user=%u,db=%d,app=%a,client=%h ' '%t:%r:%u@%d:[%p]:' \
              '%m %u %d %a %h %p %c %l %x %v %e %i %b %q%r ' '%%%-10u%10d%a'; do
  args=(); [ "$prefix" = auto ] || args=(--prefix="$prefix")
  start=$(now_ms)
  $P "${args[@]}" "$T/redos.log" >"$T/out" 2>"$T/err"; rc=$?
  ms=$(($(now_ms) - start))
  check_why "regex-catastrophic lines, prefix $prefix: done in ${ms} ms (< $limit), exit 0, valid JSON" \
    "[ $rc = 0 ] && [ $ms -lt $limit ] && { [ ! -s '$T/out' ] || all_json '$T/out'; }" "echo rc=$rc ${ms} ms; cut -c1-200 '$T/err'"
done
$P "$T/redos.log" >"$T/out" 2>/dev/null
check_why "regex-catastrophic lines: the sessions around them still found" \
  "[ \"\$(jq -r 'select(.db == \"shop\") | .type + \":\" + .app + \":\" + (.matched // \"\" | tostring)' '$T/out' | sort | tr '\n' ' ')\" = 'connect:psql: connect:rails: disconnect:psql:true ' ]" \
  "cut -c1-150 '$T/out'"

########################################################################
# I/O faults: a directory among several inputs (a path even root cannot
# read as a file): an error for it, the others read, exit 1.
mkdir "$T/adir"
$P "$LOG" "$T/adir" "$LOG" >"$T/out" 2>"$T/err"; rc=$?
check_why "a directory among files: parse reads the others, exit 1" \
  "[ $rc = 1 ] && grep -qx 'pgconn-parse: $T/adir: Is a directory' '$T/err' && [ \$(jq -r .type '$T/out' | grep -cx connect) = 4 ]" "echo rc=$rc; cat '$T/out' '$T/err'"
$A --json "$EV" "$T/adir" >"$T/out" 2>"$T/err"; rc=$?
check_why "a directory among files: agg reads the others, exit 1" \
  "[ $rc = 1 ] && grep -qx 'pgconn-agg: $T/adir: Is a directory' '$T/err' && [ \"\$(cat '$T/out')\" = \"\$CLEAN_JSON\" ]" "echo rc=$rc; cat '$T/out' '$T/err'"
$W "$T/adir" "$EV" >"$T/out" 2>"$T/err"; rc=$?
check_why "a directory among files: watch reads the others, exit 1" \
  "[ $rc = 1 ] && grep -qx 'pgconn-watch: $T/adir: Is a directory' '$T/err' && [ \$(wc -l <'$T/out') = 3 ]" "echo rc=$rc; cat '$T/out' '$T/err'"

# SIGTERM to pgconn-parse mid-stream: what it owes is written, exit 0.
mkfifo "$T/fifo1"
$P <"$T/fifo1" >"$T/term.out" 2>"$T/term.err" &
pid=$!; lib_track_pid "$pid"
exec 7>"$T/fifo1"
head -2 "$LOG" >&7
sleep 0.3
kill -TERM "$pid"
wait "$pid"; rc=$?
exec 7>&-
check_why "SIGTERM: parse writes the held connect, exit 0" "[ $rc = 0 ] && grep -q '\"type\":\"connect\"' '$T/term.out'" "echo rc=$rc; cat '$T/term.out' '$T/term.err'"
# ... while lines keep coming: only whole JSON lines, exit 0.
# The log 400 times, pids [812] and [813] made [${i}2] and [${i}3] (one awk,
# not a sed per copy: those took 20 s for 3000 on a busy machine).
awk -v n=400 'NR == FNR { l[NR] = $0; k = NR; next }
  END { for (i = 1; i <= n; i++) for (j = 1; j <= k; j++) {
    s = l[j]; if (match(s, /\[81[23]\]/)) s = substr(s, 1, RSTART) i substr(s, RSTART + 3); print s } }' "$LOG" /dev/null >"$T/many.log"
mkfifo "$T/fifo2"
$P <"$T/fifo2" >"$T/term2.out" 2>"$T/term2.err" &
pid=$!; lib_track_pid "$pid"
( exec 8>"$T/fifo2"; while :; do cat "$T/many.log" >&8 || break; done ) 2>/dev/null &
writer=$!; lib_track_pid "$writer"
sleep 0.5
t0=$EPOCHREALTIME
kill -TERM "$pid"
wait "$pid"; rc=$?
ms=$(( (${EPOCHREALTIME/[.,]/} - ${t0/[.,]/}) / 1000 ))
kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
# Regression (was a bug): a reader slower than its writer never waited in
# ppoll(), where the signal was let in, so SIGTERM stayed pending (minutes
# on the sanitized build).
check_why "SIGTERM on a busy stream: parse stops within 1 s" "[ $ms -lt $((1000 * FACTOR)) ]" "echo $ms ms"
check_why "SIGTERM on a busy stream: parse exits 0 with only whole events" \
  "[ $rc = 0 ] && all_json '$T/term2.out' && [ -z \"\$(tail -c 1 '$T/term2.out')\" ]" "echo rc=$rc; tail -c 300 '$T/term2.out'; cat '$T/term2.err'"

########################################################################
# Sessions that never disconnect: the table is capped, one warning, memory
# flat. Events made by seq and sed (about 10 s for 10 million).
N=${PGCONN_SESSIONS:-}
[ -n "$N" ] || { if [ "$SANITIZED" = 1 ]; then N=300000; else N=10000000; fi; }
start=$(now_ms)
seq "$N" | sed 's/.*/{"type":"connect","ts":"2024-03-01T10:00:00Z","session":"s&","user":"app","db":"shop"}/' |
  /usr/bin/time -f %M -o "$T/rss" $A --json >"$T/out" 2>"$T/err"
rc=$?
ms=$(($(now_ms) - start))
rss_kb=$(tail -n 1 "$T/rss")
forgotten=$((N > 100000 ? N - 100000 : 0))
check_why "$N sessions that never end: agg exits 0 with 100000 active ($((ms / 1000)) s)" \
  "[ $rc = 0 ] && jq -e '.active == 100000 and .connects == $N and .by.db.shop == 100000' '$T/out' >/dev/null" "echo rc=$rc; cut -c1-300 '$T/out'"
check_why "$N sessions that never end: exactly one warning" \
  "[ \$(wc -l <'$T/err') = 1 ] && grep -qx 'pgconn-agg: warning: $forgotten sessions were forgotten past 100000 open ones (is log_disconnections on?)' '$T/err'" "cat '$T/err'"
if [ "$SANITIZED" != 1 ]; then
  check_why "$N sessions that never end: peak RSS $((rss_kb / 1024)) MB (< 64 MB)" "[ '$rss_kb' -lt 65536 ]" "echo $rss_kb KB"
fi

lib_done
