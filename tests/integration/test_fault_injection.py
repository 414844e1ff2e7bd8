"""Fault injection (issue 12): open, write, fsync and rename fail with EIO or ENOSPC at the Nth
call (the LD_PRELOAD shim tests/fault/faultinject.c), through the store's writers (the CLI's
`snapshot --target` and `baseline accept`, every call of each kind in turn) and the outbox's
(a running daemon spooling a drift alert).  After every injected failure: the error is clear (exit 2, the errno's text), no store
file is corrupt (history, baseline and the latest snapshot all read back), the same command
then succeeds, and every alert is delivered exactly once.
"""

import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

ERRNO_TEXT = {"EIO": "Input/output error", "ENOSPC": "No space left on device"}
MAX_N = 12  # more calls than either command makes on the store


def shim_env(spec, switch=None):
    shim = os.environ.get("SCHEMADRIFT_FAULTINJECT")
    if not shim or not os.path.exists(shim):
        raise AssertionError("SCHEMADRIFT_FAULTINJECT is not set (run through ctest)")
    env = {"LD_PRELOAD": shim, "SCHEMADRIFT_FAULT": spec,
           # A preloaded library before ASan's runtime is fine for this shim.
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    if switch:
        env["SCHEMADRIFT_FAULT_SWITCH"] = switch
    return env


class StoreFaults(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        self.pg.psql("postgres", "DROP DATABASE IF EXISTS app WITH (FORCE)")
        self.pg.create_db("app")
        self.pg.psql("app", "CREATE TABLE t0 (id int)")
        self.state = self.path("state")
        self.n_tables = 0

    def sd(self, *args, env=None):
        return pgharness.run_cli(*(list(args) + ["--state-dir", self.state]), env=env)

    def assert_store_sound(self, since):
        """Everything the store holds reads back (snapshots: those written since)."""
        for args in (("history", "app"), ("show", "app@latest"), ("baseline", "show", "app")):
            rc, out, err = self.sd(*args)
            self.assertIn(rc, (0,), "%s after a fault: %s" % (" ".join(args), err))
        for snap in glob.glob(os.path.join(self.state, "targets", "app", "snapshots", "*")):
            if os.stat(snap).st_mtime >= since:
                rc, out, err = pgharness.run_cli("hash", snap)
                self.assertEqual(rc, 0, "%s is corrupt: %s" % (snap, err))
        self.assertEqual(glob.glob(os.path.join(self.state, "targets", "app", "corrupt", "*")),
                         [], "a fault left a file that had to be moved aside")

    def change_schema(self):
        self.n_tables += 1
        self.pg.psql("app", "CREATE TABLE t%d (id int)" % self.n_tables)

    def drive(self, argv, call, errname, prepare=None):
        """Runs argv with the Nth call failing, N = 1, 2, ... until a run makes fewer
        calls than N (after a schema change, and prepare()); returns how many faults
        were injected."""
        injected = 0
        for n in range(1, MAX_N + 1):
            self.change_schema()
            if prepare:
                prepare()
            t0 = time.time() - 1
            rc, out, err = self.sd(*argv, env=shim_env("%s:%d:%s:/targets/app/" % (
                call, n, errname)))
            if "faultinject:" not in err:
                self.assertEqual(rc, 0, err)
                break
            injected += 1
            if rc != 0:
                self.assertEqual(rc, 2, err)
                msg = [l for l in err.splitlines() if l.startswith("schemadrift:")]
                self.assertTrue(msg, "no error message: %r" % err)
                self.assertIn(ERRNO_TEXT[errname], msg[0], "unclear: %r" % err)
            self.assert_store_sound(t0)
            # The same command, without the fault, works.
            rc, out, err = self.sd(*argv)
            self.assertEqual(rc, 0, "after a %s fault at call %d: %s" % (call, n, err))
        return injected

    def test_store_writers(self):
        rc, out, err = self.sd("baseline", "create", "app", "--dsn", self.pg.dsn("app"))
        self.assertEqual(rc, 0, err)
        snap = ["snapshot", "--dsn", self.pg.dsn("app"), "--target", "app"]
        accept = ["baseline", "accept", "app", "--reason", "fault test"]
        total = 0
        # Each call with one errno, both errnos in all (the pairs keep CI short;
        # the code paths do not depend on which errno it is).
        for call, errname in (("open", "EIO"), ("write", "ENOSPC"), ("fsync", "EIO"),
                              ("rename", "ENOSPC")):
            n = self.drive(snap, call, errname)
            # accept needs a snapshot it has not accepted yet: one, unfaulted, first
            m = self.drive(accept, call, errname,
                           prepare=lambda: self.assertEqual(self.sd(*snap)[0], 0))
            sys.stderr.write("%s %s: %d faults in snapshot --target, %d in baseline "
                             "accept\n" % (call, errname, n, m))
            total += n + m
        self.assertGreater(total, 12, "the shim injected too few faults to mean anything")


class OutboxFaults(pgharness.PgTestCase):
    def test_spool_faults_lose_no_alert(self):
        self.pg.create_db("app")
        self.pg.psql("app", "CREATE TABLE orders (id int)")
        rx = http_receiver.Receiver().start()
        self.addCleanup(rx.stop)
        column = 0
        # (The spool writes its entries through stdio, which the shim cannot see:
        # its fsync and rename can fail, and so can opening the directory to sync.)
        for call, errname in (("fsync", "ENOSPC"), ("rename", "EIO")):
            wd = os.path.join(self.workdir, "%s-%s" % (call, errname))
            os.makedirs(wd)
            switch = os.path.join(wd, "fault-on")
            d = dh.Daemon(wd, "", env=shim_env("%s:1:%s:/outbox/queue/" % (call, errname),
                                               switch))
            d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir, settle_delay="0s")
                           + dh.target_section("app", self.pg.dsn("app"), notifiers="hook")
                           + dh.webhook_section("hook", rx.url("/" + wd)))
            before = len(rx.requests)
            with d:
                d.start()
                d.wait_log(r"baseline created|the alert state")
                d.wait_runs("app", 1)
                open(switch, "w").close()
                column += 1
                self.pg.psql("app", "ALTER TABLE orders ADD COLUMN c%d int" % column)
                d.wait_log(r"cannot spool alert .* to hook: .*%s" % ERRNO_TEXT[errname])
                dh.wait_until(lambda: len(rx.requests) > before,
                              what="the drift alert after a %s fault" % call)
                os.unlink(switch)
                runs = d.target_status("app")["runs"]
                d.wait_runs("app", runs + 2)
                got = [r.json for r in rx.requests[before:]]
                self.assertEqual([a["kind"] for a in got], ["drift"],
                                 "%s %s: %r" % (call, errname, got))
                self.assertEqual(d.status()["alerts_unspooled"], 0)
                self.assertEqual(glob.glob(os.path.join(d.state_dir, "outbox", "corrupt",
                                                        "*")), [])
                d.stop()


if __name__ == "__main__":
    pgharness.main()
