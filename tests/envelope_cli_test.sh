#!/usr/bin/env bash
# envelope_cli_test.sh: pgconn-parse on platform envelopes from the command
# line: --input values, the README's recipes on the golden envelopes, and a
# live stream whose out-of-order line is released by the wall clock.
# Prints "ok - NAME" / "not ok - NAME: why"; exits 1 when a check failed.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
P=$PARSE
G=tests/golden
T=$LIB_TMP

for t in pgconn-parse pgconn-watch pgconn-agg; do
  [ -x "$LIB_BIN/$t" ] || fatal "$t built" "no $LIB_BIN/$t (run make)"
done

# --input: each envelope by name reads what auto-detection reads.
for pair in cnpg:cnpg gcp:gcp journald:journald_json journald:journald_syslog journald:journald_short_iso; do
  input=${pair%%:*} name=${pair#*:}
  "$P" --input="$input" "$G/$name.log" >"$T/out" 2>"$T/err"; rc=$?
  check "--input=$input reads $name.log as auto does" \
    "[ $rc = 0 ] && [ ! -s '$T/err' ] && cmp -s '$T/out' '$G/$name.ndjson'" "exit $rc, $(head -c 200 "$T/err")"
done
"$P" --input=cnpg "$G/debian.log" >"$T/out" 2>"$T/err"; rc=$?
check "--input=cnpg on a stderr log: no events, exit 0" "[ $rc = 0 ] && [ ! -s '$T/out' ]"
"$P" --input=k8s "$G/cnpg.log" >/dev/null 2>"$T/err"; rc=$?
check "bad --input names the envelopes" \
  "[ $rc = 2 ] && grep -q 'bad --input \"k8s\": expected auto, stderr, csv, json, syslog, rfc5424, cnpg, gcp, journald, azure, cloudwatch, heroku or pgbouncer' '$T/err'" "$(cat "$T/err")"

# Damaged envelopes: binary garbage, cut and nested JSON, wrong types, a
# long line. Exit 0, every output line valid JSON.
{
  head -c 20000 /dev/urandom
  printf '\n{"logger":"postgres","msg":"record","record":{"log_time":"2022-11-27 18:58:02.093 UTC","process_id":[1],"error_severity":"LOG","message":"connection received: host=[local]"'
  printf '\n{"logger":"postgres","record":{"record":{"record":{}}}}\n{"textPayload":"[1]: [1-1] db=,user= LOG:  connection received: host=[local]","timestamp":7,"resource":"x"}\n'
  printf '{"MESSAGE":[1,2,3,999],"__REALTIME_TIMESTAMP":"-5"}\n{"MESSAGE":{"a":1},"_PID":"x"}\n{"MESSAGE":"\\u0000\\ud800 LOG:  x","_PID":"1"}\n'
  printf '{"textPayload":"[1]: [1-1] db=,user= LOG:  %s"}\n' "$(head -c 300000 /dev/zero | tr '\0' x)"
  cat "$G/cnpg.log" "$G/gcp.log" "$G/journald_json.log"
} >"$T/garbage"
for input in cnpg gcp journald auto; do
  "$P" --input=$input "$T/garbage" >"$T/out" 2>"$T/err"; rc=$?
  bad=$(jq -R 'fromjson? // "BAD" | select(type != "object")' "$T/out" | wc -l)
  check "damaged envelopes, --input=$input: exit 0, valid JSON" "[ $rc = 0 ] && [ $bad = 0 ]" "exit $rc, $bad bad lines, $(head -c 200 "$T/err")"
done

# The README's recipes, fed from the golden envelopes.
out=$(cat "$G/cnpg.log" | "$P" | "$WATCH" --color=never 2>&1)
check "kubectl logs -f POD | pgconn-parse | pgconn-watch" \
  "grep -q '^\[+\] 18:58:02 pg_isready connected from \[local\]' <<<\"\$out\" && grep -q 'database does not exist' <<<\"\$out\"" "$out"
out=$(jq -c '.' "$G/gcp.log" | jq -s '.' | jq -c '.[]' | "$P" | "$AGG" --json 2>&1)
check "gcloud logging read --format=json | jq -c '.[]' | pgconn-parse | pgconn-agg" \
  "[ \"\$(jq -c '[.connects, .disconnects, .rejects.auth_failed]' <<<\"\$out\")\" = '[2,2,1]' ]" "$out"
out=$(cat "$G/journald_json.log" | "$P" | "$AGG" --json --by=server 2>&1)
check "journalctl -o json | pgconn-parse | pgconn-agg --by=server" \
  "[ \"\$(jq -c '.by.server' <<<\"\$out\")\" = '{\"db1\":1}' ]" "$out"

# Live: a line that waits for a missing earlier one leaves within the
# settle window of wall-clock time while the input stays open, on a quiet
# stream and on a busy one (other backends' lines every 5 ms). SIGKILL: only
# what was written before counts. The kill stays before the input ends
# (3 s), also on a sanitized build (PGCONN_TIME_FACTOR > 1): 2 s there.
kill_after=1
[ "${PGCONN_TIME_FACTOR:-1}" -gt 1 ] && kill_after=2
held='2024-12-09 10:00:01.000 UTC [700-1] LOG:  connection received: host=10.0.0.5 port=50000
2024-12-09 10:00:01.500 UTC [700-3] LOG:  disconnection: session time: 0:00:00.500 user=app database=shop host=10.0.0.5 port=50000'
( { printf '%s\n' "$held"; sleep 3; } | timeout -s KILL $kill_after "$P" >"$T/live" 2>"$T/live.err" ) 2>/dev/null
check "live, quiet: a held line leaves by wall-clock time, input still open" \
  "grep -q '\"type\":\"disconnect\".*\"pid\":700' '$T/live'" "output: $(cat "$T/live" "$T/live.err")"
( {
  printf '%s\n' "$held"
  for i in $(seq 1 300); do
    printf '2024-12-09 10:00:01.%03d UTC [800-%d] LOG:  statement: select 1\n' $((500 + i % 400)) "$i"
    sleep 0.005
  done
} | timeout -s KILL $kill_after "$P" >"$T/busy" 2>"$T/busy.err" ) 2>/dev/null
check "live, busy: a held line leaves by wall-clock time, input still coming" \
  "grep -q '\"type\":\"disconnect\".*\"pid\":700' '$T/busy'" "output: $(cat "$T/busy" "$T/busy.err")"

lib_done
