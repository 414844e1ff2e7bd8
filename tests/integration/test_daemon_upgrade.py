"""A PostgreSQL 15 database dumped and restored into 18, behind the daemon's back (issue 11).

The daemon watches a 15 server on a TCP port.  The database is dumped with
pg_dump, the 15 server stopped, an 18 server started on the same port and the
dump restored there: what an upgrade by dump and restore looks like from the
daemon.  It must log the new major, send exactly one `upgraded` notice (from,
to, how many definitions the new server renders differently) and no drift
alert; a real change made afterwards on 18 is alerted as drift as usual.

Needs SCHEMADRIFT_PG15_BINDIR and SCHEMADRIFT_PG18_BINDIR (exits 77, skipped,
without them).
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

ROLES = "CREATE ROLE app_owner; CREATE ROLE app_reader;"

SCHEMA = """
CREATE SCHEMA shop AUTHORIZATION app_owner;
CREATE TABLE shop.customers (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE shop.orders (id bigint GENERATED ALWAYS AS IDENTITY, customer integer
	REFERENCES shop.customers, placed date NOT NULL, total numeric(12, 2) DEFAULT 0,
	PRIMARY KEY (id, placed)) PARTITION BY RANGE (placed);
CREATE TABLE shop.orders_2024 PARTITION OF shop.orders
	FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE shop.orders_rest PARTITION OF shop.orders DEFAULT;
CREATE DOMAIN shop.email AS text NOT NULL CHECK (VALUE LIKE '%@%');
CREATE VIEW shop.big_orders AS SELECT o.id, o.total FROM shop.orders o WHERE o.total > 100;
CREATE MATERIALIZED VIEW shop.daily AS
	SELECT placed, sum(total) AS total FROM shop.orders GROUP BY placed;
CREATE PROCEDURE shop.close_day(d date, INOUT n integer DEFAULT 0)
	LANGUAGE plpgsql AS $$BEGIN n := n + 1; END$$;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO app_reader;
GRANT ALL ON shop.customers TO app_owner;
ALTER TABLE shop.customers OWNER TO app_owner;
"""

PERIOD = "every 2s"


class DaemonUpgrade(unittest.TestCase):

    def setUp(self):
        self.bin15, self.bin18 = pgharness.require_majors(15, 18)
        self.workdir = tempfile.mkdtemp(prefix="schemadrift-test-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.workdir])
        self.port = pgharness.free_port()
        self.pg15 = pgharness.PgCluster(name="pg15", bindir=self.bin15, port=self.port)
        self.pg15.start()
        self.addCleanup(self.pg15.stop)
        self.pg15.psql("postgres", ROLES)
        self.pg15.create_db("app")
        self.pg15.psql("app", SCHEMA)
        self.rx = http_receiver.Receiver().start()
        self.addCleanup(self.rx.stop)

    def kinds(self):
        return [r.json["kind"] for r in self.rx.requests]

    def test_dump_restore_15_to_18(self):
        d = dh.Daemon(self.workdir, "")
        # TCP, so the same address reaches whichever server listens on the port;
        # a high error threshold: the minute without a server is not the point.
        dsn = "host=127.0.0.1 port=%d dbname=app user=postgres" % self.port
        d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir, schedule=PERIOD,
                                         settle_delay="1s", error_threshold=1000)
                       + dh.target_section("app", dsn, notifiers="hook")
                       + dh.webhook_section("hook", self.rx.url("/hook")))
        with d:
            d.start()
            d.wait_log(r"target 'app': baseline created from the first snapshot")
            d.wait_runs("app", 2)

            # -- the upgrade: dump, stop 15, start 18 on the same port, restore
            dump = os.path.join(self.workdir, "app.sql")
            p = subprocess.run([pgharness.client_tool("pg_dump", 15), "-f", dump,
                                "-d", self.pg15.dsn("app")], env=pgharness.clean_env(),
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.pg15.stop()
            pg18 = pgharness.PgCluster(name="pg18", bindir=self.bin18, port=self.port)
            pg18.start()
            self.addCleanup(pg18.stop)
            self.assertEqual(pg18.major, 18)
            pg18.psql("postgres", ROLES)
            pg18.create_db("app")
            pg18.psql_file("app", dump)

            # -- one `upgraded` notice, logged, and no drift
            d.wait_log(r"target 'app': Server upgraded on app: PostgreSQL 15 to 18")
            self.rx.wait_for(1)
            runs = d.target_status("app")["runs"]
            d.wait_runs("app", runs + 3)
            self.assertEqual(self.kinds(), ["upgraded"], d.log())
            note = self.rx.requests[0].json
            sys.stderr.write("upgraded notice: %s\n" % note["headline"])
            self.assertEqual(note["target"], "app")
            self.assertRegex(note["message"], r"^PostgreSQL 15 to 18 \(18\.\d+\); (\d+) "
                             r"definitions? rendered differently by the new server, not drift$")
            # 15 writes shop.big_orders and shop.daily with qualified columns, 18 does not.
            rendered = int(re.search(r"; (\d+) definition", note["message"]).group(1))
            self.assertGreaterEqual(rendered, 2, note["message"])
            # (between runs: one in flight shows "running")
            st = dh.wait_until(lambda: (lambda t: not t["running"] and t)(d.target_status("app")),
                               what="app between runs")
            self.assertEqual(st["state"], "ok", st)
            self.assertFalse(st["drifting"])
            self.assertEqual(len(d.log_lines(r"Server upgraded on app")), 1, d.log())

            # -- a real change on 18 is drift, as ever
            pg18.psql("app", "ALTER TABLE shop.customers ADD COLUMN phone text")
            self.rx.wait_for(2)
            self.assertEqual(self.kinds(), ["upgraded", "drift"])
            changes = self.rx.requests[1].json["changes"]
            self.assertEqual([c["object"] for c in changes], ["shop.customers.phone"], changes)


if __name__ == "__main__":
    pgharness.require_majors(15, 18)
    pgharness.main()
