#!/usr/bin/env bash
# Snapshot benchmark: throwaway PostgreSQL 15 cluster, generated schemas, bench_snapshot per size.
#
# Usage: tests/bench/run-bench.sh [SIZES...]        (default: 100 1000 5000)
#
# Builds nothing: build first, e.g.
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2
# Environment:
#   BUILD_DIR   build directory (default: <repo>/build)
#   PG_BIN      PostgreSQL server binaries (default: /usr/lib/postgresql/15/bin); another
#               major's from scripts/pg-server.sh MAJOR (they come without client tools)
#   CLIENT_BIN  psql and pg_dump (default: PG_BIN when it has them, else Debian's 15);
#               pg_dump is left out when it is older than the server
#   BASELINE_PG_BIN  a second server (e.g. Debian's 15) loaded with the same schema:
#               bench_snapshot --baseline times our snapshot on both in the same rounds
#               and prints ours/baseline (the 5,000-table schema on 13 or 18 against 15)
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
if [ -z "${CLIENT_BIN:-}" ]; then
	CLIENT_BIN=$PG_BIN
	[ -x "$CLIENT_BIN/pg_dump" ] || CLIENT_BIN=/usr/lib/postgresql/15/bin
fi
BASELINE_PG_BIN=${BASELINE_PG_BIN:-}
ITERATIONS=${ITERATIONS:-5}
SEED=${SEED:-42}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)

gen=$BUILD_DIR/tests/bench/gen_schema
bench=$BUILD_DIR/tests/bench/bench_snapshot
cli=$BUILD_DIR/schemadrift
for f in "$gen" "$bench" "$cli" "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$CLIENT_BIN/psql" \
	${BASELINE_PG_BIN:+"$BASELINE_PG_BIN/initdb"}; do
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
	local d bin
	for d in "$work" "$work/base"; do
		bin=$PG_BIN
		[ "$d" = "$work" ] || bin=$BASELINE_PG_BIN
		if [ -f "$d/data/postmaster.pid" ]; then
			"${as_pg[@]}" "$bin/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || true
		fi
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "run-bench: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_cluster BIN DIR: initdb into DIR/data, start it with its socket in
# DIR/sock; prints the port.  The socket lives in our private directory, so
# any port number is free there; listen_addresses='' keeps TCP out of it.
start_cluster() {
	local bin=$1 dir=$2 port=$((20000 + RANDOM % 20000))
	"${as_pg[@]}" mkdir -p "$dir/sock"
	"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
		--locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; return 2; }
	cat <<EOF | "${as_pg[@]}" tee -a "$dir/data/postgresql.conf" >/dev/null
listen_addresses = ''
port = $port
unix_socket_directories = '$dir/sock'
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
	"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
	echo "$port"
}

port=$(start_cluster "$PG_BIN" "$work")
log=$work/server.log
bench_args=(--pg-bin "$CLIENT_BIN")
server_major=$("$PG_BIN/postgres" --version | sed -E 's/.* ([0-9]+)[.a-z].*/\1/')
client_major=$("$CLIENT_BIN/pg_dump" --version | sed -E 's/.* ([0-9]+)[.a-z].*/\1/')
if [ "$server_major" -gt "$client_major" ]; then
	echo "run-bench: pg_dump $client_major cannot dump PostgreSQL $server_major: left out" >&2
	bench_args+=(--no-pg-dump)
fi
if [ -n "$BASELINE_PG_BIN" ]; then
	"${as_pg[@]}" mkdir -p "$work/base"
	base_port=$(start_cluster "$BASELINE_PG_BIN" "$work/base")
	base_psql=("$CLIENT_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$work/base/sock" -p "$base_port"
		-U postgres)
fi

psql_base=("$CLIENT_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres)

results=()
for n in "${sizes[@]}"; do
	db=bench_$n
	echo "== $n tables: loading into $db" >&2
	"${psql_base[@]}" -d postgres -c "CREATE DATABASE $db"
	t0=$(date +%s.%N)
	"$gen" -s "$SEED" ${GEN_ARGS:-} "$n" | "${psql_base[@]}" -d "$db" -1 -f - >/dev/null
	"${psql_base[@]}" -d "$db" -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
	run_args=("${bench_args[@]}")
	if [ -n "$BASELINE_PG_BIN" ]; then # the same schema on the baseline server
		"${base_psql[@]}" -d postgres -c "CREATE DATABASE $db"
		"$gen" -s "$SEED" ${GEN_ARGS:-} "$n" | "${base_psql[@]}" -d "$db" -1 -f - >/dev/null
		"${base_psql[@]}" -d "$db" -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
		run_args+=(--baseline "host=$work/base/sock port=$base_port user=postgres dbname=$db")
	fi
	t1=$(date +%s.%N)
	echo "== $n tables: loaded in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; benchmarking" >&2
	dsn="host=$sock port=$port user=postgres dbname=$db"
	if ! "$bench" -k "$ITERATIONS" --cli "$cli" "${run_args[@]}" --server-log "$log" \
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
	[ -z "$BASELINE_PG_BIN" ] || "${base_psql[@]}" -d postgres -c "DROP DATABASE $db"
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
	$0 = lines[1]
	if (get("ours_over_baseline") + 0 > 0) {
		print ""
		print "Our snapshot on this server against the baseline server (BASELINE_PG_BIN), same rounds:"
		printf "%6s | %8s %8s | %6s\n", "tables", "ours", "baseline", "ours/"
		printf "%6s | %8s %8s | %6s\n", "", "ms", "ms", "base"
		for (n = 1; n <= NR; n++) {
			$0 = lines[n]
			printf "%6s | %8s %8s | %6s\n", get("label"), get("ours_ms"), get("baseline_ms"),
			       get("ours_over_baseline")
		}
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
<= 64 MiB; ours/baseline <= 1.25 on 13 and 18 against 15.
EOF
