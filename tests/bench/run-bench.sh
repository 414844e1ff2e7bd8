#!/usr/bin/env bash
# Snapshot benchmark: throwaway PostgreSQL 15 cluster, generated schemas, bench_snapshot per size.
#
# Usage: tests/bench/run-bench.sh [SIZES...]        (default: 100 1000 5000)
#
# Builds nothing: build first, e.g.
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2
# Environment:
#   BUILD_DIR   build directory (default: <repo>/build)
#   PG_BIN      PostgreSQL server binaries (default: /usr/lib/postgresql/15/bin)
#   ITERATIONS  timed iterations per measurement (default: 5)
#   SEED        generator seed (default: 42)
#   KEEP=1      keep the cluster's directory (it is still stopped) for inspection
#   VERIFY=1    also run bench_verify per size: `schemadrift verify` of the same schema from one
#               SQL file, in parts (scratch start, load, compare), against a plain snapshot
#
# Starts a private cluster in a mktemp directory (unix socket only, in that
# directory; fsync=off; shared_buffers=256MB; log_line_prefix with %a so that
# bench_snapshot can count our statements), loads each size into its own
# database (gen_schema [GEN_ARGS, e.g. -k for every kind] N | psql, then VACUUM ANALYZE), runs bench_snapshot
# on it and prints one table at the end.  The cluster is stopped and deleted
# on exit.  When run as root, initdb and pg_ctl run as the `postgres` user.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$repo/build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ITERATIONS=${ITERATIONS:-5}
SEED=${SEED:-42}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)

gen=$BUILD_DIR/tests/bench/gen_schema
bench=$BUILD_DIR/tests/bench/bench_snapshot
cli=$BUILD_DIR/schemadrift
for f in "$gen" "$bench" "$cli" "$PG_BIN/initdb" "$PG_BIN/pg_ctl"; do
	if [ ! -x "$f" ]; then
		echo "run-bench: $f not found; build first (cmake --build $BUILD_DIR)" >&2
		exit 2
	fi
done
for n in "${sizes[@]}"; do
	case $n in
	'' | *[!0-9]*) echo "run-bench: size '$n' is not a number" >&2; exit 2 ;;
	esac
done

work=$(mktemp -d /tmp/schemadrift-bench.XXXXXX)
pgdata=$work/data
sock=$work/sock
log=$work/server.log
as_pg=()
if [ "$(id -u)" = 0 ]; then
	as_pg=(runuser -u postgres --)
	chown postgres: "$work"
fi
chmod 755 "$work"

cleanup() {
	if [ -f "$pgdata/postmaster.pid" ]; then
		"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "run-bench: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The socket lives in our private directory, so any port number is free there;
# listen_addresses='' keeps TCP out of it.
port=$((20000 + RANDOM % 20000))
"${as_pg[@]}" mkdir -p "$sock"
"${as_pg[@]}" "$PG_BIN/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 \
	--locale=C.UTF-8 --no-sync >"$work/initdb.log" 2>&1 ||
	{ cat "$work/initdb.log" >&2; exit 2; }
cat >>"$pgdata/postgresql.conf" <<EOF
listen_addresses = ''
port = $port
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_locks_per_transaction = 1024
max_wal_size = 4GB
checkpoint_timeout = 30min
autovacuum = off
log_line_prefix = '%m [%p] app=%a '
log_min_messages = warning
EOF
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdata" -l "$log" -w -t 60 start >/dev/null

psql_base=(psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres)

results=()
for n in "${sizes[@]}"; do
	db=bench_$n
	echo "== $n tables: loading into $db" >&2
	"${psql_base[@]}" -d postgres -c "CREATE DATABASE $db"
	t0=$(date +%s.%N)
	"$gen" -s "$SEED" ${GEN_ARGS:-} "$n" | "${psql_base[@]}" -d "$db" -1 -f - >/dev/null
	"${psql_base[@]}" -d "$db" -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
	t1=$(date +%s.%N)
	echo "== $n tables: loaded in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; benchmarking" >&2
	dsn="host=$sock port=$port user=postgres dbname=$db"
	if ! "$bench" -k "$ITERATIONS" --cli "$cli" --pg-bin "$PG_BIN" --server-log "$log" \
		--label "$n" "$dsn" >"$work/bench_$n.out"; then
		cat "$work/bench_$n.out" >&2
		echo "run-bench: bench_snapshot failed for $n tables" >&2
		exit 1
	fi
	cat "$work/bench_$n.out" >&2
	out=$(grep '^RESULT ' "$work/bench_$n.out")
	results+=("$out")
	if [ "${VERIFY:-0}" = 1 ]; then # verify of the same schema from one SQL file
		"$gen" -s "$SEED" ${GEN_ARGS:-} "$n" >"$work/schema_$n.sql"
		echo "== $n tables: verify (bench_verify)" >&2
		"$BUILD_DIR/tests/bench/bench_verify" -k "$ITERATIONS" --sql "$work/schema_$n.sql" \
			--pg-bin "$PG_BIN" --scratch-dsn "host=$sock port=$port user=postgres dbname=postgres" \
			"$dsn" >&2 || { echo "run-bench: bench_verify failed for $n tables" >&2; exit 1; }
	fi
	"${psql_base[@]}" -d postgres -c "DROP DATABASE $db"
done

# RESULT lines are key=value pairs; print the interesting ones as a table.
echo
printf '%s\n' "${results[@]}" | awk '
function get(k,   i, kv) {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] }
	return "?"
}
function row(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) {
	printf "%6s %5s %6s %6s %7s | %6s %6s %6s %7s | %6s %6s | %6s %6s | %5s %6s | %s\n",
	       a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p
}
function cli(a, b, c, d, e, f, g, h, i, j, k) {
	printf "%6s | %8s %7s | %8s %7s %6s %6s | %8s %7s %6s %6s\n", a, b, c, d, e, f, g, h, i, j, k
}
BEGIN {
	row("tables", "rels", "cols", "idx", "objects", "ours", "bare", "libpq", "pg_dump",
	    "ours/", "dump/", "diff", "diff/", "stmts", "RSS", "load avg")
	row("", "", "", "", "", "ms", "ms", "ms", "ms", "bare", "ours", "ms", "ours", "", "MiB",
	    "start/end")
}
{
	row(get("label"), get("relations"), get("columns"), get("indexes"), get("objects"),
	    get("ours_ms"), get("bare_ms"), get("bare_libpq_ms"), get("pgdump_ms"),
	    get("ours_over_bare"), get("pgdump_over_ours"), get("diff_ms"), get("diff_over_ours"),
	    get("statements"), get("rss_mib"), get("load"))
	lines[NR] = $0
}
END {
	print ""
	print "The CLI as a user runs it (wall time, peak RSS; ratios against its own snapshot):"
	cli("tables", "snapshot", "", "diff A B", "", "time/", "RSS/", "hash A", "", "time/", "RSS/")
	cli("", "ms", "MiB", "ms", "MiB", "snap", "snap", "ms", "MiB", "snap", "snap")
	for (n = 1; n <= NR; n++) {
		$0 = lines[n]
		cli(get("label"), get("cli_ms"), get("rss_mib"), get("cli_diff_ms"), get("diff_rss_mib"),
		    get("cli_diff_over_snapshot"), sprintf("%.2f", get("diff_rss_mib") / get("rss_mib")),
		    get("cli_hash_ms"), get("hash_rss_mib"), get("cli_hash_over_snapshot"),
		    sprintf("%.2f", get("hash_rss_mib") / get("rss_mib")))
	}
}'
cat <<EOF

ms are medians of $ITERATIONS runs in one process against one database; ours = live_snapshot_run
+ snapshot_write (read, canonical JSON, SHA-256); bare = the same catalog queries in the same
transaction through psql; libpq = the same through libpq with no client work (informational);
diff = snapshot_load_differing of two files (only what differs is built) + diff_models +
text output.
A load average above ~1.5 on this 2-core machine means something else ran: rerun.
Targets at 5,000 tables: ours/bare <= 1.25, dump/ours >= 2, stmts <= 20, RSS <= 64 MiB,
diff/ours <= 0.10; the CLI's diff A B and hash A each <= 0.10 of its snapshot's time and
<= 64 MiB.
EOF
