#!/usr/bin/env bash
# pgconn-tail's command line and every rotation scheme, simulated with plain
# files (the real server's are in tests/e2e/tail_server_test.sh): options
# and errors, where it starts (end, -n, --from-start with a compressed
# backlog out of name order), rename + reopen, copytruncate (also with the
# copy made before the follower looked), truncation in place, time-based
# names in a log directory, a data directory's current_logfiles, a deleted
# file, a directory that appears after start, --poll, | head, /dev/full,
# SIGINT, latency and memory.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
T=$LIB_TMP
chmod 755 "$T"
factor=${PGCONN_TIME_FACTOR:-1}

# start NAME ARGS...: pgconn-tail in the background, output in T/NAME.out.
start() {
  local name=$1
  shift
  "$TAIL" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  TPID=$!
  lib_track_pid "$TPID"
}
# wait_lines FILE N: until FILE has N lines besides the `ready` markers
# (10 s at most).
wait_lines() {
  local i
  for ((i = 0; i < 500 * factor; i++)); do
    [ "$(grep -vc '^ready' "$1")" -ge "$2" ] && return 0
    sleep 0.02
  done
  return 1
}
# got FILE: its lines but the markers, on one line.
got() { grep -v '^ready' "$1" | tr '\n' ' '; }
# ready FILE OUT: appends `ready` markers to FILE until one comes out (the
# follower has started and is looking).
ready() {
  local i
  for ((i = 0; i < 100 * factor; i++)); do
    echo ready >>"$1"; sleep 0.1
    grep -q '^ready' "$2" && return 0
  done
  return 1
}
stop() { kill -INT "$1" 2>/dev/null; wait "$1"; }

# --- options
usage=$("$TAIL" --help)
check "--help starts with the usage" "[[ \$usage == 'usage: pgconn-tail [--from-start | -n N]'* ]]" "$usage"
v=$("$TAIL" --version); check "--version" "[[ '$v' =~ ^pgconn-tail\ [0-9] ]]" "$v"
for bad in "" "a b" "--format=xml x" "--poll=5x x" "-n x y" "--from-start -n 3 x" "--bogus x"; do
  # shellcheck disable=SC2086
  err=$("$TAIL" $bad 2>&1 >/dev/null); rc=$?
  check "usage error: '$bad' exits 2 with one line and the usage" \
    "[ $rc = 2 ] && [ \$(grep -vc '^ *\\[\\|^usage:' <<<\"\$err\") = 1 ]" "exit $rc: $err"
done
err=$("$TAIL" --format=xml x 2>&1 | head -1)
check "bad --format says which" "[ '$err' = 'pgconn-tail: bad --format \"xml\": expected stderr, csvlog or jsonlog' ]" "$err"

# --- unreadable at start: one line, exit 1 (as an unprivileged user when root)
as_user=()
if [ "$(id -u)" = 0 ]; then
  if id postgres >/dev/null 2>&1; then as_user=(runuser -u postgres --); else as_user=(skip); fi
fi
if [ "${as_user[0]:-}" != skip ]; then
  echo x >"$T/secret.log"; chmod 600 "$T/secret.log"
  mkdir "$T/secretdir"; chmod 700 "$T/secretdir"
  for p in secret.log secretdir; do
    err=$(within 5 "${as_user[@]}" "$TAIL" "$T/$p" 2>&1 >/dev/null); rc=$?
    check "unreadable $p: exit 1, one line" "[ $rc = 1 ] && [ '$err' = 'pgconn-tail: $T/$p: Permission denied' ]" "exit $rc: $err"
  done
fi

err=$(within 5 "$TAIL" /dev/null 2>&1 >/dev/null); rc=$?
check "not a regular file: exit 1, one line" "[ $rc = 1 ] && [ '$err' = 'pgconn-tail: /dev/null: not a regular file (a stream goes to pgconn-parse as it is)' ]" "exit $rc: $err"

# --- later: a file that cannot be read is a warning, and it goes on (root
# makes a file that the unprivileged follower cannot read)
if [ "$(id -u)" = 0 ] && [ "${as_user[0]:-}" != skip ]; then
  PD=$T/perm; mkdir "$PD"; echo "2024-05-01 10:00:00 UTC first" >"$PD/a.log"; chmod 755 "$PD"; chmod 644 "$PD/a.log"
  "${as_user[@]}" "$TAIL" "$PD" >"$T/perm.out" 2>"$T/perm.err" &
  perm=$!; lib_track_pid "$perm"
  ready "$PD/a.log" "$T/perm.out"
  (umask 077; echo "2024-05-01 11:00:00 UTC second" >"$PD/b.log")
  wait_lines "$T/perm.err" 1
  check "a new file that cannot be read: one warning, still running" \
    "grep -q 'b.log: Permission denied; still following' '$T/perm.err' && kill -0 $perm" "$(cat "$T/perm.err")"
  chmod 644 "$PD/b.log"; echo "2024-05-01 11:00:01 UTC third" >>"$PD/b.log"
  wait_lines "$T/perm.out" 2
  check "readable again: read from its start" "[ \"\$(got '$T/perm.out')\" = '2024-05-01 11:00:00 UTC second 2024-05-01 11:00:01 UTC third ' ]" "$(got "$T/perm.out")"
  kill "$perm" 2>/dev/null; wait "$perm" 2>/dev/null
fi

# --- default: the end; a partial line waits for its newline; -n
printf 'old 1\nold 2\nold 3\n' >"$T/a.log"
start a "$T/a.log"; a=$TPID
ready "$T/a.log" "$T/a.out"
printf 'new 1\npart' >>"$T/a.log"; sleep 0.3
check "default: new lines only, a partial line held" "[ \"\$(got '$T/a.out')\" = 'new 1 ' ]" "$(got "$T/a.out")"
printf 'ial\n' >>"$T/a.log"; wait_lines "$T/a.out" 2
check "the partial line comes whole" "[ \"\$(tail -n 1 '$T/a.out')\" = partial ]" "$(cat "$T/a.out")"
stop "$a"; check "SIGINT: exit 0" "[ $? = 0 ]"
out=$(within 1 "$TAIL" -n 2 "$T/a.log")
check "-n 2: the last two lines" "[ \"\$out\" = \$'new 1\\npartial' ]" "$out"
out=$(within 1 "$TAIL" -n 0 "$T/a.log")
check "-n 0: nothing" "[ -z \"\$out\" ]" "$out"

# --- rename + reopen (Debian's create, or mv + pg_rotate_logfile()):
# lines still written to the renamed file are read before the new file's.
mkdir "$T/deb"; L=$T/deb/pg.log
: >"$L"
start deb "$L"; deb=$TPID
ready "$L" "$T/deb.out"
for i in 1 2 3; do echo "before $i" >>"$L"; done
mv "$L" "$L.1"
for i in 1 2 3; do echo "renamed $i" >>"$L.1"; done   # the server has not reopened yet
sleep 0.3
for i in 1 2 3; do echo "after $i" >>"$L"; done
for i in 1 2 3; do echo "after $((i + 3))" >>"$L"; done
wait_lines "$T/deb.out" 12
want=$( (for i in 1 2 3; do echo "before $i"; done; for i in 1 2 3; do echo "renamed $i"; done; for i in 1 2 3 4 5 6; do echo "after $i"; done) | tr '\n' ' ')
check "rename + reopen: nothing lost, in order" "[ \"\$(got '$T/deb.out')\" = \"\$want\" ]" "$(got "$T/deb.out")"
# A deleted file, then a new one of the same name.
rm "$L"; sleep 0.2; echo "recreated 1" >>"$L"; wait_lines "$T/deb.out" 13
check "deleted, then created again: read from its start" "[ \"\$(tail -n 1 '$T/deb.out')\" = 'recreated 1' ]" "$(tail -n 3 "$T/deb.out" | tr '\n' ' ')"
check "a name back within a second: no warning" "[ ! -s '$T/deb.err' ]" "$(cat "$T/deb.err")"
rm "$L"; wait_lines "$T/deb.err" 1
check "a name gone for a second: one warning" "[ \"\$(cat '$T/deb.err')\" = 'pgconn-tail: warning: $L: No such file or directory; read to its end, waiting for a new one' ]" "$(cat "$T/deb.err")"
echo "recreated 2" >>"$L"; wait_lines "$T/deb.out" 14
check "... and it goes on" "[ \"\$(tail -n 1 '$T/deb.out')\" = 'recreated 2' ]" "$(tail -n 3 "$T/deb.out" | tr '\n' ' ')"
stop "$deb"

# --- copytruncate: the copy holds what was written since the last read.
# --poll=1s makes the follower look after copy and truncation were done.
C=$T/ct.log
: >"$C"
start ct --poll=1s "$C"; ct=$TPID
ready "$C" "$T/ct.out"
for i in 1 2 3; do echo "line $i" >>"$C"; done
cp "$C" "$C.1"; : >"$C"
for i in 4 5; do echo "line $i" >>"$C"; done
wait_lines "$T/ct.out" 5
check "copytruncate between two looks: nothing lost" "[ \"\$(got '$T/ct.out')\" = 'line 1 line 2 line 3 line 4 line 5 ' ]" "$(got "$T/ct.out")"
# log_truncate_on_rotation: the same file truncated and written again,
# longer than before, before the follower looked.
sleep 1.1
printf 'week two, a longer first line than any before it\nweek two 2\n' >"$C"
wait_lines "$T/ct.out" 7
check "truncated and rewritten past the offset: read from the start" "[ \"\$(tail -n 2 '$T/ct.out' | head -1)\" = 'week two, a longer first line than any before it' ]" "$(tail -n 3 "$T/ct.out" | tr '\n' ' ')"
stop "$ct"

# --- a log directory with time-based names; a directory that appears later
D=$T/later/log
start dir "$D"; dir=$TPID
sleep 0.3
mkdir -p "$D"; echo "2024-05-01 10:00:00.000 UTC [1] LOG: one" >"$D/postgresql-2024-05-01_100000.log"
wait_lines "$T/dir.out" 1
echo "2024-05-01 10:00:01.000 UTC [1] LOG: two" >>"$D/postgresql-2024-05-01_100000.log"
echo "2024-05-01 11:00:00.000 UTC [1] LOG: three" >"$D/postgresql-2024-05-01_110000.log"
echo "2024-05-01 11:00:01.000 UTC [1] LOG: four" >>"$D/postgresql-2024-05-01_110000.log"
wait_lines "$T/dir.out" 4
check "a directory made after start, time-based names: all lines, in order" "[ \"\$(grep -o '[a-z]*\$' '$T/dir.out' | tr '\n' ' ')\" = 'one two three four ' ]" "$(cat "$T/dir.out" | tr '\n' ' ')"
check "the missing directory was a warning" "grep -q 'No such file or directory; waiting for it' '$T/dir.err'" "$(cat "$T/dir.err")"
stop "$dir"

# --- a log directory of weekday names (PGDG, Red Hat): Tuesday's file of
# last week reused, truncated (log_truncate_on_rotation)
W=$T/weekdays; mkdir "$W"
printf 'last tuesday %s\n' $(seq 1 50) >"$W/postgresql-Tue.log"; touch -d '2024-04-30' "$W/postgresql-Tue.log"
echo "monday 1" >"$W/postgresql-Mon.log"
start wd "$W"; wd=$TPID
ready "$W/postgresql-Mon.log" "$T/wd.out"
echo "monday 2" >>"$W/postgresql-Mon.log"
echo "tuesday 1" >"$W/postgresql-Tue.log"; echo "tuesday 2" >>"$W/postgresql-Tue.log"
wait_lines "$T/wd.out" 3
check "weekday names: the reused, truncated file is followed from its start" "[ \"\$(got '$T/wd.out')\" = 'monday 2 tuesday 1 tuesday 2 ' ]" "$(got "$T/wd.out")"
stop "$wd"

# --- a data directory: current_logfiles names the file; --format chooses
DD=$T/data; mkdir -p "$DD/log"; echo 15 >"$DD/PG_VERSION"
echo "s1" >"$DD/log/a.log"; echo "c1" >"$DD/log/a.csv"; echo "j1" >"$DD/log/a.json"
printf 'stderr log/a.log\ncsvlog log/a.csv\njsonlog log/a.json\n' >"$DD/current_logfiles"
start dd -n 1 "$DD"; dd=$TPID
start ddc -n 1 --format=csvlog "$DD"; ddc=$TPID
start ddj -n 1 --format=jsonlog "$DD"; ddj=$TPID
wait_lines "$T/dd.out" 1; wait_lines "$T/ddc.out" 1; wait_lines "$T/ddj.out" 1
echo "s2" >"$DD/log/b.log"; echo "c2" >"$DD/log/b.csv"; echo "j2" >"$DD/log/b.json"
printf 'stderr log/b.log\ncsvlog log/b.csv\njsonlog log/b.json\n' >"$DD/current_logfiles.tmp"
mv "$DD/current_logfiles.tmp" "$DD/current_logfiles"
wait_lines "$T/dd.out" 2; wait_lines "$T/ddc.out" 2; wait_lines "$T/ddj.out" 2
for x in "dd s" "ddc c" "ddj j"; do
  set -- $x
  check "data directory ($1): current_logfiles followed" "[ \"\$(tr '\n' ' ' <'$T/$1.out')\" = '${2}1 ${2}2 ' ]" "$(tr '\n' ' ' <"$T/$1.out")"
done
stop "$dd"; stop "$ddc"; stop "$ddj"

# --- --from-start: the backlog by its first line's time (names and mtimes
# say otherwise), compressed files decompressed, then the live file
B=$T/bl; mkdir "$B"
echo "2024-05-05 10:00:00 UTC day 5" >"$B/pg.log.1"
echo "2024-05-04 10:00:00 UTC day 4" | gzip >"$B/pg.log.2.gz"
echo "2024-05-03 10:00:00 UTC day 3" | bzip2 >"$B/pg.log.3.bz2"
echo "2024-05-02 10:00:00 UTC day 2" | xz >"$B/pg.log.4.xz"
echo "2024-05-01 10:00:00 UTC day 1" | zstd -q >"$B/pg.log.5.zst"
printf '2024-05-06 10:00:00 UTC day 6\n2024-05-06 10:00:01 UTC day 6b\n' >"$B/pg.log"
touch -d '2024-06-01' "$B/pg.log.5.zst"; touch -d '2024-05-01' "$B/pg.log.1"
out=$(within 1 "$TAIL" --from-start "$B/pg.log" | awk '{print $4 $5}' | tr '\n' ' ')
check "--from-start: backlog oldest first (gz bz2 xz zst), then the live file" "[ '$out' = 'day1 day2 day3 day4 day5 day6 day6b ' ]" "$out"

# --- | head, /dev/full
out=$( (within 5 "$TAIL" --from-start "$B/pg.log" | head -1; echo "${PIPESTATUS[0]}") 2>&1)
check "| head -1: quiet, exit 0 at once" "[ \"\$out\" = \$'2024-05-01 10:00:00 UTC day 1\\n0' ]" "$out"
err=$(within 5 "$TAIL" --from-start "$B/pg.log" 2>&1 >/dev/full); rc=$?
check ">/dev/full: write error, exit 1" "[ $rc = 1 ] && [ '$err' = 'pgconn-tail: write error: No space left on device' ]" "exit $rc: $err"

# --- --poll: no inotify
P=$T/poll.log; : >"$P"
start poll --poll=50ms "$P"; poll=$TPID
ready "$P" "$T/poll.out"
echo polled >>"$P"; wait_lines "$T/poll.out" 1
check "--poll=50ms follows" "[ \"\$(tail -n 1 '$T/poll.out')\" = polled ]" "$(cat "$T/poll.out")"
cpu=$(awk '{print $14 + $15}' "/proc/$poll/stat"); sleep 1
cpu2=$(awk '{print $14 + $15}' "/proc/$poll/stat")
check "--poll=50ms idle: no busy loop (< 5 ticks of CPU a second)" "[ $((cpu2 - cpu)) -lt 5 ]" "$((cpu2 - cpu)) ticks"
stop "$poll"

# --- latency (line written -> line out) and flat memory under a stream
if command -v python3 >/dev/null; then
  lat=$(python3 - "$TAIL" "$T/lat.log" <<'PY'
import os, subprocess, sys, time, statistics, select
tail, path = sys.argv[1], sys.argv[2]
open(path, "w").close()
p = subprocess.Popen([tail, path], stdout=subprocess.PIPE)
fd = p.stdout.fileno()
def roundtrip(text):
    t0 = time.monotonic()
    with open(path, "a") as f:
        f.write(text + "\n")
    buf = b""
    while not buf.endswith(b"\n"):
        r, _, _ = select.select([fd], [], [], 5)
        if not r:
            return 5.0
        buf += os.read(fd, 4096)
    return time.monotonic() - t0
roundtrip("warm up")
samples = []
for i in range(40):
    samples.append(roundtrip("line %d" % i))
    time.sleep(0.01)
p.terminate(); p.wait()
print("%.1f %.1f" % (statistics.median(samples) * 1000, max(samples) * 1000))
PY
)
  med=${lat%% *}
  check "latency: median line written -> line out <= 50 ms ($lat ms median, max)" "awk 'BEGIN { exit !($med <= 50 * $factor) }'" "$lat"
fi
M=$T/mem.log; : >"$M"
start mem "$M"; mem=$TPID
ready "$M" "$T/mem.out"
line='2024-05-01 10:00:00.000 UTC [42] LOG:  connection received: host=10.0.0.1 port=5432'
yes "$line" | head -n 100000 >>"$M"
wait_lines "$T/mem.out" 100000
hwm1=$(awk '/VmHWM/ {print $2}' "/proc/$mem/status")
yes "$line" | head -n 300000 >>"$M"
wait_lines "$T/mem.out" 400000
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$mem/status")
limit=16384; [ -n "${PGCONN_SANITIZED:-}" ] && limit=131072
check "memory flat: 34 MB through it, peak RSS $hwm1 kB after 8 MB, $hwm kB after 34 MB" \
  "[ \$((hwm - hwm1)) -lt 2048 ] && [ $hwm -lt $limit ]" "$hwm1 kB, then $hwm kB"
stop "$mem"

lib_done
