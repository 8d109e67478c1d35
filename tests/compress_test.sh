#!/usr/bin/env bash
# Compressed input (issue 13 part 1): gzip, bzip2, xz and zstd files and
# standard input, told by their magic bytes, read by pgconn-parse, -agg and
# -watch. The compressed files are made here, from tests/golden/*.log, with
# the formats' own command-line tools (Makefile DEB_PKGS: gzip is essential,
# bzip2, xz-utils, zstd). Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
P=$PARSE A=$AGG W=$WATCH
T=$LIB_TMP
for tool in gzip bzip2 xz zstd jq; do
  command -v $tool >/dev/null || fatal "compress: $tool" "not installed (see DEB_PKGS)"
done

# compress FORMAT [OPTIONS]: stdin to stdout with the format's tool.
compress() {
  local f=$1
  shift
  case $f in
    gz) gzip -c "$@" ;;
    bz2) bzip2 -c "$@" ;;
    xz) xz -c "$@" ;;
    zst) zstd -q -c "$@" ;;
  esac
}
name_of() { case $1 in gz) echo gzip ;; bz2) echo bzip2 ;; xz) echo xz ;; zst) echo zstd ;; esac; }
FORMATS="gz bz2 xz zst"

# --- golden files, compressed at test time: exactly the log's events
for log in debian pg16 pg17 jsonlog csvlog24; do
  for f in $FORMATS; do
    z=$T/$log.log.$f
    compress $f <tests/golden/$log.log >"$z"
    $P "$z" >"$T/out" 2>"$T/err"; rc=$?
    check "golden $log.log.$f" "[ $rc = 0 ] && cmp -s '$T/out' tests/golden/$log.ndjson && [ ! -s '$T/err' ]" \
      "exit $rc, $(head -c 300 "$T/err"; diff "$T/out" tests/golden/$log.ndjson | head -5)"
  done
done
# The name does not matter: the bytes do.
cp "$T/debian.log.xz" "$T/renamed.log"
$P "$T/renamed.log" >"$T/out" 2>"$T/err"
check "an xz file named .log is read as xz" "cmp -s '$T/out' tests/golden/debian.ndjson"
cp tests/golden/debian.log "$T/plain.gz"
$P "$T/plain.gz" >"$T/out" 2>"$T/err"; rc=$?
check "a text file named .gz is read as text" "[ $rc = 0 ] && cmp -s '$T/out' tests/golden/debian.ndjson"

# --- standard input, and '-' among the files
for f in $FORMATS; do
  $P <"$T/debian.log.$f" >"$T/out" 2>"$T/err"; rc=$?
  check "$f on stdin (a file)" "[ $rc = 0 ] && cmp -s '$T/out' tests/golden/debian.ndjson && [ ! -s '$T/err' ]"
  cat "$T/debian.log.$f" | $P >"$T/out" 2>"$T/err"; rc=$?
  check "$f on stdin (a pipe)" "[ $rc = 0 ] && cmp -s '$T/out' tests/golden/debian.ndjson && [ ! -s '$T/err' ]"
done
# Bytes coming in pieces: the detection waits for enough of them.
(head -c 2 "$T/pg16.log.zst"; sleep 0.2; head -c 64 "$T/pg16.log.zst" | tail -c +3; sleep 0.2
 tail -c +65 "$T/pg16.log.zst") | $P >"$T/out" 2>"$T/err"; rc=$?
check "zstd on a pipe that pauses inside the magic and the data" \
  "[ $rc = 0 ] && cmp -s '$T/out' tests/golden/pg16.ndjson" "exit $rc: $(cat "$T/err")"
(printf 'BZ'; cat tests/golden/pg16.log) >"$T/bz_text.log"
(printf 'BZ'; sleep 0.2; tail -c +3 "$T/bz_text.log") | $P >"$T/out" 2>"$T/err"; rc=$?
$P "$T/bz_text.log" >"$T/out2" 2>/dev/null
check "a pipe that pauses after 'BZ' of a text" "[ $rc = 0 ] && cmp -s '$T/out' '$T/out2'"
$P tests/golden/debian.log tests/golden/pg16.log tests/golden/pg17.log >"$T/want" 2>/dev/null
$P "$T/debian.log.gz" - "$T/pg17.log.zst" <"$T/pg16.log.bz2" >"$T/out" 2>"$T/err"; rc=$?
check "'-' among compressed files is stdin, in its place" "[ $rc = 0 ] && cmp -s '$T/out' '$T/want'"
cat "$T/pg16.log.xz" | $P tests/golden/debian.log - "$T/pg17.log.gz" >"$T/out" 2>"$T/err"; rc=$?
check "'-' with xz from a pipe between a plain and a gzip file" "[ $rc = 0 ] && cmp -s '$T/out' '$T/want'"

# --- concatenated members and frames
head -n 40 tests/golden/debian.log >"$T/part1"
tail -n +41 tests/golden/debian.log >"$T/part2"
for f in $FORMATS; do
  { compress $f <"$T/part1"; compress $f <"$T/part2"; } >"$T/multi.$f"
  $P "$T/multi.$f" >"$T/out" 2>"$T/err"; rc=$?
  check "$f: two concatenated streams are one log" \
    "[ $rc = 0 ] && cmp -s '$T/out' tests/golden/debian.ndjson && [ ! -s '$T/err' ]" "$(cat "$T/err")"
done
# What `gzip -c a >>f; gzip -c b >>f` makes, read from a pipe.
: >"$T/appended.gz"
gzip -c "$T/part1" >>"$T/appended.gz"
gzip -c "$T/part2" >>"$T/appended.gz"
cat "$T/appended.gz" | $P >"$T/out" 2>"$T/err"; rc=$?
check "multi-member gzip on a pipe" "[ $rc = 0 ] && cmp -s '$T/out' tests/golden/debian.ndjson"
: | gzip -c >"$T/empty.gz"
$P "$T/empty.gz" >"$T/out" 2>"$T/err"; rc=$?
check "a gzip of nothing: no events, no error" "[ $rc = 0 ] && [ ! -s '$T/out' ] && [ ! -s '$T/err' ]" "$(cat "$T/err")"
: >"$T/zero.gz"
$P "$T/zero.gz" >"$T/out" 2>"$T/err"; rc=$?
check "an empty file named .gz: no events, no error" "[ $rc = 0 ] && [ ! -s '$T/out' ] && [ ! -s '$T/err' ]"

# --- damaged and truncated files
# A bigger log, so that damage in the middle leaves a good part before it:
# 3000 sessions, one every 100 ms.
awk 'BEGIN {
  for (i = 0; i < 3000; i++) {
    s = int(i / 10); ms = (i % 10) * 100
    t = sprintf("2024-05-01 %02d:%02d:%02d", 10 + int(s / 3600), int(s / 60) % 60, s % 60)
    pid = 10000 + i; host = "10.0." int(i / 250) "." (i % 250); port = 40000 + i
    printf "%s.%03d UTC [%d] LOG:  connection received: host=%s port=%d\n", t, ms, pid, host, port
    printf "%s.%03d UTC [%d] LOG:  connection authorized: user=u%d database=db%d application_name=app%d\n", t, ms + 1, pid, i % 13, i % 7, i % 5
    printf "%s.%03d UTC [%d] LOG:  statement: SELECT %d FROM t%d WHERE k = %d\n", t, ms + 2, pid, i * 7919 % 1000, i % 17, i * 104729 % 99991
    printf "%s.%03d UTC [%d] LOG:  disconnection: session time: 0:00:00.050 user=u%d database=db%d host=%s port=%d\n", t, ms + 50, pid, i % 13, i % 7, host, port
  }
}' >"$T/big.log"
$P "$T/big.log" >"$T/big.ndjson" 2>/dev/null
$P tests/golden/pg16.log | jq -c 'del(.session)' >"$T/pg16.nosession"
n_pg16=$(wc -l <tests/golden/pg16.ndjson)
n_big=$(wc -l <"$T/big.ndjson")
check "the big log has 6000 events" "[ $n_big = 6000 ]" "$n_big"

# damage_check LABEL FILE MESSAGE_RE: FILE then pg16.log; one error line
# naming FILE, exit 1, the events before the damage kept, pg16's events after.
damage_check() {
  local label=$1 file=$2 re=$3
  $P "$file" tests/golden/pg16.log >"$T/out" 2>"$T/err"; rc=$?
  local n mine
  n=$(wc -l <"$T/out")
  mine=$((n - n_pg16))
  check "$label: exit 1" "[ $rc = 1 ]" "exit $rc"
  check "$label: one error line naming the file" \
    "[ \$(grep -c '^pgconn-parse: $file: ' '$T/err') = 1 ] && grep -Eqx 'pgconn-parse: $file: $re' '$T/err'" "$(cat "$T/err")"
  check "$label: the events before it are kept" \
    "[ $mine -ge 1000 ] && [ $mine -lt $n_big ] && cmp -s <(head -n 1000 '$T/out') <(head -n 1000 '$T/big.ndjson')" \
    "$mine events of the file"
  check "$label: the next file is still read" \
    "cmp -s <(tail -n $n_pg16 '$T/out' | jq -c 'del(.session)') '$T/pg16.nosession'"
}
for f in $FORMATS; do
  opt=""
  [ $f = bz2 ] && opt=-1  # 100 kB blocks: the damage is not in the first
  compress $f $opt <"$T/big.log" >"$T/whole.$f"
  size=$(stat -c %s "$T/whole.$f")
  head -c $((size / 2)) "$T/whole.$f" >"$T/cut.log.$f"
  damage_check "truncated $f" "$T/cut.log.$f" "$(name_of $f) data is truncated"
  cp "$T/whole.$f" "$T/bad.log.$f"
  # 64 bytes of garbage in the middle.
  head -c 64 /dev/zero | tr '\0' '\125' |
    dd of="$T/bad.log.$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
  damage_check "damaged $f" "$T/bad.log.$f" "$(name_of $f) data is damaged(: .*)?"
done
# The last partial line of a truncated file is read like that of a plain file.
head -c 300 "$T/big.log" >"$T/partial.log"
gzip -c "$T/partial.log" | head -c $(($(gzip -c "$T/partial.log" | wc -c) - 4)) >"$T/partial.log.gz"
$P "$T/partial.log" >"$T/want" 2>/dev/null
$P "$T/partial.log.gz" >"$T/out" 2>"$T/err"; rc=$?
check "truncated gzip: the text's last partial line is read as in a plain file" \
  "[ $rc = 1 ] && cmp -s '$T/out' '$T/want' && grep -qx 'pgconn-parse: $T/partial.log.gz: gzip data is truncated' '$T/err'"
{ cat "$T/debian.log.gz"; echo junk; } >"$T/junk.gz"
$P "$T/junk.gz" >"$T/out" 2>"$T/err"; rc=$?
check "trailing garbage: all the events, one error, exit 1" \
  "[ $rc = 1 ] && cmp -s '$T/out' tests/golden/debian.ndjson && [ \"\$(cat '$T/err')\" = 'pgconn-parse: $T/junk.gz: trailing garbage after gzip data' ]" "$(cat "$T/err")"
cat "$T/cut.log.gz" | $P >"$T/out" 2>"$T/err"; rc=$?
check "truncated gzip on stdin: named (stdin)" \
  "[ $rc = 1 ] && grep -qx 'pgconn-parse: (stdin): gzip data is truncated' '$T/err'" "$(cat "$T/err")"

# --- text that starts like a magic
# ("BZh91AY&SY" in ASCII is bzip2's header itself: bzip2(1) would take a
# text starting so for bzip2 too. One byte less, or another digit, is text.)
for first in "BZh91AY&SX, nearly bzip2's first ten bytes" "BZh9 a text line" "BZh" \
  "$(printf '\037\213') gzip's first two bytes" "$(printf '(\265/') nearly zstd"; do
  { echo "$first"; cat tests/golden/debian.log; } >"$T/bzh.log"
  $P "$T/bzh.log" >"$T/out" 2>"$T/err"; rc=$?
  check "a text file starting with '$first' is text" \
    "[ $rc = 0 ] && cmp -s '$T/out' tests/golden/debian.ndjson" "exit $rc: $(cat "$T/err")"
  cat "$T/bzh.log" | $P >"$T/out" 2>"$T/err"; rc=$?
  check "... and on a pipe" "[ $rc = 0 ] && cmp -s '$T/out' tests/golden/debian.ndjson"
done
printf 'BZh' | $P >"$T/out" 2>"$T/err"; rc=$?
check "three bytes 'BZh' on a pipe: text, no error" "[ $rc = 0 ] && ! grep -q bzip2 '$T/err'" "$(cat "$T/err")"

# --- no wrong hint for a compressed log read correctly
$P "$T/debian.log.gz" >/dev/null 2>"$T/err"
check "issue_13: no log_connections hint for a gzipped log" "[ ! -s '$T/err' ]" "$(cat "$T/err")"

# --- pgconn-agg and pgconn-watch read compressed event files too
gzip -c tests/golden/debian.ndjson >"$T/events.gz"
zstd -q -c tests/golden/debian.ndjson >"$T/events.zst"
$A --json tests/golden/debian.ndjson >"$T/want" 2>/dev/null
$A --json "$T/events.gz" >"$T/out" 2>"$T/err"; rc=$?
check "pgconn-agg reads gzipped events" "[ $rc = 0 ] && cmp -s '$T/out' '$T/want'" "$(cat "$T/err")"
$A --json <"$T/events.zst" >"$T/out" 2>"$T/err"; rc=$?
check "pgconn-agg reads zstd events on stdin" "[ $rc = 0 ] && cmp -s '$T/out' '$T/want'"
$W --color=never tests/golden/debian.ndjson >"$T/want" 2>/dev/null
$W --color=never "$T/events.gz" >"$T/out" 2>"$T/err"; rc=$?
check "pgconn-watch reads gzipped events" "[ $rc = 0 ] && cmp -s '$T/out' '$T/want'"
head -c 200 "$T/events.gz" >"$T/events_cut.gz"
$A "$T/events_cut.gz" >/dev/null 2>"$T/err"; rc=$?
check "pgconn-agg: a truncated file is an error, exit 1" \
  "[ $rc = 1 ] && grep -qx 'pgconn-agg: $T/events_cut.gz: gzip data is truncated' '$T/err'" "$(cat "$T/err")"

# --- stopping early: | head ends a compressed read at once
$P "$T/whole.gz" "$T/whole.gz" "$T/whole.gz" 2>"$T/err" | head -n 1 >"$T/out"; rc=${PIPESTATUS[0]}
check "| head -1 on a gzipped log: exit 0, quietly" "[ $rc = 0 ] && [ \$(wc -l <'$T/out') = 1 ] && [ ! -s '$T/err' ]" "exit $rc: $(cat "$T/err")"

lib_done
