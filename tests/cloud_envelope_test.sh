#!/usr/bin/env bash
# cloud_envelope_test.sh: pgconn-parse on the managed platforms' envelopes
# (issue 19, ../shared/cloud-envelopes.md):
#   - every real file of ../shared/corpus/cloud/ gives the events of its
#     unwrapped text (the text cut out with jq/sed as a DBA would, read with
#     --label), with the envelope's server; the real Azure hour's counts;
#   - every wrapper of the reference that pgconn does not read gives no
#     events, exit 0 and one warning that names it and the --input values;
#   - --input=NAME reads what auto-detection reads, --label wins.
# Prints "ok - NAME" / "not ok - NAME: why"; exits 1 when a check failed.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
P=$PARSE
G=tests/golden
C=../shared/corpus/cloud
T=$LIB_TMP

[ -x "$P" ] || fatal "pgconn-parse built" "no $P (run make)"
command -v jq >/dev/null || fatal "jq installed" "jq is needed"

# same NAME WRAPPED PLAIN SERVER [PLAIN_ARGS...]: the wrapped file's events
# are the plain text's (read with --label=SERVER and PLAIN_ARGS), `ts` to the
# second (the envelope's milliseconds may be finer), exit 0, no warning.
same() {
  local name=$1 wrapped=$2 plain=$3 server=$4
  shift 4
  "$P" "$wrapped" >"$T/got" 2>"$T/err"; local rc=$?
  "$P" --label="$server" "$@" "$plain" >"$T/want" 2>/dev/null
  local norm='if .ts then .ts |= .[0:19] else . end'
  if [ $rc != 0 ] || [ -s "$T/err" ]; then
    not_ok "$name" "exit $rc, stderr: $(head -c 300 "$T/err")"
  elif ! diff <(jq -c "$norm" "$T/want") <(jq -c "$norm" "$T/got") >"$T/diff"; then
    not_ok "$name" "events differ: $(head -c 600 "$T/diff")"
  else
    ok "$name ($(wc -l <"$T/got") events)"
  fi
}

# --- the corpus
az=$C/saberknight35_PgSqlDiagnosticCollector/Sample_PostgresqlLogs-PT1H.json
if [ -f "$az" ]; then
  jq -r '.properties.message' "$az" >"$T/az.txt"
  same "Azure flexible server hour (PT1H.json)" "$az" "$T/az.txt" hsostaruatsea
  "$P" "$az" >"$T/az.nd" 2>/dev/null
  # Counted by hand in the file: 132 `connection received`, 131
  # `disconnection`, 2 `no pg_hba.conf entry`: 130 sessions, 2 refused.
  check "Azure hour: the file has 132 received, 131 disconnections, 2 no-hba lines" \
    "[ \"$(grep -c 'connection received' "$az") $(grep -c 'disconnection: session time' "$az") $(grep -c 'no pg_hba.conf entry' "$az")\" = '132 131 2' ]"
  counts=$(jq -r '.type + (if .reason then "/" + .reason else "" end)' "$T/az.nd" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
  check "Azure hour: 130 connects, 131 disconnects, 2 no_hba_entry rejects" \
    "[ '$counts' = 'connect=130 disconnect=131 reject/no_hba_entry=2 ' ]" "$counts"
  check "Azure hour: every event on hsostaruatsea, times with milliseconds" \
    "[ \"\$(jq -r '.server' '$T/az.nd' | sort -u)\" = hsostaruatsea ] && [ \$(jq -r '.ts' '$T/az.nd' | grep -vc '\\.[0-9]\\{3\\}Z$') = 0 ]"
  "$P" --input=azure --label=x "$az" >"$T/az2.nd" 2>/dev/null
  check "Azure hour: --input=azure reads it, --label wins" \
    "[ \"\$(jq -c 'del(.server)' '$T/az2.nd')\" = \"\$(jq -c 'del(.server)' '$T/az.nd')\" ] && [ \"\$(jq -r .server '$T/az2.nd' | sort -u)\" = x ]"
else
  not_ok "corpus" "no $az"
fi

bouncer=$C/saberknight35_PgSqlDiagnosticCollector/Sample_PgBouncerLogs-PT1H.json
"$P" "$bouncer" >"$T/out" 2>"$T/err"; rc=$?
# The same lines unwrapped, read as PgBouncer's own log of that server.
jq -r .log "$bouncer" | "$P" --input=pgbouncer --label=hsostarprodsearestore >"$T/plain" 2>/dev/null
check "Azure PgBouncer hour: its 491 records read as PgBouncer's log, nothing on stderr" \
  "[ $rc = 0 ] && [ ! -s '$T/err' ] && [ \$(jq -r .log '$bouncer' | wc -l) = 491 ]" "exit $rc: $(cat "$T/err")"
check "Azure PgBouncer hour: the events of its unwrapped lines, via pgbouncer, on its server" \
  "[ -s '$T/out' ] && cmp -s '$T/out' '$T/plain' && [ \"\$(jq -r '[.via, .server] | join(\" \")' '$T/out' | sort -u)\" = 'pgbouncer hsostarprodsearestore' ]" \
  "diff <(head -3 '$T/out') <(head -3 '$T/plain')"

recs=$C/pganalyze_collector/input_system_azure_logs_test.go.records.excerpt.json
# The unwrapped text: the line, or a single server's prefix + level +
# message with its two edits undone.
jq -r 'if (.properties.prefix // "") != "" then .properties.prefix + .properties.errorLevel + ":  " +
         (.properties.message | sub(" pid=[0-9]+$"; "") | sub("user=(?<u>[^ ]*?)database="; "user=\(.u) database="))
       else .properties.message end' "$recs" >"$T/recs.txt"
"$P" "$recs" >"$T/recs.nd" 2>"$T/err"
"$P" "$T/recs.txt" >"$T/recs.plain" 2>/dev/null
check "pganalyze's Azure records (pretty-printed, concatenated): the unwrapped text's events" \
  "[ -s '$T/recs.nd' ] && [ \"\$(jq -c 'del(.server)' '$T/recs.nd')\" = \"\$(jq -c 'del(.server)' '$T/recs.plain')\" ] && [ \"\$(jq -r .server '$T/recs.nd' | sort -u | tr '\n' ' ')\" = 'pganalyze-test-2 ' ] && [ ! -s '$T/err' ]" \
  "$(cat "$T/recs.nd" "$T/recs.plain" "$T/err")"

zcat "$C/darold_pgbadger/logplex.gz" >"$T/logplex.log"
sed -E 's/^\S+ (\S+ )?app\[postgres\.[0-9]+\]:? \[[A-Z0-9_]+\] \[[0-9]+-[0-9]+\] //' "$T/logplex.log" >"$T/logplex.txt"
"$P" "$T/logplex.log" >"$T/out" 2>"$T/err"; rc=$?
"$P" --prefix=' sql_error_code = %e ' "$T/logplex.txt" >"$T/out2" 2>"$T/err2"
check "Heroku logplex (pgBadger's fixture, both shapes): no connection lines, as its text" \
  "[ $rc = 0 ] && [ ! -s '$T/out' ] && [ ! -s '$T/out2' ] && grep -q 'no connection lines found in 36 lines' '$T/err' && [ \$(wc -l <'$T/err') = 1 ]" "$(cat "$T/err")"
"$P" --input=heroku "$T/logplex.log" >"$T/out" 2>"$T/err"; rc=$?
check "Heroku logplex, --input=heroku" "[ $rc = 0 ] && [ ! -s '$T/out' ] && ! grep -q warning '$T/err'" "$(cat "$T/err")"

frames=$C/pganalyze_collector/input_system_heroku_http_syslog_parser_test.go.frames.excerpt.log
"$P" "$frames" >"$T/out" 2>"$T/err"; rc=$?
check "Heroku HTTPS drain frames (pganalyze's): read, metrics skipped, no warning" \
  "[ $rc = 0 ] && [ ! -s '$T/out' ] && grep -q 'no connection lines found in 4 lines' '$T/err' && ! grep -q warning '$T/err'" "$(cat "$T/err")"

neon=$C/pganalyze_collector/input_system_selfhosted_otel_handler_test.go.neon.excerpt.log
sed -E 's/^<[0-9]+>1 ([^ ]+ ){5}(\[[^]]*\]|-) *\[[0-9-]+\] //' "$neon" >"$T/neon.txt"
same "Neon RFC 5424 frame (pganalyze's)" "$neon" "$T/neon.txt" e

# --- the golden envelopes: each by name, and their unwrapped text
for pair in azure:azure_storage azure:azure_event_hub cloudwatch:cloudwatch_tail cloudwatch:cloudwatch_tail_short \
  cloudwatch:cloudwatch_filter cloudwatch:cloudwatch_subscription heroku:heroku_logs heroku:heroku_syslog_drain \
  heroku:heroku_https_drain rfc5424:rfc5424_neon rfc5424:rfc5424_rsyslog; do
  input=${pair%%:*} name=${pair#*:}
  "$P" --input="$input" "$G/$name.log" >"$T/out" 2>/dev/null; rc=$?
  check "--input=$input reads $name.log as auto does" "[ $rc = 0 ] && cmp -s '$T/out' '$G/$name.ndjson'"
done
sed -E 's/^\S+ mydb\.0 //' "$G/cloudwatch_tail.log" >"$T/cw.txt"
same "aws logs tail: the RDS lines' events, ts and server from the envelope" "$G/cloudwatch_tail.log" "$T/cw.txt" mydb.0
jq -r '.logEvents[].message' "$G/cloudwatch_subscription.log" >"$T/cw2.txt" 2>/dev/null
same "subscription payloads: the messages' events" "$G/cloudwatch_subscription.log" "$T/cw2.txt" mydb.0
jq -r '.events[].message' "$G/cloudwatch_filter.log" >"$T/cw3.txt"
same "filter-log-events: the messages' events" "$G/cloudwatch_filter.log" "$T/cw3.txt" mydb.0
gzip -c "$G/cloudwatch_subscription.log" >"$T/payload.gz"
"$P" "$T/payload.gz" >"$T/out" 2>"$T/err"; rc=$?
check "a gzipped subscription payload file: the same events" \
  "[ $rc = 0 ] && [ ! -s '$T/err' ] && cmp -s '$T/out' '$G/cloudwatch_subscription.ndjson'" "exit $rc, $(head -c 200 "$T/err")"
"$P" --input=syslog "$G/cloudwatch_tail.log" >"$T/out" 2>/dev/null
check "a wrong --input reads nothing from an envelope" "[ ! -s '$T/out' ]"

# --- wrappers of the reference that no reader takes: no events, exit 0,
# one warning naming what was seen and the --input values.
wrappers=(
  'supabase-export|{"error_severity": "LOG", "event_message": "connection authorized: user=supabase_admin database=postgres application_name=postgres_exporter", "id": "c4d52ff4-2d95-4421-8cb0-1091a86ca92b", "identifier": "rrqefsxymripcvoabers", "timestamp": 1743826150236000}|Supabase'
  'supabase-array|[{"error_severity": "LOG", "event_message": "connection received: host=10.0.0.1 port=5432", "timestamp": 1743826150236000}]|JSON array'
  'supabase-drain|{"event_message":"connection authorized: user=app database=postgres","metadata":{"host":"db-abc","parsed":{"process_id":42,"error_severity":"LOG","timestamp":"2025-07-31 18:47:29.460 UTC"}},"timestamp":1753987649460000}|Supabase'
  'awslogs-lambda|{"awslogs":{"data":"H4sIAAAAAAAAAHWPwQqCQBCGX2WZs4K7q6t5Ey"}}|awslogs.data'
  'aiven-console|[pg-user-test-1]2023-01-11T23:58:46.010530[postgresql-14][14-1] pid=625,user=postgres,db=defaultdb,app=[unknown],client=[local] LOG: connection authorized: user=postgres database=defaultdb application_name=aiven-pruned|Aiven console'
  'snowflake-row|[10-1] [1593992][not initialized][][0] [user=[unknown],db=[unknown],app=[unknown]] [34.214.158.144] LOG: connection received: host=34.214.158.144 port=46114|without its header'
  'timescale-api|{"logs": ["2024-05-01 10:00:00.105 UTC [812] LOG:  connection received: host=[local]"], "entries": [{"timestamp": "2024-05-01T10:00:00.105Z", "message": "connection received: host=[local]", "severity": "LOG"}], "lastCursor": "x"}|keys "logs"'
  'render-json|{"timestamp": "2024-05-01T10:00:00.105Z", "message": "2024-05-01 10:00:00.105 UTC [812] LOG:  connection received: host=[local]", "labels": [{"name": "instance", "value": "srv-1"}]}|keys "timestamp"'
  'planetscale|{"_time": "2024-05-01T10:00:00.105Z", "_msg": "2024-05-01 10:00:00.105 UTC [812] LOG:  connection received: host=[local]", "planetscale.pod": "p-1"}|PlanetScale'
  'tembo-loki|{"streams":[{"stream":{"tembo_instance_id":"i"},"values":[["1714557600105000000","{\"logger\":\"postgres\",\"msg\":\"record\",\"record\":{\"message\":\"connection received: host=[local]\"}}"]]}]}|Loki'
  'log-analytics|[{"TimeGenerated": "2024-05-01T10:00:00.105Z", "Category": "PostgreSQLLogs", "Message": "2024-05-01 10:00:00 UTC-663212f0.32c-LOG:  connection received: host=10.0.0.5 port=5000"}]|JSON array'
  'unknown-json|{"host":"db1","line":"2024-05-01 10:00:00.105 UTC [812] LOG:  connection authorized: user=app database=shop application_name=psql"}|keys "host", "line"'
  'rfc5424-damaged|<134>1 2024-05-01 db1 postgres 812 - - [3-1] 2024-05-01 10:00:00.105 UTC [812] LOG:  connection received: host=[local]|RFC 5424'
)
for w in "${wrappers[@]}"; do
  IFS='|' read -r name text want <<<"$w"
  { printf '%s\n' "$text"; printf '%s\n' "$text"; cat "$G/debian.log"; } >"$T/w.log"
  "$P" "$T/w.log" >"$T/out" 2>"$T/err"; rc=$?
  check "unclaimed wrapper $name: no events, exit 0, one warning naming it" \
    "[ $rc = 0 ] && [ ! -s '$T/out' ] && [ \$(wc -l <'$T/err') = 1 ] && grep -qF 'unknown envelope: ' '$T/err' && grep -qF -- '$want' '$T/err' && grep -qF 'auto, stderr, csv, json, syslog, rfc5424, cnpg, gcp, journald, azure, cloudwatch, heroku or pgbouncer' '$T/err'" \
    "exit $rc, out: $(head -c 200 "$T/out") err: $(cat "$T/err")"
done

lib_done
