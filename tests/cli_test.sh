#!/usr/bin/env bash
# Command-line behaviour of pgconn-parse: options, exit statuses, I/O faults,
# damaged input, live streams. Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
P=$PARSE
T=$LIB_TMP
# Every stdout line parses as one JSON object.
all_json() { jq -c . "$1" >/dev/null 2>&1 && [ "$(jq -c . "$1" | wc -l)" = "$(wc -l <"$1")" ]; }

LOG=$T/a.log
cat >"$LOG" <<'L'
2024-05-01 10:00:00.100 UTC [812] LOG:  connection received: host=10.0.0.5 port=51234
2024-05-01 10:00:00.105 UTC [812] LOG:  connection authorized: user=app database=shop application_name=psql
2024-05-01 10:00:00.200 UTC [813] LOG:  connection received: host=[local]
2024-05-01 10:00:00.201 UTC [813] LOG:  connection authorized: user=bob database=nosuch
2024-05-01 10:00:00.202 UTC [813] FATAL:  database "nosuch" does not exist
2024-05-01 10:01:02.450 UTC [812] LOG:  disconnection: session time: 0:01:02.345 user=app database=shop host=10.0.0.5 port=51234
L

# --- options and usage
$P --help >"$T/out" 2>&1; rc=$?
check "--help exits 0" "[ $rc = 0 ]"
check "--help starts with the usage line" "head -1 '$T/out' | grep -q '^usage: pgconn-parse '"
$P --version >"$T/out" 2>&1; rc=$?
check "--version prints the version" "[ $rc = 0 ] && grep -Eq '^pgconn-parse [0-9]+\.[0-9]+' '$T/out'"
$P --bogus "$LOG" >"$T/out" 2>"$T/err"; rc=$?
check "unknown option exits 2" "[ $rc = 2 ]"
check "unknown option: one error line and the usage" "[ \$(grep -c '^pgconn-parse: ' '$T/err') = 1 ] && grep -q '^usage: ' '$T/err' && [ ! -s '$T/out' ]"
$P --format=xml "$LOG" >/dev/null 2>"$T/err"; rc=$?
check "bad --format exits 2 with a quoted value" "[ $rc = 2 ] && grep -q 'bad --format \"xml\"' '$T/err'"
$P --input=word "$LOG" >/dev/null 2>"$T/err"; rc=$?
check "bad --input exits 2" "[ $rc = 2 ] && grep -q 'bad --input \"word\"' '$T/err'"
$P --header "$LOG" >/dev/null 2>"$T/err"; rc=$?
check "--header without tsv exits 2" "[ $rc = 2 ]"

# --- output
$P "$LOG" >"$T/out" 2>"$T/err"; rc=$?
check "a log gives connect, reject, disconnect" "[ \"\$(jq -r .type '$T/out' | tr '\n' ' ')\" = 'connect reject disconnect ' ]" "$(cat "$T/out")"
check "nothing on stderr for a clean log" "[ ! -s '$T/err' ]" "$(cat "$T/err")"
# A pipe on stdout is enlarged to 1 MiB (best effort: the system's limit,
# /proc/sys/fs/pipe-max-size, may be lower), the size its read end shows.
pipe_size=$(python3 - "$P" "$LOG" <<'EOF'
import fcntl, os, subprocess, sys
r, w = os.pipe()
before = fcntl.fcntl(r, 1032)  # F_GETPIPE_SZ
p = subprocess.Popen([sys.argv[1], sys.argv[2]], stdout=w)
os.close(w)
while os.read(r, 65536):
    pass
p.wait()
print(before, fcntl.fcntl(r, 1032))
EOF
)
max_pipe=$(cat /proc/sys/fs/pipe-max-size 2>/dev/null || echo 0)
if [ "$max_pipe" -ge 1048576 ]; then
  check_eq "a pipe on stdout is enlarged to 1 MiB" "65536 1048576" "$pipe_size"
else
  skip "a pipe on stdout is enlarged to 1 MiB" "pipe-max-size $max_pipe"
fi
$P --format=tsv --header "$LOG" >"$T/out"
check "--format=tsv --header: header then 19 columns" "head -1 '$T/out' | grep -q '^type	ts	tz	pid	session' && awk -F'\t' 'NF != 19 {exit 1}' '$T/out'"
$P --label=db1 "$LOG" >"$T/out"
check "--label names the server of every event" "[ \$(jq -r .server '$T/out' | sort -u) = db1 ]"
$P - <"$LOG" >"$T/out"
check "'-' reads stdin" "[ \$(wc -l <'$T/out') = 3 ]"
$P <"$LOG" >"$T/out"
check "no file reads stdin" "[ \$(wc -l <'$T/out') = 3 ]"

# --- files and I/O faults
$P "$T/nonexistent" "$LOG" >"$T/out" 2>"$T/err"; rc=$?
check "missing file: exit 1" "[ $rc = 1 ]"
check "missing file: err(3)-style message" "grep -qx 'pgconn-parse: $T/nonexistent: No such file or directory' '$T/err'" "$(cat "$T/err")"
check "missing file: the other files still processed" "[ \$(wc -l <'$T/out') = 3 ]"
$P "$T" >/dev/null 2>"$T/err"; rc=$?
check "a directory: error and exit 1" "[ $rc = 1 ] && grep -q 'Is a directory' '$T/err'"
big=$T/big.log
# The log 3000 times, pids [812] and [813] made [${i}2] and [${i}3] (one awk,
# not a sed per copy: those took 20 s for 3000 on a busy machine).
awk -v n=3000 'NR == FNR { l[NR] = $0; k = NR; next }
  END { for (i = 1; i <= n; i++) for (j = 1; j <= k; j++) {
    s = l[j]; if (match(s, /\[81[23]\]/)) s = substr(s, 1, RSTART) i substr(s, RSTART + 3); print s } }' "$LOG" /dev/null >"$big"
$P "$big" 2>"$T/err" | head -1 >"$T/out"; rc=${PIPESTATUS[0]}
check "| head -1: exit 0" "[ $rc = 0 ]"
check "| head -1: nothing on stderr" "[ ! -s '$T/err' ]" "$(cat "$T/err")"
if [ -w /dev/full ]; then
  $P "$big" >/dev/full 2>"$T/err"; rc=$?
  check ">/dev/full: write error and exit 1" "[ $rc = 1 ] && grep -q '^pgconn-parse: write error: No space left on device' '$T/err'" "rc=$rc $(cat "$T/err")"
fi

# --- rotation: a session starts in one file and ends in the next
head -2 "$LOG" >"$T/r1.log"
tail -1 "$LOG" >"$T/r2.log"
$P "$T/r1.log" "$T/r2.log" >"$T/out"
check "a session across two files is joined" "[ \"\$(jq -r 'select(.type==\"disconnect\") | .matched, .app' '$T/out' | tr '\n' ' ')\" = 'true psql ' ]"

# --- damaged input: valid output only, one counted warning, exit 0
{ head -c 20000 /dev/urandom; cat "$LOG"; } >"$T/garbage.log"
$P "$T/garbage.log" >"$T/out" 2>"$T/err"; rc=$?
check "binary garbage: exit 0" "[ $rc = 0 ]"
check "binary garbage: every line is JSON, events still found" "all_json '$T/out' && grep -q '\"type\":\"disconnect\"' '$T/out'"
check "binary garbage: at most one warning line" "[ \$(wc -l <'$T/err') -le 1 ]" "$(cat "$T/err")"
printf '2024-05-01 10:00:00.100 UTC [9] LOG:  connection received: host=[local]\n2024-05-01 10:00:00.101 UTC [9] LOG:  connection authorized: user=x\xff\xfe\x00y database=d\x00b application_name=a\x1b[31mred\n' >"$T/bad.log"
$P "$T/bad.log" >"$T/out" 2>"$T/err"; rc=$?
check "invalid UTF-8 and NUL: exit 0 and valid JSON" "[ $rc = 0 ] && all_json '$T/out'"
check "invalid UTF-8 becomes U+FFFD, NUL and ESC escaped" "grep -qF 'x\\ufffd' <(jq -c . '$T/out' | sed 's/\xef\xbf\xbd/\\\\ufffd/g') && grep -qF '\\u0000' '$T/out' && grep -qF '\\u001b[31m' '$T/out'" "$(cat "$T/out")"
sed 's/$/\r/' "$LOG" >"$T/crlf.log"
$P "$T/crlf.log" >"$T/out" 2>"$T/err"
$P "$LOG" >"$T/want"
check_file "CRLF line ends: same events" "$T/want" "$T/out"
{ head -2 "$LOG"; printf '2024-05-01 10:00:00.300 UTC [812] LOG:  statement: '; head -c 10000000 /dev/zero | tr '\0' x; echo; tail -1 "$LOG"; } >"$T/long.log"
$P "$T/long.log" >"$T/out" 2>"$T/err"; rc=$?
check "a 10 MB line: exit 0, events around it kept" "[ $rc = 0 ] && [ \"\$(jq -r .type '$T/out' | tr '\n' ' ')\" = 'connect disconnect ' ]" "$(cat "$T/out" "$T/err")"
check "a 10 MB line: one warning" "[ \$(wc -l <'$T/err') = 1 ] && grep -q 'warning: 1 line' '$T/err'" "$(cat "$T/err")"
{ cat "$LOG"; printf '2024-05-01 10:02:00.000 UTC [900] LOG:  connection received: host=10.0.0.9 port=1\n2024-05-01 10:02:00.001 UTC [900] LOG:  connection authorized: user=z database=z'; } >"$T/trunc.log"
$P "$T/trunc.log" >"$T/out" 2>"$T/err"; rc=$?
check "a last line without newline is read" "[ $rc = 0 ] && [ \$(jq -r 'select(.user==\"z\").type' '$T/out') = connect ]"
printf '2024-05-01 10:00:00.100 UTC [9] LOG:  disconnection: session time: garbage user=a database=b host=c\n' >"$T/mal.log"
$P "$T/mal.log" >"$T/out" 2>"$T/err"; rc=$?
check "a malformed connection line: exit 0, counted warning with its place" "[ $rc = 0 ] && [ ! -s '$T/out' ] && grep -q 'warning: 1 line .*1 malformed connection line.*mal.log:1' '$T/err'" "$(cat "$T/err")"
printf '2024-05-01 10:00:00.100 UTC [9] LOG:  checkpoint starting: time\n2024-05-01 10:00:00.100 UTC [9] LOG:  Verbindung empfangen: Host=[local]\n' >"$T/none.log"
$P "$T/none.log" >"$T/out" 2>"$T/err"; rc=$?
check "no connection lines: exit 0 and the log_connections hint" "[ $rc = 0 ] && grep -q 'log_connections = on' '$T/err' && grep -q lc_messages '$T/err'" "$(cat "$T/err")"

# --- live: events leave at once while the writer keeps the pipe open
fifo=$T/fifo
mkfifo "$fifo"
($P <"$fifo" >"$T/live.out" 2>&1) &
pid=$!
exec 7>"$fifo"
head -2 "$LOG" >&7   # a connect that can only settle by the 20 ms idle rule
wait_until 3 "[ -s '$T/live.out' ]"
check "live: a held connect leaves after a short idle, pipe still open" "grep -q '\"type\":\"connect\"' '$T/live.out'" "$(cat "$T/live.out")"
exec 7>&-
wait $pid

# --- live and busy: statement lines keep coming (all logged in the same
# second, so neither the 1 s rule nor the idle rule applies); the held
# connect must still leave within a fraction of a second of wall-clock time
mkfifo "$T/fifo3"
($P <"$T/fifo3" >"$T/busy.out" 2>&1) &
exec 9>"$T/fifo3"
head -2 "$LOG" >&9
for i in $(seq 1 100); do
  echo "2024-05-01 10:00:00.200 UTC [999] LOG:  statement: SELECT $i" >&9
  sleep 0.005
done
check "live and busy: a held connect leaves while lines keep coming" "grep -q '\"type\":\"connect\"' '$T/busy.out'" "$(cat "$T/busy.out")"
exec 9>&-
wait

# --- Ctrl+C mid-stream: what is owed is written, exit 0
# (by pid: `pkill -f` by name also hit other people's pgconn-parse)
mkfifo "$T/fifo2"
$P <"$T/fifo2" >"$T/int.out" 2>&1 &
pid=$!
exec 8>"$T/fifo2"
head -2 "$LOG" >&8
sleep 0.3
kill -INT $pid
wait $pid
echo "rc=$?" >>"$T/int.out"
exec 8>&-
check "SIGINT: output flushed and exit 0" "grep -q '\"type\":\"connect\"' '$T/int.out' && grep -q 'rc=0' '$T/int.out'" "$(cat "$T/int.out")"

# --- the man pages: clean lint, SYNOPSIS as --help says
if command -v mandoc >/dev/null; then
  norm() { echo "$1" | sed 's/ | /|/g; s/\[FILE\.\.\.\]/[file ...]/; s/\[app=NAME \.\.\.\]/[app=NAME ...]/'; }
  for tool in pgconn-parse pgconn-agg pgconn-watch pgconn-tail; do
    check "$tool(1) lints clean" "mandoc -Tlint -Wwarning man/$tool.1"
    synopsis=$(mandoc -Tascii -Owidth=200 "man/$tool.1" | col -b | sed -n '/^SYNOPSIS/,/^$/p' | sed 1d | tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//')
    usage=$("$LIB_BIN/$tool" --help | sed -n '1,/^$/p' | sed 's/^usage: //' | tr -s ' \n' ' ' | sed 's/ $//')
    check "$tool(1) SYNOPSIS matches --help" "[ \"$(norm "$synopsis")\" = \"$(norm "$usage")\" ]" "man: $(norm "$synopsis") / help: $(norm "$usage")"
  done
fi

lib_done
