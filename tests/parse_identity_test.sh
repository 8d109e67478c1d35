#!/usr/bin/env bash
# issue 15: pgconn-parse's fast paths give the bytes of the straightforward
# one. On bench-like stderr logs (tests/perf/gen_log.cpp: several seeds and
# log_line_prefix values, Debian's and the default among them, and one with
# %l, whose lines go through the reorderer as read ahead) the events
# and the warnings of `pgconn-parse FILE` (a regular file: read and scanned
# ahead on a second thread, scan_ahead.hpp), of `cat FILE | pgconn-parse`
# (a pipe: the fast scan on one thread) and of PGCONN_PARSE_REFERENCE=1
# (every line read in full, one at a time, on one thread) must be
# byte-identical: also with CRLF line ends, a last line without '\n',
# lines that cross the reader's 64 KiB reads and the 256 KiB blocks read
# ahead, and a line longer than LineReader::kMaxLine (cut).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LIB_ROOT" || exit 1
P=$PWD/${PGCONN_BIN:-bin}/pgconn-parse
GEN=${PGCONN_GEN_LOG:-$PWD/build/gen-log}
lib_tmpdir T parse-identity

[ -x "$P" ] || fatal "pgconn-parse built" "no $P (run make)"
[ -x "$GEN" ] || fatal "gen-log built" "no $GEN (run make build/gen-log)"
lines=${PGCONN_IDENTITY_LINES:-200000}
[ -z "${PGCONN_SANITIZED:-}" ] || lines=30000

# same NAME FILE: the three paths agree on FILE, stdout and stderr.
same() {
  local name=$1 f=$2
  PGCONN_PARSE_REFERENCE=1 "$P" "$f" >"$T/ref.out" 2>"$T/ref.err"
  local ref_rc=$?
  "$P" "$f" >"$T/file.out" 2>"$T/file.err"
  local file_rc=$?
  cat "$f" | "$P" >"$T/pipe.out" 2>"$T/pipe.err"
  local pipe_rc=${PIPESTATUS[1]}
  # The input's name in the warnings: the file's own, or (stdin).
  sed "s|$f|(stdin)|g" "$T/ref.err" >"$T/ref-stdin.err"
  if [ ! -s "$T/ref.out" ]; then
    not_ok "$name: the reference path writes events" "none ($(head -c 200 "$T/ref.err"))"
    return
  fi
  check_file "$name: file read ahead = reference, events ($(wc -l <"$T/ref.out"))" "$T/ref.out" "$T/file.out"
  check_file "$name: file read ahead = reference, warnings ($(wc -l <"$T/ref.err"))" "$T/ref.err" "$T/file.err"
  check_file "$name: pipe = reference, events" "$T/ref.out" "$T/pipe.out"
  check_file "$name: pipe = reference, warnings" "$T/ref-stdin.err" "$T/pipe.err"
  check_eq "$name: exit status" "$ref_rc $ref_rc" "$file_rc $pipe_rc"
}

for spec in debian:1 debian:7 default:3 default:29 pgbadger:5 lnum:11; do
  prefix=${spec%%:*} seed=${spec#*:}
  "$GEN" --lines "$lines" --seed "$seed" --prefix="$prefix" >"$T/$prefix-$seed.log"
  same "$prefix prefix, seed $seed, $lines lines" "$T/$prefix-$seed.log"
done

base=$T/debian-1.log
# Bigger than several blocks read ahead, so every boundary is crossed
# (ScanAhead::kBlockBytes is 256 KiB).
size=$(wc -c <"$base")
check "the log spans many 256 KiB blocks" "[ $size -gt $((8 * 262144)) ]" "only $size bytes"

sed 's/$/\r/' "$base" >"$T/crlf.log"
same "CRLF line ends" "$T/crlf.log"

head -c -1 "$base" >"$T/no-newline.log"
printf '2024-03-01 23:59:59.999 UTC [4242] app@shop LOG:  connection received: host=10.0.0.1 port=1' >>"$T/no-newline.log"
same "a last line without newline" "$T/no-newline.log"

# Lines cut at the reader's boundaries: a connection line that ends exactly
# at 64 KiB and one that ends exactly at 256 KiB (its '\n' the last byte of
# a read or block), one that starts right after each, and one across
# 512 KiB; padding lines without markers in between.
python3 - "$base" "$T/edges.log" <<'EOF'
import sys
src = open(sys.argv[1], 'rb').read().split(b'\n')
out = bytearray()
line = b'2024-03-01 10:00:00.%03d UTC [%d] app@shop LOG:  connection received: host=10.0.0.9 port=%d'
def conn(i):
    return line % (i % 1000, 50000 + i, 40000 + i)
def pad_to(target, tail):
    # filler lines so that `tail` + '\n' ends exactly at `target`
    global out
    need = target - len(out) - len(tail) - 1
    while need > 200:
        filler = b'2024-03-01 10:00:00.000 UTC [7] LOG:  statement: SELECT ' + b'x' * 60
        out += filler + b'\n'
        need -= len(filler) + 1
    if need > 0:
        out += b'y' * (need - 1) + b'\n' if need > 1 else b'\n'
    out += tail + b'\n'
    assert len(out) == target, (len(out), target)
i = 0
for target in (65536, 3 * 65536, 262144, 4 * 262144):
    pad_to(target, conn(i)); i += 1
    out += conn(i) + b'\n'; i += 1
# a connection line across 512 KiB + 1 and 2 MiB + 3
for across in (1048576 + 65536 + 1, 2 * 1048576 + 3):
    l = conn(i); i += 1
    pad_to(across - len(l) // 2, b'z')
    out += l + b'\n'
    # a damaged connection line: a warning that names its line number
    out += b'2024-03-01 10:00 [damaged] connection received: host=10.0.0.1 port=1\n'
out += b'\n'.join(src[:20000]) + b'\n'
open(sys.argv[2], 'wb').write(out)
EOF
same "lines ending exactly at 64 KiB and 256 KiB, and across them" "$T/edges.log"

# A line longer than LineReader::kMaxLine (1 MiB), with a marker in its
# head and one after the cut: both paths cut it where LineReader does.
{
  head -n 3000 "$base"
  printf '2024-03-01 10:00:00.001 UTC [9] app@shop LOG:  statement: SELECT '
  head -c 1100000 /dev/zero | tr '\0' 'q'
  printf ' connection received: host=1.2.3.4 port=5\n'
  tail -n 3000 "$base"
} >"$T/long.log"
same "a line longer than 1 MiB" "$T/long.log"

lib_done
