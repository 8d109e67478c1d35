#!/usr/bin/env bash
# tests/perf/bench.sh: the budgets of SPEC.md §7, measured (`make bench`).
#
# Generates (once, cached in build/bench/) a realistic stderr log of
# BENCH_LINES lines with build/gen-log and its ground truth, then measures on
# it: `LC_ALL=C grep -c connection`, pgconn-parse (best of BENCH_RUNS
# wall-clock runs, both writing into a pipe), pgBadger -j 1 (once), the
# peak RSS of pgconn-parse on the file and on a BENCH_BIG_LINES-line stream,
# and prints the budgets with PASS/FAIL and pgconn-parse's counts beside the
# ground truth and pgBadger's.
#
# Settings (environment; relative paths are taken from the current directory):
#   PGCONN_PARSE      the program to measure (default: bin/pgconn-parse)
#   PGCONN_PARSE_ARGS extra arguments for it, split on spaces (default: none)
#   PGCONN_AGG        pgconn-agg, measured on the events of the big stream when
#                     it exists (default: bin/pgconn-agg)
#   GEN_LOG           the generator (default: build/gen-log)
#   BENCH_LINES       lines in the measured log (default 1000000)
#   BENCH_BIG_LINES   lines in the memory stream (default 10000000, about 1 GB;
#                     0 skips it)
#   BENCH_PREFIX      default | debian | pgbadger (default: debian)
#   BENCH_SEED        generator seed (default 1)
#   BENCH_RUNS        timed runs of the fast programs, best kept (default 5)
#   BENCH_PGBADGER    1 run pgBadger (reusing the last result for the same
#                     log), fresh: always rerun, 0: skip (default 1)
#   BENCH_DIR         where logs and reports go (default: build/bench)
#   BENCH_STRICT      1: exit 1 when a budget fails (default 0)
#
# Adding a measurement: write a measure_* function that sets its variables,
# call it in the "measure" section, and print it with time_row/budget_row/
# count_row in the "report" section.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The absolute path of a setting: a bare name is looked up in PATH, a relative
# path is taken from the current directory; DEFAULT (in ROOT) when unset.
setting() {
  local value=$1 default=$2
  if [ -z "$value" ]; then printf '%s\n' "$ROOT/$default"; return; fi
  case $value in
    /*) printf '%s\n' "$value" ;;
    */*) printf '%s\n' "$PWD/$value" ;;
    *) command -v "$value" || printf '%s\n' "$PWD/$value" ;;
  esac
}

PARSE=$(setting "${PGCONN_PARSE:-}" bin/pgconn-parse)
read -r -a PARSE_ARGS <<<"${PGCONN_PARSE_ARGS:-}"
AGG=$(setting "${PGCONN_AGG:-}" bin/pgconn-agg)
GEN=$(setting "${GEN_LOG:-}" build/gen-log)
LINES=${BENCH_LINES:-1000000}
BIG_LINES=${BENCH_BIG_LINES:-10000000}
PREFIX_NAME=${BENCH_PREFIX:-debian}
SEED=${BENCH_SEED:-1}
RUNS=${BENCH_RUNS:-5}
PGBADGER_MODE=${BENCH_PGBADGER:-1}
DIR=$(setting "${BENCH_DIR:-}" build/bench)
GNU_TIME=/usr/bin/time
export LC_ALL=C

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
rel() { printf '%s\n' "${1#"$ROOT"/}"; }

# ---------------------------------------------------------------- checks

case $PREFIX_NAME in
  default) PG_PREFIX='%m [%p] ' ;;
  debian) PG_PREFIX='%m [%p] %q%u@%d ' ;;
  pgbadger) PG_PREFIX='%t [%p]: user=%u,db=%d,app=%a,client=%h ' ;;
  *) die "BENCH_PREFIX must be default, debian or pgbadger (got '$PREFIX_NAME')" ;;
esac
for v in LINES:BENCH_LINES BIG_LINES:BENCH_BIG_LINES SEED:BENCH_SEED RUNS:BENCH_RUNS; do
  var=${v%%:*}
  [[ ${!var} =~ ^[0-9]+$ ]] || die "${v#*:} must be a number (got '${!var}')"
done
[ "$RUNS" -ge 1 ] || die "BENCH_RUNS must be at least 1"
case $PGBADGER_MODE in 0 | 1 | fresh) ;; *) die "BENCH_PGBADGER must be 0, 1 or fresh" ;; esac

[ -x "$PARSE" ] || die "$(rel "$PARSE") is missing or not executable (run make in $ROOT, or set PGCONN_PARSE)"
[ -x "$GEN" ] || die "$(rel "$GEN") is missing (run: make -C $ROOT $(rel "$GEN"))"
for tool in grep awk sort cat sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is required but not installed"
done
[ -x "$GNU_TIME" ] && "$GNU_TIME" --version 2>&1 | grep -q GNU ||
  die "GNU time is required at $GNU_TIME (apt-get install time)"
if [ "$PGBADGER_MODE" != 0 ]; then
  command -v pgbadger >/dev/null ||
    die "pgbadger is not installed (apt-get install pgbadger), or set BENCH_PGBADGER=0 to skip it"
fi
[ -n "${EPOCHREALTIME:-}" ] || die "bash 5 or later is needed (EPOCHREALTIME)"
mkdir -p "$DIR"

# ---------------------------------------------------------------- helpers

# Wall-clock seconds of one run of "$@"; the command's own status is kept.
wall() {
  local t0=$EPOCHREALTIME rc=0
  "$@" || rc=$?
  WALL=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f", b - a }')
  return $rc
}
# Best (smallest) wall-clock time of RUNS runs of "$@", in $BEST.
best_of() {
  local i
  BEST=""
  for ((i = 0; i < RUNS; i++)); do
    wall "$@" || die "'$*' failed (exit $?)"
    BEST=$(awk -v a="$BEST" -v b="$WALL" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
  done
}
# A value from a "key value" truth file (the rest of the line).
truth_of() { awk -v k="$2" '$1 == k { sub(/^[^ ]+ /, ""); print; f = 1; exit } END { if (!f) print "-" }' "$1"; }
# A count from the parsed-events summary ("-" when absent, 0 when asked).
pc() { awk -v k="$1" -v d="${2:--}" '$1 == k { print $2; f = 1; exit } END { if (!f) print d }' "$PARSE_COUNTS"; }
calc() { awk "BEGIN { $1 }"; }
mb() { calc "printf \"%.1f MB\", $1 / 1048576"; }

# ---------------------------------------------------------------- measure

generate_log() {
  local gen_id
  gen_id=$(sha256sum "$GEN" | cut -c1-10)
  LOG=$DIR/log-$PREFIX_NAME-$LINES-s$SEED-$gen_id.log
  TRUTH=${LOG%.log}.truth
  if [ -s "$LOG" ] && [ -s "$TRUTH" ]; then
    note "using cached $(rel "$LOG")"
  else
    # Keep one cached log (and its pgBadger report) per prefix: about 110 MB each.
    rm -f "$DIR"/log-"$PREFIX_NAME"-*
    note "generating $(rel "$LOG") ($LINES lines)"
    wall "$GEN" --lines "$LINES" --seed "$SEED" --prefix "$PREFIX_NAME" --truth "$TRUTH.tmp" >"$LOG.tmp" ||
      die "gen-log failed"
    GEN_TIME=$WALL
    mv "$LOG.tmp" "$LOG"
    mv "$TRUTH.tmp" "$TRUTH"
  fi
  LOG_BYTES=$(stat -c %s "$LOG")
  LOG_LINES=$(truth_of "$TRUTH" lines)
  CONN_LINES=$(truth_of "$TRUTH" connection_lines)
  cat "$LOG" >/dev/null # into the page cache
}

run_grep() { grep -c connection "$LOG" | cat >/dev/null; }
run_parse() { "$PARSE" "${PARSE_ARGS[@]}" "$LOG" 2>/dev/null | cat >/dev/null; }

measure_grep() {
  note "grep, best of $RUNS"
  best_of run_grep
  GREP_TIME=$BEST
  GREP_COUNT=$(grep -c connection "$LOG" | cat)
}

measure_parse() {
  note "pgconn-parse, best of $RUNS"
  best_of run_parse
  PARSE_TIME=$BEST
  # One more run to keep its output and warnings, and its peak RSS.
  EVENTS=$DIR/parse.ndjson
  "$GNU_TIME" -f %M -o "$DIR/parse.rss" "$PARSE" "${PARSE_ARGS[@]}" "$LOG" 2>"$DIR/parse.stderr" |
    cat >"$EVENTS" || die "pgconn-parse failed on $(rel "$LOG"): $(tail -n 3 "$DIR/parse.stderr")"
  PARSE_RSS_KB=$(tail -n 1 "$DIR/parse.rss")
  count_events "$EVENTS" >"$DIR/parse.counts"
  PARSE_COUNTS=$DIR/parse.counts
}

# Counts of an event stream (SPEC §2), "key value" per line: type, type.reason,
# unmatched, and the peak of open sessions (events in time order, connect +1,
# matched disconnect -1, server shutdown/crash 0) with its time.
count_events() {
  local order=$DIR/peak.tmp
  awk -v order="$order" '
    {
      if (!match($0, /"type":"[a-z]+"/)) next
      t = substr($0, RSTART + 8, RLENGTH - 9); n[t]++
      if (match($0, /"reason":"[a-z_]+"/)) n[t "." substr($0, RSTART + 10, RLENGTH - 11)]++
      um = index($0, "\"matched\":false") > 0
      if (um) n["unmatched"]++
      ts = match($0, /"ts":"[^"]*"/) ? substr($0, RSTART + 6, RLENGTH - 7) : ""
      if (t == "connect") print ts "\t+" > order
      else if (t == "disconnect" && !um) print ts "\t-" > order
      else if (t == "server" && $0 ~ /"state":"(shutdown|crash)"/) print ts "\t0" > order
    }
    END { for (k in n) print k, n[k]; close(order) }' "$1"
  [ -e "$order" ] || : >"$order"
  sort -s -t "$(printf '\t')" -k1,1 "$order" | awk -F '\t' '
    $2 == "+" { if (++open > peak) { peak = open; at = $1 } }
    $2 == "-" { open-- }
    $2 == "0" { open = 0 }
    END { print "open_at_end", open + 0; print "peak_open", peak + 0; print "peak_time", (at == "" ? "-" : at) }'
  rm -f "$order"
}

# pgconn-parse's memory on a long stream; its events are kept for pgconn-agg.
measure_big_stream() {
  BIG_RSS_KB="" BIG_TIME="" BIG_BYTES="" BIG_EVENTS=""
  [ "$BIG_LINES" -gt 0 ] || return 0
  note "pgconn-parse on a $BIG_LINES-line stream from gen-log (memory)"
  local t0=$EPOCHREALTIME
  "$GEN" --lines "$BIG_LINES" --seed "$SEED" --prefix "$PREFIX_NAME" --truth "$DIR/big.truth" |
    "$GNU_TIME" -f %M -o "$DIR/big.rss" "$PARSE" "${PARSE_ARGS[@]}" 2>"$DIR/big.stderr" |
    cat >"$DIR/big.ndjson" ||
    die "the big stream failed: $(tail -n 3 "$DIR/big.stderr")"
  BIG_TIME=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  BIG_RSS_KB=$(tail -n 1 "$DIR/big.rss")
  BIG_BYTES=$(truth_of "$DIR/big.truth" bytes)
  BIG_EVENTS=$DIR/big.ndjson
  awk '{ if (match($0, /"type":"[a-z]+"/)) n[substr($0, RSTART + 8, RLENGTH - 9)]++ }
       END { for (k in n) print k, n[k] }' "$BIG_EVENTS" >"$DIR/big.counts"
}

# pgconn-agg's summary over the events of the big stream (or of the measured
# log): events/s, peak RSS, and its active count at the end.
run_agg() { "$AGG" "$AGG_EVENTS" | cat >/dev/null; }
measure_agg() {
  AGG_TIME="" AGG_RSS_KB="" AGG_ACTIVE="-" AGG_N=""
  [ -x "$AGG" ] || { note "no $(rel "$AGG"): pgconn-agg rows skipped"; return 0; }
  AGG_EVENTS=${BIG_EVENTS:-$EVENTS}
  AGG_N=$(wc -l <"$AGG_EVENTS")
  note "pgconn-agg, best of $RUNS"
  best_of run_agg
  AGG_TIME=$BEST
  "$GNU_TIME" -f %M -o "$DIR/agg.rss" "$AGG" "$AGG_EVENTS" 2>"$DIR/agg.stderr" | cat >/dev/null ||
    die "pgconn-agg failed: $(tail -n 3 "$DIR/agg.stderr")"
  AGG_RSS_KB=$(tail -n 1 "$DIR/agg.rss")
  # The active count of the measured log's events, to set beside the truth.
  AGG_ACTIVE=$("$AGG" --json "$EVENTS" 2>/dev/null | sed -n 's/.*"active":\([0-9]*\).*/\1/p' | tail -n 1)
  : "${AGG_ACTIVE:=-}"
}

measure_pgbadger() {
  PGB_TIME="" PGB_NOTE=""
  [ "$PGBADGER_MODE" != 0 ] || return 0
  PGB_OUT=${LOG%.log}.pgbadger.txt
  local timefile=${LOG%.log}.pgbadger.time
  if [ "$PGBADGER_MODE" = 1 ] && [ -s "$PGB_OUT" ] && [ -s "$timefile" ]; then
    PGB_TIME=$(cat "$timefile")
    PGB_NOTE="(cached run; BENCH_PGBADGER=fresh reruns it)"
    note "pgBadger: reusing $(rel "$PGB_OUT")"
    return 0
  fi
  note "pgBadger -j 1 (slow: a minute or more)"
  rm -f "$PGB_OUT" "$timefile"
  wall pgbadger -q -j 1 -f stderr -p "$PG_PREFIX" -x text -o "$PGB_OUT" --pid-dir "$DIR" \
    --no-process-info "$LOG" 2>"$DIR/pgbadger.stderr" ||
    die "pgbadger failed: $(tail -n 3 "$DIR/pgbadger.stderr")"
  PGB_TIME=$WALL
  echo "$PGB_TIME" >"$timefile"
}

# What pgBadger's text report says about connections and sessions.
pgbadger_counts() {
  PGB_CONNS="-" PGB_SESSIONS="-" PGB_PEAK="-"
  [ -n "$PGB_TIME" ] && [ -s "$PGB_OUT" ] || return 0
  PGB_CONNS=$(sed -n 's/.*Total number of connections: \([0-9,]*\).*/\1/p' "$PGB_OUT" | head -n 1 | tr -d ,)
  PGB_SESSIONS=$(sed -n 's/.*Total number of sessions: \([0-9,]*\).*/\1/p' "$PGB_OUT" | head -n 1 | tr -d ,)
  PGB_PEAK=$(sed -n 's/.*Session peak: \([0-9,]*\) sessions at \([0-9-]* [0-9:]*\).*/\1 (\2)/p' "$PGB_OUT" | head -n 1 | tr -d ,)
  : "${PGB_CONNS:=-}" "${PGB_SESSIONS:=-}" "${PGB_PEAK:=-}"
}

# ---------------------------------------------------------------- report

FAILS=0 PASSES=0 DIFFS=0
hr() { printf '%s\n' "------------------------------------------------------------------------------"; }
# time_row LABEL SECONDS: time, MB/s and lines/s on the measured log.
time_row() {
  if [ -z "$2" ]; then printf '  %-44s %s\n' "$1" "skipped"; return; fi
  calc "printf \"  %-44s %9.3f s %9.1f MB/s %7.2f M lines/s\n\", \"$1\", $2, $LOG_BYTES / 1e6 / $2, $LOG_LINES / 1e6 / $2"
}
# budget_row LABEL VALUE UNIT OP LIMIT: OP is <= or >= or <.
budget_row() {
  local label=$1 value=$2 unit=$3 op=$4 limit=$5 ok
  if [ -z "$value" ]; then printf '  %-44s %12s   %-8s %s\n' "$label" "-" "$op $limit$unit" "SKIPPED"; return; fi
  ok=$(calc "v = $value; l = $limit; print ((\"$op\" == \"<=\" && v <= l) || (\"$op\" == \">=\" && v >= l) || (\"$op\" == \"<\" && v < l)) ? \"PASS\" : \"FAIL\"")
  if [ "$ok" = PASS ]; then PASSES=$((PASSES + 1)); else FAILS=$((FAILS + 1)); fi
  printf '  %-44s %12s   %-8s %s\n' "$label" "$value$unit" "$op $limit$unit" "$ok"
}
# count_row LABEL TRUTH PARSED [PGBADGER]: marks a difference between the first two.
count_row() {
  local mark=""
  if [ "$2" != "$3" ]; then mark="  <-- differs"; DIFFS=$((DIFFS + 1)); fi
  printf '  %-36s %13s %13s %13s%s\n' "$1" "$2" "$3" "${4:-}" "$mark"
}

report() {
  local conn_pct grep_ratio pgb_ratio
  conn_pct=$(calc "printf \"%.1f\", 100 * $CONN_LINES / $LOG_LINES")
  echo
  echo "pgconn benchmark ($(nproc) CPUs, shared: best of $RUNS wall-clock runs; both write into a pipe)"
  echo "  log:    $(rel "$LOG")"
  echo "          $(mb "$LOG_BYTES"), $LOG_LINES lines, $conn_pct% connection lifecycle lines," \
    "prefix '$PG_PREFIX', seed $SEED"
  echo "  parser: $(rel "$PARSE") ${PARSE_ARGS[*]}"
  hr
  printf '  %-44s %11s %14s %17s\n' "program" "time" "throughput" "lines/s"
  time_row "LC_ALL=C grep -c connection FILE | cat" "$GREP_TIME"
  time_row "pgconn-parse FILE | cat" "$PARSE_TIME"
  time_row "pgbadger -j 1 -f stderr -x text FILE" "$PGB_TIME"
  [ -z "$PGB_NOTE" ] || printf '  %-44s %s\n' "" "$PGB_NOTE"
  if [ -n "$AGG_TIME" ]; then
    calc "printf \"  %-44s %9.3f s %9.2f M events/s (%d events)\n\", \"pgconn-agg EVENTS | cat\", $AGG_TIME, $AGG_N / 1e6 / $AGG_TIME, $AGG_N"
  fi
  hr
  grep_ratio=$(calc "printf \"%.2f\", $PARSE_TIME / $GREP_TIME")
  pgb_ratio=""
  [ -z "$PGB_TIME" ] || pgb_ratio=$(calc "printf \"%.0f\", $PGB_TIME / $PARSE_TIME")
  printf '  %-44s %12s   %-8s %s\n' "budget (SPEC §7)" "measured" "limit" "result"
  budget_row "pgconn-parse time / grep time" "$grep_ratio" "x" "<=" 3
  budget_row "pgconn-parse / pgBadger throughput" "$pgb_ratio" "x" ">=" 50
  budget_row "pgconn-parse peak RSS, $LOG_LINES-line file" \
    "$(calc "printf \"%.1f\", $PARSE_RSS_KB / 1024")" " MB" "<" 32
  if [ -n "$BIG_RSS_KB" ]; then
    budget_row "pgconn-parse peak RSS, $BIG_LINES-line stream" \
      "$(calc "printf \"%.1f\", $BIG_RSS_KB / 1024")" " MB" "<" 32
    printf '  %-44s %s\n' "" "(gen-log | pgconn-parse | cat: $(mb "$BIG_BYTES") in ${BIG_TIME} s)"
  fi
  local agg_rate=""
  [ -z "$AGG_TIME" ] || agg_rate=$(calc "printf \"%.2f\", $AGG_N / 1e6 / $AGG_TIME")
  budget_row "pgconn-agg events/s" "$agg_rate" "M" ">=" 2
  budget_row "pgconn-agg peak RSS${AGG_N:+, $AGG_N events}" \
    "$([ -z "$AGG_RSS_KB" ] || calc "printf \"%.1f\", $AGG_RSS_KB / 1024")" " MB" "<" 32
  hr
  printf '  %-36s %13s %13s %13s\n' "counts" "ground truth" "pgconn-parse" "pgBadger"
  local T=$TRUTH r
  count_row "connect" "$(truth_of "$T" connects)" "$(pc connect 0)" "$PGB_CONNS (a)"
  count_row "disconnect (with lost)" "$(truth_of "$T" disconnects)" "$(pc disconnect 0)" "$PGB_SESSIONS (b)"
  for r in terminated idle_timeout idle_in_transaction_timeout client_lost lost; do
    count_row "  reason $r" "$(truth_of "$T" "disconnect_$r")" "$(pc "disconnect.$r" 0)"
  done
  count_row "reject" "$(truth_of "$T" rejects)" "$(pc reject 0)"
  for r in too_many_clients reserved_slots role_limit db_limit auth_failed no_hba_entry hba_reject \
    no_database no_role login_not_allowed auth_timeout other; do
    count_row "  reason $r" "$(truth_of "$T" "reject_$r")" "$(pc "reject.$r" 0)"
  done
  # Reasons the parser gave that the truth does not have.
  while read -r k v; do
    case $k in reject.* | disconnect.*) ;; *) continue ;; esac
    r=${k#*.}
    case " too_many_clients reserved_slots role_limit db_limit auth_failed no_hba_entry hba_reject no_database no_role login_not_allowed auth_timeout other terminated idle_timeout idle_in_transaction_timeout client_lost lost " in
      *" $r "*) ;;
      *) count_row "  ${k%%.*} reason $r" 0 "$v" ;;
    esac
  done <"$PARSE_COUNTS"
  count_row "server events" "$(truth_of "$T" server_ready)" "$(pc server 0)"
  count_row "unmatched (matched:false)" 0 "$(pc unmatched 0)"
  count_row "open at end" "$(truth_of "$T" open_at_end)" "$(pc open_at_end)"
  count_row "  active (pgconn-agg --json)" "$(truth_of "$T" open_at_end)" "$AGG_ACTIVE"
  count_row "peak open sessions" "$(truth_of "$T" peak_open)" "$(pc peak_open)" "${PGB_PEAK%% *} (c)"
  local tp pp
  tp=$(truth_of "$T" peak_time)
  pp=$(pc peak_time | sed 's/T/ /; s/Z$/ UTC/')
  printf '  %-36s %s\n' "  at (truth)" "$tp"
  printf '  %-36s %s%s\n' "  at (pgconn-parse)" "$pp" "$([ "$tp" = "$pp" ] || echo "  <-- differs")"
  [ "$tp" = "$pp" ] || DIFFS=$((DIFFS + 1))
  [ "$PGB_PEAK" = "-" ] || printf '  %-36s %s\n' "  at (pgBadger)" "$(echo "$PGB_PEAK" | sed 's/^[0-9]* (//; s/)$//')"
  if [ -n "$BIG_RSS_KB" ]; then
    local t
    for t in connect disconnect reject; do
      local tk=${t}s
      count_row "$t, $BIG_LINES-line stream" "$(truth_of "$DIR/big.truth" "$tk")" \
        "$(awk -v k="$t" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$DIR/big.counts")"
    done
  fi
  echo "  (a) pgBadger: every \"connection authorized\", including those rejected right after it"
  echo "  (b) pgBadger: sessions = \"disconnection\" lines   (c) pgBadger's own session peak"
  echo "  grep -c connection counted $GREP_COUNT lines"
  if [ -s "$DIR/parse.stderr" ]; then
    echo "  pgconn-parse stderr:"
    sed 's/^/    /' "$DIR/parse.stderr" | head -n 5
  fi
  hr
  echo "  budgets: $PASSES PASS, $FAILS FAIL; counts differing from the ground truth: $DIFFS"
  echo "  files: $(rel "$DIR")/ (parse.ndjson, parse.counts, the pgBadger report, *.truth)"
}

generate_log
measure_grep
measure_parse
measure_big_stream
measure_agg
measure_pgbadger
pgbadger_counts
report
if [ "${BENCH_STRICT:-0}" = 1 ] && [ "$FAILS" -gt 0 ]; then exit 1; fi
exit 0
