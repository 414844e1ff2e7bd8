"""The central store (`[daemon] store = postgresql`, docs/store.md): several schemadriftd and
their CLIs see one history, one baseline, one set of acknowledgements and one alert state.

Real daemons on one machine, one PostgreSQL holding the targets and another one for
coordination and the store (so that it can be stopped alone), one webhook receiver that
records which daemon sent what.  What an operator checks:

  - `schemadrift history`, `baseline show` and `ack --list` print the same through the
    configuration of any daemon, and nothing of it is in the daemons' own state dirs;
  - a `baseline accept` made through one daemon's CLI ends the drift at the daemon that
    holds the target (one recovery, no second drift alert);
  - after a kill -9, the daemon that takes a target over continues its history, and does
    not alert again a check finding the dead one had already alerted (the checks' alert
    state is in the store too);
  - identical schemas of two targets are stored once (content-addressed);
  - a single daemon creates the schema at its first start, and while the store's server
    is down its runs fail with an error that names the store, then recover;
  - a password in store_dsn, and store = postgresql without a database, are refused by
    --check-config with file:line.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

TARGETS = ["app%d" % i for i in range(5)]  # rendezvous: each of n1..n3 wins some


class CentralStore(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        for name in TARGETS:
            self.pg.psql("postgres", "DROP DATABASE IF EXISTS %s" % name)
            self.pg.create_db(name)
            self.pg.psql(name, "CREATE TABLE customers (id int PRIMARY KEY);"
                               "CREATE TABLE orders (id int PRIMARY KEY, customer int"
                               " REFERENCES customers)")
        self.central = pgharness.PgCluster(name="central")
        self.central.start()
        self.addCleanup(self.central.stop)
        self.rx = http_receiver.Receiver().start()
        self.addCleanup(self.rx.stop)
        self.daemons = {}

    def start_daemon(self, node, coordination=True, targets=TARGETS, **extra):
        directory = self.path(node)
        os.makedirs(directory, exist_ok=True)
        d = dh.Daemon(directory, "")
        keys = dict(schedule="every 1s", settle_delay="0", error_threshold=2,
                    connect_timeout="2s", store="postgresql")
        if coordination:
            keys.update(coordination=self.central.dsn("postgres"), lease_timeout="3s",
                        node_name=node)
        else:
            keys.update(store_dsn=self.central.dsn("postgres"))
        keys.update(extra)
        conf = dh.daemon_section(d.state_dir, d.runtime_dir, **keys)
        # fk-index finds orders.customer without an index: a check alert per target.
        conf += "".join(dh.target_section(t, self.pg.dsn(t), notifiers="hook",
                                          checks="fk-index", checks_schedule="every 1s")
                        for t in targets)
        conf += dh.webhook_section("hook", self.rx.url("/hook/" + node))
        d.write_config(conf)
        self.addCleanup(d.kill)
        self.daemons[node] = d
        d.start()
        return d

    def cli(self, node, *args):
        """The CLI as an operator on node's host runs it: with that daemon's configuration."""
        return pgharness.cli_ok(*(list(args) + ["--config", self.daemons[node].config]))

    def assert_same_through_both(self, *args, nodes=("n1", "n2")):
        """The same output through each daemon's configuration.  Runs land between the
        commands (one a second, and a command under ASan on a busy machine takes longer),
        so history's summary line is compared without its run count and times; the
        changes, hashes, baseline and who accepted it must be the same."""
        def norm(text):
            return re.sub(r"^\d+ runs? from \S+ to \S+:", "RUNS:", text, flags=re.M)
        outs = [norm(self.cli(n, *args)) for n in nodes]
        for o in outs[1:]:
            self.assertEqual(outs[0], o, "schemadrift %s differs between the daemons"
                             % " ".join(args))
        return outs[0]

    def runs_in_history(self, node, target):
        """The run count of `schemadrift history`'s summary line ("N runs from ...")."""
        out = self.cli(node, "history", target)
        m = re.search(r"^(\d+) runs? from", out, re.M)
        self.assertIsNotNone(m, out)
        return int(m.group(1))

    def alerts(self, kind=None, target=None):
        return dh.received_alerts(self.rx, kind, target)

    def holders(self, nodes):
        return dh.lease_holders(self.daemons, nodes, TARGETS)

    def wait_spread(self, nodes):
        def spread():
            held = self.holders(nodes)
            if any(len(v) != 1 for v in held.values()) or \
                    set(v[0] for v in held.values()) != set(nodes):
                return None
            return {t: v[0] for t, v in held.items()}
        return dh.wait_until(spread, what="every target held by exactly one of %r" % (nodes,))

    def sql(self, query):
        return self.central.psql("postgres", query, tuples=True).strip()

    def test_two_then_three_daemons_share_one_store(self):
        self.start_daemon("n1")
        self.start_daemon("n2")
        owner = self.wait_spread(["n1", "n2"])
        # Each target's fk-index finding is alerted once (by the daemon that held it
        # then: the first one up checks every target until the other takes its share).
        dh.wait_until(lambda: len(self.alerts("check")) >= len(TARGETS),
                      what="the check alerts of every target")
        time.sleep(2)
        checks = self.alerts("check")
        self.assertEqual(sorted(a[1] for a in checks), sorted(TARGETS), checks)

        # One history, whichever daemon's configuration the CLI reads.
        for t in TARGETS:
            self.assert_same_through_both("history", t)
            self.assert_same_through_both("baseline", "show", t)
        # Nothing of it in the daemons' own state dirs.
        for n in ("n1", "n2"):
            for t in TARGETS:
                local = os.path.join(self.daemons[n].state_dir, "targets", t)
                for f in ("history.log", "baseline.json", "audit.log", "snapshots"):
                    p = os.path.join(local, f)
                    self.assertFalse(os.path.exists(p) and (not os.path.isdir(p) or
                                                            os.listdir(p)),
                                     "%s exists: the store is not central" % p)
        # The same schema in four targets: one snapshot stored.
        self.assertEqual(self.sql("SELECT count(*) FROM schemadrift_store.snapshots"), "1")
        self.assertEqual(self.sql("SELECT count(*) FROM schemadrift_store.target_snapshots"),
                         str(len(TARGETS)))

        # A drift on a target n2 holds, accepted through n1's CLI.
        target = sorted(t for t, n in owner.items() if n == "n2")[0]
        self.pg.psql(target, "ALTER TABLE customers ADD COLUMN email text")
        dh.wait_until(lambda: self.alerts("drift", target), what="the drift of %s" % target)
        self.assertEqual([a[0] for a in self.alerts("drift", target)], ["n2"])
        out = self.cli("n1", "baseline", "accept", target, "--reason", "email is wanted")
        self.assertIn("baseline", out)
        dh.wait_until(lambda: self.alerts("recovered", target),
                      what="the drift of %s recovered after the accept" % target)
        shown = self.assert_same_through_both("baseline", "show", target)
        self.assertIn("email is wanted", shown)
        time.sleep(2)
        self.assertEqual([a[0] for a in self.alerts("drift", target)], ["n2"],
                         "drifted again after the accept")

        # An acknowledgement made through n2's CLI is listed through n1's.
        other = sorted(t for t, n in owner.items() if n == "n1")[0]
        self.pg.psql(other, "CREATE INDEX orders_note ON orders (id)")
        dh.wait_until(lambda: self.alerts("drift", other), what="the drift of %s" % other)
        self.cli("n2", "ack", other, "index:public.orders_note", "--reason", "being tested")
        self.assertIn("orders_note", self.cli("n1", "ack", "--list", other))

        # A third daemon joins: the targets spread over three, and its CLI prints the same.
        self.start_daemon("n3")
        owner = self.wait_spread(["n1", "n2", "n3"])
        for t in TARGETS:
            self.assert_same_through_both("history", t, nodes=("n1", "n2", "n3"))
            self.assert_same_through_both("baseline", "show", t, nodes=("n1", "n2", "n3"))
        self.daemons["n3"].stop()
        owner = self.wait_spread(["n1", "n2"])

        # kill -9 of n1: n2 takes its targets over and continues their history; their
        # check findings, alerted by n1, are not alerted again.
        n1_targets = sorted(t for t, n in owner.items() if n == "n1")
        before = {t: self.runs_in_history("n2", t) for t in n1_targets}
        self.daemons["n1"].proc.send_signal(signal.SIGKILL)
        self.daemons["n1"].proc.wait()
        dh.wait_until(lambda: all(self.holders(["n2"])[t] == ["n2"] for t in n1_targets),
                      what="n1's targets taken over by n2")
        for t in n1_targets:
            dh.wait_until(lambda t=t: self.runs_in_history("n2", t) > before[t] + 1,
                          what="n2's runs of %s in the shared history" % t)
            self.daemons["n2"].wait_runs(t, 2)
        time.sleep(3)  # several check runs at n2
        again = [a for a in self.alerts("check") if a[0] == "n2" and a[1] in n1_targets]
        self.assertEqual(again, [], "n2 alerted findings n1 had alerted")
        self.assertEqual(sorted(a[1] for a in self.alerts("check")), sorted(TARGETS))
        # One history: n1's runs, then n2's, in one sequence.
        self.assertEqual(self.sql("SELECT count(DISTINCT target) FROM schemadrift_store.lines"
                                  " WHERE name = 'history.log'"), str(len(TARGETS)))

    def test_one_daemon_migrates_and_survives_the_store_going_away(self):
        d = self.start_daemon("solo", coordination=False, targets=TARGETS[:1])
        d.wait_log(r"store: postgresql:.*\(schema schemadrift_store created")
        self.assertEqual(self.sql("SELECT max(version) FROM schemadrift_store.version"), "1")
        d.wait_runs(TARGETS[0], 2)
        self.assertIn("first snapshot", self.cli("solo", "history", TARGETS[0]))

        # The store's server stops: runs fail, one error alert names the store.
        dh.pg_pause(self.central)
        dh.wait_until(lambda: self.alerts("error", TARGETS[0]),
                      what="an error alert while the store is down")
        t = d.target_status(TARGETS[0])
        self.assertRegex(t.get("last_error") or "", r"store .*(connect|server|socket)")
        self.assertTrue(d.alive())
        dh.pg_resume(self.central)
        dh.wait_until(lambda: self.alerts("recovered", TARGETS[0]),
                      what="the recovery once the store is back")
        self.assertEqual(len(self.alerts("error", TARGETS[0])), 1)
        self.assertEqual(len(self.alerts("drift")), 0, "a store outage alerted as drift")

        # A restart migrates nothing.  (The log is appended to across starts: count on.)
        starts = len(d.log_lines(r"started: 1 target"))
        d.stop()
        d.start()
        d.wait_log(r"started: 1 target", count=starts + 1)
        d.wait_runs(TARGETS[0], 1)
        self.assertEqual(len(d.log_lines(r"schema schemadrift_store created")), 1)

    def test_a_start_while_the_store_is_down_keeps_what_was_alerted(self):
        target = TARGETS[0]
        d = self.start_daemon("solo", coordination=False, targets=[target])
        d.wait_runs(target, 2)
        self.pg.psql(target, "ALTER TABLE customers ADD COLUMN email text")
        dh.wait_until(lambda: self.alerts("drift", target), what="the drift alert")
        dh.wait_until(lambda: self.alerts("check", target), what="the check alert")
        d.stop()
        # The store is down when the daemon starts again: the target stays (status),
        # its runs wait for the alert states, nothing is alerted.
        dh.pg_pause(self.central)
        starts = len(d.log_lines(r"started: 1 target"))
        skipped = len(d.log_lines(r"run skipped: the alert state cannot be read: store "))
        d.start()
        d.wait_log(r"started: 1 target", count=starts + 1)
        d.wait_log(r"run skipped: the alert state cannot be read: store ", count=skipped + 1)
        self.assertEqual([t["target"] for t in d.status()["targets"]], [target])
        dh.pg_resume(self.central)
        d.wait_log(r"alert states read from the store")
        runs = d.target_status(target)["runs"]
        d.wait_runs(target, runs + 3)
        time.sleep(2)  # check runs too
        self.assertEqual(len(self.alerts("drift", target)), 1, "the drift alerted again")
        self.assertEqual(len(self.alerts("check", target)), 1, "the finding alerted again")
        self.assertEqual(self.alerts("error", target), [])

    def test_config_errors_give_file_and_line(self):
        directory = self.path("conf")
        os.makedirs(directory, exist_ok=True)
        d = dh.Daemon(directory, "")
        base = dh.daemon_section(d.state_dir, d.runtime_dir)
        target = dh.target_section("app0", self.pg.dsn("app0"))
        cases = [
            ("store = postgresql\n", r":7: key 'store': store = postgresql needs a database"),
            ("store = postgresql\nstore_dsn = postgresql://mon:s3cret@localhost/db\n",
             r":8: key 'store_dsn': holds a password: use store_password"),
            ("store_dsn = dbname=x\n", r":7: key 'store_dsn': without store = postgresql"),
        ]
        for extra, want in cases:
            d.write_config(base + extra + target)
            p = subprocess.run([dh.daemon_bin(), "--check-config", "-c", d.config],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 78, extra)  # EX_CONFIG
            self.assertRegex(p.stderr, re.escape(d.config) + want)
            self.assertNotIn("s3cret", p.stderr + p.stdout)


if __name__ == "__main__":
    pgharness.main()
