#!/usr/bin/env bash
# Load benchmark for schemadriftd (never a test): N databases on one throwaway
# PostgreSQL, each checked every INTERVAL, for DURATION seconds.  Reports the
# worst lag between a run's due time and its start, the daemon's peak RSS and
# its CPU time.  Usage: BUILD_DIR=build tests/bench/daemon-load.sh [N] [INTERVAL_S] [DURATION_S]
# REPORT=1 also keeps the HTML report (report_dir), to see that it stays off the loop.
# DAEMONS=K (K > 1) runs K daemons sharing the targets through a coordination database
# (docs/operations.md, "Several daemons") on the same server, with lease_timeout LEASE
# (default 10s); it reports each daemon's share, lag, RSS and coordination queries per
# second, then kills the first with SIGKILL and reports how long until the others hold
# every target.  STORE=postgresql (with DAEMONS=K) puts their store in the coordination
# database too (docs/store.md) and reports the central store's statements per second.
set -euo pipefail
N=${1:-200}
INTERVAL=${2:-10}
DURATION=${3:-300}
BUILD_DIR=${BUILD_DIR:-build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
tmp=$(mktemp -d /tmp/schemadrift-load.XXXXXX)
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$tmp"
DAEMONS=${DAEMONS:-1}
LEASE=${LEASE:-10s}
cleanup() {
	[ -n "${daemon_pid:-}" ] && kill "$daemon_pid" 2>/dev/null || true
	for p in ${fleet_pids:-}; do kill -9 "$p" 2>/dev/null || true; done
	run_pg "$PG_BIN/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_pg "$PG_BIN/initdb" -D "$tmp/data" -A trust -U postgres --nosync >/dev/null
run_pg "$PG_BIN/pg_ctl" -D "$tmp/data" -w -l "$tmp/pg.log" \
	-o "-k $tmp -p $port -c listen_addresses='' -c fsync=off -c max_connections=$((N + 20))" start >/dev/null
psql_() { psql -X -q -h "$tmp" -p "$port" -U postgres "$@"; }
psql_ -d postgres -c "CREATE DATABASE tmpl" >/dev/null
psql_ -d tmpl <<'SQL' >/dev/null
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, created timestamptz DEFAULT now());
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers, total numeric(12,2), status text);
CREATE INDEX ON orders (customer_id) WHERE status <> 'done';
CREATE VIEW open_orders AS SELECT * FROM orders WHERE status <> 'done';
SQL
conf="$tmp/schemadrift.conf"
{
	echo "[daemon]"
	echo "state_dir = $tmp/state"
	echo "runtime_dir = $tmp/run"
	echo "schedule = every ${INTERVAL}s"
	echo "jitter = ${JITTER:-10s}"
	echo "max_concurrent = ${MAX_CONCURRENT:-16}"
	echo "log_level = warning"
	[ -z "${REPORT:-}" ] || echo "report_dir = ${REPORT_DIR:-$tmp/www}"
} > "$conf"
for i in $(seq 1 "$N"); do
	psql_ -d postgres -c "CREATE DATABASE db$i TEMPLATE tmpl" >/dev/null
	printf '\n[target db%s]\ndsn = host=%s port=%s user=postgres dbname=db%s\n' "$i" "$tmp" "$port" "$i" >> "$conf"
done
if [ "$DAEMONS" -gt 1 ]; then
	/usr/bin/python3 "$(dirname "$0")/fleet_load.py" "$BUILD_DIR" "$tmp" "$conf" "$port" \
		"$N" "$DAEMONS" "$LEASE" "$DURATION"
	exit
fi
"$BUILD_DIR/schemadriftd" -c "$conf" -f 2> "$tmp/daemon.log" &
daemon_pid=$!
ticks0=$(awk '{print $14+$15}' "/proc/$daemon_pid/stat")
sleep "$DURATION"
ticks1=$(awk '{print $14+$15}' "/proc/$daemon_pid/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$daemon_pid/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon_pid/status")
status=$("$BUILD_DIR/schemadrift" status --runtime-dir "$tmp/run" --format json)
echo "$status" | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
t = s["targets"]
lags = [x.get("worst_lag_s", 0) for x in t]
runs = sum(x.get("runs", 0) for x in t)
fails = sum(x.get("failures", 0) for x in t)
probes = sum(x.get("probes_unchanged", 0) for x in t)
print("targets %d, runs %d, failed %d, answered by the probe %d" % (len(t), runs, fails, probes))
print("worst lag between due time and start, first runs aside: %.1f s (median of per-target worst %.1f s)"
      % (max(lags), sorted(lags)[len(lags) // 2]))
'
hz=$(getconf CLK_TCK)
awk -v t="$((ticks1 - ticks0))" -v hz="$hz" -v d="$DURATION" -v rss="$rss" -v hwm="$hwm" \
	'BEGIN { printf "daemon CPU: %.1f%% of one core over %ds; RSS now %.1f MiB, peak %.1f MiB\n", 100 * t / hz / d, d, rss / 1024, hwm / 1024 }'
echo "daemon log lines (warning and above): $(grep -c . "$tmp/daemon.log" || true)"
[ -z "${REPORT:-}" ] || echo "report pages: $(find "${REPORT_DIR:-$tmp/www}" -name '*.html' | wc -l), $(du -sk "${REPORT_DIR:-$tmp/www}" | cut -f1) KiB"
