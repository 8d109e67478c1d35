#!/usr/bin/env bash
# pgconn-parse --snapshot from the command line, on fake /proc trees
# (PGCONN_PROC_ROOT): the events of a reconcile, two clusters without a way
# to choose, --snapshot=PID, a missing /proc, bad values, a pipe that is
# reconciled once when it goes quiet. The real server is
# tests/e2e/snapshot_server_test.sh. Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
P=$PARSE A=$AGG
T=$LIB_TMP

# proc PID PPID COMM TITLE START_TICKS: one fake process under $T/proc.
proc() {
  mkdir -p "$T/proc/$1"
  printf '%s (%s) S %s 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %s 0 0\n' "$1" "$3" "$2" "$5" >"$T/proc/$1/stat"
  printf '%s\0\0\0\0' "$4" >"$T/proc/$1/cmdline"
  printf 'Name:\t%s\nNSpid:\t%s\n' "$3" "$1" >"$T/proc/$1/status"
}
mkdir -p "$T/proc"
printf 'cpu 1 2 3\nbtime 1714557600\n' >"$T/proc/stat"   # 2024-05-01T10:00:00Z
proc 1 0 systemd /sbin/init 1
proc 100 1 postgres '/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main' 500
proc 101 100 postgres 'postgres: 16/main: checkpointer ' 510
proc 102 100 postgres 'postgres: 16/main: app shop 10.0.0.5(40000) idle' 1000
proc 103 100 postgres 'postgres: 16/main: report analytics [local] idle in transaction' 1100
export PGCONN_PROC_ROOT=$T/proc

# The log shows 102 connect and 104 connect; 104 is gone.
cat >"$T/mid.log" <<'EOF'
2024-05-01 10:30:00.000 UTC [102] LOG:  connection received: host=10.0.0.5 port=40000
2024-05-01 10:30:00.005 UTC [102] LOG:  connection authorized: user=app database=shop application_name=web
2024-05-01 10:31:00.000 UTC [104] LOG:  connection received: host=10.0.0.5 port=40004
2024-05-01 10:31:00.005 UTC [104] LOG:  connection authorized: user=app database=shop application_name=web
2024-05-01 10:32:00.000 UTC [102] LOG:  statement: select 1
2024-05-01 10:33:00.000 UTC [105] LOG:  connection received: host=[local]
2024-05-01 10:33:00.005 UTC [105] LOG:  connection authorized: user=app database=shop
2024-05-01 10:33:00.100 UTC [105] LOG:  disconnection: session time: 0:00:00.100 user=app database=shop host=[local]
EOF
"$P" --snapshot "$T/mid.log" >"$T/mid.out" 2>"$T/mid.err"
check "--snapshot FILE exits 0 quietly" "[ $? = 0 ] && [ ! -s '$T/mid.err' ]" "stderr: $(cat "$T/mid.err")"
check "--snapshot FILE: 104 lost, 103 from the process table, then the snapshot event" \
  "[ \"\$(jq -c '[.type, .pid, .reason // .state // .snapshot]' '$T/mid.out' | tail -n 3 | tr '\n' ' ')\" = '[\"disconnect\",104,\"lost\"] [\"connect\",103,true] [\"server\",null,\"snapshot\"] ' ]" \
  "$(tail -n 3 "$T/mid.out")"
check "--snapshot FILE: 103 starts at its process start" \
  "grep -q '\"ts\":\"2024-05-01T10:00:11.000Z\",\"pid\":103' '$T/mid.out'"
check "pgconn-agg counts what the process table shows" \
  "[ \"\$('$A' --json '$T/mid.out' | jq -c '[.active, .by.db.shop, .by.db.analytics]')\" = '[2,1,1]' ]" \
  "$("$A" --json "$T/mid.out")"

# A second cluster.
proc 200 1 postgres '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main' 600
proc 201 200 postgres 'postgres: 15/main: checkpointer ' 610
proc 202 200 postgres 'postgres: 15/main: etl warehouse [local] COPY' 2000
"$P" --snapshot /dev/null >"$T/two.out" 2>"$T/two.err"
check "two clusters, no log line: one warning naming both and --snapshot=PID" \
  "[ \$? = 0 ] && [ \"\$(cat '$T/two.err')\" = 'pgconn-parse: warning: --snapshot: several PostgreSQL servers run here (postmasters 100 (16/main), 200 (15/main)) and the log has named no process yet: choose one with --snapshot=PID; the counts are only what the log shows' ]" \
  "$(cat "$T/two.err")"
check "two clusters, no log line: no events" "[ ! -s '$T/two.out' ]"
"$P" --snapshot "$T/mid.log" >"$T/two-log.out" 2>"$T/two-log.err"
check "two clusters: the log's pids choose 16/main" \
  "[ ! -s '$T/two-log.err' ] && [ \"\$(jq -c 'select(.snapshot) | .pid' '$T/two-log.out')\" = 103 ]"
"$P" --snapshot=200 /dev/null >"$T/pick.out" 2>"$T/pick.err"
check "--snapshot=200 picks 15/main" \
  "[ ! -s '$T/pick.err' ] && [ \"\$(jq -c 'select(.snapshot) | [.pid, .user, .db, .host]' '$T/pick.out')\" = '[202,\"etl\",\"warehouse\",\"[local]\"]' ]" \
  "$(cat "$T/pick.err" "$T/pick.out")"

# A pipe: reconciled once, after it has been quiet, before the later lines.
mkfifo "$T/fifo"
(head -n 2 "$T/mid.log"; sleep 0.6
 echo '2024-05-01 11:00:00.000 UTC [103] LOG:  disconnection: session time: 0:59:49.000 user=report database=analytics host=[local]'
 sleep 0.6) >"$T/fifo" &
lib_track_pid $!
"$P" --snapshot=100 <"$T/fifo" >"$T/pipe.out" 2>"$T/pipe.err"
check "a pipe: the snapshot before the later lines, once" \
  "[ \"\$(jq -r '.type + \":\" + (.state // .reason // \"\")' '$T/pipe.out' | tr '\n' ' ')\" = 'connect: connect: server:snapshot disconnect: ' ]" \
  "$(cat "$T/pipe.out")"
check "a pipe: the snapshot session's disconnection matches, with the logged duration" \
  "[ \"\$(jq -c 'select(.type == \"disconnect\") | [.pid, .matched, .duration_ms]' '$T/pipe.out')\" = '[103,true,3589000]' ]"

# The race: 106 ended just before the scan; the logging collector writes
# its disconnection line a little later (here 200 ms). Its process is gone
# at the scan, so it waits for its grace (1.5 s) instead of becoming lost:
# its own line ends it, matched, with the logged duration. 104, gone with
# nothing on the way, is lost after the grace (or at once when the input
# ends or a signal comes), at the time of the scan; then the snapshot event.
{ head -n 4 "$T/mid.log"
  echo '2024-05-01 10:34:00.000 UTC [106] LOG:  connection received: host=10.0.0.6 port=40006'
  echo '2024-05-01 10:34:00.005 UTC [106] LOG:  connection authorized: user=app database=shop application_name=batch'
} >"$T/race.log"
race_want='connect:102 connect:104 connect:106 connect:103:snapshot disconnect:106:matched:1560000 disconnect:104:lost server:snapshot '
# race MODE: grace (the writer stays), eof (it closes 100 ms after the
# line) or term (SIGTERM then). Sets race_rc, race_scan, race_done (ms).
race() {
  rm -f "$T/race.fifo" && mkfifo "$T/race.fifo"
  "$P" --snapshot=100 <"$T/race.fifo" >"$T/race-$1.out" 2>"$T/race-$1.err" &
  local pid=$!
  lib_track_pid "$pid"
  exec 3>"$T/race.fifo"
  cat "$T/race.log" >&3
  wait_until 5 "grep -q '\"snapshot\":true' '$T/race-$1.out'"  # the scan is done
  race_scan=$(now_ms)
  sleep 0.2
  echo '2024-05-01 11:00:00.000 UTC [106] LOG:  disconnection: session time: 0:26:00.000 user=app database=shop host=10.0.0.6 port=40006' >&3
  case $1 in
    grace) wait_until 5 "grep -q '\"state\":\"snapshot\"' '$T/race-$1.out'"; race_done=$(now_ms); exec 3>&- ;;
    eof) sleep 0.1; exec 3>&-; wait_until 5 "grep -q '\"state\":\"snapshot\"' '$T/race-$1.out'"; race_done=$(now_ms) ;;
    term) sleep 0.1; kill -TERM "$pid"; wait_until 5 "grep -q '\"state\":\"snapshot\"' '$T/race-$1.out'"; race_done=$(now_ms); exec 3>&- ;;
  esac
  wait "$pid"
  race_rc=$?
}
race_events() {
  jq -r '[.type, (.pid // empty | tostring), (if .snapshot then "snapshot" else empty end),
          (if .type == "disconnect" then (.reason // (if .matched then "matched" else "unmatched" end)) else empty end),
          (.duration_ms // empty | tostring), (.state // empty)] | join(":")' "$1" | tr '\n' ' '
}
for mode in grace eof term; do
  race $mode
  out=$T/race-$mode.out
  check "race ($mode): exit 0 quietly" "[ $race_rc = 0 ] && [ ! -s '$T/race-$mode.err' ]" "exit $race_rc: $(cat "$T/race-$mode.err")"
  check_eq "race ($mode): 106 ends by its own line, 104 lost, then the snapshot event" \
    "$race_want" "$(race_events "$out")"
  ts=$(jq -r 'select(.reason == "lost" or .state == "snapshot") | .ts' "$out" | sort -u)
  secs=$(jq -rn --arg ts "$ts" '$ts | sub("\\.[0-9]+Z$"; "Z") | fromdate' 2>/dev/null)
  check "race ($mode): lost and snapshot both at the time of the scan ($ts)" \
    "[ -n '$secs' ] && [ '$secs' -le $((race_scan / 1000)) ] && [ '$secs' -ge $((race_scan / 1000 - 5)) ]"
  waited=$((race_done - race_scan))
  if [ $mode = grace ]; then
    check "race (grace): written once the grace (1.5 s) ran out, the input still open" \
      "[ $waited -ge 1200 ] && [ $waited -lt 4000 ]" "${waited} ms after the scan"
  else
    check "race ($mode): written at once, not after the grace" "[ $waited -lt 1200 ]" "${waited} ms after the scan"
  fi
done

# Where nothing exact can be done: a warning, no events, exit 0.
PGCONN_PROC_ROOT=$T/nothing "$P" --snapshot /dev/null >"$T/none.out" 2>"$T/none.err"
check "no /proc: one warning line" \
  "[ \$? = 0 ] && [ \"\$(cat '$T/none.err')\" = 'pgconn-parse: warning: --snapshot: cannot read the boot time in $T/nothing/stat; the counts are only what the log shows' ] && [ ! -s '$T/none.out' ]" \
  "$(cat "$T/none.err")"
printf 'LOG:  connection received: host=[local]\n' | "$P" --snapshot=100 >/dev/null 2>"$T/nopid.err"
check "a log without %p: one warning line" \
  "grep -q 'no %p in log_line_prefix' '$T/nopid.err' && [ \$(wc -l <'$T/nopid.err') = 1 ]" "$(cat "$T/nopid.err")"

# Bad values.
for bad in abc 0 -5 12x; do
  "$P" --snapshot="$bad" /dev/null >/dev/null 2>"$T/bad.err"
  rc=$?
  check "--snapshot=$bad: usage error" \
    "[ $rc = 2 ] && [ \"\$(head -n 1 '$T/bad.err')\" = 'pgconn-parse: bad --snapshot \"$bad\": expected a process id' ]" \
    "exit $rc: $(head -n 1 "$T/bad.err")"
done

lib_done
