#!/usr/bin/env bash
# One-command demonstration: schemadriftd catches a hand-made hotfix and alerts a webhook and a mailbox.
#
# Usage: scripts/demo.sh
#
# Installs what is missing (scripts/deps.sh), builds schemadrift and
# schemadriftd (Release, into build-demo/), starts a private PostgreSQL 15
# cluster in a temp directory (unix socket only, in that directory) with a
# small shop schema, and then, everything on this machine:
#   - the CLI: a snapshot, its hash, and later the diff against the live database;
#   - a local webhook receiver and a local SMTP server (loopback, plain text);
#   - schemadriftd checking the database every 2 s and alerting both;
#   - a hand-made hotfix: the drift alert arrives (webhook JSON and email shown);
#   - `schemadrift baseline accept`: the `recovered` alert arrives;
#   - `schemadrift verify`: a repository's migrations against the database (one finding);
#   - `schemadrift check`: an FK no index covers (with its CREATE INDEX) and an
#     orphan row under a NOT VALID FK;
#   - the daemon's log, then SIGTERM.
# Everything is stopped and the temp directory removed on exit.
#
# Environment:
#   PG_BIN   PostgreSQL server binaries (default: /usr/lib/postgresql/15/bin)
#   KEEP=1   keep the temp directory (configuration, logs, store, received alerts)
#   DEMO_WAIT  seconds each wait may take before the demo gives up (default 30)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$repo/build-demo
cli=$build/schemadrift
daemon_bin=$build/schemadriftd
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PY=/usr/bin/python3
wait_max=${DEMO_WAIT:-30}

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
case $wait_max in
'' | *[!0-9]*) echo "demo.sh: DEMO_WAIT must be a number of seconds" >&2; exit 2 ;;
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
indent() { sed 's/^/   /'; }
# Shows a command as a user would type it (the script then runs it).
show() {
	printf '%s$ %s%s\n' "$dim" "$*" "$reset"
}

work=''
daemon_pid='' hook_pid='' smtp_pid=''

# Says what went wrong, with the logs that explain it, and exits nonzero.
die() {
	echo "demo.sh: $*" >&2
	local f
	for f in daemon.log webhook.log smtp.log; do
		if [ -n "$work" ] && [ -s "$work/$f" ]; then
			echo "----- last lines of $f -----" >&2
			tail -n 15 "$work/$f" | cut -c 1-300 >&2
		fi
	done
	exit 2
}

# Polls "$@" every 0.2 s until it succeeds; dies after $wait_max seconds, or at
# once when one of our background processes has exited.
wait_for() {
	local what=$1
	shift
	local deadline=$((SECONDS + wait_max)) p
	until "$@"; do
		for p in "$daemon_pid" "$hook_pid" "$smtp_pid"; do
			if [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; then
				local name rc=0
				name=$(proc_name "$p")
				wait "$p" 2>/dev/null || rc=$?
				die "while waiting for $what: $name (pid $p) has exited with status $rc"
			fi
		done
		if [ "$SECONDS" -ge "$deadline" ]; then
			die "timed out after ${wait_max} s waiting for $what"
		fi
		sleep 0.2
	done
}
proc_name() {
	case $1 in
	"$daemon_pid") echo schemadriftd ;;
	"$hook_pid") echo "the webhook receiver" ;;
	"$smtp_pid") echo "the SMTP server" ;;
	*) echo "?" ;;
	esac
}

# set -e stops at the first failure; say where, so it is not a silent stop.
trap 'echo "demo.sh: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

started=$(date +%s)

say "Checking the Debian packages (scripts/deps.sh)"
bash "$here/deps.sh"

say "Building schemadrift and schemadriftd (Release, into build-demo/)"
buildlog=$(mktemp /tmp/schemadrift-demo-build.XXXXXX)
if ! { cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
	-DBUILD_TESTING=OFF -DBUILD_BENCH=OFF &&
	cmake --build "$build" --target schemadrift schemadriftd -j "$(nproc)"; } >"$buildlog" 2>&1; then
	tail -n 40 "$buildlog" >&2
	rm -f "$buildlog"
	die "build failed (last lines above)"
fi
rm -f "$buildlog"
note "built $("$cli" --version) at ${cli#"$repo"/} and ${daemon_bin#"$repo"/}"
built=$(date +%s)

say "Starting a throwaway PostgreSQL 15 (private temp dir, unix socket only)"
for f in initdb pg_ctl psql; do
	[ -x "$PG_BIN/$f" ] || die "$PG_BIN/$f not found (PostgreSQL 15 server binaries)"
done
[ -x "$PY" ] || die "$PY not found (the local webhook receiver and SMTP server need it)"
command -v openssl >/dev/null || die "openssl not found (the SMTP test server makes a certificate with it)"
work=$(mktemp -d /tmp/schemadrift-demo.XXXXXX)
pgdata=$work/data
as_pg=()
if [ "$(id -u)" = 0 ]; then
	# initdb refuses to run as root: the server runs as the postgres OS user.
	getent passwd postgres >/dev/null || die "there is no 'postgres' OS user to run the server as"
	as_pg=(runuser -u postgres --)
	chown postgres: "$work"
fi

# Stops what we started, each by its own process id, newest first.
stop_pid() {
	local pid=$1 _
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "demo.sh: process $pid did not stop within 10 s of SIGTERM; killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}
cleanup() {
	set +e
	trap - ERR
	cd /
	stop_pid "$daemon_pid"
	stop_pid "$smtp_pid"
	stop_pid "$hook_pid"
	if [ -f "$pgdata/postmaster.pid" ]; then
		(cd "$work" && "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop) >/dev/null 2>&1
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "demo.sh: kept $work (everything stopped)" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'echo "demo.sh: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

# The socket lives in our private directory and TCP is off, but take a port
# that is free anyway so that nothing about it can collide.
port=$("$PY" -c 'import socket
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
max_connections = 20
TimeZone = 'UTC'
EOF
(cd "$work" && "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdata" -l "$work/server.log" -w -t 60 start) \
	>/dev/null 2>&1 || { tail -n 20 "$work/server.log" >&2; die "the server did not start"; }
note "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') in $work, port $port"

# Only the conninfo below decides where we connect: ignore the caller's PG* settings,
# and the caller's schemadrift settings too.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGOPTIONS \
	PGSSLMODE PGTARGETSESSIONATTRS PGAPPNAME SCHEMADRIFT_STATE_DIR SCHEMADRIFT_RUNTIME_DIR \
	NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID LISTEN_FDS CREDENTIALS_DIRECTORY
dsn="host=$work port=$port dbname=shop user=postgres"
psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres)
"${psql[@]}" -d postgres -c 'CREATE DATABASE shop'

say "Creating a small shop schema: customers, orders (FK), an index, a view, a sequence"
cat >"$work/shop.sql" <<'SQL'
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
"${psql[@]}" -d shop -f "$work/shop.sql"
"${psql[@]}" -d shop -At -F ': ' <<'SQL' | indent
SELECT CASE c.relkind WHEN 'r' THEN 'tables' WHEN 'v' THEN 'views'
                      WHEN 'S' THEN 'sequences' WHEN 'i' THEN 'indexes' END,
       string_agg(c.relname, ', ' ORDER BY c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
GROUP BY c.relkind ORDER BY min(position(c.relkind IN 'rvSi'));
SQL

# Reads what the local receivers got (webhook.log: one JSON line per request;
# smtp/messages/NNNN.eml) and the daemon's status; used by the waits and the
# displays below.
cat >"$work/inspect.py" <<'PY'
"""scripts/demo.sh's reader for the webhook log, the SMTP spool and schemadrift status."""
import email
import email.policy
import json
import os
import re
import sys

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def hooks(path):
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except FileNotFoundError:
        return out
    for line in lines:
        if not line.startswith("{"):
            continue
        try:
            req = json.loads(line)
            req["alert"] = json.loads(req["body"])
        except ValueError:
            continue  # a line still being written
        out.append(req)
    return out


def hook(path, kind):
    """The first request carrying an alert of this kind that the receiver accepted (2xx)."""
    for req in hooks(path):
        if (isinstance(req["alert"], dict) and req["alert"].get("kind") == kind
                and 200 <= (req.get("answered") or 0) < 300):
            return req
    return None


def mails(spool):
    out = []
    d = os.path.join(spool, "messages")
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if name.endswith(".eml"):
            with open(os.path.join(d, name), "rb") as f:
                msg = email.message_from_bytes(f.read(), policy=email.policy.default)
            with open(os.path.join(d, name[:-4] + ".json")) as f:
                msg.envelope = json.load(f)
            out.append(msg)
    return out


def mail(spool, kind):
    for msg in mails(spool):
        if msg["X-Schemadrift-Alert"] == kind:
            return msg
    return None


def short(v):
    return v[:12] + "..." if isinstance(v, str) and HEX64.match(v) else v


def show_hook(req, max_changes):
    a = req["alert"]
    h = req["headers"]
    print("POST %s" % req["path"])
    print("webhook-id: %s" % h.get("webhook-id"))
    print("webhook-signature: %s...  (receiver's check: %s)" % (
        (h.get("webhook-signature") or "")[:16],
        "valid" if req.get("signature_ok") else "NOT VALID"))
    print("{")
    items = list(a.items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if k == "changes" and isinstance(v, list) and v:
            print('  "changes": [')
            for j, c in enumerate(v[:max_changes]):
                print("    %s%s" % (json.dumps(c, ensure_ascii=False),
                                    "," if j < len(v) - 1 else ""))
            if len(v) > max_changes:
                print("    ... (%d more)" % (len(v) - max_changes))
            print("  ]" + comma)
        else:
            print("  %s: %s%s" % (json.dumps(k), json.dumps(short(v), ensure_ascii=False), comma))
    print("}")


def show_mail(msg, lines):
    for name in ("Subject", "From", "To", "X-Schemadrift-Alert"):
        print("%s: %s" % (name, msg[name]))
    env = msg.envelope
    print("(envelope: MAIL FROM %s, RCPT TO %s; TLS: %s)" % (
        env["mail_from"], ", ".join(env["rcpt_tos"]), "yes" if env["tls"] else "no"))
    if lines:
        text = msg.get_body(preferencelist=("plain",)).get_content().splitlines()
        print("--- text part, first %d of %d lines ---" % (min(lines, len(text)), len(text)))
        for line in text[:lines]:
            print(line)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "has-hook":       # FILE KIND
        return 0 if hook(*args) else 1
    if cmd == "show-hook":      # FILE KIND MAX_CHANGES
        show_hook(hook(args[0], args[1]), int(args[2]))
        return 0
    if cmd == "has-mail":       # SPOOL KIND
        return 0 if mail(*args) else 1
    if cmd == "show-mail":      # SPOOL KIND LINES
        show_mail(mail(args[0], args[1]), int(args[2]))
        return 0
    if cmd == "diff-brief":     # DIFF.json: its summary and first change, one line each
        with open(args[0]) as f:
            d = json.load(f)
        print('"summary": %s' % json.dumps(d["summary"]))
        for c in d["changes"][:1]:
            print('"changes": [%s, ...]' % json.dumps(c, ensure_ascii=False))
        return 0
    if cmd == "count":          # FILE SPOOL: alerts received on each channel
        print("%d webhook requests, %d emails" % (len(hooks(args[0])), len(mails(args[1]))))
        return 0
    if cmd == "status-is":      # TARGET STATE MIN_RUNS, with `status --format json` on stdin
        try:
            st = json.load(sys.stdin)
        except ValueError:
            return 1
        for t in st.get("targets", []):
            if (t.get("target") == args[0] and t.get("state") == args[1]
                    and (t.get("runs") or 0) >= int(args[2]) and not t.get("running")):
                return 0
        return 1
    print("inspect.py: unknown command %r" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
PY
inspect() { "$PY" "$work/inspect.py" "$@"; }

# From here on: the commands shown are the commands run, in the temp directory.
export PATH="$build:$PATH"
cd "$work"

say "The CLI: a snapshot of the live schema and its hash"
snap=before.json
show "schemadrift snapshot --dsn '$dsn' -o $snap"
schemadrift snapshot --dsn "$dsn" -o "$snap"
note "$(wc -l <"$snap") lines: a header, then one object per line (identified by kind, schema,"
note "parent and name, never by OID), e.g. the column orders.total:"
{ grep -m 1 '"name":"total"' "$snap" || true; } | indent
show "schemadrift hash $snap"
before_hash=$(schemadrift hash "$snap")
note "$before_hash   (SHA-256 over the canonical snapshot)"
live_hash=$(schemadrift hash --dsn "$dsn")
note "$live_hash   (schemadrift hash --dsn ...: the live database, the same)"
[ "$live_hash" = "$before_hash" ] || die "the live hash differs from the snapshot's before any change"

say "A local webhook receiver and a local SMTP server (loopback only)"
secret="whsec_$(head -c 24 /dev/urandom | base64)"
# The receiver verifies the Standard Webhooks signature made with this throwaway secret.
show "python3 tests/integration/http_receiver.py --port 0 --secret whsec_... >webhook.log &"
"$PY" "$repo/tests/integration/http_receiver.py" --port 0 --secret "$secret" \
	>webhook.log 2>&1 </dev/null &
hook_pid=$!
webhook_listening() { grep -q '^listening http://127\.0\.0\.1:[0-9]' webhook.log; }
wait_for "the webhook receiver to listen" webhook_listening
hook_url=$(sed -n 's|^listening \(http://127\.0\.0\.1:[0-9]*\).*|\1|p' webhook.log | head -n 1)/schemadrift
note "webhook receiver: $hook_url (one JSON line per request in webhook.log)"

mkdir -p smtp
show "python3 tests/integration/smtp_server.py --dir smtp --mode open >smtp.log &"
"$PY" "$repo/tests/integration/smtp_server.py" --dir smtp --mode open >smtp.log 2>&1 </dev/null &
smtp_pid=$!
smtp_listening() { grep -q '^[0-9][0-9]*$' smtp.log; }
wait_for "the SMTP server to print its port" smtp_listening
smtp_port=$(grep -m 1 '^[0-9][0-9]*$' smtp.log)
smtp_up() { "$PY" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$smtp_port" 2>/dev/null; }
wait_for "the SMTP server to accept connections on port $smtp_port" smtp_up
note "SMTP server: 127.0.0.1:$smtp_port, mode 'open': no STARTTLS, no AUTH (aiosmtpd);"
note "messages are kept in smtp/messages/. A loopback demo, so the notifier below says"
note "'starttls = none' explicitly: the default, 'required', sends nothing without TLS."

say "A configuration for schemadriftd"
conf=$work/schemadrift.conf
# The webhook URL and secret are secrets: the daemon only reads them from a private file.
(
	umask 077
	cat >"$conf" <<EOF
# The demo's schemadriftd configuration (written by scripts/demo.sh).
[daemon]
state_dir = $work/state
runtime_dir = $work/run
schedule = every 2s
settle_delay = 2s
jitter = 0

[target shop]
dsn = $dsn
environment = demo
notifiers = ops-webhook, dba-mail

# Plain http only because the receiver is on loopback; production uses https.
[notifier ops-webhook]
type = webhook
url = $hook_url
allow_http = true
secret = $secret

# Plain SMTP only because the server is on loopback: STARTTLS is required otherwise.
[notifier dba-mail]
type = smtp
host = 127.0.0.1
port = $smtp_port
starttls = none
from = Schemadrift <schemadrift@example.test>
to = DBA team <dba-team@example.test>
timeout = 10s
EOF
)
sed -e "s|^secret = .*|secret = whsec_...   (a throwaway secret)|" "$conf" | indent
show "schemadriftd -c schemadrift.conf --check-config"
"$daemon_bin" -c "$conf" --check-config 2>&1 | sed "s|$work/||" | indent ||
	die "schemadriftd --check-config refused the configuration"

say "Starting schemadriftd: the first snapshot becomes the baseline"
show "schemadriftd -c schemadrift.conf -f >daemon.log 2>&1 &"
"$daemon_bin" -c "$conf" -f >daemon.log 2>&1 </dev/null &
daemon_pid=$!
status_is() {
	schemadrift status --runtime-dir run --format json 2>/dev/null | inspect status-is "$@"
}
wait_for "the first run of target shop (schemadrift status)" status_is shop ok 1
grep -q "baseline created" daemon.log ||
	die "target shop is ok, but the log does not say that a baseline was created"
show "schemadrift status --runtime-dir run"
schemadrift status --runtime-dir run | indent

say "Someone applies a hand-made hotfix in production"
hotfix=$(
	cat <<'SQL'
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
hotfix_at=$SECONDS

say "The CLI sees it at once: the snapshot taken above against the live database"
show "schemadrift diff $snap 'dsn:$dsn'"
rc=0
schemadrift diff "$snap" "dsn:$dsn" || rc=$?
note "exit status $rc (0 same, 1 different, 2 trouble)"
[ "$rc" = 1 ] || die "expected exit status 1 from diff after the hotfix, got $rc"
show "schemadrift diff $snap 'dsn:$dsn' --format json >diff.json"
rc=0
schemadrift diff "$snap" "dsn:$dsn" --format json >diff.json || rc=$?
[ "$rc" = 1 ] || die "expected exit status 1 from diff --format json after the hotfix, got $rc"
note "exit status $rc; $(wc -l <diff.json) lines for scripts and CI. Its summary and first change:"
inspect diff-brief diff.json | indent

say "schemadriftd alerts: the drift is seen at a run, confirmed after settle_delay, then sent"
note "waiting for the webhook receiver and the SMTP server (at most ${wait_max} s)..."
wait_for "the drift alert at the webhook receiver" inspect has-hook webhook.log drift
wait_for "the drift alert at the SMTP server" inspect has-mail smtp drift
note "both arrived $((SECONDS - hotfix_at)) s after the hotfix (schedule every 2s + settle_delay 2s)."
printf '\n%sThe webhook request (JSON pretty-printed, hashes cut):%s\n' "$bold" "$reset"
inspect show-hook webhook.log drift 4 | indent
printf '\n%sThe email:%s\n' "$bold" "$reset"
inspect show-mail smtp drift 19 | indent
show "schemadrift status --runtime-dir run"
schemadrift status --runtime-dir run | indent

say "The hotfix is approved: accept the current schema as the new baseline"
show "schemadrift baseline accept shop latest --reason \"approved hotfix\" --state-dir state"
schemadrift baseline accept shop latest --reason "approved hotfix" --state-dir state 2>&1 | indent
wait_for "the recovered alert at the webhook receiver" inspect has-hook webhook.log recovered
wait_for "the recovered alert at the SMTP server" inspect has-mail smtp recovered
note "at the next run the daemon sees the new baseline and sends 'recovered':"
inspect show-hook webhook.log recovered 4 | grep -E '"(kind|headline|message|from_hash|to_hash)"' | indent
inspect show-mail smtp recovered 0 | grep -E '^(Subject|X-Schemadrift-Alert):' | indent
wait_for "target shop to be ok again" status_is shop ok 1
show "schemadrift status --runtime-dir run"
schemadrift status --runtime-dir run | indent
show "schemadrift history shop --state-dir state"
schemadrift history shop --state-dir state | indent
show "schemadrift report shop -o report.html --state-dir state"
schemadrift report shop -o report.html --state-dir state 2>&1 | indent
note "report.html: the same history as one static page ($(wc -c <report.html) bytes; timeline,"
note "the hotfix attribute by attribute, the accept and its reason; KEEP=1 keeps it: docs/report.md)."

# ---- schemadrift verify (docs/verify.md): the repository's migrations against the database ----
say "schemadrift verify: is the database what the repository's migrations say?"
mkdir -p repo/migrations
cp shop.sql repo/migrations/000001_shop.up.sql
{
	echo "-- the approved hotfix, written up as a migration afterwards: without its index"
	printf '%s\n' "$hotfix" | grep -v 'CREATE INDEX'
} >repo/migrations/000002_hotfix.up.sql
note "repo/migrations: golang-migrate files, the shop schema and the hotfix, which was written"
note "up as a migration afterwards and forgot its index."
note "verify loads them into a throwaway cluster (initdb from $PG_BIN, unix socket only,"
note "removed afterwards) and compares with the same catalog reader as diff:"
show "schemadrift verify --dsn '$dsn' --expected repo/migrations"
rc=0
schemadrift verify --dsn "$dsn" --expected repo/migrations --pg-bindir "$PG_BIN" \
	>verify.txt 2>&1 || rc=$?
sed "s|$work/||g" verify.txt | indent
note "exit status $rc (0 the database matches, 1 it does not, 2 trouble); --format json,"
note "junit and github (workflow annotations) are there for CI."
[ "$rc" = 1 ] || die "expected exit status 1 from verify (the index is only in the database), got $rc"
grep -q 'only in the database: index public.orders_open_idx' verify.txt ||
	die "verify did not report the index orders_open_idx"
# ---- end of verify ----

say "The daemon's log (stderr with -f; under systemd it goes to the journal)"
sed "s|$work/||g" daemon.log | indent

say "Stopping schemadriftd (SIGTERM)"
kill -TERM "$daemon_pid"
deadline=$((SECONDS + 15))
while kill -0 "$daemon_pid" 2>/dev/null; do
	[ "$SECONDS" -lt "$deadline" ] || die "schemadriftd did not exit within 15 s of SIGTERM"
	sleep 0.1
done
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=''
note "schemadriftd exited with status $rc; $(inspect count webhook.log smtp) received in all."
[ "$rc" = 0 ] || die "schemadriftd exited with status $rc after SIGTERM"

say "Schema health checks: an FK no index covers, and an orphan under a NOT VALID FK"
"${psql[@]}" -d shop <<'SQL'
-- notes on orders, deleted with them (ON DELETE CASCADE), but no index on order_id
CREATE TABLE order_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                          order_id bigint REFERENCES orders ON DELETE CASCADE, note text);
-- refunds: the foreign key was added NOT VALID over a refund of an order that is gone
CREATE TABLE refunds (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id bigint,
                      amount numeric(10,2));
CREATE INDEX refunds_order_idx ON refunds (order_id);
INSERT INTO refunds (order_id, amount) VALUES (1, 20.00), (99, 5.00);
ALTER TABLE refunds ADD CONSTRAINT refunds_order_id_fkey FOREIGN KEY (order_id)
    REFERENCES orders NOT VALID;
SQL
show "schemadrift check --dsn '$dsn'"
rc=0
schemadrift check --dsn "$dsn" >check.txt || rc=$?
indent <check.txt
note "exit status $rc (1: a finding at or above --fail-on warning)"
[ "$rc" = 1 ] || die "expected exit status 1 from check, got $rc"
grep -q 'CREATE INDEX CONCURRENTLY IF NOT EXISTS order_notes_order_id_idx ON public.order_notes (order_id);' check.txt ||
	die "check did not suggest the index on order_notes.order_id"
grep -q 'orphans:public.refunds.refunds_order_id_fkey' check.txt ||
	die "check did not report the orphan refund"

now=$(date +%s)
printf '\n%sDone in %d s (%d s after the build).%s The receivers and the cluster are stopped and\n' \
	"$bold" "$((now - started))" "$((now - built))" "$reset"
printf 'the temp directory removed now. Next: README.md "Running the daemon", docs/operations.md.\n'
[ "${KEEP:-0}" != 1 ] || note "KEEP=1: the configuration, logs, store and received alerts stay in $work"
