#!/usr/bin/env bash
# Marker-first csvlog, jsonlog and stderr with %l (issue 15): pgconn-parse
# reads only the records that can matter (log_parser_scan.cpp) and orders
# them in the reorderer's sparse mode; its events must be byte-identical to
# the straightforward path (PGCONN_PARSE_REFERENCE=1: every line read in
# full, every numbered line ordered). Compared here on
#   - the bench generator's logs (tests/perf/gen_log.cpp) as csvlog, jsonlog
#     and with '%m [%p-%l] %q%u@%d ', several seeds, one of them large
#     (records cut at the reader's block boundaries);
#   - written records: multi-line statements whose quoted csv fields, json
#     strings and stderr continuation lines hold marker words, FATALs and
#     whole csvlog-looking lines,
#     sessions whose application name moves (`update` events come from
#     records without a marker; a stderr prefix with %l and %a too), many
#     of them (block boundaries again);
#   - a csvlog file that begins inside a multi-line record, read with
#     --input=auto and --input=csv;
#   - every log of the shared corpus (../shared/corpus, read at run time).
# Then a live csvlog stream through a pipe: a connection comes out while
# the input stays open.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LIB_ROOT" || exit 1
P=$PWD/${PGCONN_BIN:-bin}/pgconn-parse
GEN=${PGCONN_GEN_LOG:-$PWD/build/gen-log}
lib_tmpdir T marker_first
[ -x "$P" ] || fatal "pgconn-parse built" "no $P (run make)"
[ -x "$GEN" ] || fatal "gen-log built" "no $GEN (run make build/gen-log)"
small=${PGCONN_MARKER_LINES:-30000}
large=${PGCONN_MARKER_LARGE_LINES:-300000}
if [ -n "${PGCONN_SANITIZED:-}" ]; then small=8000 large=40000; fi

# same NAME FILE [ARGS...]: fast and reference events of FILE are the same bytes.
same() {
  local name=$1 file=$2
  shift 2
  "$P" "$@" "$file" >"$T/fast" 2>"$T/fast.err"
  local rc_fast=$?
  PGCONN_PARSE_REFERENCE=1 "$P" "$@" "$file" >"$T/ref" 2>"$T/ref.err"
  local rc_ref=$?
  if [ "$rc_fast" != "$rc_ref" ]; then
    not_ok "$name" "exit status $rc_fast, reference $rc_ref: $(head -n 2 "$T/fast.err")"
  elif cmp -s "$T/ref" "$T/fast"; then
    ok "$name ($(wc -l <"$T/ref") events)"
  else
    not_ok "$name" "events differ from the reference (- reference, + fast)"$'\n'"$(diff "$T/ref" "$T/fast" | head -n 20)"
  fi
}

# ---------------------------------------------------------------- generated logs
for seed in 3 7 29; do
  "$GEN" --lines "$small" --seed "$seed" --format=csvlog >"$T/g.csv"
  "$GEN" --lines "$small" --seed "$seed" --format=jsonlog >"$T/g.json"
  "$GEN" --lines "$small" --seed "$seed" --prefix=lnum >"$T/g.lnum"
  same "gen-log seed $seed csvlog" "$T/g.csv"
  same "gen-log seed $seed jsonlog" "$T/g.json"
  same "gen-log seed $seed %l prefix" "$T/g.lnum"
done
# Connection traffic only: most lines are lifecycle lines.
"$GEN" --lines "$small" --seed 5 --new-conn 0.5 --format=csvlog >"$T/g.csv"
same "gen-log busy csvlog" "$T/g.csv"
"$GEN" --lines "$large" --seed 2 --format=csvlog >"$T/big.csv"
"$GEN" --lines "$large" --seed 2 --format=jsonlog >"$T/big.json"
"$GEN" --lines "$large" --seed 2 --prefix=lnum >"$T/big.lnum"
same "gen-log large csvlog" "$T/big.csv"
check "gen-log large csvlog: no line out of order" "[ ! -s '$T/fast.err' ]" "$(head -n 2 "$T/fast.err")"
same "gen-log large jsonlog" "$T/big.json"
check "gen-log large jsonlog: no line out of order" "[ ! -s '$T/fast.err' ]" "$(head -n 2 "$T/fast.err")"
same "gen-log large %l prefix" "$T/big.lnum"
same "gen-log large csvlog through a pipe" /dev/stdin <"$T/big.csv"

# ---------------------------------------------------------------- written records
# Sessions of pids 5000-5499 (new session ids), each: received, authorized,
# a multi-line statement full of marker words, sometimes a SET of
# application_name and a statement (no marker) under the new name, a FATAL
# that refuses every 7th, the disconnection.
write_sessions() {  # FORMAT COUNT
  awk -v fmt="$1" -v n="$2" '
    function ts(ms,  s) { s = int(ms / 1000); return sprintf("2024-11-04 %02d:%02d:%02d.%03d UTC", 9 + int(s / 3600) % 12, int(s / 60) % 60, s % 60, ms % 1000) }
    function csvq(v) { gsub(/"/, "\"\"", v); return "\"" v "\"" }
    function jsq(v) { gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); gsub(/\n/, "\\n", v); gsub(/\t/, "\\t", v); return "\"" v "\"" }
    function rec(sev, msg, app, user, db, tag) {
      ms += 7; ++line
      if (fmt == "stderr") {  # --prefix "%m [%p-%l] %q%u@%d app=%a "
        m = msg; gsub(/\n/, "\n\t", m)
        printf "%s [%d-%d] %s%s\n", ts(ms), pid, line, user == "" ? "" : user "@" db " app=" (app == "" ? "[unknown]" : app) " ", sev ":  " m
      } else if (fmt == "csv") {
        printf "%s,%s,%s,%d,%s,%s,%d,%s,%s,,0,%s,00000,%s,,,,,,,,,%s,\"client backend\",,0\n", ts(ms), user == "" ? "" : csvq(user), db == "" ? "" : csvq(db), pid, csvq(host), sid, line, csvq(tag), ts(start), sev, csvq(msg), csvq(app)
      } else {
        printf "{\"timestamp\":%s", jsq(ts(ms))
        if (user != "") printf ",\"user\":%s", jsq(user)
        if (db != "") printf ",\"dbname\":%s", jsq(db)
        printf ",\"pid\":%d,\"remote_host\":\"10.1.%d.%d\",\"remote_port\":%d,\"session_id\":%s,\"line_num\":%d,\"ps\":%s,\"session_start\":%s,\"txid\":0,\"error_severity\":%s,\"message\":%s", pid, i % 200, i % 250, port, jsq(sid), line, jsq(tag), jsq(ts(start)), jsq(sev), jsq(msg)
        if (app != "") printf ",\"application_name\":%s", jsq(app)
        printf ",\"backend_type\":\"client backend\",\"query_id\":0}\n"
      }
    }
    BEGIN {
      for (i = 0; i < n; ++i) {
        pid = 5000 + i % 500; port = 40000 + i % 20000; start = ms
        sid = sprintf("%x.%x", 1730710800 + int(ms / 1000) + i, pid)
        host = sprintf("10.1.%d.%d:%d", i % 200, i % 250, port)
        line = 0; app = "app" (i % 3)
        rec("LOG", sprintf("connection received: host=10.1.%d.%d port=%d", i % 200, i % 250, port), "", "", "", "")
        rec("LOG", "connection authorized: user=u" (i % 5) " database=db application_name=" app, app, "u" (i % 5), "db", "authentication")
        if (i % 7 == 3) { rec("FATAL", "too many connections for role \"u" (i % 5) "\"", app, "u" (i % 5), "db", "authentication"); continue }
        stmt = "statement: SELECT $$ a \"quoted\" connection\nconnection received: host=10.9.9.9 port=1\n" ts(ms) ",\"u\",\"db\"," pid ",\"[local]\",1.1,1,,,,0,FATAL,28P01,\"password authentication failed\"\n\tFATAL:  terminating connection\ndisconnection: session time: 0:00:01.000 user=u database=db host=[local]\nshutdown server processes$$"
        rec("LOG", stmt, app, "u" (i % 5), "db", "SELECT")
        if (i % 4 == 1) {
          rec("LOG", "statement: SET application_name = \x27moved" i % 9 "\x27", app, "u" (i % 5), "db", "SET")
          app = "moved" (i % 9)
          rec("LOG", "duration: 0.042 ms", app, "u" (i % 5), "db", "SET")
        }
        if (i % 11 == 5) rec("LOG", "statement: SELECT 1", "", "u" (i % 5), "db", "SELECT")
        rec("LOG", sprintf("disconnection: session time: 0:00:00.%03d user=u%d database=db host=10.1.%d.%d port=%d", i % 1000, i % 5, i % 200, i % 250, port), app, "u" (i % 5), "db", "idle")
      }
    }'
}
write_sessions csv 20 >"$T/w.csv"
write_sessions json 20 >"$T/w.json"
same "written csvlog: markers inside quoted multi-line fields" "$T/w.csv"
check "written csvlog: update events from records without a marker" \
  "[ \"\$(grep -c '\"type\":\"update\"' '$T/fast')\" -ge 4 ]" "$(grep -c '"type":"update"' "$T/fast") update events"
check "written csvlog: no reject or disconnect read out of the statements" \
  "! grep -q '10.9.9.9\|28P01\|\"[local]\"' '$T/fast'"
same "written jsonlog: markers inside strings" "$T/w.json"
check "written jsonlog: update events from records without a marker" \
  "[ \"\$(grep -c '\"type\":\"update\"' '$T/fast')\" -ge 4 ]" "$(grep -c '"type":"update"' "$T/fast") update events"
write_sessions stderr 3000 >"$T/w.lnum"
same "written stderr with %l and %a: markers in continuation lines" "$T/w.lnum" --prefix '%m [%p-%l] %q%u@%d app=%a '
check "written stderr with %l and %a: update events from lines without a marker" \
  "[ \"\$(grep -c '\"type\":\"update\"' '$T/fast')\" -ge 100 ]" "$(grep -c '"type":"update"' "$T/fast") update events"
write_sessions csv 30000 >"$T/wbig.csv"
write_sessions json 30000 >"$T/wbig.json"
same "written csvlog, large (records cut at block boundaries)" "$T/wbig.csv"
same "written jsonlog, large" "$T/wbig.json"

# A csvlog file that begins inside a multi-line record: from the line after
# a statement's first one (auto-detection skips to the first record start;
# --input=csv reads the piece as a record of its own, as the reference does).
first=$(grep -n '^2024.*statement: SELECT' "$T/wbig.csv" | sed -n 3p | cut -d: -f1)
tail -n +"$((first + 1))" "$T/wbig.csv" >"$T/mid.csv"
same "csvlog beginning inside a record, --input=auto" "$T/mid.csv"
same "csvlog beginning inside a record, --input=csv" "$T/mid.csv" --input=csv
tail -n +"$((first + 2))" "$T/wbig.csv" >"$T/mid2.csv"
same "csvlog beginning inside a record at a csvlog-looking line, --input=csv" "$T/mid2.csv" --input=csv

# ---------------------------------------------------------------- the corpus
corpus=$LIB_ROOT/../shared/corpus
if [ -d "$corpus" ]; then
  n=0
  while IFS= read -r -d '' f; do
    case $f in *.md) continue ;; esac
    same "corpus ${f#"$corpus"/}" "$f"
    n=$((n + 1))
  done < <(find "$corpus" -type f -print0 | sort -z)
  check "corpus: logs compared" "[ $n -gt 20 ]" "only $n files in $corpus"
else
  skip "corpus" "no $corpus"
fi

# ---------------------------------------------------------------- live
# A connection on a csvlog stream that stays open comes out (held ~20 ms,
# then settled), and so does its disconnection.
mkfifo "$T/live.fifo"
"$P" --input=csv <"$T/live.fifo" >"$T/live.out" 2>"$T/live.err" &
lib_track_pid $!
exec 7>"$T/live.fifo"
head -n 2 "$T/w.csv" >&7
if wait_until 3 "grep -q '\"type\":\"connect\"' '$T/live.out'"; then
  ok "live csvlog: the connect comes out while the input stays open"
else
  not_ok "live csvlog: the connect comes out while the input stays open" "$(cat "$T/live.out" "$T/live.err")"
fi
last=$(grep -n '^2024.*"disconnection: session' "$T/w.csv" | head -n 1 | cut -d: -f1)
sed -n "3,${last}p" "$T/w.csv" >&7
if wait_until 3 "grep -q '\"type\":\"disconnect\"' '$T/live.out'"; then
  ok "live csvlog: the disconnect comes out after a multi-line record"
else
  not_ok "live csvlog: the disconnect comes out after a multi-line record" "$(cat "$T/live.out" "$T/live.err")"
fi
exec 7>&-
lib_done
