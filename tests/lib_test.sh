#!/usr/bin/env bash
# lib_test.sh: tests/lib.sh itself. Each case writes a small suite that
# sources lib.sh, runs it as its own bash process and checks what it printed,
# its exit status and what it left behind: temporary directories removed on
# exit (copied under PGCONN_KEEP when set, made in a subshell too), failures
# giving exit 1, check_eq/check_file diffs, within's time limit, wait_until,
# wait_for_text, tracked pids and groups killed, lib_on_exit order, the
# programs' paths, on_pty.
#
# Prints `ok - NAME` / `not ok - NAME: why`; exits 1 if any check failed.
# About 3 s; needs python3 (on_pty).
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh

# suite NAME BODY: writes $LIB_TMP/NAME.sh, which sources lib.sh and then
# runs BODY.
suite() {
  printf '. %q\n%s\n' "$LIB_ROOT/tests/lib.sh" "$2" >"$LIB_TMP/$1.sh"
}
# run NAME [ENV...]: runs suite NAME; its stdout in $LIB_TMP/NAME.out, its
# exit status in $rc.
run() {
  local name=$1; shift
  env "$@" bash "$LIB_TMP/$name.sh" >"$LIB_TMP/$name.out" 2>"$LIB_TMP/$name.err"
  rc=$?
}
out() { cat "$LIB_TMP/$1.out"; }

# --- temporary directories
suite tmp '
lib_tmpdir A work
lib_tmpdir B work
( lib_tmpdir C sub; echo made-in-subshell >"$C/f" ) &
wait
echo a >"$A/f"; echo top >"$LIB_TMP/top"
echo "$LIB_TMP $A $B"'
run tmp
read -r t a b <"$LIB_TMP/tmp.out"
check "lib_tmpdir: exit 0, no error" "[ $rc = 0 ] && [ ! -s '$LIB_TMP/tmp.err' ]" "rc $rc, $(head -3 "$LIB_TMP/tmp.err")"
check "lib_tmpdir: below \$LIB_TMP, named by tag, a second one gets .2" \
  "[ '$a' = '$t/work' ] && [ '$b' = '$t/work.2' ]" "LIB_TMP '$t', A '$a', B '$b'"
check "lib_tmpdir: \$LIB_TMP and everything below it removed on exit" "[ -n '$t' ] && [ ! -e '$t' ]" "$t still there"

lib_tmpdir K keep
run tmp PGCONN_KEEP="$K"
read -r t _ <"$LIB_TMP/tmp.out"
check "PGCONN_KEEP: the temporary files are copied into it" \
  "[ \"\$(cat '$K/work/f' '$K/top' '$K/sub/f' 2>&1)\" = \$'a\ntop\nmade-in-subshell' ]" "$(ls -R "$K" 2>&1 | head -20)"
check "PGCONN_KEEP: \$LIB_TMP itself still removed" "[ -n '$t' ] && [ ! -e '$t' ]"

# --- exit status
suite pass 'ok one; check two "true"; check_eq three x x'
run pass
check "all checks pass: exit 0, three ok lines" "[ $rc = 0 ] && [ \$(grep -c '^ok - ' '$LIB_TMP/pass.out') = 3 ]" "rc $rc: $(out pass)"
suite fail_end 'ok one; check two "false"; ok three'
run fail_end
check "a failed check, suite falls off its end: exit 1" "[ $rc = 1 ]" "rc $rc"
check "a failed check: not ok line names the condition" "grep -qx 'not ok - two: false' '$LIB_TMP/fail_end.out'" "$(out fail_end)"
check "a failed check does not stop the suite" "grep -qx 'ok - three' '$LIB_TMP/fail_end.out'"
suite fail_done 'not_ok one "because"; lib_done; echo after'
run fail_done
check "not_ok then lib_done: exit 1, nothing after" "[ $rc = 1 ] && ! grep -q after '$LIB_TMP/fail_done.out'" "rc $rc: $(out fail_done)"
suite fatal 'fatal one "cannot go on"; ok two'
run fatal
check "fatal: not ok line, exit 1, nothing after" \
  "[ $rc = 1 ] && [ \"\$(cat '$LIB_TMP/fatal.out')\" = 'not ok - one: cannot go on' ]" "rc $rc: $(out fatal)"
suite own_rc 'ok one; exit 3'
run own_rc
check "a suite's own exit status is kept" "[ $rc = 3 ]" "rc $rc"
suite skipped 'skip one "no promtool"'
run skipped
check "skip: an ok line with # SKIP, exit 0" "[ $rc = 0 ] && grep -qx 'ok - one # SKIP no promtool' '$LIB_TMP/skipped.out'" "rc $rc: $(out skipped)"

# --- diffs
suite diffs '
check_eq same "a b" "a b"
check_eq strings $'"'"'one\ntwo\nthree'"'"' $'"'"'one\nTWO\nthree'"'"'
printf "x\ny\n" >"$LIB_TMP/want"; printf "x\nz\n" >"$LIB_TMP/got"; cp "$LIB_TMP/want" "$LIB_TMP/same"
check_file files "$LIB_TMP/want" "$LIB_TMP/got"
check_file files_same "$LIB_TMP/want" "$LIB_TMP/same"
check_file missing "$LIB_TMP/want" "$LIB_TMP/nonesuch"
check multi "false" $'"'"'first line\nsecond line'"'"''
run diffs
o=$(out diffs)
check "check_eq: equal strings are ok" "grep -qx 'ok - same' <<<\"\$o\"" "$o"
check "check_eq: a diff of the lines, - wanted + got, as # lines" \
  "grep -qx 'not ok - strings: differs (- wanted, + got)' <<<\"\$o\" && grep -qx '#   -two' <<<\"\$o\" && grep -qx '#   +TWO' <<<\"\$o\" && grep -qx '#    one' <<<\"\$o\"" "$o"
check "check_file: equal files are ok" "grep -qx 'ok - files_same' <<<\"\$o\"" "$o"
check "check_file: a diff of the files" \
  "grep -q '^not ok - files: .*/got differs from .*/want' <<<\"\$o\" && grep -qx '#   -y' <<<\"\$o\" && grep -qx '#   +z' <<<\"\$o\"" "$o"
check "check_file: a missing file is a failure" "grep -q '^not ok - missing: ' <<<\"\$o\"" "$o"
check "a multi-line reason: first line on the not ok line, the rest as # lines" \
  "grep -qx 'not ok - multi: first line' <<<\"\$o\" && grep -qx '#   second line' <<<\"\$o\"" "$o"
check "diffs: exit 1 (4 failures)" "[ $rc = 1 ] && [ \$(grep -c '^not ok' <<<\"\$o\") = 4 ]" "rc $rc"

# --- time limits
t0=$(now_ms)
within 1 sleep 10; rc=$?
t1=$(now_ms)
check "within: a command over its limit ends with 124, on time" "[ $rc = 124 ] && [ $((t1 - t0)) -lt 3000 ]" "rc $rc after $((t1 - t0)) ms"
within 5 sh -c 'exit 7'; rc=$?
check "within: a command that ends in time keeps its status" "[ $rc = 7 ]" "rc $rc"
t0=$(now_ms)
wait_until 0.3 false; rc=$?
t1=$(now_ms)
check "wait_until: false after its (fractional) limit" "[ $rc = 1 ] && [ $((t1 - t0)) -ge 250 ] && [ $((t1 - t0)) -lt 2000 ]" "rc $rc after $((t1 - t0)) ms"
lib_tmpdir W wait
(sleep 0.3; touch "$W/flag"; echo 'the line' >"$W/text") &
t0=$(now_ms)
wait_until 5 "[ -e '$W/flag' ]"; rc=$?
t1=$(now_ms)
check "wait_until: true as soon as the condition holds" "[ $rc = 0 ] && [ $((t1 - t0)) -lt 2000 ]" "rc $rc after $((t1 - t0)) ms"
check "wait_for_text: finds the string" "wait_for_text '$W/text' 'the line' 20"
check "wait_for_text: false when it never comes" "! wait_for_text '$W/text' 'other' 3"
wait

# --- tracked pids, exit commands
suite pids '
sh -c "sleep 100 & trap \"kill \$!; echo got TERM >$PIDF.term; exit 0\" TERM; echo \$\$ >$PIDF; wait" & lib_track_pid $!
sh -c "trap \"\" TERM; echo \$\$ >$PIDF.stubborn; exec sleep 100" & lib_track_pid $!
wait_until 5 "[ -s $PIDF ] && [ -s $PIDF.stubborn ]"
lib_on_exit "echo first-registered"
lib_on_exit "echo second-registered"
ok started'
lib_tmpdir P pids
run pids PIDF="$P/pid"
p1=$(cat "$P/pid" 2>/dev/null); p2=$(cat "$P/pid.stubborn" 2>/dev/null)
# alive PID: running, not a zombie waiting for its new parent to reap it.
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }
check "lib_track_pid: a tracked process gets TERM on exit" "[ \"\$(cat '$P/pid.term' 2>&1)\" = 'got TERM' ]" "$(cat "$P/pid.term" 2>&1)"
check "lib_track_pid: ... and is gone" "[ -n '$p1' ] && ! alive '$p1'" "pid '$p1' alive"
check "lib_track_pid: one that ignores TERM gets KILL" "[ -n '$p2' ] && ! alive '$p2'" "pid '$p2' alive"
[[ -z $p1 ]] || kill -KILL "$p1" 2>/dev/null
[[ -z $p2 ]] || kill -KILL "$p2" 2>/dev/null
check "lib_on_exit: runs on exit, last registered first" \
  "[ \"\$(grep registered '$LIB_TMP/pids.out')\" = \$'second-registered\nfirst-registered' ]" "$(out pids)"
check "pids: exit 0" "[ $rc = 0 ]" "rc $rc: $(cat "$LIB_TMP/pids.err")"

suite groups '
setsid sh -c "sleep 100 & echo \$! >$PIDF.child; wait" & lib_track_group $!
echo $! >"$PIDF"
wait_until 5 "[ -s $PIDF.child ]"
ok started'
lib_tmpdir G groups
run groups PIDF="$G/pid"
g=$(cat "$G/pid" 2>/dev/null); c=$(cat "$G/pid.child" 2>/dev/null)
check "lib_track_group: the group's leader and its child are killed on exit" \
  "[ -n '$g' ] && [ -n '$c' ] && ! alive '$g' && ! alive '$c'" "pids '$g' '$c', rc $rc: $(cat "$LIB_TMP/groups.err")"
[[ -z $c ]] || kill -KILL "$c" 2>/dev/null

# A tracked pid whose process ended and whose number went to another one
# (pid_max can be 32768) is left alone: here the start time kept for it is
# made wrong on purpose (an internal of lib.sh).
suite reused '
sleep 100 & echo $! >"$PIDF"; lib_track_pid $!
_lib_pids=("${_lib_pids[0]%%:*}:1")'
lib_tmpdir R reused
run reused PIDF="$R/pid"
r=$(cat "$R/pid" 2>/dev/null)
check "lib_track_pid: not killed when the pid is another process now" "[ -n '$r' ] && alive '$r'" "pid '$r' gone, rc $rc: $(cat "$LIB_TMP/reused.err")"
[[ -z $r ]] || kill "$r" 2>/dev/null

# --- the programs under test
suite programs 'echo "$LIB_BIN $PARSE $AGG $WATCH $TAIL"'
# (tests/run.sh exports PGCONN_PARSE and the others: not here.)
unset_programs=(-u PGCONN_PARSE -u PGCONN_AGG -u PGCONN_WATCH -u PGCONN_TAIL)
run programs "${unset_programs[@]}" PGCONN_BIN=some/bin
check_eq "PGCONN_BIN relative: below the repository, the four programs in it" \
  "$LIB_ROOT/some/bin $LIB_ROOT/some/bin/pgconn-parse $LIB_ROOT/some/bin/pgconn-agg $LIB_ROOT/some/bin/pgconn-watch $LIB_ROOT/some/bin/pgconn-tail" \
  "$(out programs)"
run programs "${unset_programs[@]}" PGCONN_BIN=/opt/x PGCONN_AGG=/elsewhere/agg
check_eq "PGCONN_BIN absolute, PGCONN_AGG names another agg" \
  "/opt/x /opt/x/pgconn-parse /elsewhere/agg /opt/x/pgconn-watch /opt/x/pgconn-tail" "$(out programs)"
run programs "${unset_programs[@]}" -u PGCONN_BIN
check "no PGCONN_BIN: bin/" "[ \"\$(out programs | cut -d' ' -f1-2)\" = '$LIB_ROOT/bin $LIB_ROOT/bin/pgconn-parse' ]" "$(out programs)"

# --- a pseudo-terminal
lib_tmpdir Y pty
on_pty "$Y/out" sh -c 'if [ -t 1 ]; then echo "tty $TERM"; else echo "no tty"; fi'; rc=$?
check_eq "on_pty: stdout is a terminal with a colour TERM" "tty xterm-256color" "$(cat "$Y/out")"
check "on_pty: the command's pid in \$LIB_PTY_PIDFILE" "[ $rc = 0 ] && [ -s '$LIB_PTY_PIDFILE' ]" "rc $rc"

# The old form VAR=$(lib_tmpdir TAG) would leave VAR empty (files in /):
# it stops the whole suite, from inside the command substitution.
lib_tmpdir O oldform
printf '%s\n' ". '$LIB_ROOT/tests/lib.sh'" 'T=$(lib_tmpdir oops)' 'echo "went on with T=$T"' >"$O/suite.sh"
(cd "$O" && bash suite.sh >out 2>err); rc=$?
check "lib_tmpdir: the old form T=\$(lib_tmpdir TAG) stops the suite (exit 1, one error line)" \
  "[ $rc = 1 ] && [ ! -s '$O/out' ] && grep -q 'use it as .lib_tmpdir VAR TAG.' '$O/err'" "rc $rc, out: $(cat "$O/out" 2>/dev/null)"

lib_done
