#!/usr/bin/env bash
# peak_server_test.sh: pgconn-agg's peak, bucket peaks, --durations and
# --longest (issue 9) against a real PostgreSQL server's log.
#
# Starts a throw-away cluster (pgcluster.sh, Debian prefix `%m [%p] %q%u@%d `,
# millisecond times, UTC) and opens sessions at known moments:
#
#   long-1, long-2          opened first, still open at the end (--longest)
#   web-1, web-2            then web-1 closed: 3 open
#   web-3, web-4            5 open: the peak, at web-4's `connection authorized`
#   two rejections          db_limit and no_database, both after `connection
#                           authorized`, while 5 are open: never counted (6)
#   web-2, web-3, web-4     closed: 2 open
#   6 x short               one-shot psql runs (milliseconds)
#   mid-1, mid-2            held about 1 s and 2 s
#
# Then `pgconn-parse LOG | pgconn-agg` with --json, --durations --by=app,
# --longest=2 and --history --bucket=1s, checked against what the log itself
# says (authorized, FATAL and disconnection lines by pid, worked out with
# awk: sessions rejected after `connection authorized` left out, ends before
# starts at the same instant) and against what the test did (which session
# made the peak, which were held how long, which are open).
#
# Prints `ok - NAME` / `not ok - NAME: why`; exits 1 if any check failed.
# Needs PostgreSQL server binaries and jq. About 15 s.
#
# Environment: PGCONN_PARSE, PGCONN_AGG (default bin/pgconn-parse,
# bin/pgconn-agg); PGCONN_E2E_KEEP=DIR keeps the log and the outputs.
set -uo pipefail
exec </dev/null
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
e2e_begin parse agg jq
start=$SECONDS

e2e_pg_init 20
LOG=$PGC_LOGDIR/peak.log
e2e_pg_start log_filename=peak.log "log_line_prefix=%m [%p] %q%u@%d " log_destination=stderr \
  log_connections=on log_disconnections=on
ok "PostgreSQL $(pgc_version) on port $PGC_PORT"
err=$(pgc_setup app_user readonly shop analytics limited_db 2>&1) || fatal "create roles and databases" "$err"

hold() { e2e_hold "$@"; }
close() { e2e_close "$1"; }
# A connection refused after `connection authorized` (the socket trusts).
refuse() {
  local out
  if out=$(pgc_settle pgc_psql sock "$1" "$2" refused -c 'select 1' 2>&1); then
    fatal "refuse $1@$2" "the server accepted it"
  fi
  [[ $out == *"$3"* ]] || fatal "refuse $1@$2" "unexpected error: $out"
}

# ------------------------------------------------------------ the scenario
hold long-1 sock app_user shop worker
hold long-2 tcp4 readonly analytics report
sleep 0.3
hold web-1 sock app_user shop web
hold web-2 tcp4 app_user shop web
close web-1
hold web-3 sock app_user shop web
hold web-4 sock readonly limited_db web              # 5 open: the peak
web4=${PGC_HOLD_BACKEND[web-4]}
refuse readonly limited_db 'too many connections for database "limited_db"'
refuse app_user nosuchdb 'database "nosuchdb" does not exist'
sleep 0.2
close web-2
close web-3
close web-4
for i in 1 2 3 4 5 6; do
  err=$(pgc_settle pgc_psql sock app_user shop short -c 'select 1' 2>&1 >/dev/null) || fatal "short session $i" "$err"
done
hold mid-1 tcp4 app_user analytics mid
sleep 1
close mid-1
hold mid-2 sock readonly shop mid
sleep 2
close mid-2

# Every line is in the log once the last disconnection is.
pgc_wait_log "$LOG" 'disconnection:' 13 15 2>/dev/null ||
  fatal "log" "want 13 disconnection lines, have $(pgc_log_count "$LOG" 'disconnection:')"
sleep 0.2
cp "$LOG" "$WORK/peak.log"
"$PARSE" "$WORK/peak.log" >"$WORK/events.ndjson" 2>"$WORK/parse.err" || fatal "pgconn-parse" "$(cat "$WORK/parse.err")"

# ------------------------------------------------------------ the log's own account
# One line per change: "MS<TAB>DELTA<TAB>PID<TAB>ISO<TAB>APP<TAB>SESSION_MS"
# (MS: milliseconds since the epoch; disconnection lines carry the session
# time). Sessions refused after `connection authorized` are left out.
awk '
  function days(y, m, d,   era, yoe, doy) {
    if (m <= 2) y--
    era = int((y >= 0 ? y : y - 399) / 400); yoe = y - era * 400
    doy = int((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
    return era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468
  }
  function ms(date, time,   d) {
    d = days(substr(date, 1, 4) + 0, substr(date, 6, 2) + 0, substr(date, 9, 2) + 0)
    return ((d * 24 + substr(time, 1, 2)) * 60 + substr(time, 4, 2)) * 60000 + substr(time, 7, 2) * 1000 + substr(time, 10, 3)
  }
  {
    pid = $4; gsub(/[][]/, "", pid)  # "%m [%p] ": date, time, zone, [pid]
    t = ms($1, $2); iso = $1 "T" $2 "Z"
  }
  /connection authorized:/ {
    app = ""; if (match($0, /application_name=[^ ]*/)) app = substr($0, RSTART + 17, RLENGTH - 17)
    open_t[pid] = t; open_iso[pid] = iso; open_app[pid] = app; order[++n] = pid
  }
  /FATAL:/ && (pid in open_t) && !(pid in closed) { refused[pid] = 1 }
  /disconnection: session time:/ && (pid in open_t) {
    split($0, a, "session time: "); split(a[2], hms, /[: ]/)
    closed[pid] = t; dur[pid] = ((hms[1] * 60 + hms[2]) * 60) * 1000 + int(hms[3] * 1000 + 0.5)
  }
  END {
    for (i = 1; i <= n; i++) {
      p = order[i]
      if (p in refused) continue
      printf "%.0f\t1\t%s\t%s\t%s\t-\n", open_t[p], p, open_iso[p], open_app[p]
      if (p in closed) printf "%.0f\t-1\t%s\t-\t%s\t%d\n", closed[p], p, open_app[p], dur[p]
    }
  }' "$WORK/peak.log" | sort -t "$(printf '\t')" -k1,1n -k2,2n >"$WORK/changes.tsv"
[[ -s $WORK/changes.tsv ]] || fatal "the log's sessions" "none found in $LOG"

# The peak as the log says: the first moment the most are open.
read -r want_peak want_at < <(awk -F '\t' '{ n += $2; if ($2 > 0 && n > peak) { peak = n; at = $4 } }
  END { print peak + 0, at }' "$WORK/changes.tsv")
web4_at=$(awk -F '\t' -v p="$web4" '$3 == p && $2 == 1 { print $4 }' "$WORK/changes.tsv")
check "the log: 5 open at the peak, at web-4's connection authorized ($web4_at)" \
  "[ '$want_peak' = 5 ] && [ -n '$web4_at' ] && [ '$want_at' = '$web4_at' ]" "log says $want_peak at $want_at"
check "the log: both refused connections were authorized first" \
  "[ \$(grep -c 'connection authorized: user=readonly database=limited_db application_name=refused' '$WORK/peak.log') = 1 ] &&
   [ \$(grep -c 'connection authorized: user=app_user database=nosuchdb application_name=refused' '$WORK/peak.log') = 1 ]" \
  "$(grep -E 'refused|FATAL' "$WORK/peak.log" | cut -c1-160)"

# ------------------------------------------------------------ peak
"$AGG" --json "$WORK/events.ndjson" >"$WORK/summary.json" 2>"$WORK/agg.err"
g=$(jq -r '"\(.peak.active) \(.peak.at)"' "$WORK/summary.json")
check "peak: $want_peak at $want_at, as the log says (the refused sessions never count)" \
  "[ '$g' = '$want_peak $want_at' ]" "pgconn-agg: $g"
"$AGG" "$WORK/events.ndjson" >"$WORK/summary.txt"
check "peak text: 'Peak: 5 at ${want_at:11:8}'" "grep -qx 'Peak: 5 at ${want_at:11:8}' '$WORK/summary.txt'" "$(head -3 "$WORK/summary.txt")"
g=$("$AGG" --json --app=web "$WORK/events.ndjson" | jq -r '"\(.peak.active) \(.peak.at)"')
check "peak --app=web: 3 at web-4's connect" "[ '$g' = '3 $want_at' ]" "pgconn-agg: $g"
g=$("$AGG" --json --db=analytics "$WORK/events.ndjson" | jq -r .peak.active)
check "peak --db=analytics: 2 (long-2 and mid-1)" "[ '$g' = 2 ]" "pgconn-agg: $g"

# ------------------------------------------------------------ bucket peaks
"$AGG" --history --bucket=1s --last=120s --json "$WORK/events.ndjson" >"$WORK/history.json"
jq -r '.buckets[] | "\(.start) \(.peak)"' "$WORK/history.json" >"$WORK/bucket-peaks.txt"
bad=$(awk -v changes="$WORK/changes.tsv" '
  function days(y, m, d,   era, yoe, doy) {
    if (m <= 2) y--
    era = int((y >= 0 ? y : y - 399) / 400); yoe = y - era * 400
    doy = int((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
    return era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468
  }
  BEGIN { FS = "\t"; while ((getline l < changes) > 0) { split(l, f, "\t"); n++; t[n] = f[1]; d[n] = f[2] } FS = " " }
  {
    day = days(substr($1, 1, 4) + 0, substr($1, 6, 2) + 0, substr($1, 9, 2) + 0)
    s = ((day * 24 + substr($1, 12, 2)) * 60 + substr($1, 15, 2)) * 60000 + substr($1, 18, 2) * 1000
    open = 0; for (i = 1; i <= n && t[i] < s; i++) open += d[i]
    peak = open
    for (; i <= n && t[i] < s + 1000; i++) { open += d[i]; if (open > peak) peak = open }
    if (peak != $2) printf "%s: pgconn-agg %s, the log %s; ", $1, $2, peak
    seen += peak > 0
  }
  END { if (!seen) printf "no bucket with an open session" }' "$WORK/bucket-peaks.txt" 2>&1) ||
  bad="awk failed: $bad"
check "--history --bucket=1s: every bucket's peak as the log says ($(awk '$2 > 0' "$WORK/bucket-peaks.txt" | wc -l) busy buckets)" \
  "[ -z '$bad' ]" "$bad"
check "--history: the highest bucket peak is the peak" \
  "[ \"\$(jq '[.buckets[].peak] | max' '$WORK/history.json')\" = 5 ]" "$(jq -c '[.buckets[].peak]' "$WORK/history.json")"

# ------------------------------------------------------------ durations
"$AGG" --json --durations --by=app "$WORK/events.ndjson" >"$WORK/durations.json"
want=$(awk -F '\t' '$2 == -1 { print $5 "\t" $6 }' "$WORK/changes.tsv" | jq -cRs '
  split("\n") | map(select(. != "") | split("\t") | {app: (if .[0] == "" then "unknown" else .[0] end), ms: (.[1] | tonumber)})
  | group_by(.app) | map((map(.ms) | sort) as $v | ($v | length) as $n | {key: .[0].app, value:
      {n: $n, mean_ms: (($v | add) / $n), p50_ms: $v[((0.5 * $n) | ceil) - 1], p95_ms: $v[((0.95 * $n) | ceil) - 1], max_ms: $v[-1]}})
  | from_entries')
d=$(jq -rn --argjson got "$(jq -c .durations.app "$WORK/durations.json")" --argjson want "$want" '
  [$want | to_entries[] | .key as $a | .value as $w | $got[$a] as $g
   | if $g == null then "\($a) missing"
     elif $g.n != $w.n or $g.max_ms != $w.max_ms then "\($a): n/max \($g.n)/\($g.max_ms), the log \($w.n)/\($w.max_ms)"
     else (["mean_ms", "p50_ms", "p95_ms"][] as $k
       | if (($g[$k] - $w[$k]) | fabs) > 0.01 * $w[$k] + 0.05 then "\($a) \($k): \($g[$k]), the log \($w[$k])" else empty end)
     end] | join("; ")')
check "--durations --by=app: n, mean, median, p95, max as the log's session times say" "[ -z '$d' ]" "$d"
g=$(jq -c '.durations.app | {web: .web.n, short: .short.n, mid: .mid.n, setup: .setup.n}' "$WORK/durations.json")
check "--durations: the sessions that ended, per app" "[ '$g' = '{\"web\":4,\"short\":6,\"mid\":2,\"setup\":1}' ]" "$g"
g=$(jq -c '.durations.app.mid | [.p50_ms, .max_ms]' "$WORK/durations.json")
check "--durations: the sessions held 1 s and 2 s last that long ($g ms)" \
  "jq -e '.durations.app.mid | .p50_ms >= 1000 and .p50_ms < 2000 and .max_ms >= 2000 and .max_ms < 4000' '$WORK/durations.json' >/dev/null" "$g"
check "--durations: the refused connections are no sessions" "jq -e '.durations.app.refused == null' '$WORK/durations.json' >/dev/null" \
  "$(jq -c .durations.app "$WORK/durations.json")"

# ------------------------------------------------------------ longest
"$AGG" --json --longest=2 "$WORK/events.ndjson" >"$WORK/longest.json"
want=$(awk -F '\t' -v a="${PGC_HOLD_BACKEND[long-1]}" -v b="${PGC_HOLD_BACKEND[long-2]}" \
  '$2 == 1 && ($3 == a || $3 == b) { printf "%s{\"pid\":%s,\"since\":\"%s\"}", sep, $3, $4; sep = "," }' "$WORK/changes.tsv")
g=$(jq -c '[.longest[] | {pid, since}]' "$WORK/longest.json")
check "--longest=2: long-1 then long-2, since their connection authorized" "[ '$g' = '[$want]' ]" "pgconn-agg $g, want [$want]"
g=$(jq -c '[.longest[] | [.user, .db, .app, .host]]' "$WORK/longest.json")
check "--longest=2: their user, db, app and host" \
  "[ '$g' = '[[\"app_user\",\"shop\",\"worker\",\"[local]\"],[\"readonly\",\"analytics\",\"report\",\"127.0.0.1\"]]' ]" "$g"
"$AGG" --longest=5 "$WORK/events.ndjson" >"$WORK/longest.txt"
check "--longest=5 text: the two open sessions" \
  "[ \$(sed -n '/^Longest open sessions:/,\$p' '$WORK/longest.txt' | grep -c ' ${PGC_HOLD_BACKEND[long-1]} \| ${PGC_HOLD_BACKEND[long-2]} ') = 2 ] &&
   [ \$(sed -n '/^Longest open sessions:/,\$p' '$WORK/longest.txt' | wc -l) = 4 ]" "$(cat "$WORK/longest.txt")"

check "nothing on stderr" "[ ! -s '$WORK/parse.err' ] && [ ! -s '$WORK/agg.err' ]" "$(cat "$WORK/parse.err" "$WORK/agg.err")"
ok "done in $((SECONDS - start)) s"
lib_done
