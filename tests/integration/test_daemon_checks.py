"""schemadriftd runs a target's checks: findings become one `check` alert per new set of
findings through the webhook receiver, an acknowledged finding stops alerting, a fixed one
recovers; findings show in `schemadrift status` and /metrics.  The checks run on
check_dsn (a stand-in for a replica: another database with the same schema whose data
differs, so the findings prove where they were read)."""

import os
import socket
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class DaemonChecks(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        for db in ("app", "replica"):
            self.pg.psql("postgres", "DROP DATABASE IF EXISTS %s" % db)
            self.pg.create_db(db)
        schema = """
            CREATE TABLE customers (id int PRIMARY KEY);
            INSERT INTO customers VALUES (1), (2);
            CREATE TABLE orders (id int PRIMARY KEY, customer_id int);
            INSERT INTO orders VALUES (1, 1);
            ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id)
                REFERENCES customers ON DELETE CASCADE NOT VALID;
        """
        self.pg.psql("app", schema)
        self.pg.psql("replica", """
            CREATE TABLE customers (id int PRIMARY KEY);
            INSERT INTO customers VALUES (1), (2);
            CREATE TABLE orders (id int PRIMARY KEY, customer_id int);
            INSERT INTO orders VALUES (1, 1), (2, 42);
            ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id)
                REFERENCES customers ON DELETE CASCADE NOT VALID;
        """)
        self.rx = http_receiver.Receiver().start()
        self.addCleanup(self.rx.stop)

    def check_alerts(self):
        return [r.json for r in self.rx.requests if r.json.get("kind") in ("check", "recovered")
                and ":check" in (r.json.get("dedup_key") or "")]

    def run_checks(self, d, n_before):
        out = pgharness.cli_ok("check", "--target", "app", "--runtime-dir", d.runtime_dir)
        self.assertIn("app: checks started", out)
        def ended():  # one status read per poll, so the fields agree with each other
            c = d.target_status("app")["checks"]
            return c if c["runs"] > n_before and not c["running"] else None
        return dh.wait_until(ended, what="check run %d" % (n_before + 1))

    def test_raise_ack_recover(self):
        port = free_port()
        d = dh.Daemon(self.workdir, "")
        conf = (dh.daemon_section(d.state_dir, d.runtime_dir, schedule=dh.quiet_schedule(),
                                  metrics_listen="127.0.0.1:%d" % port)
                + dh.target_section("app", self.pg.dsn("app"), notifiers="hook",
                                    checks="fk-index, orphans", checks_schedule=dh.quiet_schedule(),
                                    check_dsn=self.pg.dsn("replica"),
                                    check_statement_timeout="10s")
                + dh.webhook_section("hook", self.rx.url("/hook")))
        d.write_config(conf)
        rc = subprocess.run([dh.daemon_bin(), "-c", d.config, "--check-config"],
                            capture_output=True, env=pgharness.clean_env())
        self.assertEqual(rc.returncode, 0, rc.stderr)
        with d:
            d.start()
            d.wait_runs("app", 1)
            # -- the first check run: two findings, one alert of kind check
            st = self.run_checks(d, 0)
            self.assertEqual(st["findings"], 2, st)
            self.rx.wait_for(1)
            dh.wait_until(lambda: len(self.check_alerts()) == 1, what="the check alert")
            a = self.check_alerts()[0]
            self.assertEqual(a["kind"], "check")
            self.assertEqual(a["dedup_key"], "schemadrift:app:check:1")
            self.assertEqual(a["severity"], "warning")
            kinds = sorted((c["kind"], c["object"]) for c in a["changes"])
            self.assertEqual(kinds, [("fk-index", "public.orders.orders_customer_id_fkey"),
                                     ("orphans", "public.orders.orders_customer_id_fkey")])
            self.assertIn("CREATE INDEX", open(os.path.join(d.state_dir, "targets", "app", "checks.json")).read())
            # -- status and metrics count them
            out = pgharness.cli_ok("status", "--runtime-dir", d.runtime_dir)
            self.assertIn("checks: 2 findings", out)
            self.assertIn("fk-index:public.orders.orders_customer_id_fkey", out)
            metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                             timeout=10).read().decode()
            self.assertIn('schemadrift_check_findings{target="app",severity="warning"} 2', metrics)
            self.assertIn('schemadrift_check_runs_total{target="app"} 1', metrics)
            # -- the same findings again: no second alert
            self.run_checks(d, 1)
            self.assertEqual(len(self.check_alerts()), 1)
            # -- acknowledge the index finding: a new set (the orphans alone) alerts once
            out = d.store_cli("ack", "app", "check:fk-index:*", "--reason", "index planned")
            self.assertIn("acknowledged 1 finding", out)
            st = self.run_checks(d, 2)
            self.assertEqual((st["findings"], st["acknowledged"]), (1, 1))
            dh.wait_until(lambda: len(self.check_alerts()) == 2, what="the second check alert")
            a = self.check_alerts()[1]
            self.assertEqual([c["kind"] for c in a["changes"]], ["orphans"])
            self.assertEqual(a["dedup_key"], "schemadrift:app:check:1")
            # -- fix the orphan: recovered, under the same dedup key
            self.pg.psql("replica", "DELETE FROM orders WHERE customer_id = 42")
            st = self.run_checks(d, 3)
            self.assertEqual(st["findings"], 0)
            dh.wait_until(lambda: len(self.check_alerts()) == 3, what="the recovery")
            r = self.check_alerts()[2]
            self.assertEqual(r["kind"], "recovered")
            self.assertEqual(r["dedup_key"], "schemadrift:app:check:1")
            self.assertIn("check findings resolved", r["message"])
            # No drift alert from any of this: the schema never changed.
            self.assertFalse([x for x in self.rx.requests if x.json.get("kind") == "drift"])
            rc, _ = d.stop()
            self.assertEqual(rc, 0)

    def test_config_errors(self):
        d = dh.Daemon(self.workdir, "")
        conf = (dh.daemon_section(d.state_dir, d.runtime_dir)
                + dh.target_section("app", self.pg.dsn("app"), checks="fk-index, custom:nope"))
        d.write_config(conf)
        rc = subprocess.run([dh.daemon_bin(), "-c", d.config, "--check-config"],
                            capture_output=True, env=pgharness.clean_env())
        self.assertNotEqual(rc.returncode, 0, rc.stderr)
        self.assertIn(b"schemadrift.conf:", rc.stderr)
        self.assertIn(b"no [check nope] section", rc.stderr)
        d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir)
                       + dh.target_section("app", self.pg.dsn("app"), checks="fk-index",
                                           checks_schedule="every banana"))
        rc = subprocess.run([dh.daemon_bin(), "-c", d.config, "--check-config"],
                            capture_output=True, env=pgharness.clean_env())
        self.assertNotEqual(rc.returncode, 0)
        self.assertIn(b"checks_schedule", rc.stderr)


if __name__ == "__main__":
    pgharness.main()
