#!/usr/bin/env bash
# real_server_test.sh: pgconn-parse against the logs of a real PostgreSQL
# server.
#
# Runs capture_logs.sh (one scripted scenario per log configuration, see
# there) into a temporary directory, runs bin/pgconn-parse on every log it
# wrote (stderr logs with no options, relying on auto-detection, except the
# configuration whose prefix is not auto-detectable, which gets --prefix;
# csvlog and jsonlog with no options), and checks the events against the
# scenario's .expect file with jq.
#
# Prints one line per check, `ok - NAME` or `not ok - NAME: what differed`;
# exits 1 if any check failed, 0 otherwise.
#
# Environment:
#   PGCONN_PARSE        the program to test (default: bin/pgconn-parse)
#   PGCONN_E2E_LOGS     use the logs already captured in this directory
#                       instead of running capture_logs.sh (faster, e.g.
#                       /tmp/pgconn-real); PGCONN_E2E_KEEP=DIR keeps the
#                       capture and the parser's output in DIR
#
# shellcheck disable=SC2016  # the single-quoted $names are jq variables
set -uo pipefail
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
e2e_begin parse jq
work=$WORK
e2e_captured_logs

shopt -s nullglob
expects=("$logs"/*.expect)
((${#expects[@]} > 0)) || { not_ok "captured logs" "no .expect files in $logs"; exit 1; }

# jq helpers shared by the checks. $ex: the expect lines, $ev: the events.
JQ_LIB='
def cfg: $ex | map(select(.kind == "config"))[0];
def counts: $ex | map(select(.kind == "counts"))[0];
def sessions: $ex | map(select(.kind == "session"));
def rejects_expected: $ex | map(select(.kind == "reject"));
def of_type($t): $ev | map(select(.type == $t));
def show: if . == null then "(none)" else tojson end;
# the connect event of an expected session: by app, or by having no app
def connects_of($s):
  of_type("connect") | map(select(
    if $s.app then .app == $s.app else (has("app") | not) and .user == $s.user and .db == $s.db end));
# "key: want W, got G" when they differ
def diff($name; $want; $got): if $want == $got then empty else "\($name): want \($want | show), got \($got | show)" end;
def hist(f): map(f) | group_by(.) | map({key: (.[0] | tostring), value: length}) | from_entries;
'

# check_jq NAME EVENTS EXPECT [JQ_ARGS...] JQ_PROGRAM: the program prints
# one line per difference; none means ok.
check_jq() {
  local name=$1 events=$2 expect=$3 prog=${*: -1} out
  shift 3
  set -- "${@:1:$#-1}"
  if ! out=$(jq -rn --slurpfile ev "$events" --slurpfile ex "$expect" "$@" "$JQ_LIB $prog" 2>&1); then
    not_ok "$name" "jq failed: $(head -n 3 <<<"$out" | tr '\n' ' ')"
    return
  fi
  if [[ -z $out ]]; then
    ok "$name"
  else
    local n
    n=$(wc -l <<<"$out")
    if ((n > 6)); then out="$(head -n 6 <<<"$out")"$'\n'"... and $((n - 6)) more"; fi
    not_ok "$name" "$(sed ':a;N;$!ba;s/\n/; /g' <<<"$out")"
  fi
}

# Session times the log itself has, in ms, sorted: H:MM:SS.mmm.
logged_durations() {
  grep -o 'disconnection: session time: [0-9]*:[0-9]*:[0-9]*\.[0-9]*' "$1" |
    awk -F'[ :.]+' '{ printf "%d\n", (($4 * 60 + $5) * 60 + $6) * 1000 + $7 }' | sort -n
}

# Checks the events of one input file against its scenario.
check_events() {
  local input=$1 expect=$2 format=$3 label events err rc
  label=$(basename "$input")
  events=$work/$label.ndjson
  err=$work/$label.stderr
  local args=()
  if [[ $format == log ]] && [[ $(jq -r 'select(.kind == "config") | .needs_prefix' "$expect") == true ]]; then
    args+=("--prefix=$(jq -r 'select(.kind == "config") | .prefix' "$expect")")
  fi
  "$PARSE" "${args[@]}" "$input" >"$events" 2>"$err"
  rc=$?
  local cmd="pgconn-parse${args[*]:+ ${args[*]}}"
  if ((rc == 0)); then ok "$label: $cmd exits 0"; else
    not_ok "$label: $cmd exits 0" "exit status $rc; stderr: $(head -c 300 "$err" | tr '\n' ' ')"
  fi
  if [[ ! -s $err ]]; then ok "$label: nothing on stderr"; else
    not_ok "$label: nothing on stderr" "$(head -n 3 "$err" | cut -c1-200 | tr '\n' ' ')"
  fi

  # Every line one JSON object; keep only those for the rest.
  local bad
  bad=$(jq -R 'fromjson? // "BAD" | if type == "object" and (.type | IN("connect", "disconnect", "reject", "server", "update")) then empty else 1 end' "$events" 2>&1 | wc -l)
  if ((bad == 0)) && [[ -s $events ]]; then ok "$label: every line is a JSON event"; else
    not_ok "$label: every line is a JSON event" "$bad bad lines of $(wc -l <"$events"); first: $(jq -R 'fromjson? // . | select(type != "object" or (.type | IN("connect", "disconnect", "reject", "server", "update") | not))' "$events" 2>/dev/null | head -n 1 | cut -c1-200)"
  fi
  jq -cR 'fromjson? | select(type == "object")' "$events" >"$events.ok" 2>/dev/null
  events=$events.ok

  # The file format changes what the events can know.
  local fmt_over='{}'
  [[ $format == log ]] || fmt_over='{"has_pid":true,"has_time":true,"ts_ms":true,"session_ids":true}'

  check_jq "$label: keys in contract order, none unknown" "$events" "$expect" '
    ["type","ts","tz","pid","session","user","db","app","host","port","replication","duration_ms",
     "reason","message","matched","state","server"] as $order |
    $ev[] | . as $e | [keys_unsorted[] | . as $k | ($order | index($k)) // -1] as $idx |
    if ($idx | any(. < 0)) then "unknown key in \($e | tojson)"
    elif $idx != ($idx | sort) then "order \($e | keys_unsorted | join(",")) in \($e | tojson)"
    else empty end'

  check_jq "$label: event counts" "$events" "$expect" '
    counts as $c |
    diff("connect"; $c.connect; of_type("connect") | length),
    diff("reject"; $c.reject; of_type("reject") | length),
    diff("disconnect with duration_ms"; $c.disconnect_logged; of_type("disconnect") | map(select(has("duration_ms"))) | length),
    (of_type("disconnect") | map(select(has("duration_ms") | not)) | length) as $synth |
      (sessions | map(select(.end == "crash")) | length) as $crashed |
      if $synth > $crashed then "\($synth) disconnects without duration_ms (at most \($crashed), the sessions killed by the crash)" else empty end'

  check_jq "$label: server events" "$events" "$expect" '
    counts.server as $s | of_type("server") | hist(.state) as $got |
    diff("ready"; $s.ready // 0; $got.ready // 0),
    diff("shutdown"; $s.shutdown // 0; $got.shutdown // 0),
    (if ($s.crash // 0) == 0 then diff("crash"; 0; $got.crash // 0)
     elif ($got.crash // 0) < 1 or ($got.crash // 0) > 2 then "crash: want 1 (or 2), got \($got.crash // 0)"
     else empty end),
    (($got | keys) - ["ready", "shutdown", "crash"] | map("unexpected state \(.)") | .[])'

  check_jq "$label: reject reasons" "$events" "$expect" '
    counts.reject_reasons as $want | (of_type("reject") | hist(.reason)) as $got |
    ($want + $got | keys[]) as $r | diff($r; $want[$r] // 0; $got[$r] // 0)'

  check_jq "$label: disconnect reasons" "$events" "$expect" '
    (counts.disconnect_reasons | del(.crash) | with_entries(if .key == "normal" then .key = "(no reason)" else . end)) as $want |
    (of_type("disconnect") | map(select(has("duration_ms"))) | hist(.reason // "(no reason)")) as $got |
    ($want + $got | keys[]) as $r | diff($r; $want[$r] // 0; $got[$r] // 0)'

  check_jq "$label: connect of every session (user, db, app, host, port, pid, session)" "$events" "$expect" --argjson over "$fmt_over" '
    (cfg + $over) as $cfg |
    sessions[] as $s | connects_of($s) as $c |
    if ($c | length) != 1 then "\($s.tag): \($c | length) connect events"
    else $c[0] as $e |
      (diff("\($s.tag) user"; $s.user; $e.user), diff("\($s.tag) db"; $s.db; $e.db),
       diff("\($s.tag) app"; $s.app; $e.app), diff("\($s.tag) host"; $s.host; $e.host),
       (if $s.tcp then (if ($e.port | type) == "number" then empty else "\($s.tag) port: want a number, got \($e.port | show)" end)
        else diff("\($s.tag) port"; null; $e.port) end),
       (if $cfg.has_pid and ($e.pid | type) != "number" then "\($s.tag) pid: want a number, got \($e.pid | show)" else empty end),
       (if ($e.session | type) != "string" or $e.session == "" then "\($s.tag): no session key" else empty end),
       diff("\($s.tag) replication"; null; $e.replication))
    end'

  check_jq "$label: disconnect of every session (same session key, duration_ms, reason, names)" "$events" "$expect" '
    sessions[] | select(.end != "crash") as $s | connects_of($s) as $c | select(($c | length) == 1) |
    $c[0] as $e | (of_type("disconnect") | map(select(.session == $e.session))) as $d |
    if ($d | length) != 1 then "\($s.tag) (session \($e.session)): \($d | length) disconnect events"
    else $d[0] as $x |
      ((if ($x.duration_ms | type) == "number" and $x.duration_ms >= 0 then empty
        else "\($s.tag) duration_ms: want a number, got \($x.duration_ms | show)" end),
       diff("\($s.tag) reason"; (if $s.end == "normal" then null else $s.end end); $x.reason),
       diff("\($s.tag) user"; $s.user; $x.user), diff("\($s.tag) db"; $s.db; $x.db),
       diff("\($s.tag) app"; $s.app; $x.app), diff("\($s.tag) host"; $s.host; $x.host),
       diff("\($s.tag) port"; $e.port; $x.port), diff("\($s.tag) pid"; $e.pid; $x.pid),
       diff("\($s.tag) replication"; null; $x.replication),
       (if $e.ts and $x.ts and $x.ts < $e.ts then "\($s.tag): disconnect at \($x.ts) before its connect at \($e.ts)" else empty end))
    end'

  if [[ $(jq -r 'select(.kind == "counts") | .disconnect_reasons.crash // 0' "$expect") != 0 ]]; then
    check_jq "$label: sessions killed by the crash" "$events" "$expect" '
      sessions[] | select(.end == "crash") as $s | connects_of($s) as $c | select(($c | length) == 1) |
      (of_type("disconnect") | map(select(.session == $c[0].session))) as $d |
      if ($d | length) > 1 then "\($s.tag): \($d | length) disconnect events"
      elif ($d | length) == 1 and (($d[0].reason | IN("crash", "lost")) | not) then "\($s.tag): disconnect reason \($d[0].reason | show)"
      elif ($d | length) == 1 and ($d[0] | has("duration_ms")) then "\($s.tag): disconnect has a duration_ms that no log line gave"
      else empty end'
  fi

  check_jq "$label: every reject (in order: reason, message, user, db, host, port, replication)" "$events" "$expect" '
    rejects_expected as $want | of_type("reject") as $got |
    if ($want | length) != ($got | length) then "\($want | length) rejects expected, \($got | length) seen; not compared"
    else range(0; $want | length) as $i | $want[$i] as $w | $got[$i] as $g | "reject \($i + 1) (\($w.reason))" as $n |
      diff("\($n) reason"; $w.reason; $g.reason),
      diff("\($n) message"; $w.message; $g.message),
      # The names are known from the message or from `connection authorized`.
      (if $w.after_auth or ($w.reason | IN("auth_failed", "hba_reject", "no_hba_entry")) or $g.user then diff("\($n) user"; $w.user; $g.user) else empty end),
      (if ($w.after_auth or ($w.message | test("database \""))) or ($g.db and ($w.message | test("replication") | not)) then diff("\($n) db"; $w.db; $g.db) else empty end),
      diff("\($n) host"; $w.host; $g.host),
      (if $w.host == "[local]" then diff("\($n) port"; null; $g.port)
       elif ($g.port | type) != "number" then "\($n) port: want a number, got \($g.port | show)" else empty end),
      diff("\($n) replication"; $w.replication; $g.replication),
      (if $g.matched == false then "\($n): matched false" else empty end)
    end'

  check_jq "$label: timestamps" "$events" "$expect" --argjson over "$fmt_over" '
    (cfg + $over) as $cfg | $ev[] |
    if $cfg.has_time then
      if (.ts | type) != "string" then "no ts: \(tojson)"
      elif (.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{3})?(Z|[+-]00:00)$") | not) then "ts \(.ts) is not RFC 3339 in UTC"
      elif $cfg.ts_ms and (.ts | test("\\.[0-9]{3}") | not) then "ts \(.ts) lost the milliseconds"
      elif ($cfg.ts_ms | not) and (.ts | test("\\.[0-9]")) then "ts \(.ts) has milliseconds the log does not have"
      elif has("tz") then "tz \(.tz) for a UTC log"
      else empty end
    elif has("ts") then "ts \(.ts) from a log without times"
    else empty end'

  if [[ $(jq -n --slurpfile ex "$expect" --argjson over "$fmt_over" '($ex | map(select(.kind == "config"))[0] + $over).session_ids') == true ]]; then
    check_jq "$label: session keys are PostgreSQL session ids" "$events" "$expect" '
      $ev[] | select(.type != "server") |
      if (.session | type) != "string" then "no session: \(tojson)"
      elif (.session | test("^[0-9a-f]+\\.[0-9a-f]+$") | not) then "session \(.session) is not a %c id"
      elif has("pid") and ((.session | split(".")[1] | ascii_downcase | explode |
            reduce .[] as $d (0; . * 16 + (if $d >= 97 then $d - 87 else $d - 48 end))) != .pid)
        then "session \(.session) does not end in the hex of pid \(.pid)"
      else empty end'
  fi

  local want got
  want=$(logged_durations "$input" | tr '\n' ' ')
  got=$(jq -r 'select(.type == "disconnect" and has("duration_ms")) | .duration_ms | floor' "$events" | sort -n | tr '\n' ' ')
  if [[ $want == "$got" ]]; then ok "$label: duration_ms are the logged session times"; else
    not_ok "$label: duration_ms are the logged session times" "log: ${want:-none}; events: ${got:-none}"
  fi

  check_jq "$label: no unmatched events" "$events" "$expect" '
    $ev[] | select(.matched == false) | "matched false: \(tojson)"'
}

for expect in "${expects[@]}"; do
  name=$(basename "$expect" .expect)
  for format in $(jq -r 'select(.kind == "config") | .files[]' "$expect"); do
    input=$logs/$name.$format
    if [[ -f $input ]]; then
      check_events "$input" "$expect" "$format"
    else
      not_ok "$name.$format" "missing from $logs"
    fi
  done
done

lib_done
