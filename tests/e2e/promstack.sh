# shellcheck shell=bash
# tests/e2e/promstack.sh: a throw-away prometheus-node-exporter and a
# Prometheus scraping it, for end-to-end suites (sourced after e2e.sh,
# never run).
#
#   promstack_available || { skip ...; exit 0; }
#   promstack_start "$WORK/textfile"     # node_exporter, then Prometheus
#   prom_scalar 'sum(pgconn_sessions_active)'
#   prom_query 'sum by (reason) (pgconn_rejects_total)'
#
# Debian's programs, each on a free loopback port (e2e_free_port; when one
# dies at once, because a suite running at the same time took the port in
# between, it is started again on another, three tries), as root (neither
# insists on another user; nothing here is the system's). node_exporter
# runs only its textfile collector over the given directory; Prometheus
# keeps its TSDB in WORK/tsdb, scrapes node_exporter every second and logs
# warnings only. Their output is in WORK/node_exporter.log and
# WORK/prometheus.log. Both are stopped on exit by their pids (SIGTERM and
# a wait), before e2e.sh copies WORK when it is kept.
#
# After promstack_start: PROM_NE_PORT, PROM_PORT, PROM_API (the instant
# query URL).
#
#   prom_query PROMQL    the result as sorted "label=value,... VALUE" lines
#                        (instance and job left out)
#   prom_scalar PROMQL   the first value, "" when there is none

PROM_NE_PORT="" PROM_PORT="" PROM_API=""

promstack_available() {
  command -v prometheus >/dev/null && command -v prometheus-node-exporter >/dev/null
}

# _prom_daemon NAME URL-PATH COMMAND...: starts it with its port in PORT
# (the command names "$PORT" itself) and waits until the URL answers.
_prom_daemon() {
  local name=$1 path=$2 pid
  shift 2
  for _ in 1 2 3; do
    e2e_free_port PORT $((19000 + RANDOM % 4000)) || fatal "free port for $name" "none found"
    "$@" >"$WORK/$name.log" 2>&1 &
    pid=$!
    if wait_until 5 "curl -sf -o /dev/null 'http://127.0.0.1:$PORT$path' || ! kill -0 $pid 2>/dev/null" &&
       kill -0 "$pid" 2>/dev/null; then
      e2e_track promstack "$pid"
      return 0
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  fatal "start $name" "$(tail -n 3 "$WORK/$name.log")"
}

# The command lines name the port, so they are functions run once PORT is
# chosen (exec: the background job's pid is the daemon's).
_prom_ne() {
  exec prometheus-node-exporter --web.listen-address="127.0.0.1:$PORT" --collector.disable-defaults \
    --collector.textfile --collector.textfile.directory="$_prom_textfile"
}
_prom_prometheus() {
  exec prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$PORT" --log.level=warn
}

# promstack_start TEXTFILE_DIR
promstack_start() {
  _prom_textfile=$1
  mkdir -p "$_prom_textfile" "$WORK/tsdb"
  _prom_daemon node_exporter /metrics _prom_ne
  PROM_NE_PORT=$PORT
  cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$PROM_NE_PORT']
EOF
  _prom_daemon prometheus /-/ready _prom_prometheus
  PROM_PORT=$PORT
  PROM_API=http://127.0.0.1:$PROM_PORT/api/v1/query
}

prom_query() {
  curl -s -G "$PROM_API" --data-urlencode "query=$1" |
    jq -r '.data.result[] | "\(.metric | del(.__name__, .instance, .job) | to_entries | map("\(.key)=\(.value)") | join(",")) \(.value[1])"' |
    sort
}

prom_scalar() { curl -s -G "$PROM_API" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // ""'; }

