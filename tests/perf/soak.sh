#!/usr/bin/env bash
# soak.sh: a long run of `pgconn-parse | pgconn-agg` (SPEC.md §7: "resident
# memory of each program flat (under 32 MB)"), not part of make test.
#
# build/gen-log writes a log of almost only connection traffic (--new-conn 1:
# about 36% of its lines become events) straight into the pipe, so no file
# is kept; pgconn-agg prints a JSON record every 10 s, with --durations on
# every dimension. Every SOAK_SAMPLE
# seconds the resident memory (VmRSS in /proc/PID/status) of both programs
# is sampled. At the end it prints, for each, the RSS after the warm-up, in
# the middle, at the end and the peak (VmHWM), and the events per second,
# and exits 1 if a program failed or its memory grew: the end more than 10%
# (and 1 MB) over the middle, or a peak of 32 MB or more. The middle, not
# the start: gen-log's fleet (about 21,000 name combinations among the
# connects and twice as many among the rejects, which carry fewer names)
# keeps bringing new names for the first ~10 M events, until pgconn-agg's
# cap of name combinations; memory that grows with them is bounded by the
# caps, memory that still grows in the second half is a leak.
#
# Settings (environment):
#   SOAK_EVENTS   events to stream, at least (default 50000000)
#   SOAK_SAMPLE   seconds between samples (default 5)
#   SOAK_WARMUP   seconds before the first sample that counts (default 10)
#   GEN_LOG       the generator (default build/gen-log)
#   PGCONN_BIN    the programs' directory (default bin; or PGCONN_PARSE,
#                 PGCONN_AGG: tests/lib.sh)
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
EVENTS=${SOAK_EVENTS:-50000000}
SAMPLE=${SOAK_SAMPLE:-5}
WARMUP=${SOAK_WARMUP:-10}
GEN=${GEN_LOG:-build/gen-log}
for p in "$GEN" "$PARSE" "$AGG"; do
  [ -x "$p" ] || { echo "soak: no executable $p (run make all $GEN)" >&2; exit 1; }
done
# gen-log --new-conn 1: 0.36 events per line, measured; 0.35 leaves a margin.
LINES=$((EVENTS * 100 / 35))

T=$LIB_TMP

mkfifo "$T/log" "$T/events"
# pgconn-agg with everything that keeps state per name: --durations on every
# dimension (a histogram per name) and --longest.
AGG_OPTS=(--json --interval=10s --durations --by=db,user,app,host,server --longest=10)
echo "soak: $EVENTS events (gen-log --lines $LINES --new-conn 1) through pgconn-parse | pgconn-agg ${AGG_OPTS[*]}"
start_ms=$(now_ms)
"$GEN" --lines "$LINES" --new-conn 1 --seed 7 >"$T/log" &
GEN_PID=$!
# "-" (stdin): a command line no one else's `pkill -f '^bin/pgconn-parse$'` matches.
"$PARSE" - <"$T/log" >"$T/events" 2>"$T/parse.err" &
PARSE_PID=$!
"$AGG" "${AGG_OPTS[@]}" - <"$T/events" >"$T/agg.out" 2>"$T/agg.err" &
AGG_PID=$!
lib_track_pid "$GEN_PID"; lib_track_pid "$PARSE_PID"; lib_track_pid "$AGG_PID"

# kB of a /proc/PID/status field, or nothing once the process is gone.
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
: >"$T/samples"  # seconds parse_rss_kb agg_rss_kb
PARSE_HWM=0 AGG_HWM=0
while kill -0 "$AGG_PID" 2>/dev/null; do
  sleep "$SAMPLE"
  t=$((($(now_ms) - start_ms) / 1000))
  p=$(status_kb "$PARSE_PID" VmRSS) a=$(status_kb "$AGG_PID" VmRSS)
  h=$(status_kb "$PARSE_PID" VmHWM); [ -n "$h" ] && PARSE_HWM=$h
  h=$(status_kb "$AGG_PID" VmHWM); [ -n "$h" ] && AGG_HWM=$h
  [ -n "$p" ] && [ -n "$a" ] && echo "$t $p $a" >>"$T/samples"
  last=$(tail -n 1 "$T/agg.out" 2>/dev/null)
  [ -n "$last" ] && [ $((t % 60)) -lt "$SAMPLE" ] &&
    echo "  ${t} s: $(echo "$last" | jq -r '"\(.connects) connects, \(.disconnects) disconnects, \(.active) active"' 2>/dev/null)"
done
wait "$GEN_PID"; gen_rc=$?
wait "$PARSE_PID"; parse_rc=$?
wait "$AGG_PID"; agg_rc=$?
elapsed_ms=$(($(now_ms) - start_ms))

failed=0
if [ $gen_rc != 0 ] || [ $parse_rc != 0 ] || [ $agg_rc != 0 ]; then
  echo "soak: exit statuses gen-log $gen_rc, pgconn-parse $parse_rc, pgconn-agg $agg_rc"
  failed=1
fi
[ -s "$T/parse.err" ] && { echo "pgconn-parse said:"; sed 's/^/  /' "$T/parse.err"; }
[ -s "$T/agg.err" ] && { echo "pgconn-agg said:"; sed 's/^/  /' "$T/agg.err"; }
final=$(tail -n 1 "$T/agg.out")
n=$(echo "$final" | jq '.connects + .disconnects + ([.rejects[]] | add // 0)' 2>/dev/null)
if [ -z "$n" ]; then
  echo "soak: no final record from pgconn-agg"
  exit 1
fi
[ "$n" -ge "$EVENTS" ] || { echo "soak: only $n events reached pgconn-agg"; failed=1; }

echo
echo "$(echo "$final" | jq -r '"\(.connects) connects, \(.disconnects) disconnects, \([.rejects[]] | add // 0) rejects, \(.active) active at the end"')"
awk -v n="$n" -v ms="$elapsed_ms" 'BEGIN { printf "%d events in %.0f s: %.0f events/s through the pipeline\n", n, ms / 1000, n / (ms / 1000) }'
# The curve: the first sample after the warm-up, the middle one, the last,
# and the peak; then about 30 samples, in MB.
awk -v warm="$WARMUP" -v phwm="$PARSE_HWM" -v ahwm="$AGG_HWM" '
  BEGIN { n = 0 }
  $1 >= warm { t[n] = $1; p[n] = $2; a[n] = $3; n++ }
  END {
    if (n == 0) { print "soak: no sample after the warm-up (a shorter SOAK_SAMPLE?)"; exit 1 }
    m = int((n - 1) / 2)
    printf "\nresident memory (MB)  %8s %8s %8s %8s\n", "start", "middle", "end", "peak"
    printf "                      %7ds %7ds %7ds %8s\n", t[0], t[m], t[n - 1], "VmHWM"
    printf "  pgconn-parse        %8.1f %8.1f %8.1f %8.1f\n", p[0] / 1024, p[m] / 1024, p[n - 1] / 1024, phwm / 1024
    printf "  pgconn-agg          %8.1f %8.1f %8.1f %8.1f\n", a[0] / 1024, a[m] / 1024, a[n - 1] / 1024, ahwm / 1024
    bad = 0
    if (p[n - 1] > p[m] * 1.1 && p[n - 1] > p[m] + 1024) { print "soak: pgconn-parse grew in the second half"; bad = 1 }
    if (a[n - 1] > a[m] * 1.1 && a[n - 1] > a[m] + 1024) { print "soak: pgconn-agg grew in the second half"; bad = 1 }
    if (phwm >= 32768 || ahwm >= 32768) { print "soak: a peak of 32 MB or more"; bad = 1 }
    step = int((n + 29) / 30)  # about 30 rows
    printf "\nthe curve, every %d s (pgconn-parse / pgconn-agg, MB):\n", step * '"$SAMPLE"'
    for (i = 0; i < n; i += step) printf "  %5ds %6.1f / %6.1f\n", t[i], p[i] / 1024, a[i] / 1024
    exit bad
  }' "$T/samples" || failed=1
[ $failed = 0 ] && echo "soak: ok, memory flat" || echo "soak: FAILED"
exit $failed
