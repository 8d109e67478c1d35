#!/usr/bin/env bash
# Command-line behaviour of pgconn-agg (SPEC.md §4, §6): the summary and
# history of the sample log, filters, bad options, damaged input, I/O
# faults, live printing and signals. Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
A=$AGG P=$PARSE
SAMPLE=tests/sample/sample.log
T=$LIB_TMP
USAGE_RE='^usage: pgconn-agg '

EV=$T/sample.ndjson
$P "$SAMPLE" >"$EV" 2>/dev/null
$P --format=tsv "$SAMPLE" >"$T/sample.tsv" 2>/dev/null
$P --format=tsv --header "$SAMPLE" >"$T/sample-h.tsv" 2>/dev/null
check "the sample parses into events" "[ \$(wc -l <'$EV') -gt 100 ]"

# --- options and usage
$A --help >"$T/out" 2>"$T/err"; rc=$?
check "--help exits 0" "[ $rc = 0 ]"
check "--help starts with the usage line" "head -1 '$T/out' | grep -q '$USAGE_RE'"
$A --version >"$T/out" 2>&1; rc=$?
check "--version prints the version" "[ $rc = 0 ] && grep -Eq '^pgconn-agg [0-9]+\.[0-9]+' '$T/out'"

# Each bad value: exit 2, nothing on stdout, one "pgconn-agg: ..." line and
# the usage on stderr.
bad_usage() {  # NAME EXPECTED_TEXT ARGS...
  local name=$1 want=$2
  shift 2
  "$A" "$@" "$EV" >"$T/out" 2>"$T/err"
  local rc=$?
  local lines
  lines=$(grep -c '^pgconn-agg: ' "$T/err")
  if [ $rc = 2 ] && [ "$lines" = 1 ] && grep -q "$USAGE_RE" "$T/err" && [ ! -s "$T/out" ] &&
     grep -qF -- "$want" "$T/err"; then
    ok "$name"
  else
    not_ok "$name" "rc=$rc stdout=$(wc -c <"$T/out")B stderr: $(cat "$T/err")"
  fi
}
bad_usage "--bucket=abc: usage error" '"abc"' --history --bucket=abc
bad_usage "--bucket=abc without --history: usage error" '--bucket' --bucket=abc
bad_usage "--bucket without --history: usage error" '--bucket needs --history' --bucket=5m
bad_usage "--max-events=0: usage error" 'bad --max-events "0"' --max-events=0
bad_usage "--max-events=abc: usage error" 'bad --max-events "abc"' --max-events=abc
bad_usage "--last=-5m: usage error" 'bad --last "-5m": must be positive' --history --last=-5m
bad_usage "--last shorter than --bucket: usage error" 'shorter than --bucket' --history --bucket=30m --last=15m
# issue_6 (found by fuzz/duration_fuzz.cpp): a --last of millions of buckets ran out of memory.
bad_usage "issue_6 --last of too many buckets: usage error" \
  '--last (1000d00h) is more than 100000 buckets of --bucket (1ms)' --history --bucket=1ms --last=1000d
bad_usage "--by=bogus: usage error" 'bad --by "bogus"' --by=bogus
bad_usage "--by=db,db: usage error" '"db" twice' --by=db,db
bad_usage "--interval=5x: usage error" 'bad --interval "5x": unknown unit "x"' --interval=5x
bad_usage "unknown option: usage error" 'bogus' --bogus
bad_usage "--longest=0: usage error" 'bad --longest "0": expected a number from 1 to 100000' --longest=0
bad_usage "--longest=x: usage error" 'bad --longest "x"' --longest=x
bad_usage "--longest=5x: usage error" 'bad --longest "5x"' --longest=5x
bad_usage "--durations with --history: usage error" '--durations is part of the summary' --history --durations
bad_usage "--longest with --history: usage error" '--longest is part of the summary' --history --longest=3
bad_usage "issue_15 --top=-1: usage error" 'bad --top "-1": expected a number from 0 to 1000000' --top=-1
bad_usage "issue_15 --top=x: usage error" 'bad --top "x"' --top=x
bad_usage "issue_15 --top with --json: usage error" '--top is part of the text summary, not of --json' --top=5 --json
bad_usage "issue_15 --top with --history: usage error" '--top is part of the text summary, not of --history' --top=5 --history
# Regression (was a bug): parse_duration multiplies before it checks the size: a day count
# past ~1.07e11 overflows int64 and is accepted (as 9h34m here) instead of
# "too large"; the history is then printed with exit 0.
bad_usage "--bucket=213503982335d: too large, usage error" 'too large' --history --bucket=213503982335d --last=213503982335d

# --- the summary of the sample
$A "$EV" >"$T/text" 2>"$T/err"; rc=$?
$A --json "$EV" >"$T/json" 2>>"$T/err"
check "sample: exit 0, nothing on stderr" "[ $rc = 0 ] && [ ! -s '$T/err' ]" "$(cat "$T/err")"
check "sample --json: one JSON object" "[ \$(wc -l <'$T/json') = 1 ] && jq -e 'type == \"object\"' '$T/json' >/dev/null"
check "sample --json: keys active, connects, disconnects, rejects, by, peak, complete, since, ended_before" \
  "[ \"\$(jq -c 'keys_unsorted' '$T/json')\" = '[\"active\",\"connects\",\"disconnects\",\"rejects\",\"by\",\"peak\",\"complete\",\"since\",\"ended_before\"]' ]" "$(cat "$T/json")"
# The numbers, worked out independently from the event stream with jq.
want_active=$(jq -s '[.[] | select(.type == "connect") | .session] - [.[] | select(.type == "disconnect" or .type == "reject") | .session] | length' "$EV")
want_connects=$(jq -s '[.[] | select(.type == "connect")] | length' "$EV")
want_disconnects=$(jq -s '[.[] | select(.type == "disconnect")] | length' "$EV")
want_rejects=$(jq -sc '[.[] | select(.type == "reject") | .reason] | group_by(.) | map({(.[0]): length}) | add' "$EV")
check "sample --json: active, connects, disconnects as the events say" \
  "[ \"\$(jq -c '[.active, .connects, .disconnects]' '$T/json')\" = '[$want_active,$want_connects,$want_disconnects]' ]" \
  "got $(jq -c '[.active, .connects, .disconnects]' "$T/json"), want [$want_active,$want_connects,$want_disconnects]"
check "sample --json: the numbers of the bundled sample (29 active, 109 connects, 80 disconnects)" \
  "[ \"\$(jq -c '[.active, .connects, .disconnects]' '$T/json')\" = '[29,109,80]' ]"
check "sample --json: rejects by reason" "[ \"\$(jq -cS .rejects '$T/json')\" = \"\$(echo '$want_rejects' | jq -cS .)\" ]" \
  "got $(jq -c .rejects "$T/json"), want $want_rejects"
want_apps=$(jq -sc '(map(select(.type == "connect")) | map({key: .session, value: (.app // "unknown")}) | from_entries) as $app
  | ([.[] | select(.type == "connect") | .session] - [.[] | select(.type == "disconnect" or .type == "reject") | .session])
  | map($app[.]) | group_by(.) | map({(.[0]): length}) | add' "$EV")
check "sample --json: active by application" "[ \"\$(jq -cS .by.app '$T/json')\" = \"\$(echo '$want_apps' | jq -cS .)\" ]" \
  "got $(jq -c .by.app "$T/json"), want $want_apps"
check "sample --json: by db and user" \
  "[ \"\$(jq -c '[.by.db, .by.user]' '$T/json')\" = '[{\"production\":29},{\"app_user\":29}]' ]" "$(jq -c .by "$T/json")"
check "sample --json: biggest first" "[ \"\$(jq -c '.by.app | [.[]]' '$T/json')\" = '[26,3]' ]"
check "sample text: the total first" "head -1 '$T/text' | grep -qx 'Active connections: 29'" "$(head -1 "$T/text")"
check "sample text: sections by database, user, application in order" \
  "[ \"\$(grep '^By ' '$T/text' | tr '\n' '|')\" = 'By database:|By user:|By application:|' ]" "$(cat "$T/text")"
check "sample text: rows of name and count" \
  "grep -Eq '^  rails +26\$' '$T/text' && grep -Eq '^  sidekiq +3\$' '$T/text' && grep -Eq '^  production +29\$' '$T/text'" "$(cat "$T/text")"
check "sample text: session totals with rejects" \
  "grep -qx 'Session totals: 109 connects, 80 disconnects, 5 rejected' '$T/text'" "$(cat "$T/text")"
check "sample text: reject reasons in words" "grep -Eq '^  too many connections \(max_connections\) +1\$' '$T/text'" "$(cat "$T/text")"

# --- --by
$A --by=app,host --json "$EV" >"$T/json"
check "--by=app,host: JSON groups in that order" "[ \"\$(jq -c '.by | keys_unsorted' '$T/json')\" = '[\"app\",\"host\"]' ]" "$(cat "$T/json")"
want_hosts=$(jq -sc '(map(select(.type == "connect")) | map({key: .session, value: .host}) | from_entries) as $h
  | ([.[] | select(.type == "connect") | .session] - [.[] | select(.type == "disconnect" or .type == "reject") | .session])
  | map($h[.]) | group_by(.) | map({(.[0]): length}) | add' "$EV")
check "--by=app,host: active by host" "[ \"\$(jq -cS .by.host '$T/json')\" = \"\$(echo '$want_hosts' | jq -cS .)\" ]" \
  "got $(jq -c .by.host "$T/json"), want $want_hosts"
$A --by=app,host "$EV" >"$T/text"
check "--by=app,host: text sections in that order" \
  "[ \"\$(grep '^By ' '$T/text' | tr '\n' '|')\" = 'By application:|By host:|' ]" "$(cat "$T/text")"
$A --by=server,db --json "$EV" >"$T/json"
check "--by=server: an unlabelled server is unknown" "[ \"\$(jq -c '.by | keys_unsorted' '$T/json')\" = '[\"server\",\"db\"]' ] && [ \$(jq '.by.server.unknown' '$T/json') = 29 ]" "$(cat "$T/json")"

# --- filters: exact, case-sensitive, ANDed; display only
$A --db=production "$EV" >"$T/text"; rc=$?
check "--db=production: titled 'Active connections to 'production': 29'" \
  "[ $rc = 0 ] && head -1 '$T/text' | grep -qx \"Active connections to 'production': 29\"" "$(head -1 "$T/text")"
check "--db=production: the database section left out" \
  "! grep -q '^By database:' '$T/text' && grep -q '^By user:' '$T/text' && grep -q '^By application:' '$T/text'" "$(cat "$T/text")"
jqn() { "$A" --json "$@" "$EV" | jq -c '[.active, .connects, .disconnects]'; }
want() {  # jq select expression over events -> [active, connects, disconnects]
  jq -sc "([.[] | select(.type == \"connect\" and ($1)) | .session] as \$c
    | [.[] | select(.type == \"disconnect\" or .type == \"reject\") | .session] as \$gone
    | [(\$c - \$gone | length), (\$c | length),
       ([.[] | select(.type == \"disconnect\" and (.session | IN(\$c[])))] | length)])" "$EV"
}
w=$(want '.user == "app_user"'); g=$(jqn --user=app_user)
check "--user=app_user: counts as the events say" "[ '$g' = '$w' ]" "got $g want $w"
w=$(want '.app == "rails"'); g=$(jqn --app=rails)
check "--app=rails: counts as the events say" "[ '$g' = '$w' ] && [ \$(echo '$g' | jq '.[0]') = 26 ]" "got $g want $w"
w=$(want '.host == "10.0.1.5"'); g=$(jqn --host=10.0.1.5)
check "--host=10.0.1.5: counts as the events say" "[ '$g' = '$w' ]" "got $g want $w"
w=$(want '.db == "production" and .app == "sidekiq"'); g=$(jqn --db=production --app=sidekiq)
check "--db --app: ANDed" "[ '$g' = '$w' ] && [ \$(echo '$g' | jq '.[0]') = 3 ]" "got $g want $w"
w=$(want '.app == null'); g=$(jqn --app=unknown)
check "--app=unknown: the sessions without application_name" "[ '$g' = '$w' ] && [ \$(echo '$g' | jq '.[1]') -gt 0 ]" "got $g want $w"
$A --user=readonly "$EV" >"$T/text"
check "--user: only closed sessions is 0 active, not 'no match'" \
  "head -1 '$T/text' | grep -qx \"Active connections for user 'readonly': 0\"" "$(cat "$T/text")"
$A --db=nope "$EV" >"$T/out" 2>"$T/err"; rc=$?
check "a filter matching nothing: says so, exit 0" "[ $rc = 0 ] && grep -qx 'No connections match db=nope.' '$T/out' && [ ! -s '$T/err' ]" "rc=$rc $(cat "$T/out" "$T/err")"
$A --db=Production "$EV" >"$T/out"
check "filters are case-sensitive" "grep -q '^No connections match db=Production' '$T/out'" "$(cat "$T/out")"
$A --db=produc "$EV" >"$T/out"
check "filters are exact (no prefix match)" "grep -q '^No connections match' '$T/out'" "$(cat "$T/out")"
$A --db=production --user=nobody "$EV" >"$T/out"
check "filters are ANDed" "grep -q '^No connections match' '$T/out'" "$(cat "$T/out")"
$A --history --app=nope "$EV" >"$T/out"; rc=$?
check "--history with a filter matching nothing: says so, exit 0" "[ $rc = 0 ] && grep -q '^No connections match app=nope' '$T/out'" "$(cat "$T/out")"

# --- empty input
$A </dev/null >"$T/out" 2>"$T/err"; rc=$?
check "empty input: No connection data available., exit 0" \
  "[ $rc = 0 ] && head -1 '$T/out' | grep -qx 'No connection data available.' && [ \$(wc -l <'$T/out') = 2 ]" "rc=$rc $(cat "$T/out")"
$A --history </dev/null >"$T/out" 2>"$T/err"; rc=$?
check "empty input --history: No connection data available., exit 0" \
  "[ $rc = 0 ] && head -1 '$T/out' | grep -qx 'No connection data available.'" "rc=$rc $(cat "$T/out")"
printf 'type\tts\n\n' | $A >"$T/out" 2>"$T/err"; rc=$?
check "input without events: no data" "[ $rc = 0 ] && grep -qx 'No connection data available.' '$T/out'" "$(cat "$T/out" "$T/err")"

# --- history
$A --history "$EV" >"$T/text" 2>"$T/err"; rc=$?
rows=$(grep -cE '^[0-9]{2}:[0-9]{2}  ' "$T/text")
check "--history: exit 0, 4 rows of 15 minutes" "[ $rc = 0 ] && [ $rows = 4 ] && [ \"\$(grep -oE '^[0-9]{2}:[0-9]{2}' '$T/text' | tr '\n' ' ')\" = '10:00 10:15 10:30 10:45 ' ]" "$(cat "$T/text")"
check "--history: a leak marker on the sample" "grep -q 'potential leak' '$T/text'" "$(cat "$T/text")"
check "--history: header totals" "head -1 '$T/text' | grep -qx 'Last hour: 109 connects, 80 disconnects, +29 net'" "$(head -1 "$T/text")"
check "--history: a sparkline and the growth" "grep -q '^Trend: ' '$T/text' && grep -q '^Growth:' '$T/text'"
$A --history --json "$EV" >"$T/json"
check "--history --json: keys as SPEC.md §4" \
  "[ \"\$(jq -c 'keys_unsorted' '$T/json')\" = '[\"from\",\"to\",\"bucket_s\",\"connects\",\"disconnects\",\"net\",\"complete\",\"since\",\"ended_before\",\"buckets\",\"growth\"]' ]" "$(jq -c keys_unsorted "$T/json")"
check "--history --json: bucket keys as SPEC.md §4, and peak" \
  "[ \"\$(jq -c '[.buckets[] | keys_unsorted] | unique' '$T/json')\" = '[[\"start\",\"active\",\"delta\",\"connects\",\"disconnects\",\"leak\",\"peak\",\"complete\"]]' ]" "$(jq -c '.buckets[0]' "$T/json")"
check "--history --json: 4 buckets of 900 s, a leak, net = connects - disconnects = sums" \
  "jq -e '(.buckets | length) == 4 and .bucket_s == 900 and (.buckets | any(.leak)) and .net == .connects - .disconnects
          and .connects == ([.buckets[].connects] | add) and .disconnects == ([.buckets[].disconnects] | add)' '$T/json' >/dev/null" "$(cat "$T/json")"
check "--history --json: the newest bucket ends with the summary's active" \
  "[ \$(jq '.buckets[-1].active' '$T/json') = 29 ]"
check "--history --json: times from the events, aligned" \
  "jq -e '.from == \"2024-03-01T10:00:00Z\" and .to == \"2024-03-01T11:00:00Z\" and .buckets[1].start == \"2024-03-01T10:15:00Z\"' '$T/json' >/dev/null" "$(jq -c '[.from, .to]' "$T/json")"
check "--history --json: each delta is the change of active" \
  "jq -e '[range(1; .buckets | length) as \$i | .buckets[\$i].delta == .buckets[\$i].active - .buckets[\$i - 1].active] | all' '$T/json' >/dev/null"
check "--history --json: growth per app, user, host" "[ \"\$(jq -c '.growth | keys_unsorted' '$T/json')\" = '[\"app\",\"user\",\"host\"]' ]" "$(jq -c .growth "$T/json")"
$A --history --bucket=5m --last=30m --json "$EV" >"$T/json"
check "--bucket=5m --last=30m: 6 buckets of 300 s" \
  "jq -e '(.buckets | length) == 6 and .bucket_s == 300 and .buckets[0].start == \"2024-03-01T10:30:00Z\"' '$T/json' >/dev/null" "$(cat "$T/json")"
$A --history --bucket=5m --last=30m "$EV" >"$T/text"
check "--bucket=5m --last=30m: 6 text rows" "[ \$(grep -cE '^[0-9]{2}:[0-9]{2}  ' '$T/text') = 6 ] && head -1 '$T/text' | grep -q '^Last 30 min: '" "$(cat "$T/text")"
$A --history --max-events=10 --json "$EV" >"$T/json"
check "--max-events bounds the history, not the active count" "[ \$(jq '.buckets[-1].active' '$T/json') = 29 ] && [ \$(jq '.connects + .disconnects' '$T/json') -le 10 ]" "$(cat "$T/json")"

# --- issue 9: peak, bucket peaks, --durations, --longest
# The peak worked out independently from the event stream: sessions rejected
# after their connect never count; in time order, ends before starts at the
# same instant; the first moment the most are open.
want_peak() {  # jq select expression over connects -> "N at TS"
  jq -sr "(map(select(.type == \"reject\") | .session)) as \$rej
    | (map(select(.type == \"connect\" and (.session | IN(\$rej[]) | not) and (${1:-true}))) | map({key: .session, value: .ts}) | from_entries) as \$open
    | [ (\$open | to_entries[] | {t: .value, d: 1}),
        (.[] | select(.type == \"disconnect\" and \$open[.session] != null) | {t: .ts, d: -1}) ]
    | sort_by(.t, .d)
    | reduce .[] as \$c ({n: 0, peak: 0, at: null};
        .n += \$c.d | if .n > .peak then .peak = .n | .at = \$c.t else . end)
    | \"\(.peak) at \(.at)\"" "$EV"
}
$A --json "$EV" >"$T/json"
w=$(want_peak); g=$(jq -r '"\(.peak.active) at \(.peak.at)"' "$T/json")
check "issue_9: the peak and its first moment as the events say ($w)" "[ '$g' = '$w' ]" "got $g want $w"
check "issue_9: the sample's peak is 34 at 10:56:24.004" "[ '$g' = '34 at 2024-03-01T10:56:24.004Z' ]" "$g"
$A "$EV" >"$T/text"
check "issue_9: text 'Peak: 34 at 10:56:24' under the active count" \
  "[ \"\$(sed -n 2p '$T/text')\" = 'Peak: 34 at 10:56:24' ]" "$(head -3 "$T/text")"
w=$(want_peak '.app == "sidekiq"'); g=$($A --json --app=sidekiq "$EV" | jq -r '"\(.peak.active) at \(.peak.at)"')
check "issue_9: the peak respects the filter (--app=sidekiq: $w)" "[ '$g' = '$w' ]" "got $g want $w"
w=$(want_peak '.app == "rails" and .host == "10.0.1.5"'); g=$($A --json --app=rails --host=10.0.1.5 "$EV" | jq -r '"\(.peak.active) at \(.peak.at)"')
check "issue_9: the peak respects ANDed filters ($w)" "[ '$g' = '$w' ]" "got $g want $w"
g=$($A --json --max-events=5 "$EV" | jq -r '"\(.peak.active) at \(.peak.at)"')
check "issue_9: --max-events bounds the history, not the peak" "[ '$g' = '34 at 2024-03-01T10:56:24.004Z' ]" "$g"
# A session rejected right after its connect, at the peak, never counts;
# a disconnect and a connect at the same instant: the end goes first.
awk '{ print } /"type":"connect","ts":"2024-03-01T10:56:24.004Z"/ && !done {
  print "{\"type\":\"connect\",\"ts\":\"2024-03-01T10:56:24.005Z\",\"pid\":1,\"session\":\"late-1\",\"user\":\"u\",\"db\":\"production\"}"
  print "{\"type\":\"reject\",\"ts\":\"2024-03-01T10:56:24.006Z\",\"pid\":1,\"session\":\"late-1\",\"user\":\"u\",\"db\":\"production\",\"reason\":\"db_limit\"}"
  done = 1 }' "$EV" >"$T/late.ndjson"
check "issue_9: (the late reject is in the stream)" "[ \$(grep -c late-1 '$T/late.ndjson') = 2 ]"
g=$($A --json "$T/late.ndjson" | jq -r '"\(.peak.active) at \(.peak.at)"')
check "issue_9: a session rejected after its connect never counts in the peak" "[ '$g' = '34 at 2024-03-01T10:56:24.004Z' ]" "$g"
printf '%s\n' '{"type":"connect","ts":"2024-03-01T10:00:00Z","session":"a"}' \
  '{"type":"connect","ts":"2024-03-01T10:00:05Z","session":"b"}' \
  '{"type":"disconnect","ts":"2024-03-01T10:00:05Z","session":"a","duration_ms":5000}' \
  '{"type":"connect","ts":"2024-03-01T10:00:04.500Z","session":"c"}' >"$T/tie.ndjson"
g=$($A --json "$T/tie.ndjson" | jq -c .peak)
check "issue_9: ends before starts at the same instant; a connect written late is placed in time" \
  "[ '$g' = '{\"active\":2,\"at\":\"2024-03-01T10:00:04.500Z\"}' ]" "$g"
$A --json </dev/null >"$T/out"
check "issue_9: no data: peak 0 at null" "[ \"\$(jq -c .peak '$T/out')\" = '{\"active\":0,\"at\":null}' ]" "$(cat "$T/out")"

# Bucket peaks: the most open at any moment inside each bucket, those open
# at its start included, worked out from the events.
$A --history --json "$EV" >"$T/json"
want_bpeaks=$(jq -sc '(map(select(.type == "reject") | .session)) as $rej
  | (map(select(.type == "connect" and (.session | IN($rej[]) | not))) | map({key: .session, value: .ts}) | from_entries) as $open
  | [ ($open | to_entries[] | {t: .value, d: 1}), (.[] | select(.type == "disconnect" and $open[.session] != null) | {t: .ts, d: -1}) ]
  | sort_by(.t, .d) as $ch
  | ["2024-03-01T10:00", "2024-03-01T10:15", "2024-03-01T10:30", "2024-03-01T10:45", "2024-03-01T11:00"] as $b
  | [range(0; 4) as $i
      | ([$ch[] | select(.t < $b[$i]) | .d] | add // 0) as $start
      | [$ch[] | select(.t >= $b[$i] and .t < $b[$i + 1])] as $in
      | reduce $in[] as $c ({n: $start, p: $start}; .n += $c.d | .p = ([.p, .n] | max)) | .p]' "$EV")
g=$(jq -c '[.buckets[].peak]' "$T/json")
check "issue_9: --history: each bucket's peak as the events say ($want_bpeaks)" "[ '$g' = '$want_bpeaks' ]" "got $g want $want_bpeaks"
check "issue_9: --history: a bucket's peak is never below its active" "jq -e 'all(.buckets[]; .peak >= .active)' '$T/json' >/dev/null"
$A --history "$EV" >"$T/text"
check "issue_9: --history text: a peak column" "grep -Eq '^10:45 +29 active \(\+4\) +peak 34 ' '$T/text'" "$(cat "$T/text")"

# --durations: n and max exact, mean exact, median and p95 (nearest rank)
# within 1% of the exact values worked out from the events.
$A --json --durations "$EV" >"$T/json"
want_dur=$(jq -sc '(map(select(.type == "connect")) | map({key: .session, value: (.app // "unknown")}) | from_entries) as $app
  | [.[] | select(.type == "disconnect" and .duration_ms != null) | {app: ($app[.session] // .app // "unknown"), db: (.db // "unknown"), user: (.user // "unknown"), ms: .duration_ms}] as $d
  | def stats: (map(.ms) | sort) as $v | ($v | length) as $n
      | {n: $n, mean_ms: (($v | add) / $n), p50_ms: $v[((0.5 * $n) | ceil) - 1], p95_ms: $v[((0.95 * $n) | ceil) - 1], max_ms: $v[-1]};
    {db: ($d | group_by(.db) | map({key: .[0].db, value: stats}) | from_entries),
     user: ($d | group_by(.user) | map({key: .[0].user, value: stats}) | from_entries),
     app: ($d | group_by(.app) | map({key: .[0].app, value: stats}) | from_entries)}' "$EV")
diff_dur=$(jq -rn --argjson got "$(jq -c .durations "$T/json")" --argjson want "$want_dur" '
  [$want | to_entries[] | .key as $dim | .value | to_entries[] | .key as $name | .value as $w | $got[$dim][$name] as $g
   | if $g == null then "\($dim)/\($name) missing"
     elif $g.n != $w.n or $g.max_ms != $w.max_ms then "\($dim)/\($name): n/max \($g.n)/\($g.max_ms), want \($w.n)/\($w.max_ms)"
     else (["mean_ms", "p50_ms", "p95_ms"][] as $k
       | if (($g[$k] - $w[$k]) | fabs) > 0.01 * $w[$k] + 0.05 then "\($dim)/\($name) \($k): \($g[$k]), want \($w[$k])" else empty end)
     end] + [($got | to_entries[] | .key as $dim | .value | keys[] | select($want[$dim][.] == null) | "\($dim)/\(.) extra")] | join("; ")')
check "issue_9: --durations: n, mean, median, p95, max per db, user, app as the events say" "[ -z '$diff_dur' ]" "$diff_dur"
check "issue_9: --durations --json: the keys" \
  "jq -e '(.durations | keys_unsorted) == [\"db\",\"user\",\"app\"] and (.durations.app.rails | keys_unsorted) == [\"n\",\"mean_ms\",\"p50_ms\",\"p95_ms\",\"max_ms\"]' '$T/json' >/dev/null" "$(jq -c .durations "$T/json")"
check "issue_9: --durations: ordered by sessions" "jq -e '[.durations.app[].n] as \$n | \$n == (\$n | sort | reverse)' '$T/json' >/dev/null" "$(jq -c .durations.app "$T/json")"
$A --json --durations --by=host --db=analytics "$EV" >"$T/json"
want_h=$(jq -sc '[.[] | select(.type == "disconnect" and .db == "analytics" and .duration_ms != null)] | group_by(.host) | map({key: .[0].host, value: {n: length, max_ms: (map(.duration_ms) | max)}}) | from_entries' "$EV")
g=$(jq -c '.durations.host | map_values({n, max_ms})' "$T/json")
check "issue_9: --durations respects --by and the filters" "[ \"\$(echo '$g' | jq -cS .)\" = \"\$(echo '$want_h' | jq -cS .)\" ]" "got $g want $want_h"
$A --durations "$EV" >"$T/text"
check "issue_9: --durations text: a table per dimension" \
  "grep -qx 'Durations by application:' '$T/text' && grep -Eq '^ +sessions +mean +median +p95 +max\$' '$T/text' && grep -Eq '^  rails +60 +2\\.1s +2\\.1s +3\\.7s +3\\.9s\$' '$T/text'" "$(cat "$T/text")"
$A --json "$EV" >"$T/json"
check "issue_9: without --durations no durations key" "jq -e 'has(\"durations\") | not' '$T/json' >/dev/null"

# --longest: the N sessions open longest, oldest first, ties by pid.
$A --json --longest=4 "$EV" >"$T/json"
want_long=$(jq -sc '(map(select(.type == "disconnect" or .type == "reject") | .session)) as $gone
  | [.[] | select(.type == "connect" and (.session | IN($gone[]) | not))] | sort_by(.ts, .pid) | .[:4] | map({pid, since: .ts})' "$EV")
g=$(jq -c '[.longest[] | {pid, since}]' "$T/json")
check "issue_9: --longest=4: the oldest open sessions as the events say" "[ '$g' = '$want_long' ]" "got $g want $want_long"
check "issue_9: --longest JSON: pid, user, db, app, host, since, open_ms" \
  "jq -e '(.longest | length) == 4 and (.longest[0] | keys_unsorted) == [\"pid\",\"user\",\"db\",\"app\",\"host\",\"since\",\"open_ms\"] and .longest[0].open_ms == 3594000' '$T/json' >/dev/null" "$(jq -c .longest "$T/json")"
g=$($A --json --longest=100 --app=rails "$EV" | jq '[.longest[] | .app] | (length == 26 and all(. == "rails"))')
check "issue_9: --longest respects the filter and lists no more than are open" "[ '$g' = true ]" "$g"
$A --longest=2 "$EV" >"$T/text"
check "issue_9: --longest text: a table" \
  "grep -qx 'Longest open sessions:' '$T/text' && grep -Eq '^  since +open for +pid +user +db +app +host\$' '$T/text' && grep -Eq '^  10:00:05 +59m54s +4130 +app_user +production +sidekiq +10\\.0\\.1\\.7\$' '$T/text'" "$(cat "$T/text")"

# SIGHUP clears the peak and the durations; the open sessions stay (issue 13).
mkfifo "$T/fifo9"
$A --json --durations --longest=3 <"$T/fifo9" >"$T/hup.out" 2>"$T/hup.err" &
pid=$!; lib_track_pid "$pid"
exec 6>"$T/fifo9"
cat "$EV" >&6
sleep 0.3
kill -HUP $pid
wait_until 2 "grep -q 'connection statistics cleared' '$T/hup.err'"
printf '%s\n' '{"type":"connect","ts":"2024-03-01T12:00:00Z","pid":9,"session":"h1","user":"u","db":"d","app":"after"}' \
  '{"type":"disconnect","ts":"2024-03-01T12:00:02Z","pid":9,"session":"h1","user":"u","db":"d","duration_ms":2000}' \
  '{"type":"connect","ts":"2024-03-01T12:00:03Z","pid":10,"session":"h2","user":"u","db":"d","app":"after"}' >&6
exec 6>&-
wait_until 3 "! kill -0 $pid 2>/dev/null"
g=$(tail -n 1 "$T/hup.out" | jq -c '[.peak.active, .peak.at, .durations.app.after.n, .durations.app.after.max_ms, (.durations.app | length), [.longest[].pid]]')
# The peak starts again from the 29 sessions still open: 30 when h1 opens.
want_long=$(jq -sc '(map(select(.type == "disconnect" or .type == "reject") | .session)) as $gone
  | [.[] | select(.type == "connect" and (.session | IN($gone[]) | not))] | sort_by(.ts, .pid) | .[:3] | map(.pid)' "$EV")
check "issue_9, issue_13: SIGHUP clears the peak and durations, keeps the open sessions" "[ '$g' = '[30,\"2024-03-01T12:00:00Z\",1,2000,1,$want_long]' ]" "$g want long $want_long"
g=$(tail -n 1 "$T/hup.out" | jq -c '[.active, .connects, .disconnects, .complete]')
check "issue_13: after SIGHUP the active count stays right (29 + h2), totals from the clear" "[ '$g' = '[30,2,1,true]' ]" "$g"

# --- issue 13: is the view complete? A server start, a restart, updates
# The sample log begins with the server's start: exact, no note.
$A "$EV" >"$T/text"
g=$($A --json "$EV" | jq -c '[.complete, .since, .ended_before]')
want_since=$(jq -sr 'map(.ts) | min' "$EV")
check "issue_13: a log from the server's start is complete, since its first event, no note" \
  "[ '$g' = '[true,\"$want_since\",0]' ] && [ \"\$(sed -n 2p '$T/text')\" = \"\$(grep -m1 '^Peak' '$T/text')\" ]" "$g $(head -3 "$T/text")"
# The log read from its middle (a rotated file): a lower bound, said so.
tail -n +80 "$SAMPLE" | $P >"$T/mid.ndjson" 2>/dev/null
want_ended=$(jq -s '[.[] | select(.type == "disconnect" and .matched == false)] | length' "$T/mid.ndjson")
want_since=$(jq -sr 'map(.ts) | min' "$T/mid.ndjson")
g=$($A --json "$T/mid.ndjson" | jq -c '[.complete, .since, .ended_before]')
check "issue_13: a log from the middle: complete false, since its first event, the ends of older sessions" \
  "[ $want_ended -gt 0 ] && [ '$g' = '[false,\"$want_since\",$want_ended]' ]" "$g want $want_since $want_ended"
$A "$T/mid.ndjson" >"$T/text"
check "issue_13: the text view says it is a lower bound, right under the active count" \
  "sed -n 2p '$T/text' | grep -qx '  (at least: the log begins 2024-03-01 10:07:06; $want_ended sessions from before it have ended since)'" "$(head -3 "$T/text")"
$A --history "$T/mid.ndjson" >"$T/text"
check "issue_13: --history marks every bucket and explains the mark" \
  "sed -n 2p '$T/text' | grep -q '^(≥ at least: the log begins 2024-03-01 10:07:06; ' && [ \$(grep -cE '^[0-9]{2}:[0-9]{2} ≥ ' '$T/text') = 4 ]" "$(cat "$T/text")"
g=$($A --history --json "$T/mid.ndjson" | jq -c '[.complete, ([.buckets[].complete] | unique)]')
check "issue_13: --history --json: complete false, every bucket complete false" "[ '$g' = '[false,[false]]' ]" "$g"
# pgconn-parse --snapshot's mark: from there on the view is exact.
{ cat "$T/mid.ndjson"; echo '{"type":"server","ts":"2024-03-01T10:59:59Z","pid":4000,"state":"snapshot"}'; } >"$T/snap.ndjson"
g=$($A --json "$T/snap.ndjson" | jq -c '[.complete, .since]')
check "issue_13: a snapshot makes the view complete" "[ '$g' = '[true,\"$want_since\"]' ]" "$g"
$A "$T/snap.ndjson" >"$T/text"
check "issue_13: complete: no note line" "! grep -q 'at least' '$T/text'" "$(head -3 "$T/text")"
$A --history --json "$T/snap.ndjson" | jq -c '[.buckets[].complete]' >"$T/g"
check "issue_13: --history: buckets after the snapshot only are complete" "[ \"\$(cat '$T/g')\" = '[false,false,false,false]' ]" "$(cat "$T/g")"
# Two servers: complete only when both are; --server shows one.
{ sed 's/^{/{"server":"a",/' "$EV"; sed 's/^{/{"server":"b",/' "$T/mid.ndjson"; } >"$T/two.ndjson"
g=$(for f in "" --server=a --server=b; do $A --json $f "$T/two.ndjson" | jq -c .complete; done | tr '\n' ' ')
check "issue_13: several servers: complete when every one shown is" "[ '$g' = 'false true false ' ]" "$g"
# An idle server read with --snapshot: nothing open, and that is exact.
echo '{"type":"server","ts":"2024-03-01T10:00:00Z","pid":4000,"state":"snapshot"}' | $A >"$T/text"
check "issue_13: only a snapshot of an idle server: Active connections: 0, no note" \
  "[ \"\$(head -2 '$T/text')\" = \"\$(printf 'Active connections: 0\nPeak: 0')\" ]" "$(cat "$T/text")"
# A start after an unclean death (no crash line): nothing survives it.
{ cat "$EV"; echo '{"type":"server","ts":"2024-03-01T11:30:00Z","pid":5000,"state":"ready"}'
  echo '{"type":"connect","ts":"2024-03-01T11:30:01Z","pid":5001,"session":"r1","user":"u","db":"d"}'; } >"$T/restart.ndjson"
g=$($A --json "$T/restart.ndjson" | jq -c '[.active, .by.db, .complete]')
check "issue_13: a server ready ends every session open before it" "[ '$g' = '[1,{\"d\":1},true]' ]" "$g"
# An update moves the session to its new application.
s1=$(jq -sr '(map(select(.type == "disconnect" or .type == "reject") | .session)) as $gone
  | [.[] | select(.type == "connect" and .app == "sidekiq" and (.session | IN($gone[]) | not))][0].session' "$EV")
{ cat "$EV"; echo "{\"type\":\"update\",\"ts\":\"2024-03-01T11:00:00Z\",\"session\":\"$s1\",\"app\":\"worker-7\"}"
  echo '{"type":"update","ts":"2024-03-01T11:00:00Z","session":"nosuch","app":"ghost"}'; } >"$T/upd.ndjson"
g=$($A --json --by=app "$T/upd.ndjson" | jq -c '[.active, .by.app.sidekiq, .by.app["worker-7"], .by.app.ghost]')
check "issue_13: an update moves the session to its new app; one for an unknown session is ignored" "[ '$g' = '[29,2,1,null]' ]" "$g"
{ cat "$T/upd.ndjson"; echo "{\"type\":\"disconnect\",\"ts\":\"2024-03-01T11:01:00Z\",\"session\":\"$s1\",\"duration_ms\":60000}"; } >"$T/upd2.ndjson"
g=$($A --json --by=app --durations "$T/upd2.ndjson" | jq -c '[.active, .by.app["worker-7"], .durations.app["worker-7"].n]')
check "issue_13: a disconnect after an update is counted under the new app" "[ '$g' = '[28,null,1]' ]" "$g"

# --- damaged input: counted warning, the rest processed, exit 0
{ head -40 "$EV"; echo 'garbage here'; echo '{"type":"connect",'; printf '\x00\xff\xfe binary\n'; echo '{"type":"connect","pid":"x"}'; tail -n +41 "$EV"; } >"$T/mal.ndjson"
$A --json "$EV" >"$T/clean.json"
$A --json "$T/mal.ndjson" >"$T/out" 2>"$T/err"; rc=$?
check "malformed lines: exit 0" "[ $rc = 0 ]"
check "malformed lines: the rest processed" "cmp -s '$T/out' '$T/clean.json'" "$(cat "$T/out")"
check "malformed lines: one counted warning with the place of the first" \
  "[ \$(wc -l <'$T/err') = 1 ] && grep -q '^pgconn-agg: warning: 4 lines' '$T/err' && grep -q 'mal.ndjson:41' '$T/err'" "$(cat "$T/err")"
printf '{"type":"heartbeat","ts":"2024-03-01T10:00:00Z"}\n' >"$T/future.ndjson"
$A --json "$T/future.ndjson" "$EV" >"$T/out" 2>"$T/err"
check "an unknown event type is skipped quietly" "cmp -s '$T/out' '$T/clean.json' && [ ! -s '$T/err' ]" "$(cat "$T/err")"

# --- TSV input
$A "$T/sample.tsv" >"$T/out" 2>"$T/err"
check "TSV input: the same summary as NDJSON" "diff <($A '$EV') '$T/out' >/dev/null && [ ! -s '$T/err' ]" "$(diff <($A "$EV") "$T/out"; cat "$T/err")"
$A --json "$T/sample-h.tsv" >"$T/out" 2>"$T/err"
check "TSV input with --header: the same JSON" "cmp -s '$T/out' '$T/clean.json' && [ ! -s '$T/err' ]" "$(cat "$T/err")"
$A --history --json "$T/sample.tsv" >"$T/out"
check "TSV input: the same history" "diff <($A --history --json '$EV') '$T/out' >/dev/null"
$P --format=tsv "$SAMPLE" | $A >"$T/out"
check "parse --format=tsv | agg: a pipeline" "diff <($A '$EV') '$T/out' >/dev/null"
$P "$SAMPLE" | $A --json >"$T/out"
check "parse | agg reads stdin" "cmp -s '$T/out' '$T/clean.json'"
$A - <"$EV" >"$T/out"
check "'-' reads stdin" "diff <($A '$EV') '$T/out' >/dev/null"

# --- many events: 10,000+ sessions on 20,000 hosts
awk 'BEGIN {
  for (i = 0; i < 20000; i++) {
    printf "{\"type\":\"connect\",\"ts\":\"2024-03-01T10:%02d:%02d.000Z\",\"pid\":%d,\"session\":\"s%d\",\"user\":\"u%d\",\"db\":\"d%d\",\"app\":\"a%d\",\"host\":\"10.%d.%d.%d\",\"port\":40000}\n", int(i / 400) % 60, int(i / 7) % 60, 1000 + i, i, i % 7, i % 3, i % 50, int(i / 65536), int(i / 256) % 256, i % 256
    if (i % 3 == 0) printf "{\"type\":\"disconnect\",\"ts\":\"2024-03-01T10:%02d:%02d.500Z\",\"pid\":%d,\"session\":\"s%d\",\"user\":\"u%d\",\"db\":\"d%d\",\"host\":\"10.%d.%d.%d\",\"duration_ms\":500,\"matched\":true}\n", int(i / 400) % 60, int(i / 7) % 60, 1000 + i, i, i % 7, i % 3, int(i / 65536), int(i / 256) % 256, i % 256
  }
}' >"$T/many.ndjson"
check "many: 26,000+ events generated" "[ \$(wc -l <'$T/many.ndjson') -gt 26000 ]"
# The best of three runs, so that a busy machine does not fail the check.
best_ms() {
  local best=999999 i start t
  for i in 1 2 3; do
    start=$(now_ms)
    "$@" >"$T/out" 2>"$T/err" || return 1
    t=$(($(now_ms) - start))
    [ $t -lt $best ] && best=$t
  done
  echo $best
}
# SPEC §7: well under 1 s (make bench measures it; this only catches a
# blow-up, so the limit is the budget itself, best of several runs).
# PGCONN_TIME_FACTOR: a slower build (sanitizers) gets this many times longer.
limit=$((1000 * ${PGCONN_TIME_FACTOR:-1}))
elapsed=$(best_ms $A --json "$T/many.ndjson")
check "many: a summary over 26,000 events in under $limit ms (best ${elapsed} ms)" "[ -n '$elapsed' ] && [ '$elapsed' -lt $limit ]" "${elapsed} ms"
check "many: the counts" "[ \"\$(jq -c '[.active, .connects, .disconnects]' '$T/out')\" = '[13333,20000,6667]' ]" "$(jq -c '[.active, .connects, .disconnects]' "$T/out")"
elapsed=$(best_ms $A --history "$T/many.ndjson")
check "many: --history in under $limit ms (best ${elapsed} ms)" "[ -n '$elapsed' ] && [ '$elapsed' -lt $limit ]" "${elapsed} ms"

# --- closed stdout, full disk, missing files
$A --by=host "$T/many.ndjson" 2>"$T/err" | head -1 >"$T/out"; rc=${PIPESTATUS[0]}
check "| head -1: exit 0" "[ $rc = 0 ]" "rc=$rc"
check "| head -1: nothing on stderr" "[ ! -s '$T/err' ]" "$(cat "$T/err")"
check "| head -1: the first line" "grep -qx 'Active connections: 13333' '$T/out'" "$(cat "$T/out")"
if [ -w /dev/full ]; then
  $A "$EV" >/dev/full 2>"$T/err"; rc=$?
  check ">/dev/full: write error, exit 1" "[ $rc = 1 ] && grep -qx 'pgconn-agg: write error: No space left on device' '$T/err'" "rc=$rc $(cat "$T/err")"
  $A --by=host "$T/many.ndjson" >/dev/full 2>"$T/err"; rc=$?
  check ">/dev/full with a big summary: write error, exit 1" "[ $rc = 1 ] && [ \$(grep -c 'write error' '$T/err') = 1 ]" "rc=$rc $(cat "$T/err")"
fi
$A --json "$T/nonexistent" "$EV" >"$T/out" 2>"$T/err"; rc=$?
check "missing file: exit 1" "[ $rc = 1 ]" "rc=$rc"
check "missing file: err(3)-style message" "grep -qx 'pgconn-agg: $T/nonexistent: No such file or directory' '$T/err'" "$(cat "$T/err")"
check "missing file: the other files still processed" "cmp -s '$T/out' '$T/clean.json'" "$(cat "$T/out")"
$A "$T" >/dev/null 2>"$T/err"; rc=$?
check "a directory: error, exit 1" "[ $rc = 1 ] && grep -q 'Is a directory' '$T/err'" "rc=$rc $(cat "$T/err")"

# --- hostile names: shown escaped, never raw
printf '2024-03-01 10:00:00.000 UTC [77] LOG:  connection received: host=10.9.9.9 port=1\n2024-03-01 10:00:00.004 UTC [77] LOG:  connection authorized: user=app_user database=production application_name=evil\x1b[2J\x1b]0;pwned\x07\xc2\x9bx\n' >"$T/hostile.log"
$P "$T/hostile.log" | $A >"$T/out" 2>"$T/err"; rc=$?
check "hostile app name: exit 0" "[ $rc = 0 ]"
check "hostile app name: no raw ESC, BEL or C1 byte in the text" \
  "! grep -q \$'\x1b' '$T/out' && ! grep -q \$'\x07' '$T/out' && ! grep -q \$'\xc2\x9b' '$T/out'" "$(od -c "$T/out" | head -20)"
check "hostile app name: shown escaped" "grep -qF 'evil\\x1b[2J\\x1b]0;pwned\\x07\\xc2\\x9bx' '$T/out'" "$(cat -v "$T/out")"
$P "$T/hostile.log" | $A --history >"$T/out"
check "hostile app name in --history growth: no raw ESC" "! grep -q \$'\x1b' '$T/out' && grep -qF 'evil\\x1b' '$T/out'" "$(cat -v "$T/out")"
$P "$T/hostile.log" | $A --app=$'evil\x1b[2J' >"$T/out"
check "hostile filter value: no raw ESC" "! grep -q \$'\x1b' '$T/out'" "$(cat -v "$T/out")"
$P "$T/hostile.log" | $A --json >"$T/out"
check "hostile app name in --json: valid JSON with the escape" "jq -e '.by.app | keys[0] | startswith(\"evil\u001b[2J\")' '$T/out' >/dev/null" "$(cat "$T/out")"
# Regression (was a bug): an unknown reject reason is printed raw (render_summary_text uses
# reason_phrase() without display_safe()).
printf '{"type":"reject","ts":"2024-03-01T10:00:00Z","session":"r1","reason":"x\\u001b[2J\\u0007"}\n' | $A >"$T/out"
check "hostile reject reason: no raw ESC" "! grep -q \$'\x1b' '$T/out'" "$(cat -v "$T/out")"

# --- live: a FIFO kept open by its writer
mkfifo "$T/fifo1"
$A --interval=200ms <"$T/fifo1" >"$T/live.out" 2>"$T/live.err" &
pid=$!; lib_track_pid "$pid"
exec 7>"$T/fifo1"
head -20 "$EV" >&7
start=$(now_ms)
wait_until 3 "grep -q '^Active connections: ' '$T/live.out'"
elapsed=$(($(now_ms) - start))
check "live --interval=200ms: a record within 1 s, input still open (${elapsed} ms)" \
  "grep -q '^Active connections: ' '$T/live.out' && [ $elapsed -lt 1000 ]" "$(cat "$T/live.out" "$T/live.err")"
wait_until 3 "[ \$(grep -c '^Active connections: ' '$T/live.out') -ge 3 ]"
check "live --interval: one record per interval, appended" "[ \$(grep -c '^Active connections: ' '$T/live.out') -ge 3 ]" "$(cat "$T/live.out")"
check "live --interval into a pipe: no screen control" "! grep -q \$'\x1b' '$T/live.out'"
exec 7>&-
wait_until 3 "! kill -0 $pid 2>/dev/null"
wait $pid; rc=$?
check "live: the end of input ends it, exit 0" "[ $rc = 0 ]" "rc=$rc $(cat "$T/live.err")"

# SIGUSR1 prints at once, SIGHUP clears, SIGINT prints the final summary.
mkfifo "$T/fifo2"
$A <"$T/fifo2" >"$T/sig.out" 2>"$T/sig.err" &
pid=$!; lib_track_pid "$pid"
exec 8>"$T/fifo2"
head -20 "$EV" >&8
sleep 0.3  # the handlers are installed and the lines read
check "no --interval: nothing printed before asked" "[ ! -s '$T/sig.out' ]" "$(cat "$T/sig.out")"
kill -USR1 $pid
wait_until 1 "grep -q '^Active connections: ' '$T/sig.out'"
check "SIGUSR1: prints the summary at once" "grep -q '^Active connections: 9\$' '$T/sig.out'" "$(cat "$T/sig.out" "$T/sig.err")"
kill -HUP $pid
wait_until 1 "grep -q 'connection statistics cleared' '$T/sig.err'"
check "SIGHUP: 'connection statistics cleared' on stderr" "grep -qx 'pgconn-agg: connection statistics cleared' '$T/sig.err'" "$(cat "$T/sig.err")"
kill -USR1 $pid
wait_until 1 "[ \$(grep -c '^Active connections: ' '$T/sig.out') -ge 2 ]"
# issue_13: the clear kept the 9 sessions open (it printed 0 before), and
# the peak starts again from them.
sed -n '/^Active connections: /h; /^Active connections: /!H; ${x;p}' "$T/sig.out" >"$T/sig.last"
check "issue_13: SIGHUP keeps the open sessions and clears the totals" \
  "grep -qx 'Active connections: 9' '$T/sig.last' && grep -qx 'Session totals: 0 connects, 0 disconnects' '$T/sig.last' && grep -Eqx 'Peak: 9 at [0-9:]+' '$T/sig.last' && grep -qx '  production     9' '$T/sig.last'" "$(cat "$T/sig.out")"
printf '%s\n' '{"type":"connect","ts":"2024-03-01T11:00:00Z","session":"after-clear","user":"u","db":"afterdb"}' >&8
sleep 0.2
kill -INT $pid
wait_until 3 "! kill -0 $pid 2>/dev/null"
wait $pid; rc=$?
check "SIGINT: exit 0" "[ $rc = 0 ]" "rc=$rc $(cat "$T/sig.err")"
check "SIGINT: the final summary, totals counted from the clear, the sessions from before it still open" \
  "[ \"\$(sed -n '/^Active connections: /h; /^Active connections: /!H; \${x;p}' '$T/sig.out' | grep -A3 '^By database:' | sed -n 2,3p | tr -s ' ' | tr '\n' /)\" = ' production 9/ afterdb 1/' ] && tail -n 1 '$T/sig.out' | grep -qx 'Session totals: 1 connects, 0 disconnects' && grep -qx 'Active connections: 10' '$T/sig.out'" "$(cat "$T/sig.out")"
exec 8>&-

mkfifo "$T/fifo3"
$A --history --json <"$T/fifo3" >"$T/int.out" 2>"$T/int.err" &
pid=$!; lib_track_pid "$pid"
exec 9>"$T/fifo3"
cat "$EV" >&9
sleep 0.3
kill -TERM $pid
wait_until 3 "! kill -0 $pid 2>/dev/null"
wait $pid; rc=$?
check "SIGTERM mid-stream: the history is printed, exit 0" \
  "[ $rc = 0 ] && [ \$(wc -l <'$T/int.out') = 1 ] && [ \$(jq '.buckets[-1].active' '$T/int.out') = 29 ]" "rc=$rc $(cat "$T/int.out" "$T/int.err")"
exec 9>&-

# --- issue_15: many names, bounded
# 160,000 sessions with 150,000 application names (a driver that puts a
# request id in application_name), 2,000 users, 3,000 hosts, 20 databases.
awk -f tests/perf/gen_events.awk -v sessions=160000 -v apps=150000 >"$T/apps.ndjson"
/usr/bin/time -f %M -o "$T/apps.rss" $A --durations --by=db,user,app,host,server "$T/apps.ndjson" \
  >"$T/apps.out" 2>"$T/apps.err"; rc=$?
check "issue_15 150k app names: exit 0" "[ $rc = 0 ]" "rc=$rc $(cat "$T/apps.err")"
check "issue_15 150k app names: one warning, in the house style" \
  "[ \"\$(cat '$T/apps.err')\" = 'pgconn-agg: warning: more than 20000 app names: the others are counted as \"⟨other apps⟩\"' ]" \
  "$(cat "$T/apps.err")"
rss_kb=$(tail -n 1 "$T/apps.rss")
# AddressSanitizer's shadow memory and quarantine make RSS meaningless there.
if [ -n "${PGCONN_SANITIZED:-}" ]; then
  skip "issue_15 150k app names with --durations on every dimension: peak RSS < 32 MB" \
    "a sanitized build (${rss_kb} KB)"
else
  check "issue_15 150k app names with --durations on every dimension: peak RSS < 32 MB (${rss_kb} KB)" \
    "[ '$rss_kb' -lt 32768 ]"
fi
check "issue_15 150k app names: the text is short (--top=20: at most 21 rows a list)" \
  "[ \$(wc -l <'$T/apps.out') -lt 300 ]" "$(wc -l <"$T/apps.out") lines"
check "issue_15 150k app names: each long list ends with its '… N more' row and the rest's total" \
  "grep -Eq '^  … [0-9]+ more +[0-9]+\$' '$T/apps.out' && [ \$(grep -c '^  … [0-9]* more' '$T/apps.out') -ge 4 ]" "$(cat "$T/apps.out")"
$A --json "$T/apps.ndjson" >"$T/apps.json" 2>/dev/null
check "issue_15 --json: the other dimensions keep every name (20 databases, the active users)" \
  "[ \$(jq '.by.db | length' '$T/apps.json') = 20 ] && ! jq -e '.by.db | has(\"⟨other databases⟩\")' '$T/apps.json' >/dev/null" \
  "$(jq -c '.by.db' "$T/apps.json")"
# The "more" row's total and the rows shown add up to the active count.
$A --by=app --top=3 "$T/apps.ndjson" >"$T/top3" 2>/dev/null
active=$(sed -n 's/^Active connections: //p' "$T/top3")
check "issue_15 --top=3: three rows and the rest, adding up to the active count" \
  "[ \$(sed -n '/^By application:/,/^\$/p' '$T/top3' | grep -c '^  ') = 4 ] &&
   [ \$(sed -n '/^By application:/,/^\$/p' '$T/top3' | awk '/^  /{ n += \$NF } END { print n }') = '$active' ]" "$(cat "$T/top3")"
$A --by=app --top=0 "$T/apps.ndjson" >"$T/top0" 2>/dev/null
check "issue_15 --top=0: every row, no '… more' row" \
  "[ \$(sed -n '/^By application:/,/^\$/p' '$T/top0' | grep -c '^  ') = \$(jq '.by.app | length' '$T/apps.json') ] && ! grep -q ' more ' '$T/top0'"
$A --by=app --top=1000 "$EV" >"$T/top-all" 2>/dev/null
$A --by=app --top=0 "$EV" >"$T/top-0" 2>/dev/null
check "issue_15 a list shorter than --top has no '… more' row" "cmp -s '$T/top-all' '$T/top-0' && ! grep -q ' more ' '$T/top-0'"

lib_done
