#!/usr/bin/env bash
# pgbouncer_speed_identity_test.sh: the fast ways of reading a PgBouncer log
# give the same bytes as the straightforward one (issue 17's speed work: the
# line reader's model of the line before (PgbouncerFormat::parse, which
# PGCONN_PARSE_REFERENCE=1 does not use), the pooler tracker's in-place
# events and socket keys, the encoders writing straight into the output
# buffer). Not a timing test.
#
# For generated busy-pooler logs (tests/perf/gen_pgbouncer_log.awk, several
# seeds) and every log of ../shared/corpus/pgbouncer/: pgconn-parse's events
# equal those of PGCONN_PARSE_REFERENCE=1 (one line at a time, one thread),
# as NDJSON and as TSV; the file read in place equals the file read from a
# pipe in small writes; the TSV and the NDJSON carry the same events
# (pgconn-agg reads both); and the generated logs' events are as many as
# the generator's ground truth says.
# Prints "ok - NAME" / "not ok - NAME: why"; exits 1 when any failed.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LIB_ROOT" || exit 1
P=$PWD/${PGCONN_BIN:-bin}/pgconn-parse
[ -x "$P" ] || fatal "pgconn-parse built" "no $P (run make)"
command -v jq >/dev/null || { skip "pgbouncer speed identity" "no jq"; exit 0; }
lib_tmpdir T pgb-identity
lines=${PGCONN_IDENTITY_LINES:-40000}
[ -z "${PGCONN_SANITIZED:-}" ] || lines=8000

# same NAME FILE: fast and reference, JSON and TSV, file and pipe.
same() {
  local name=$1 file=$2
  "$P" "$file" >"$T/fast.json" 2>/dev/null
  PGCONN_PARSE_REFERENCE=1 "$P" "$file" >"$T/ref.json" 2>/dev/null
  check_file "$name: NDJSON as the reference path's" "$T/ref.json" "$T/fast.json"
  # Named, the input is read ahead from its first block (auto-detection
  # reads the lines of the first one itself).
  "$P" --input=pgbouncer "$file" >"$T/named.json" 2>/dev/null
  PGCONN_PARSE_REFERENCE=1 "$P" --input=pgbouncer "$file" >"$T/ref-named.json" 2>/dev/null
  check_file "$name: NDJSON of --input=pgbouncer as the reference path's" "$T/ref-named.json" "$T/named.json"
  # Warnings of the PgBouncer reader. (A file that auto-detection reads as
  # stderr, achanda's compose-prefixed mix, goes through the stderr fast
  # scan, which reports fewer malformed lines than the reference path.)
  "$P" --input=pgbouncer "$file" 2>"$T/fast.err" >/dev/null
  PGCONN_PARSE_REFERENCE=1 "$P" --input=pgbouncer "$file" 2>"$T/ref.err" >/dev/null
  check_file "$name: warnings as the reference path's" "$T/ref.err" "$T/fast.err"
  "$P" --format=tsv "$file" >"$T/fast.tsv" 2>/dev/null
  PGCONN_PARSE_REFERENCE=1 "$P" --format=tsv "$file" >"$T/ref.tsv" 2>/dev/null
  check_file "$name: TSV as the reference path's" "$T/ref.tsv" "$T/fast.tsv"
  # A pipe that delivers the log in pieces cut anywhere (dd: 4 KiB reads).
  dd if="$file" bs=4093 status=none | "$P" --input=pgbouncer >"$T/pipe.json" 2>/dev/null
  "$P" --input=pgbouncer "$file" >"$T/file.json" 2>/dev/null
  check_file "$name: read from a pipe as from the file" "$T/file.json" "$T/pipe.json"
  # The two encodings of one stream: pgconn-agg --json counts them alike.
  local a b
  a=$("${P%-parse}-agg" --json <"$T/fast.json" 2>/dev/null | jq -c 'del(.window) | del(.now)' 2>/dev/null | tail -n 1)
  b=$("${P%-parse}-agg" --json <"$T/fast.tsv" 2>/dev/null | jq -c 'del(.window) | del(.now)' 2>/dev/null | tail -n 1)
  check_eq "$name: the TSV holds the NDJSON's events (pgconn-agg --json)" "$a" "$b"
}

for seed in 1 2 3; do
  log=$T/gen-$seed.log
  awk -v lines="$lines" -v seed="$seed" -f tests/perf/gen_pgbouncer_log.awk >"$log" 2>"$T/truth-$seed"
  same "generated, seed $seed" "$log"
  for t in connect reject disconnect; do
    want=$(awk -v k="${t}s" '$1 == k { print $2 }' "$T/truth-$seed")
    got=$(grep -c "\"type\":\"$t\"" "$T/fast.json")
    # Sessions open at the end settle into connects; the truth counts them.
    check_eq "generated, seed $seed: ${t}s as the generator's truth" "$want" "$got"
  done
done

# Names that need escapes, long and short fields (the encoders' 16-byte
# copies and their fallbacks): quotes, backslashes, control bytes, invalid
# UTF-8 and multi-byte UTF-8 at and around 16 bytes.
printf '%s\n' \
  '2026-12-04 08:00:00.001 UTC [77] LOG C-0x1: db"x/us\er@10.0.0.1:5000 login attempt: db=db"x user=us\er tls=no' \
  '2026-12-04 08:00:00.002 UTC [77] LOG C-0x2: abcdefghijklmno/abcdefghijklmnop@10.0.0.2:5001 login attempt: db=abcdefghijklmno user=abcdefghijklmnop tls=no' \
  '2026-12-04 08:00:00.003 UTC [77] LOG C-0x3: abcdefghijklmn"/abcdefghijklmnopq@10.0.0.3:5002 login attempt: db=abcdefghijklmn" user=abcdefghijklmnopq tls=no' \
  "2026-12-04 08:00:00.004 UTC [77] LOG C-0x4: d$(printf '\001')b/$(printf '\303\251\377')u@[2001:db8::1]:5003 login attempt: db=d$(printf '\001')b user=$(printf '\303\251\377')u tls=no" \
  '2026-12-04 08:00:00.005 UTC [77] LOG C-0x5: db/user@unix(4242):6432 login attempt: db=db user=user tls=no' \
  '2026-12-04 08:00:00.006 UTC [77] LOG C-0x1: db"x/us\er@10.0.0.1:5000 closing because: client close request (age=0s)' \
  '2026-12-04 08:00:00.007 UTC [77] LOG C-0x2: abcdefghijklmno/abcdefghijklmnop@10.0.0.2:5001 closing because: client unexpected eof (age=0s)' \
  '2026-12-04 08:00:00.008 UTC [77] LOG C-0xABC: db/user@10.0.0.9:5009 closing because: no more connections allowed (max_client_conn) (age=0s)' \
  '2026-12-04 08:00:00.009 UTC [77] LOG C-0x0003: db/user@10.0.0.3:5002 closing because: client close request (age=0s)' \
  >"$T/odd.log"
same "names with escapes" "$T/odd.log"
check "names with escapes: every line is JSON" "jq -e . '$T/fast.json' >/dev/null"
check_eq "names with escapes: the names as jq reads them" \
  'db"x us\er|abcdefghijklmno abcdefghijklmnop|abcdefghijklmn" abcdefghijklmnopq|d'$'\001''b é�u|db user' \
  "$(jq -r 'select(.type == "connect") | .db + " " + .user' "$T/fast.json" | paste -sd '|')"
check_eq "names with escapes: a pointer written another way is another client" \
  "connect connect connect connect connect disconnect disconnect reject disconnect" \
  "$(jq -r .type "$T/fast.json" | paste -sd ' ')"

# The names of a client's events: an application named by an earlier line
# of the client (a verbose log's DEBUG line), long names, a replication
# login, a Unix socket.
long=$(printf 'n%.0s' $(seq 90))
printf '%s\n' \
  '2026-12-04 08:00:00.001 UTC [77] DEBUG C-0x1: (nodb)/(nouser)@10.0.0.1:5000 using application_name: billing-worker' \
  '2026-12-04 08:00:00.002 UTC [77] LOG C-0x1: shop/app@10.0.0.1:5000 login attempt: db=shop user=app tls=no' \
  "2026-12-04 08:00:00.003 UTC [77] LOG C-0x2: $long/$long@10.0.0.2:5001 login attempt: db=$long user=$long tls=no" \
  '2026-12-04 08:00:00.004 UTC [77] LOG C-0x3: shop/repl@10.0.0.3:5002 login attempt: db=shop user=repl tls=no replication=yes' \
  '2026-12-04 08:00:00.005 UTC [77] LOG C-0x4: (nodb)/(nouser)@unix(4242):6432 login attempt: db=shop user=app tls=no' \
  '2026-12-04 08:00:02.001 UTC [77] LOG C-0x1: shop/app@10.0.0.1:5000 closing because: client close request (age=2s)' \
  "2026-12-04 08:00:02.002 UTC [77] LOG C-0x2: $long/$long@10.0.0.2:5001 closing because: client close request (age=2s)" \
  '2026-12-04 08:00:02.003 UTC [77] LOG C-0x3: shop/repl@10.0.0.3:5002 closing because: client close request (age=2s)' \
  '2026-12-04 08:00:02.004 UTC [77] LOG C-0x4: (nodb)/(nouser)@unix(4242):6432 closing because: client close request (age=2s)' \
  >"$T/names.log"
same "client names" "$T/names.log"
check_eq "client names: app, long names, replication, [local]" \
  "billing-worker shop app 10.0.0.1 5000 false| $long $long 10.0.0.2 5001 false| shop repl 10.0.0.3 5002 true| shop app [local]  false" \
  "$(jq -r 'select(.type == "disconnect") | "\(.app // "") \(.db) \(.user) \(.host) \(.port // "") \(.replication // false)"' "$T/named.json" | paste -sd '|')"

corpus=../shared/corpus/pgbouncer
if [ -d "$corpus" ]; then
  while IFS= read -r f; do
    zcat -f "$f" >"$T/corpus.log"
    same "corpus ${f#"$corpus"/}" "$T/corpus.log"
  done < <(find "$corpus" -type f | sort)
else
  skip "pgbouncer corpus" "no $corpus"
fi
lib_done
