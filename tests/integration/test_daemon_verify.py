"""schemadriftd's verify: expected = PATH on verify_schedule, a `mismatch` alert to a real webhook and its recovery."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

SCHEMA = "CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);\n"


class DaemonVerify(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        self.db = self.pg.create_db("app_%s" % self._testMethodName[5:20])
        self.schema = os.path.join(self.workdir, "schema.sql")
        with open(self.schema, "w") as f:
            f.write(SCHEMA)
        self.pg.psql(self.db, SCHEMA)
        self.rx = http_receiver.Receiver().start()
        self.addCleanup(self.rx.stop)

    def mismatch_alerts(self):
        return [r.json for r in self.rx.requests
                if ":mismatch:" in (r.json.get("dedup_key") or "")]

    def status_text(self, d):
        return pgharness.cli_ok("status", "--runtime-dir", d.runtime_dir)

    def status_shows(self, d, text):
        """Waits for the text status to show TEXT: with a run every 2 s, status may
        catch one in flight ("verify: running"), so it is read again until it does."""
        dh.wait_until(lambda: text in self.status_text(d),
                      what="`schemadrift status` to show %r" % text)

    def verify_status(self, d):
        t = d.target_status("app")
        return t.get("verify") if t else None

    def wait_verify_runs(self, d, n):
        """Waits for N verify runs to have ended. One status read per poll: three reads
        could see a run end in the first and the next one start in the last."""
        def done():
            v = self.verify_status(d) or {}
            return v if v.get("runs", 0) >= n and v.get("state") != "running" else None
        return dh.wait_until(done, what="%d verify runs" % n)

    def test_mismatch_alert_dedup_and_recovery(self):
        d = dh.Daemon(self.workdir, "")
        conf = (dh.daemon_section(d.state_dir, d.runtime_dir, schedule=dh.quiet_schedule())
                + dh.target_section("app", self.pg.dsn(self.db), notifiers="hook",
                                    expected=self.schema, verify_schedule="every 2s",
                                    scratch_dsn=self.pg.dsn("postgres"))
                + dh.webhook_section("hook", self.rx.url("/hook")))
        d.write_config(conf)
        with d:
            d.start()
            v = self.wait_verify_runs(d, 2)
            self.assertEqual(v["state"], "match", v)
            self.assertEqual(self.mismatch_alerts(), [])
            self.status_shows(d, "verify: match, 0 differences")

            # A hand-made hotfix: one mismatch alert, however many runs see it.
            self.pg.psql(self.db, "CREATE INDEX orders_total ON orders (total)")
            dh.wait_until(lambda: self.mismatch_alerts(), what="a mismatch alert")
            a = self.mismatch_alerts()[0]
            self.assertEqual(a["kind"], "mismatch")
            self.assertEqual(a["target"], "app")
            self.assertEqual(a["dedup_key"], "schemadrift:app:mismatch:1")
            self.assertIn("public.orders_total", [c["object"] for c in a["changes"]])
            self.assertIn("Schema mismatch on app:", a["headline"])
            self.assertEqual(a["message"], "against %s" % self.schema)
            runs = self.verify_status(d)["runs"]
            v = self.wait_verify_runs(d, runs + 2)
            self.assertEqual(v["state"], "mismatch")
            self.assertEqual(len(self.mismatch_alerts()), 1, self.mismatch_alerts())
            self.status_shows(d, "verify: mismatch, 1 difference")

            # Back to what the repository says: recovered, same dedup key.
            self.pg.psql(self.db, "DROP INDEX orders_total")
            dh.wait_until(lambda: len(self.mismatch_alerts()) >= 2, what="the recovery")
            r = self.mismatch_alerts()[1]
            self.assertEqual(r["kind"], "recovered")
            self.assertEqual(r["dedup_key"], "schemadrift:app:mismatch:1")
            self.assertIn("matches the repository again", r["message"])
            # The daemon never wrote into the target: no scratch database is left anywhere.
            self.assertEqual(self.pg.query("postgres", "SELECT datname FROM pg_database WHERE "
                                                       "datname LIKE 'schemadrift_verify%'"), [])

    def test_load_error_is_reported_in_status(self):
        with open(self.schema, "w") as f:
            f.write(SCHEMA + "CREATE TABLE broken (x nosuchtype);\n")
        d = dh.Daemon(self.workdir, "")
        conf = (dh.daemon_section(d.state_dir, d.runtime_dir, schedule=dh.quiet_schedule())
                + dh.target_section("app", self.pg.dsn(self.db), expected=self.schema,
                                    verify_schedule="every 2s",
                                    scratch_dsn=self.pg.dsn("postgres")))
        d.write_config(conf)
        with d:
            d.start()
            v = self.wait_verify_runs(d, 1)
            self.assertEqual(v["state"], "failed")
            self.assertIn("schema.sql:2: type \"nosuchtype\" does not exist", v["last_error"])


    def check_config(self, target_keys):
        d = dh.Daemon(self.workdir, "")
        d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir)
                       + dh.target_section("app", self.pg.dsn(self.db), **target_keys))
        p = subprocess.run([dh.daemon_bin(), "--check-config", "-c", d.config],
                           capture_output=True, text=True, env=pgharness.clean_env())
        return p.returncode, p.stderr, d.config

    def test_check_config_names_the_verify_keys(self):
        rc, err, path = self.check_config({"expected": self.schema, "verify_schedule": "every 1x"})
        self.assertEqual(rc, 78)  # EX_CONFIG
        self.assertIn("%s:" % path, err)
        self.assertIn("verify_schedule", err)
        rc, err, _ = self.check_config({"expected": self.schema, "expected_cmd": "true"})
        self.assertEqual(rc, 78)
        self.assertIn("expected and expected_cmd exclude each other", err)
        rc, err, _ = self.check_config({"expected": self.schema, "expected_format": "liquibase"})
        self.assertEqual(rc, 78)
        self.assertIn("expected_format", err)
        rc, err, _ = self.check_config({"expected": self.schema})
        self.assertEqual((rc, err), (0, ""))


if __name__ == "__main__":
    pgharness.main()
