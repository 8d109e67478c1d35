#!/usr/bin/env bash
# e2e_lib_test.sh: tests/e2e/e2e.sh itself, the set-up every server suite
# shares. A fake suite sources it and passes, fails or dies; the checks look
# at what was kept where (PGCONN_E2E_KEEP, the failed-suite copy), what was
# removed, the background job stopped on exit, e2e_begin's refusals, the
# program paths and e2e_free_port. With a PostgreSQL server (not under
# PGCONN_SKIP_SERVER=1, e.g. make check): a cluster is stopped on exit and
# its log is kept with a failed suite's files. About 2 s (8 with a server).
# shellcheck disable=SC2016,SC2034  # single-quoted $vars: check conditions
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_tmpdir T fake
# The postgres OS user must reach the clusters made below it.
chmod 755 "$LIB_TMP" "$T"

cat >"$T/fake_test.sh" <<'EOF'
#!/usr/bin/env bash
# A server suite as e2e.sh expects one; MODE pass, fail or die; NEEDS for
# e2e_begin; PG=1 starts a cluster.
. "$E2E_SH"
e2e_begin ${NEEDS:-}
echo "$WORK" >"$OUT/work"
echo data >"$WORK/out.txt"
mkfifo "$WORK/fifo"
sleep 60 &
e2e_track bg $!
echo $! >"$OUT/sleep.pid"
e2e_free_port P1 && e2e_free_port P2 && echo "$P1 $P2" >"$OUT/ports"
echo "$PARSE|$AGG|$WATCH|$TAIL" >"$OUT/progs"
if [[ ${PG:-} == 1 ]]; then
  e2e_pg_init 5
  e2e_pg_start log_filename=t.log log_connections=on
  pgc_psql sock postgres postgres fake -c 'select 1' >/dev/null
  echo "$PGC_DIR $PGC_PM_PID" >"$OUT/pg"
fi
case ${MODE:-pass} in
  pass) ok "fine" ;;
  fail) not_ok "broken" "on purpose" ;;
  die) exit 3 ;;
esac
lib_done
EOF
chmod +x "$T/fake_test.sh"

# run NAME [VAR=VALUE...]: the fake suite in $T/NAME (its cwd), its stdout in
# $T/NAME/out, exit status in $T/NAME/rc; TMPDIR is $T/NAME/tmp, so a kept
# copy lands there. The programs' variables tests/run.sh exports are unset.
run() {
  local d=$T/$1
  shift
  mkdir -p "$d/tmp"
  chmod 755 "$d" "$d/tmp"
  (cd "$d" && env -u PGCONN_E2E_KEEP -u PGCONN_BIN -u PGCONN_PARSE -u PGCONN_AGG -u PGCONN_WATCH -u PGCONN_TAIL E2E_SH="$LIB_ROOT/tests/e2e/e2e.sh" OUT="$d" TMPDIR="$d/tmp" "$@" \
    "$T/fake_test.sh" >"$d/out" 2>"$d/err"; echo $? >"$d/rc")
}
kept() { compgen -G "$T/$1/tmp/pgconn-e2e-failed-fake_test.*"; }
# dead PID: no such process, or a zombie (nothing reaps a daemon here).
dead() { local s; ! read -r s 2>/dev/null <"/proc/$1/stat" || [[ ${s##*) } == Z* ]]; }
gone() { dead "$(cat "$1")"; }

run pass
check "a passing suite exits 0" '[[ $(<"$T/pass/rc") == 0 ]]' "$(cat "$T/pass/rc" "$T/pass/out" "$T/pass/err")"
check "... its WORK is removed" '[[ -s $T/pass/work && ! -e $(<"$T/pass/work") ]]' "$(cat "$T/pass/work")"
check "... nothing is kept" '! kept pass' "$(kept pass)"
check "... its background job was stopped on exit" 'gone "$T/pass/sleep.pid"'

run fail MODE=fail
d=$(kept fail)
check "a failing suite exits 1" '[[ $(<"$T/fail/rc") == 1 ]]' "$(cat "$T/fail/rc")"
check "... its files are kept in a new pgconn-e2e-failed-SUITE directory" '[[ -n $d && -f $d/out.txt ]]' "$(ls -R "$T/fail/tmp")"
check "... and a '# ' line names it" 'grep -qxF "# fake_test: its files are kept in $d" "$T/fail/out"' "$(cat "$T/fail/out")"
check "... a FIFO is kept as a FIFO" '[[ -p $d/fifo ]]'
check "... its WORK is removed" '[[ ! -e $(<"$T/fail/work") ]]'
check "... its background job was stopped on exit" 'gone "$T/fail/sleep.pid"'

run die MODE=die
check "a suite that dies (exit 3, no not ok) keeps its status" '[[ $(<"$T/die/rc") == 3 ]]' "$(cat "$T/die/rc")"
check "... and its files" '[[ -f $(kept die)/out.txt ]]' "$(ls -R "$T/die/tmp")"

run keep MODE=pass PGCONN_E2E_KEEP=kept-here
check "PGCONN_E2E_KEEP=DIR (relative to where the suite started): WORK copied into DIR" \
  '[[ -f $T/keep/kept-here/out.txt ]]' "$(ls -R "$T/keep")"
check "... and no failed-suite copy" '! kept keep'
run keepfail MODE=fail PGCONN_E2E_KEEP="$T/keepfail/k"
check "PGCONN_E2E_KEEP and a failure: DIR only" '[[ -f $T/keepfail/k/out.txt ]] && ! kept keepfail' "$(ls -R "$T/keepfail")"

run need NEEDS="jq no-such-command-here"
check_eq "e2e_begin: a missing command is fatal" "not ok - no-such-command-here installed: no-such-command-here is needed" \
  "$(cat "$T/need/out")"
check "... exit 1, nothing kept (nothing written)" '[[ $(<"$T/need/rc") == 1 ]] && ! kept need'
run needparse NEEDS=parse PGCONN_PARSE=/nonexistent/pgconn-parse
check_eq "e2e_begin: an unbuilt program is fatal" "not ok - pgconn-parse built: no executable /nonexistent/pgconn-parse (run make)" \
  "$(cat "$T/needparse/out")"

run bin PGCONN_BIN=build/x/bin PGCONN_TAIL=/opt/t
check_eq "the programs: PGCONN_BIN relative to the repository, PGCONN_TAIL as given" \
  "$LIB_ROOT/build/x/bin/pgconn-parse|$LIB_ROOT/build/x/bin/pgconn-agg|$LIB_ROOT/build/x/bin/pgconn-watch|/opt/t" \
  "$(cat "$T/bin/progs")"
read -r p1 p2 <"$T/pass/ports"
check "e2e_free_port: two different ports ($p1 $p2)" '[[ $p1 =~ ^[0-9]+$ && $p2 =~ ^[0-9]+$ && $p1 != "$p2" ]]'

if [[ ${PGCONN_SKIP_SERVER:-} == 1 ]] || ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  skip "a cluster stopped on exit, its log kept" "no PostgreSQL server here (or PGCONN_SKIP_SERVER=1)"
else
  run pgfail PG=1 MODE=fail
  read -r pgdir pm <"$T/pgfail/pg" 2>/dev/null
  d=$(kept pgfail)
  check "a failed suite's cluster: its log kept in pg-main/" \
    'grep -q "connection authorized: user=postgres database=postgres application_name=fake" "$d/pg-main/log/t.log"' \
    "$(cat "$T/pgfail/out" "$T/pgfail/err"; ls -R "$d")"
  check "... postmaster.out and initdb.out too, not the data directory" \
    '[[ -f $d/pg-main/postmaster.out && -f $d/pg-main/initdb.out && ! -e $d/pg-main/data ]]'
  check "... the server stopped and its directory removed" '[[ -n $pm ]] && dead "$pm" && [[ ! -e $pgdir ]]'
  run pgpass PG=1 MODE=pass
  read -r pgdir pm <"$T/pgpass/pg" 2>/dev/null
  check "a passing suite's cluster: stopped, removed, nothing kept" \
    '[[ $(<"$T/pgpass/rc") == 0 && -n $pm ]] && dead "$pm" && [[ ! -e $pgdir ]] && ! kept pgpass' \
    "$(cat "$T/pgpass/out" "$T/pgpass/err")"
fi
lib_done
