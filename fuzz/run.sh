#!/usr/bin/env bash
# Runs each fuzz target in turn (one process: the machine is shared) for
# FUZZ_SECONDS on BUILD/seeds/<target> and the corpus it grew before
# (BUILD/corpus/<target>), then prints one row per target: seconds,
# executions (libFuzzer's stat::number_of_executed_units) and the result.
# A finding is saved under BUILD/artifacts/<target>/; the log of each run
# is BUILD/<target>.log. Exits 1 when any target found something.
# Usage: FUZZ_SECONDS=120 fuzz/run.sh BUILD TARGET...
set -u
build=$1
shift
seconds=${FUZZ_SECONDS:-120}
rows=() found=0 total_s=0 total_execs=0
for t in "$@"; do
  case $t in
    duration) max_len=256 ;;
    prefix|event) max_len=4096 ;;
    *) max_len=8192 ;;
  esac
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
  echo "== $t: ${seconds}s"
  start=$(date +%s)
  "$build/${t}_fuzz" "$build/corpus/$t" "$build/seeds/$t" \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" > "$build/$t.log" 2>&1
  rc=$?
  took=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$t.log" | tail -n 1)
  result=ok
  if [ $rc -ne 0 ]; then
    found=1
    result="FOUND: $(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|fuzz invariant|ERROR: libFuzzer' "$build/$t.log" | cut -c1-90)"
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$build/$t.log" | tail -n 1)
    [ -n "$artifact" ] && result="$result ($artifact)"
  fi
  rows+=("$(printf '%-10s %6ss %12s  %s' "$t" "$took" "${execs:-?}" "$result")")
  total_s=$((total_s + took)) total_execs=$((total_execs + ${execs:-0}))
done

echo
printf '%-10s %7s %12s  %s\n' target time executions result
printf '%s\n' "${rows[@]}"
printf '%-10s %6ss %12s\n' total "$total_s" "$total_execs"
exit $found
