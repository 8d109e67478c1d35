#!/usr/bin/env bash
# Makes the seed corpus of every fuzz target in DIR/<target>/ from the test
# data, so nothing generated is committed: the golden logs for the parse
# targets, the golden events (and a TSV form) for the decoder, prefixes
# with lines they read for the prefix matcher, option values for duration.
# Compressed golden logs (a first byte for the piece size, then the data)
# for the decompressors.
# Usage: fuzz/seeds.sh DIR
set -eu
cd "$(dirname "$0")/.."
out=$1
rm -rf "$out"
mkdir -p "$out"/{auto,stderr,csvlog,jsonlog,syslog,envelope,event,prefix,duration,decompress}

for log in tests/golden/*.log tests/sample/*.log; do
  name=$(basename "$log" .log)
  case $name in
    csvlog*) dirs="csvlog" ;;
    jsonlog*) dirs="jsonlog" ;;
    syslog*) dirs="syslog stderr" ;;  # a syslog body is a stderr line
    *) dirs="stderr" ;;
  esac
  for d in $dirs auto; do head -c 8192 "$log" > "$out/$d/$name"; done
  # envelope: the first byte picks the --input (envelope_fuzz.cpp).
  case $name in
    rfc5424*) sel=r ;;
    azure_*) sel=z ;;
    cloudwatch*) sel=c ;;
    heroku*) sel=h ;;
    *) sel= ;;
  esac
  if [ -n "$sel" ]; then
    { printf '%s' "$sel"; head -c 8192 "$log"; } > "$out/envelope/$name"
    { printf 'a'; head -c 8192 "$log"; } > "$out/envelope/auto-$name"
  fi
done

for events in tests/golden/*.ndjson; do
  head -c 4096 "$events" > "$out/event/$(basename "$events" .ndjson)"
done
printf '%s\n' \
  'type	ts	tz	pid	session	user	db	app	host	port	replication	duration_ms	reason	message	matched	state	server' \
  'connect	2024-05-01T10:00:00.123Z		812	6632134f.32c	app	shop	rails\tweb	10.0.0.5	50100					true		db1' \
  'disconnect	2024-05-01T10:05:00+02:00	CET	812		app	shop		[local]			300000	client_lost	\\x1b	false		' \
  > "$out/event/tsv"

# Prefixes: the ones golden tests pass with --prefix, and the common ones
# auto-detection knows, each followed by lines of a log written with it.
n=0
seed_prefix() {  # PREFIX LOG
  { printf '%s\n' "$1"; head -n 30 "$2"; } | head -c 4096 > "$out/prefix/p$n"
  n=$((n + 1))
}
for args in tests/golden/*.args; do
  prefix=$(sed -n 's/^--prefix=//p' "$args")
  [ -n "$prefix" ] && seed_prefix "$prefix" "${args%.args}.log"
done
seed_prefix '%m [%p] ' tests/golden/pg16.log
seed_prefix '%m [%p] %q%u@%d ' tests/golden/debian.log
seed_prefix '%t:%r:%u@%d:[%p]:' tests/golden/rds.log
seed_prefix '%t [%p]: user=%u,db=%d,app=%a,client=%h ' tests/golden/pgbadger.log
seed_prefix '%m [%p] %c %l %-10u %10d %e %x %v %i %b %L %Q %P %% %z ' tests/golden/lineno.log
seed_prefix '' tests/golden/pg96.log

# Option values: --bucket, --last, --interval, --by, --color, --input.
printf '15m\n60m\n2s\ndb,user,app\nauto\nauto\n' > "$out/duration/default"
printf '1h30m\n1d\n500ms\nhost,server\nnever\ncsvlog\n' > "$out/duration/mixed"
printf '90s\n90s\n1min\ndb\nalways\njson\n' > "$out/duration/equal"
printf '2d\n1099511627776ms\n0s\napp,app\nx\nsyslog\n' > "$out/duration/limits"

# Compressed logs, one and two members, for the decompressors: a byte that
# sets the piece size, then the data.
for log in tests/golden/debian.log tests/golden/pg16.log; do
  name=$(basename "$log" .log)
  for z in "gzip -c" "bzip2 -c" "xz -c" "zstd -q -c"; do
    { printf 'x'; $z <"$log"; } >"$out/decompress/$name.${z%% *}"
    { printf '\001'; head -n 5 "$log" | $z; tail -n +6 "$log" | $z; } >"$out/decompress/$name.${z%% *}.2"
  done
done
