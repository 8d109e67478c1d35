#!/usr/bin/env bash
# contrib/ for Prometheus (issue 16): the rules load (promtool check rules)
# and pass their unit tests (promtool test rules, on series written the way
# pgconn-agg writes them); every pgconn_ metric they name is one pgconn-agg
# writes; the systemd unit passes systemd-analyze verify where systemd is
# present. Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
A=$AGG
T=$LIB_TMP
R=contrib/prometheus

if command -v promtool >/dev/null; then
  promtool check rules "$R/pgconn-rules.yml" >"$T/check" 2>&1; rc=$?
  check "promtool check rules pgconn-rules.yml" "[ $rc = 0 ]" "$(tail -5 "$T/check")"
  (cd "$R" && promtool test rules pgconn-rules.test.yml) >"$T/test" 2>&1; rc=$?
  check "promtool test rules pgconn-rules.test.yml" "[ $rc = 0 ] && grep -q SUCCESS '$T/test'" "$(head -30 "$T/test")"
  # The test can fail: a changed threshold breaks it.
  sed 's/> 10$/> 20/' "$R/pgconn-rules.yml" >"$T/pgconn-rules.yml"
  cp "$R/pgconn-rules.test.yml" "$T/"
  (cd "$T" && promtool test rules pgconn-rules.test.yml) >"$T/test2" 2>&1; rc=$?
  check "promtool test rules fails on a changed auth_failed threshold" "[ $rc != 0 ]" "$(head -5 "$T/test2")"
else
  ok "promtool check/test rules skipped (no promtool; Debian package prometheus)"
fi

# Every pgconn_ metric the rules and their tests name is written by pgconn-agg.
$A --prom </dev/null >"$T/empty.prom"
names=$(grep -ho 'pgconn_[a-z_]*' "$R/pgconn-rules.yml" "$R/pgconn-rules.test.yml" | sort -u)
missing=""
for n in $names; do
  grep -q "^# TYPE ${n%_bucket} " "$T/empty.prom" || missing="$missing $n"
done
check "the rules name only metrics pgconn-agg writes" "[ -z '$missing' ]" "not written:$missing"

# The unit file.
U=contrib/systemd/pgconn-exporter.service
check "pgconn-exporter.service: runs pgconn-agg --prom-file as pgconn in adm, restarts on failure" \
  "grep -q '^User=pgconn\$' $U && grep -q '^SupplementaryGroups=adm\$' $U && grep -q '^Restart=on-failure\$' $U && grep -q 'pgconn-agg --prom-file=' $U"
if command -v systemd-analyze >/dev/null && command -v man >/dev/null; then
  mkdir -p "$T/man/man1"
  ln -s "$PWD"/man/*.1 "$T/man/man1/"
  MANPATH=$T/man systemd-analyze verify "$U" >"$T/verify" 2>&1; rc=$?
  check "systemd-analyze verify pgconn-exporter.service" "[ $rc = 0 ] && [ ! -s '$T/verify' ]" "$(head -5 "$T/verify")"
  sed 's/^Restart=on-failure/Restart=sometimes/' "$U" >"$T/broken.service"
  MANPATH=$T/man systemd-analyze verify "$T/broken.service" >"$T/verify2" 2>&1
  check "systemd-analyze verify reports a bad value" "grep -qi 'restart' '$T/verify2'" "$(head -3 "$T/verify2")"
else
  ok "systemd-analyze verify skipped (no systemd here)"
fi

lib_done
