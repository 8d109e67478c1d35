#!/usr/bin/env bash
# pgconn-tail against a real PostgreSQL server (tests/e2e/pgcluster.sh) with
# the logging collector on, in three layouts:
#
#   A. a data directory, the default time-based log_filename,
#      pg_rotate_logfile() several times while sessions open and close, and
#      log_rotation_size = 64kB rotating under load: `pgconn-tail --from-start
#      DATA` prints exactly the concatenation of every file the server wrote,
#      in order; `pgconn-tail DATA | pgconn-parse | pgconn-agg --json
#      --interval=200ms` shows pg_stat_activity's client backend count at
#      each checkpoint.
#   B. Debian's single file: renamed + pg_rotate_logfile() (the sessions
#      opened in between went to the renamed file), then logrotate itself
#      (postgresql-common's stanza: weekly, rotate 10, copytruncate,
#      delaycompress, compress; forced twice with -f and a temporary state
#      file) while a backend logs numbered lines: every numbered line the
#      files kept comes out once, in order; the session count is right; then
#      `--from-start` over the backlog (.gz files included) prints the files'
#      lines oldest first.
#   C. csvlog and jsonlog destinations of a data directory (--format): each
#      output is the concatenation of that format's files.
#
# Prints "ok - NAME" / "not ok - NAME: why". Environment: PGCONN_TAIL,
# PGCONN_PARSE, PGCONN_AGG (default bin/...); PGCONN_TIME_FACTOR (waits this
# many times as long); PGCONN_E2E_KEEP=DIR keeps the logs and the outputs
# (tests/e2e/e2e.sh).
set -u
# shellcheck source=e2e.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
e2e_begin parse agg tail jq logrotate
W=$WORK
factor=${PGCONN_TIME_FACTOR:-1}

# settled FILE WANT_FILE: waits (10 s) until FILE has as many lines as
# WANT_FILE (the follower caught up).
settled() {
  local i
  for ((i = 0; i < 500 * factor; i++)); do
    [ "$(wc -l <"$1")" -ge "$(wc -l <"$2")" ] && return 0
    sleep 0.02
  done
  return 1
}
# same NAME GOT WANT: the two files are equal.
same() { check_file "$1 ($(wc -l <"$3") lines)" "$3" "$2"; }
# checkpoint NAME: the live pipeline's latest record shows pg_stat_activity's count.
checkpoint() {
  local want got="" i
  want=$(pgc_client_count) || { not_ok "$1" "pg_stat_activity: $want"; return; }
  for ((i = 0; i < 100 * factor; i++)); do
    got=$(tail -n 1 "$W/agg.out" 2>/dev/null | jq -r .active 2>/dev/null)
    [ "$got" = "$want" ] && break
    sleep 0.05
  done
  check "$1: live pipeline shows $want sessions, as pg_stat_activity" "[ '$got' = '$want' ]" "pipeline $got, pg_stat_activity $want"
}
common=("log_line_prefix=%m [%p] " log_connections=on log_disconnections=on lc_messages=C)

e2e_pg_init 20
pgc_as_server mkdir -p "$PGC_DIR/logA" "$PGC_DIR/logB" "$PGC_DIR/logC"

# ------------------------------------------------------------ A
e2e_pg_start "${common[@]}" "log_directory=$PGC_DIR/logA" log_rotation_size=64 \
  'log_filename=postgresql-%Y-%m-%d_%H%M%S.log'
ok "PostgreSQL $(pgc_version) on port $PGC_PORT, logging collector on"
"$TAIL" --from-start "$PGC_DATA" >"$W/a.out" 2>"$W/a.err" &
e2e_track bg $!
mkfifo "$W/t.fifo" "$W/p.fifo"
"$TAIL" "$PGC_DATA" >"$W/t.fifo" 2>"$W/t.err" &
e2e_track bg $!
"$PARSE" <"$W/t.fifo" >"$W/p.fifo" 2>"$W/p.err" &
e2e_track bg $!
"$AGG" --json --interval=200ms <"$W/p.fifo" >"$W/agg.out" 2>"$W/agg.err" &
e2e_track bg $!
sleep 0.5
pgc_hold s1 sock postgres postgres app1 && pgc_hold s2 sock postgres postgres app2 &&
  pgc_hold s3 sock postgres postgres app3 || fatal "open sessions" "$(cat "$PGC_DIR"/hold/*.err)"
pgc_settle pgc_psql sock postgres postgres oneshot -c 'select 1' >/dev/null
checkpoint "A: three sessions open"
pgc_rotate; sleep 1.1
pgc_close s1; pgc_hold s4 sock postgres postgres app4
pgc_rotate; sleep 1.1
pgc_hold s5 sock postgres postgres app5; pgc_close s2
pgc_rotate
checkpoint "A: after three pg_rotate_logfile()"
# Under load: one backend logs 3,000 lines over about 4 s (64kB files),
# while sessions open and close.
pgc_psql sock postgres postgres loader -c \
  "do \$\$ begin for i in 1..3000 loop raise log 'load line % of 3000, padding padding padding', i; perform pg_sleep(0.001); end loop; end \$\$" >/dev/null &
loader=$!
sleep 0.5; pgc_close s3; pgc_hold s6 sock postgres postgres app6
sleep 0.5; pgc_hold s7 sock postgres postgres app7
wait "$loader"
checkpoint "A: after rotations under load"
files=$(ls "$PGC_DIR/logA" | wc -l)
check "A: the server wrote several files ($files)" "[ $files -ge 4 ]" "$(ls "$PGC_DIR/logA" | tr '\n' ' ')"
pgc_close_all
pgc_stop fast >/dev/null 2>&1
# Time-based names sort by time.
(cd "$PGC_DIR/logA" && cat $(ls)) >"$W/a.want"
settled "$W/a.out" "$W/a.want"
same "A: --from-start DATADIR printed every line of every file, in order" "$W/a.out" "$W/a.want"
check "A: nothing on stderr" "[ ! -s '$W/a.err' ] && [ ! -s '$W/t.err' ]" "$(cat "$W/a.err" "$W/t.err" | head -c 600)"
e2e_stop bg

# ------------------------------------------------------------ B
L=$PGC_DIR/logB/postgresql-15-main.log
pgc_start "${common[@]}" "log_directory=$PGC_DIR/logB" log_filename=postgresql-15-main.log \
  >"$W/start.out" 2>&1 || fatal "restart PostgreSQL" "$(tail -n 3 "$W/start.out")"
"$TAIL" --from-start "$L" >"$W/b.out" 2>"$W/b.err" &
e2e_track bg $!
pgc_hold b1 sock postgres postgres deb1
mv "$L" "$L.1"
pgc_hold b2 sock postgres postgres deb2; pgc_hold b3 sock postgres postgres deb3
pgc_hold b4 sock postgres postgres deb4
pgc_rotate
pgc_close b2
check "B: the sessions after the rename went to the renamed file" "[ \$(grep -c 'connection authorized' '$L.1') -ge 4 ]" "$(grep -c 'connection authorized' "$L.1") connection authorized lines"
e2e_logrotate_conf "$W/logrotate.conf" "$L"
pgc_psql sock postgres postgres marker -c \
  "do \$\$ begin for i in 1..2000 loop raise log 'mark %', i; perform pg_sleep(0.001); end loop; end \$\$" >/dev/null &
loader=$!
sleep 0.7; logrotate -f -s "$W/logrotate.state" "$W/logrotate.conf" 2>"$W/logrotate.err"
pgc_hold b5 sock postgres postgres deb5
sleep 0.7; logrotate -f -s "$W/logrotate.state" "$W/logrotate.conf" 2>>"$W/logrotate.err"
wait "$loader"
pgc_close b3
want=$(pgc_client_count)
ls "$PGC_DIR/logB" >"$W/b.files"
check "B: logrotate rotated twice (.1, .2.gz, .3.gz)" "[ -e '$L.1' ] && [ -e '$L.2.gz' ] && [ -e '$L.3.gz' ]" "$(cat "$W/b.files" "$W/logrotate.err" | tr '\n' ' ')"
(zcat "$L.3.gz" "$L.2.gz"; cat "$L.1" "$L") >"$W/b.disk"
for ((i = 0; i < 250 * factor; i++)); do
  grep -q 'mark 2000$' "$W/b.out" && [ "$(grep -c 'disconnection' "$W/b.out")" -ge "$(grep -c 'disconnection' "$W/b.disk")" ] && break
  sleep 0.02
done
sleep 0.2
grep -o 'mark [0-9]*$' "$W/b.out" >"$W/b.marks"
grep -o 'mark [0-9]*$' "$W/b.disk" >"$W/b.disk.marks"
lost=$(comm -13 <(sort "$W/b.marks") <(sort "$W/b.disk.marks") | wc -l)
twice=$(sort "$W/b.marks" | uniq -d | wc -l)
check "B: every numbered line the files kept came out once, in order ($(wc -l <"$W/b.marks") of 2000; the files kept $(wc -l <"$W/b.disk.marks"))" \
  "[ $lost = 0 ] && [ $twice = 0 ] && sort -k2,2n -c '$W/b.marks'" "$lost lost, $twice twice"
got=$("$PARSE" <"$W/b.out" 2>/dev/null | "$AGG" --json | jq .active)
check "B: pgconn-parse | pgconn-agg on its output: $want sessions, as pg_stat_activity" "[ '$got' = '$want' ]" "got $got"
e2e_stop bg
timeout 5 "$TAIL" --from-start "$L" >"$W/b2.out" 2>"$W/b2.err"
same "B: --from-start over .3.gz .2.gz .1 and the live file" "$W/b2.out" "$W/b.disk"
pgc_close_all
pgc_stop fast >/dev/null 2>&1

# ------------------------------------------------------------ C
pgc_start "${common[@]}" "log_directory=$PGC_DIR/logC" log_destination=stderr,csvlog,jsonlog \
  'log_filename=postgresql-%Y-%m-%d_%H%M%S.log' >"$W/start.out" 2>&1 ||
  fatal "restart PostgreSQL with csvlog and jsonlog" "$(tail -n 3 "$W/start.out")"
for f in csvlog jsonlog; do
  "$TAIL" --from-start --format=$f "$PGC_DATA" >"$W/c.$f" 2>"$W/c.$f.err" &
  e2e_track bg $!
done
sleep 0.3
pgc_hold c1 sock postgres postgres csv1; pgc_hold c2 sock postgres postgres csv2
# Names have whole seconds: a rotation within the second of the last one
# appends to the same file.
sleep 1.1; pgc_rotate; sleep 1.1
pgc_close c1; pgc_hold c3 sock postgres postgres csv3
pgc_rotate; sleep 1.1
pgc_close c2
want=$(pgc_client_count)
pgc_close_all
pgc_stop fast >/dev/null 2>&1
(cd "$PGC_DIR/logC" && cat $(ls ./*.csv)) >"$W/c.csvlog.want"
(cd "$PGC_DIR/logC" && cat $(ls ./*.json)) >"$W/c.jsonlog.want"
for f in csvlog jsonlog; do
  settled "$W/c.$f" "$W/c.$f.want"
  same "C: --format=$f DATADIR: every $f file, in order" "$W/c.$f" "$W/c.$f.want"
done
n=$(ls "$PGC_DIR/logC"/*.csv | wc -l)
check "C: three csvlog files" "[ $n -ge 3 ]" "$(ls "$PGC_DIR/logC" | tr '\n' ' ')"
# The control sessions (pg_rotate_logfile, the count) connect too: 3 + 3.
got=$("$PARSE" <"$W/c.jsonlog" 2>/dev/null | "$AGG" --json | jq -c '[.connects, .disconnects]' 2>/dev/null)
check "C: the jsonlog stream has every session (connects, disconnects: $got)" "[ '$got' = '[6,6]' ]" "$got"

lib_done
