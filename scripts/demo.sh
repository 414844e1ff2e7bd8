#!/usr/bin/env bash
# One-command demonstration: build, throwaway PostgreSQL 15, snapshot, hotfix, diff.
#
# Usage: scripts/demo.sh
#
# Installs what is missing (scripts/deps.sh), builds the CLI (Release, into
# build-demo/), starts a private PostgreSQL 15 cluster in a temp directory
# (unix socket only, in that directory), creates a small shop schema, takes a
# snapshot, makes a hand-made "hotfix" and shows what schemadrift reports.
# The cluster is stopped and its directory removed on exit.
#
# Environment:
#   PG_BIN   PostgreSQL server binaries (default: /usr/lib/postgresql/15/bin)
#   KEEP=1   keep the temp directory (snapshot, diff; the cluster is stopped)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$repo/build-demo
cli=$build/schemadrift
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

case ${1:-} in
'') ;;
-h | --help)
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
*)
	echo "demo.sh: no arguments expected (try --help)" >&2
	exit 2
	;;
esac

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	bold=$'\e[1m' dim=$'\e[2m' reset=$'\e[0m'
else
	bold='' dim='' reset=''
fi
step=0
say() {
	step=$((step + 1))
	printf '\n%s== %d. %s%s\n' "$bold" "$step" "$*" "$reset"
}
note() { printf '   %s\n' "$*"; }
# Shows a command as a user would type it (the script then runs it).
show() {
	printf '%s$ %s%s\n' "$dim" "$*" "$reset"
}
die() {
	echo "demo.sh: $*" >&2
	exit 2
}

# set -e stops at the first failure; say where, so it is not a silent stop.
trap 'echo "demo.sh: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

started=$(date +%s)

say "Checking the Debian packages (scripts/deps.sh)"
bash "$here/deps.sh"

say "Building schemadrift (Release, into build-demo/)"
buildlog=$(mktemp /tmp/schemadrift-demo-build.XXXXXX)
if ! { cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
	-DBUILD_TESTING=OFF -DBUILD_BENCH=OFF &&
	cmake --build "$build" --target schemadrift -j "$(nproc)"; } >"$buildlog" 2>&1; then
	tail -n 40 "$buildlog" >&2
	rm -f "$buildlog"
	die "build failed (last lines above)"
fi
rm -f "$buildlog"
note "built $("$cli" --version) at ${cli#"$repo"/}"

say "Starting a throwaway PostgreSQL 15 (private temp dir, unix socket only)"
for f in initdb pg_ctl psql; do
	[ -x "$PG_BIN/$f" ] || die "$PG_BIN/$f not found (PostgreSQL 15 server binaries)"
done
work=$(mktemp -d /tmp/schemadrift-demo.XXXXXX)
pgdata=$work/data
as_pg=()
if [ "$(id -u)" = 0 ]; then
	# initdb refuses to run as root: the server runs as the postgres OS user.
	getent passwd postgres >/dev/null || die "there is no 'postgres' OS user to run the server as"
	as_pg=(runuser -u postgres --)
	chown postgres: "$work"
fi

cleanup() {
	set +e
	cd /
	if [ -f "$pgdata/postmaster.pid" ]; then
		(cd "$work" && "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop) >/dev/null 2>&1
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "demo.sh: kept $work (cluster stopped)" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The socket lives in our private directory and TCP is off, but take a port
# that is free anyway so that nothing about it can collide.
port=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work" && "${as_pg[@]}" "$PG_BIN/initdb" -D "$pgdata" -U postgres --auth=trust \
	-E UTF8 --no-locale --no-sync) >"$work/initdb.log" 2>&1 ||
	{ cat "$work/initdb.log" >&2; die "initdb failed"; }
cat >>"$pgdata/postgresql.conf" <<EOF
# schemadrift demo
listen_addresses = ''
port = $port
unix_socket_directories = '$work'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 10
TimeZone = 'UTC'
EOF
(cd "$work" && "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdata" -l "$work/server.log" -w -t 60 start) \
	>/dev/null 2>&1 || { tail -n 20 "$work/server.log" >&2; die "the server did not start"; }
note "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') in $work, port $port"

# Only the conninfo below decides where we connect: ignore the caller's PG* settings.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGOPTIONS \
	PGSSLMODE PGTARGETSESSIONATTRS PGAPPNAME
dsn="host=$work port=$port dbname=shop user=postgres"
psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres)
"${psql[@]}" -d postgres -c 'CREATE DATABASE shop'

say "Creating a small shop schema: customers, orders (FK), an index, a view, a sequence"
"${psql[@]}" -d shop <<'SQL'
CREATE SEQUENCE invoice_number_seq START 10000;

CREATE TABLE customers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      varchar(120) NOT NULL UNIQUE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    status      varchar(20) NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    total       numeric(10,2) NOT NULL,
    invoice_no  bigint DEFAULT nextval('invoice_number_seq'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at);

CREATE VIEW customer_totals AS
    SELECT c.id, c.email, count(o.id) AS orders, coalesce(sum(o.total), 0) AS spent
    FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
    GROUP BY c.id, c.email;

INSERT INTO customers (email, name) VALUES
    ('ada@example.com', 'Ada'), ('grace@example.com', 'Grace');
INSERT INTO orders (customer_id, status, total) VALUES
    (1, 'paid', 120.50), (1, 'new', 19.99), (2, 'shipped', 310.00);
SQL
"${psql[@]}" -d shop -At -F ': ' <<'SQL' | sed 's/^/   /'
SELECT CASE c.relkind WHEN 'r' THEN 'tables' WHEN 'v' THEN 'views'
                      WHEN 'S' THEN 'sequences' WHEN 'i' THEN 'indexes' END,
       string_agg(c.relname, ', ' ORDER BY c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
GROUP BY c.relkind ORDER BY min(position(c.relkind IN 'rvSi'));
SQL

# From here on: the commands shown are the commands run, in the temp directory.
export PATH="$build:$PATH"
cd "$work"

say "Taking a snapshot of the live schema"
snap=before.json
show "schemadrift snapshot --dsn '$dsn' -o $snap"
schemadrift snapshot --dsn "$dsn" -o "$snap"
note "$(wc -l <"$snap") lines, $(wc -c <"$snap") bytes: a header, then one object per line, e.g.:"
{ head -n 1 "$snap" | cut -c 1-150; grep -m 1 '"name":"total"' "$snap" || true; } | sed 's/^/   /'
note "(the header line is cut above; its 'meta' holds server version, database and time)"

say "The schema's hash (SHA-256 over the canonical snapshot; 'meta' is not hashed)"
show "schemadrift hash $snap"
before_hash=$(schemadrift hash "$snap")
note "$before_hash"
show "schemadrift hash --dsn '$dsn'"
note "$(schemadrift hash --dsn "$dsn")   (live database: the same)"

say "Nothing has changed yet, so the diff is empty (exit status 0)"
show "schemadrift diff $snap 'dsn:$dsn'"
rc=0
schemadrift diff "$snap" "dsn:$dsn" || rc=$?
note "exit status $rc"
[ "$rc" = 0 ] || die "expected exit status 0 before the hotfix, got $rc"

say "Someone applies a hand-made hotfix in production"
hotfix=$(cat <<'SQL'
BEGIN;
-- the view reads orders.total: it has to go before the type can change
DROP VIEW customer_totals;
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);
ALTER TABLE orders ALTER COLUMN invoice_no SET NOT NULL;
CREATE INDEX orders_open_idx ON orders (created_at) WHERE status IN ('new', 'paid');
COMMIT;
SQL
)
printf '%s\n' "$hotfix" | sed 's/^/   | /'
"${psql[@]}" -d shop <<<"$hotfix" >/dev/null
note "hash of the live database is now $(schemadrift hash --dsn "$dsn")"
note "                         (it was $before_hash)"

say "What drifted since the snapshot? (text output)"
show "schemadrift diff $snap 'dsn:$dsn'"
rc=0
schemadrift diff "$snap" "dsn:$dsn" || rc=$?
note "exit status $rc"

say "The same diff as JSON, for scripts and CI (first lines)"
show "schemadrift diff $snap 'dsn:$dsn' --format json | head -n 40"
rc_json=0
schemadrift diff "$snap" "dsn:$dsn" --format json >diff.json || rc_json=$?
head -n 40 diff.json
note "... ($(wc -l <diff.json) lines in all; exit status $rc_json)"

say "Exit status"
note "diff exited with $rc: the schemas differ. 0 would mean the same schema, and 2 trouble"
note "(cannot connect, unreadable snapshot; one line on stderr). A cron job or a CI step"
note "needs no parsing, e.g.:"
note "  schemadrift diff approved.json dsn:service=prod >drift.txt || notify-team drift.txt"
if [ "$rc" != 1 ] || [ "$rc_json" != 1 ]; then
	die "expected exit status 1 after the hotfix, got $rc/$rc_json"
fi

printf '\n%sDone in %d s.%s The cluster is stopped and its directory removed now.\n' \
	"$bold" "$(($(date +%s) - started))" "$reset"
[ "${KEEP:-0}" != 1 ] || note "KEEP=1: before.json and diff.json stay in $work"
