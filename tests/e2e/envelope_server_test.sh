#!/usr/bin/env bash
# envelope_server_test.sh: pgconn-parse reads a real server's log wrapped in
# each platform envelope (pg-log-formats.md §11) exactly as it reads the
# plain log.
#
# Captures the logs of a real PostgreSQL server with capture_logs.sh (the
# configurations default, debian and line_numbers: csvlog, and stderr with
# the prefixes `%m [%p] `, `%m [%p] %q%u@%d ` and `%t [%p-%l] `), wraps them
# with wrap_envelope.py, and checks for every pair that pgconn-parse on the
# envelope exits 0, says nothing on stderr, and writes the very events it
# writes for the plain log, in the same order, once `server` is deleted;
# and that `server` is the envelope's instance name on every event (or the
# --label given):
#
#   csvlog                 -> CloudNativePG (and the same with adjacent
#                             records of a session swapped: out of order)
#   stderr, Debian prefix  -> Cloud SQL's Cloud Logging entries
#   stderr, every prefix   -> journalctl -o json (stdout and syslog
#                             transports) and -o short-iso; Azure records
#                             (storage blob, Event Hub batches); CloudWatch
#                             (aws logs tail, subscription payloads,
#                             filter-log-events); Heroku (heroku logs, HTTPS
#                             drain frames); RFC 5424 (rsyslog over TCP,
#                             octet-counted; Neon's frames)
#
# With a %t prefix (seconds) the envelopes' milliseconds are finer than the
# plain log's time: `ts` is then compared to the second.
#
# Prints `ok - NAME` / `not ok - NAME: why`; exits 1 if any check failed.
#
# Environment:
#   PGCONN_PARSE     the program (default bin/pgconn-parse)
#   PGCONN_E2E_LOGS  use logs already captured in this directory (every
#                    configuration found there is used)
#   PGCONN_E2E_KEEP  keep the capture, the envelopes and the events in DIR
set -uo pipefail
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
e2e_begin parse jq python3
wrap=$here/wrap_envelope.py
work=$WORK
e2e_captured_logs default debian line_numbers

config() { jq -r --arg k "$2" 'select(.kind == "config") | .[$k]' "$logs/$1.expect"; }

# same NAME PLAIN ENVELOPE SERVER [ARGS...]: the envelope's events are the
# plain log's, and every `server` is SERVER. ARGS go to both runs, the
# array envelope_args to the envelope's only.
envelope_args=()
ts_seconds=0
same() {
  local name=$1 plain=$2 envelope=$3 server=$4
  shift 4
  local base want got err
  base=$work/$(basename "$envelope")
  want=$base.plain.ndjson got=$base.ndjson err=$base.stderr
  "$PARSE" "$@" "$plain" >"$want" 2>/dev/null
  "$PARSE" "$@" "${envelope_args[@]}" "$envelope" >"$got" 2>"$err"
  local rc=$?
  if ((rc != 0)); then
    not_ok "$name" "exit status $rc: $(head -c 300 "$err" | tr '\n' ' ')"
    return
  fi
  # Azure's PgBouncer records between the PostgreSQL ones: one counted note.
  sed -i '/note: [0-9]* PgBouncer records\? (Azure category PostgreSQLFlexPGBouncer) skipped/d' "$err"
  if [[ -s $err ]]; then
    not_ok "$name" "stderr: $(head -n 3 "$err" | cut -c1-200 | tr '\n' ' ')"
    return
  fi
  if [[ ! -s $want ]]; then
    not_ok "$name" "no events from the plain log $plain"
    return
  fi
  local diff
  local norm='del(.server)'
  [[ $ts_seconds != 1 ]] || norm='del(.server) | if .ts then .ts |= .[0:19] else . end'
  diff=$(diff <(jq -c "$norm" "$want") <(jq -c "$norm" "$got") | head -n 6)
  if [[ -n $diff ]]; then
    not_ok "$name" "events differ from the plain log's: $(tr '\n' ' ' <<<"$diff" | cut -c1-600)"
    return
  fi
  local servers
  servers=$(jq -r '.server // "(none)"' "$got" | sort -u | tr '\n' ' ')
  if [[ $servers != "$server " ]]; then
    not_ok "$name" "server: want \"$server\" on every event, got: $servers"
    return
  fi
  ok "$name ($(wc -l <"$got") events)"
}

shopt -s nullglob
found=0
for csv in "$logs"/*.csv; do
  c=$(basename "$csv" .csv)
  found=1
  "$wrap" cnpg myapp-pg-cluster-1 <"$csv" >"$work/$c.cnpg.log"
  same "$c.csv as CloudNativePG JSON" "$csv" "$work/$c.cnpg.log" myapp-pg-cluster-1
  same "$c.csv as CloudNativePG JSON, --label" "$csv" "$work/$c.cnpg.log" prod --label=prod
  "$wrap" cnpg-swapped myapp-pg-cluster-1 <"$csv" >"$work/$c.cnpg-swapped.log"
  swapped=$(jq -r 'select(.logger == "postgres") | .record | "\(.session_id) \(.session_line_num)"' "$work/$c.cnpg-swapped.log" |
    awk '{ if (($1 in last) && $2 + 0 < last[$1]) n++; else last[$1] = $2 + 0 } END { print n + 0 }')
  same "$c.csv as CloudNativePG JSON, $swapped records out of order" "$csv" "$work/$c.cnpg-swapped.log" myapp-pg-cluster-1
done
((found)) || not_ok "csvlog captured" "no .csv in $logs"

found=0
for expect in "$logs"/*.expect; do
  c=$(basename "$expect" .expect)
  log=$logs/$c.log
  [[ -f $log ]] || continue
  # The wrapper needs the time and the pid of every line.
  [[ $(config "$c" has_pid) == true && $(config "$c" has_time) == true ]] || continue
  found=1
  args=()
  [[ $(config "$c" needs_prefix) != true ]] || args+=("--prefix=$(config "$c" prefix)")
  if [[ $(config "$c" prefix) == '%m [%p] %q%u@%d ' ]]; then
    "$wrap" gcp my-project:my-instance <"$log" >"$work/$c.gcp.log"
    same "$c.log as Cloud SQL entries" "$log" "$work/$c.gcp.log" my-project:my-instance
  fi
  for kind in journald-json journald-syslog short-iso; do
    "$wrap" "$kind" db1 <"$log" >"$work/$c.$kind.log"
    same "$c.log as $kind" "$log" "$work/$c.$kind.log" db1 "${args[@]}"
  done
  envelope_args=(--input=journald)
  same "$c.log as journald-json, --input=journald" "$log" "$work/$c.journald-json.log" db1 "${args[@]}"
  same "$c.log as short-iso, --input=journald" "$log" "$work/$c.short-iso.log" db1 "${args[@]}"
  envelope_args=()
  ts_seconds=0
  [[ $(config "$c" ts_ms) == true ]] || ts_seconds=1
  # kind:server pairs (server: the name the envelope gives the events).
  for pair in azure:pg-flex-1 azure-eventhub:pg-flex-2 cloudwatch-tail:mydb.0 cloudwatch-subscription:mydb.0 \
    cloudwatch-filter:mydb.0 heroku-logs:GREEN heroku-drain:YELLOW rfc5424:db1 neon:ep-cool-1; do
    kind=${pair%%:*} server=${pair#*:}
    "$wrap" "$kind" "$server" <"$log" >"$work/$c.$kind.log"
    same "$c.log as $kind" "$log" "$work/$c.$kind.log" "$server" "${args[@]}"
  done
  envelope_args=(--input=heroku)
  same "$c.log as heroku-drain, --input=heroku" "$log" "$work/$c.heroku-drain.log" YELLOW "${args[@]}"
  envelope_args=(--input=azure)
  same "$c.log as azure-eventhub, --input=azure, --label" "$log" "$work/$c.azure-eventhub.log" prod --label=prod "${args[@]}"
  envelope_args=()
  ts_seconds=0
done
((found)) || not_ok "stderr logs captured" "no stderr log with %p and a time in $logs"

lib_done
