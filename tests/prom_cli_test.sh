#!/usr/bin/env bash
# pgconn-agg --prom and --prom-file (issue 16, ../shared/metrics.md): golden
# expositions checked byte for byte, by `promtool check metrics` and by
# tests/prom_check.py (what promtool misses); agreement with --json; every
# reject reason of message.cpp present from the start; bad options; the
# file written atomically at each interval, on SIGUSR1, at the end, and a
# failed write that leaves the old file. Prints "ok - NAME" / "not ok - NAME: why".
# PGCONN_UPDATE_GOLDEN=1 rewrites tests/prom/*.prom.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
A=$AGG P=$PARSE
T=$LIB_TMP
# The wall-clock reset time differs on every run.
normalize() { sed 's/^pgconn_stats_reset_timestamp_seconds [0-9.e+]*$/pgconn_stats_reset_timestamp_seconds RESET/'; }
# value FILE SERIES: the value of one sample line (exact name and labels).
value() { awk -v s="$2" 'substr($0, 1, length(s) + 1) == s " " { print $NF }' "$1"; }
# total FILE REGEX: the sum of the samples whose name{labels} matches.
total() { awk -v re="$2" '!/^#/ { k = $0; sub(/ [^ ]*$/, "", k); if (k ~ re) s += $NF } END { print s + 0 }' "$1"; }
have_promtool=0
command -v promtool >/dev/null && have_promtool=1

# --- golden expositions
declare -A input=(
  [sample]="$P tests/sample/sample.log"
  [fleet]="$P --input=syslog tests/sample/fleet.log"
  [hostile]="cat tests/prom/hostile.ndjson"
)
declare -A opts=(
  [sample]=""
  [fleet]="--prom-labels=db,user,app,host"
  [hostile]="--prom-max-series=4"
)
for name in sample fleet hostile; do
  ${input[$name]} 2>/dev/null | $A --prom ${opts[$name]} >"$T/$name.prom" 2>"$T/$name.err"
  rc=$?
  check "golden $name: exit 0, nothing on stderr" "[ $rc = 0 ] && [ ! -s '$T/$name.err' ]" "rc=$rc $(cat "$T/$name.err")"
  normalize <"$T/$name.prom" >"$T/$name.norm"
  if [ "${PGCONN_UPDATE_GOLDEN:-}" = 1 ]; then cp "$T/$name.norm" "tests/prom/$name.prom"; fi
  check "golden $name: as tests/prom/$name.prom" "cmp -s tests/prom/$name.prom '$T/$name.norm'" \
    "$(diff -u "tests/prom/$name.prom" "$T/$name.norm" | head -20)"
  tests/prom_check.py "$T/$name.prom" >"$T/chk" 2>&1; rc=$?
  check "golden $name: prom_check.py finds nothing" "[ $rc = 0 ]" "$(head -5 "$T/chk")"
  if [ $have_promtool = 1 ]; then
    promtool check metrics <"$T/$name.prom" >"$T/lint" 2>&1; rc=$?
    check "golden $name: promtool check metrics, exit 0" "[ $rc = 0 ]" "$(head -5 "$T/lint")"
  else
    ok "golden $name: promtool check metrics skipped (no promtool; Debian package prometheus)"
  fi
done

# prom_check.py must fail on what promtool lets pass (it is a test too).
printf '# HELP x_total X.\n# TYPE x_total counter\nx_total{a="1"} 1\nx_total{a="1"} 2\n# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n' >"$T/bad.prom"
tests/prom_check.py "$T/bad.prom" >"$T/bad.out"
check "prom_check.py: a series twice, falling buckets, +Inf != _count" \
  "[ \$(grep -c . '$T/bad.out') = 3 ] && grep -q 'series twice' '$T/bad.out' && grep -q 'fall' '$T/bad.out' && grep -q '_count' '$T/bad.out'" \
  "$(cat "$T/bad.out")"

# --- random names (any code point, controls, quotes, backslashes, invalid
# UTF-8 bytes): the exposition still parses and passes our checks
python3 - "$T/random.ndjson" <<'PY'
import json, random, sys
rnd = random.Random(16)
pool = ['\\', '"', '\n', '\t', '\r', '\x00', '\x01', '\x1b', 'a', 'Z', ' ', '{', '}', '=', ',', '\u00e9', '\u2028', '\U0001F600']
def name():
    return ''.join(rnd.choice(pool) for _ in range(rnd.randrange(0, 12)))
with open(sys.argv[1], 'wb') as f:
    for i in range(300):
        e = {"type": rnd.choice(["connect", "connect", "disconnect", "reject"]), "ts": "2024-03-01T10:00:%02d.000Z" % (i % 60),
             "session": "s%d" % rnd.randrange(100), "user": name(), "db": name(), "app": name(), "host": name(), "server": name()[:3],
             "duration_ms": rnd.randrange(10**7), "reason": rnd.choice(["auth_failed", "terminated", "", name()])}
        line = json.dumps(e).encode()
        if i % 7 == 0:  # raw invalid bytes inside a name
            line = line.replace(b'"app": "', b'"app": "\xff\xfe', 1)
        f.write(line + b'\n')
PY
$A --prom --prom-max-series=50 "$T/random.ndjson" >"$T/random.prom" 2>"$T/random.err"
rc=$?
check "random names: exit 0" "[ $rc = 0 ]" "rc=$rc $(head -3 "$T/random.err")"
tests/prom_check.py "$T/random.prom" >"$T/chk" 2>&1; rc=$?
check "random names: prom_check.py finds nothing" "[ $rc = 0 ]" "$(head -5 "$T/chk")"
if [ $have_promtool = 1 ]; then
  promtool check metrics <"$T/random.prom" >"$T/lint" 2>&1; rc=$?
  check "random names: promtool check metrics, exit 0" "[ $rc = 0 ]" "$(head -5 "$T/lint")"
fi
check "random names: the cap holds (50 label sets and one overflow)" \
  "[ \$(grep -c '^pgconn_connects_total{' '$T/random.prom') -le 51 ] && grep -q '^pgconn_connects_total{overflow=\"true\"}' '$T/random.prom'"

# --- agreement with --json on the same input
for name in sample fleet hostile; do
  ${input[$name]} 2>/dev/null | $A --json >"$T/$name.json"
  f=$T/$name.prom
  j=$T/$name.json
  check "$name: sum(pgconn_sessions_active) = .active" \
    "[ \$(total '$f' '^pgconn_sessions_active\\{') = \$(jq .active '$j') ]"
  check "$name: sum(pgconn_connects_total) = .connects" \
    "[ \$(total '$f' '^pgconn_connects_total\\{') = \$(jq .connects '$j') ]"
  check "$name: sum(pgconn_disconnects_total) = .disconnects" \
    "[ \$(total '$f' '^pgconn_disconnects_total\\{') = \$(jq .disconnects '$j') ]"
  # The JSON's peak is over all servers: between the biggest server's and their sum.
  peaks=$(grep '^pgconn_sessions_active_peak{' "$f" | awk '$NF > m { m = $NF } { s += $NF } END { print m + 0, s + 0 }')
  check "$name: max(pgconn_sessions_active_peak) <= .peak.active <= sum" \
    "[ ${peaks% *} -le \$(jq '.peak.active // 0' '$j') ] && [ \$(jq '.peak.active // 0' '$j') -le ${peaks#* } ]" "$peaks"
  bad=""
  for r in $(jq -r '.rejects | keys[]' "$j"); do
    [ "$(total "$f" "^pgconn_rejects_total\\{.*reason=\"$r\"")" = "$(jq ".rejects.\"$r\"" "$j")" ] || bad="$bad $r"
  done
  check "$name: pgconn_rejects_total by reason = .rejects" "[ -z '$bad' ]" "differ:$bad"
done

bad=""
for s in db1 db2; do
  want=$($P --input=syslog tests/sample/fleet.log 2>/dev/null | $A --json --server=$s | jq .peak.active)
  [ "$(value "$T/fleet.prom" "pgconn_sessions_active_peak{server=\"$s\"}")" = "$want" ] || bad="$bad $s"
done
check "fleet: pgconn_sessions_active_peak{server=S} = --server=S --json's .peak.active" "[ -z '$bad' ]" "differ:$bad"

bad=""
for s in db1 db2; do
  want=$($A --json --server=$s tests/prom/hostile.ndjson | jq 'if .complete then 1 else 0 end')
  [ "$(value "$T/hostile.prom" "pgconn_view_complete{server=\"$s\"}")" = "$want" ] || bad="$bad $s"
done
check "hostile: pgconn_view_complete{server=S} = --server=S --json's .complete (db1 0, db2 1)" \
  "[ -z '$bad' ] && [ \"\$(value '$T/hostile.prom' 'pgconn_view_complete{server=\"db1\"}')\" = 0 ]" "differ:$bad"

# --- every reject reason of message.cpp from the start
$A --prom </dev/null >"$T/empty.prom"
missing=""
for r in $({ grep -o 'reject("[a-z_]*"' common/lifecycle/message.cpp | sed 's/reject("//; s/"//'
            grep -o ', true, "[a-z_]*"}' common/lifecycle/pgbouncer_message.cpp | sed 's/.*, "//; s/"}//'; } | sort -u); do
  [ "$(value "$T/empty.prom" "pgconn_rejects_total{server=\"\",reason=\"$r\"}")" = 0 ] || missing="$missing $r"
done
check "no input: every reject category of message.cpp and pgbouncer_message.cpp at 0" "[ -z '$missing' ]" "missing:$missing"
tests/prom_check.py "$T/empty.prom" >"$T/chk" 2>&1; rc=$?
check "no input: prom_check.py finds nothing" "[ $rc = 0 ]" "$(head -3 "$T/chk")"
if [ $have_promtool = 1 ]; then
  promtool check metrics <"$T/empty.prom" >"$T/lint" 2>&1; rc=$?
  check "no input: promtool check metrics, exit 0" "[ $rc = 0 ]" "$(head -3 "$T/lint")"
fi
check "no input: 15 reasons or more" "[ \$(grep -c '^pgconn_rejects_total{' '$T/empty.prom') -ge 15 ]"
$A --prom --server=db7 </dev/null >"$T/db7.prom"
check "--server=db7: its rejects from the start" \
  "[ \"\$(value '$T/db7.prom' 'pgconn_rejects_total{server=\"db7\",reason=\"auth_failed\"}')\" = 0 ]"

# --- bad options: one line and the usage, exit 2, before reading input
usage_case() {  # NAME EXPECTED-LINE ARGS...
  local name=$1 want=$2
  shift 2
  local start=$SECONDS
  $A "$@" < <(sleep 5) >"$T/u.out" 2>"$T/u.err"
  local rc=$?
  check "$name: exit 2" "[ $rc = 2 ]" "rc=$rc"
  check "$name: '$want'" "[ \"\$(head -1 '$T/u.err')\" = '$want' ] && grep -q '^usage: pgconn-agg ' '$T/u.err'" "$(cat "$T/u.err")"
  check "$name: before reading input" "[ $((SECONDS - start)) -lt 4 ] && [ ! -s '$T/u.out' ]"
}
usage_case "--prom --json" "pgconn-agg: --prom cannot be used with --json" --prom --json
usage_case "--prom --history" "pgconn-agg: --prom cannot be used with --history" --prom --history
usage_case "--prom-file in a missing directory" \
  "pgconn-agg: bad --prom-file: cannot write \"$T/nope/x.prom\": directory \"$T/nope\": No such file or directory" \
  --prom-file="$T/nope/x.prom"
usage_case "--prom-file in an unwritable directory" \
  "pgconn-agg: bad --prom-file: cannot write \"/proc/pgconn.prom\": No such file or directory" \
  --prom-file=/proc/pgconn.prom
usage_case "--prom-file naming a directory" "pgconn-agg: bad --prom-file: cannot write \"$T\": it is a directory" \
  --prom-file="$T"
usage_case "--prom-labels=server" \
  "pgconn-agg: bad --prom-labels \"db,server\": unknown \"server\" (expected db, user, app, host)" \
  --prom --prom-labels=db,server
usage_case "--prom-max-series=0" \
  "pgconn-agg: bad --prom-max-series \"0\": expected a number from 1 to 1000000" --prom --prom-max-series=0
usage_case "--prom --durations" "pgconn-agg: --durations is part of the text summary, not of --prom" \
  --prom --durations

# --- --prom-file at the end of input: the same as --prom, nothing on stdout
F=$T/out/pgconn.prom
mkdir -p "$T/out"
(umask 077; $P tests/sample/sample.log 2>/dev/null | $A --prom-file="$F" >"$T/f.out" 2>"$T/f.err")
check "--prom-file alone: nothing on stdout or stderr" "[ ! -s '$T/f.out' ] && [ ! -s '$T/f.err' ]" "$(cat "$T/f.out" "$T/f.err" | head -3)"
check "--prom-file: the exposition of --prom" "cmp -s <(normalize <'$F') '$T/sample.norm'"
check "--prom-file: mode 0644 under umask 077" "[ \$(stat -c %a '$F') = 644 ]" "$(stat -c %a "$F")"
check "--prom-file: no temporary file left" "[ \$(ls '$T/out' | wc -l) = 1 ]" "$(ls "$T/out")"
$P tests/sample/sample.log 2>/dev/null | $A --json --prom-file="$T/out/j.prom" >"$T/fj.out"
check "--prom-file --json: JSON on stdout too" "jq -e .active '$T/fj.out' >/dev/null && [ -s '$T/out/j.prom' ]"

# --- live: every --interval once the input is idle, SIGUSR1, SIGHUP, failed writes
ev() {  # TYPE SESSION [extra JSON]
  printf '{"type":"%s","ts":"2024-03-01T10:00:00Z","session":"%s","user":"u","db":"d","app":"a","server":"s1"%s}\n' "$1" "$2" "${3:-}"
}
mkfifo "$T/fifo"
L=$T/out/live.prom
$A --prom-file="$L" --interval=300ms <"$T/fifo" >"$T/l.out" 2>"$T/l.err" &
pid=$!; lib_track_pid "$pid"
exec 8>"$T/fifo"
{ ev connect c1; ev connect c2; ev connect c3; ev disconnect c3 ',"duration_ms":1500'; } >&8
wait_until 3 "[ -s '$L' ]"
check "live: the file comes within an interval of idle input" "[ -s '$L' ]"
check "live: active 2" "[ \"\$(value '$L' 'pgconn_sessions_active{server=\"s1\",datname=\"d\",usename=\"u\",application_name=\"a\"}')\" = 2 ]" \
  "$(grep -v '^#' "$L" | head -5)"
ev connect c4 >&8
wait_until 3 "[ \"\$(value '$L' 'pgconn_connects_total{server=\"s1\",datname=\"d\",usename=\"u\",application_name=\"a\"}')\" = 4 ]"
check "live: the next interval has the new connect" \
  "[ \"\$(value '$L' 'pgconn_connects_total{server=\"s1\",datname=\"d\",usename=\"u\",application_name=\"a\"}')\" = 4 ]"
reset1=$(value "$L" pgconn_stats_reset_timestamp_seconds)
sleep 0.2
kill -HUP $pid
wait_until 3 "[ \"\$(value '$L' 'pgconn_connects_total{server=\"s1\",datname=\"d\",usename=\"u\",application_name=\"a\"}')\" = 0 ]"
check "SIGHUP: every counter written at 0 (Prometheus sees the reset)" \
  "[ \"\$(value '$L' 'pgconn_connects_total{server=\"s1\",datname=\"d\",usename=\"u\",application_name=\"a\"}')\" = 0 ] &&
   [ \"\$(value '$L' 'pgconn_disconnects_total{server=\"s1\",datname=\"d\",usename=\"u\",application_name=\"a\",reason=\"normal\"}')\" = 0 ] &&
   [ \"\$(value '$L' 'pgconn_session_duration_seconds_count{server=\"s1\",application_name=\"a\"}')\" = 0 ] &&
   [ \"\$(value '$L' 'pgconn_rejects_total{server=\"s1\",reason=\"auth_failed\"}')\" = 0 ]" "$(grep -v '^#' "$L" | head -8)"
reset2=$(value "$L" pgconn_stats_reset_timestamp_seconds)
check "SIGHUP: pgconn_stats_reset_timestamp_seconds moves on" "awk 'BEGIN { exit !($reset2 > $reset1) }'" "$reset1 -> $reset2"
# A failed write: the temporary name taken by a directory.
mkdir "$L.$pid.tmp"
cp "$L" "$T/before"
ev reject r1 ',"reason":"auth_failed"' >&8
wait_until 3 "grep -q 'warning: cannot write' '$T/l.err'"
check "a failed write: a warning on stderr" \
  "grep -qx 'pgconn-agg: warning: cannot write \"$L\": Is a directory (trying again every interval)' '$T/l.err'" "$(cat "$T/l.err")"
sleep 0.7  # two more intervals that fail the same way
check "a failed write: one warning while the error repeats" "[ \$(grep -c warning '$T/l.err') = 1 ]" "$(cat "$T/l.err")"
check "a failed write: the old file intact" "cmp -s '$T/before' '$L'"
rmdir "$L.$pid.tmp"
wait_until 3 "[ \"\$(value '$L' 'pgconn_rejects_total{server=\"s1\",reason=\"auth_failed\"}')\" = 1 ]"
check "a failed write: the next interval writes again" \
  "[ \"\$(value '$L' 'pgconn_rejects_total{server=\"s1\",reason=\"auth_failed\"}')\" = 1 ]"
exec 8>&-
wait_until 3 "! kill -0 $pid 2>/dev/null"
wait $pid; rc=$?
check "live: exit 0 at the end of input" "[ $rc = 0 ]" "rc=$rc $(cat "$T/l.err")"
check "live: nothing on stdout" "[ ! -s '$T/l.out' ]"

# A replay (old events, gaps of 30 ms, as pgconn-parse leaves them): no
# file until the input pauses; a busy log with current events: the file
# while they keep coming.
produce() {  # FIFO NOW(0|1): 40 blocks of 5 connects, 30 ms apart, then 1.5 s of silence
  python3 - "$1" "$2" <<'PY'
import datetime, sys, time
with open(sys.argv[1], "w") as f:
    for i in range(40):
        for j in range(5):
            ts = (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"
                  if sys.argv[2] == "1" else "2024-03-01T10:00:00.000Z")
            f.write('{"type":"connect","ts":"%s","session":"r%d-%d","user":"u","db":"d","app":"a","server":"s1"}\n' % (ts, i, j))
        f.flush()
        time.sleep(0.03)
    time.sleep(1.5)
PY
}
C='pgconn_connects_total{server="s1",datname="d",usename="u",application_name="a"}'
for now in 0 1; do
  rm -f "$T/fifo3" "$T/out/replay.prom"
  mkfifo "$T/fifo3"
  $A --prom-file="$T/out/replay.prom" --interval=100ms <"$T/fifo3" 2>"$T/r.err" &
  pid=$!; lib_track_pid "$pid"
  produce "$T/fifo3" $now &
  sleep 0.9
  if [ -e "$T/out/replay.prom" ]; then seen=$(value "$T/out/replay.prom" "$C"); else seen=none; fi
  if [ $now = 0 ]; then
    check "a replay: no file while the events keep coming" "[ '$seen' = none ]" "a file with $seen connects"
    wait_until 3 "[ \"\$(value '$T/out/replay.prom' '$C' 2>/dev/null)\" = 200 ]"
    check "a replay: the file with all 200 connects once the input pauses" \
      "[ \"\$(value '$T/out/replay.prom' '$C')\" = 200 ]"
  else
    check "a busy log with current events: the file while they keep coming" "[ '$seen' != none ] && [ '$seen' -lt 200 ]" "$seen"
  fi
  wait $pid
done

# The first file as soon as the input has caught up; then SIGUSR1 writes at
# once (the interval far away).
mkfifo "$T/fifo2"
U=$T/out/usr1.prom
$A --prom-file="$U" --interval=1h <"$T/fifo2" 2>"$T/u1.err" &
pid=$!; lib_track_pid "$pid"
exec 9>"$T/fifo2"
ev connect x1 >&9
S='pgconn_sessions_active{server="s1",datname="d",usename="u",application_name="a"}'
wait_until 2 "[ -s '$U' ]"
check "--interval=1h: the first file once the input has caught up" "[ \"\$(value '$U' '$S')\" = 1 ]"
ev connect x2 >&9
sleep 0.3
check "--interval=1h: no other file before it is due" "[ \"\$(value '$U' '$S')\" = 1 ]"
kill -USR1 $pid
wait_until 2 "[ \"\$(value '$U' '$S')\" = 2 ]"
check "SIGUSR1: the file at once" "[ \"\$(value '$U' '$S')\" = 2 ]"
kill -TERM $pid
exec 9>&-
wait $pid; rc=$?
check "SIGTERM: exit 0" "[ $rc = 0 ]" "rc=$rc"

lib_done
