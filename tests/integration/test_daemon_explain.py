"""schemadriftd's drift alerts say what changed and what to do, and it keeps the baseline (issue 16).

A real daemon, PostgreSQL and webhook receiver: the drift alert carries an
added index's definition, its revert SQL and the commands that resolve it.
Then the baseline's snapshot file is taken away from the store: a daemon that
read the baseline again on each changed run could no longer say what changed;
this one kept it, so the next alert still lists both changes.
"""

import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402


class DaemonExplain(pgharness.PgTestCase):
    def test_alert_explains_and_baseline_is_kept(self):
        self.pg.create_db("app")
        self.pg.psql("app", "CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL)")
        rx = http_receiver.Receiver().start()
        self.addCleanup(rx.stop)
        d = dh.Daemon(self.workdir, "")
        d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every 1s",
                                         settle_delay="1s")
                       + dh.target_section("app", self.pg.dsn("app"), notifiers="hook")
                       + dh.webhook_section("hook", rx.url("/hook")))
        with d:
            d.start()
            d.wait_log(r"target 'app': baseline created from the first snapshot")
            d.wait_runs("app", 2)
            self.pg.psql("app", "CREATE INDEX orders_total_idx ON orders (total)")
            first = dh.wait_until(lambda: [r.json for r in rx.requests
                                           if r.json["kind"] == "drift"],
                                  what="a drift alert")[0]
            change = first["changes"][0]
            self.assertEqual(change["object"], "public.orders_total_idx")
            self.assertEqual(change["definition"],
                             "CREATE INDEX orders_total_idx ON public.orders USING btree (total);")
            self.assertEqual(change["revert_sql"],
                             "DROP INDEX CONCURRENTLY public.orders_total_idx;")
            self.assertEqual(first["resolve"][:2], [
                "schemadrift baseline accept app --reason '...'",
                "schemadrift ack app index:public.orders_total_idx --reason '...'"])

            baseline = d.store_cli("baseline", "show", "app")
            snaps = glob.glob(os.path.join(d.state_dir, "targets", "app", "snapshots", "*.json"))
            base_hash = next(l.split()[1] for l in baseline.splitlines()
                             if l.startswith("baseline:"))
            gone = [p for p in snaps if os.path.basename(p) == base_hash + ".json"]
            self.assertEqual(len(gone), 1, (snaps, baseline))
            os.unlink(gone[0])
            self.pg.psql("app", "ALTER TABLE orders ALTER total DROP NOT NULL")
            second = dh.wait_until(lambda: [r.json for r in rx.requests
                                            if r.json["kind"] == "drift"][1:],
                                   what="a second drift alert")[0]
            self.assertEqual(sorted(c["object"] for c in second["changes"]),
                             ["public.orders.total", "public.orders_total_idx"], second)
            self.assertIn("ALTER TABLE public.orders ALTER COLUMN total SET NOT NULL;",
                          [c.get("revert_sql") for c in second["changes"]])


if __name__ == "__main__":
    pgharness.main()
