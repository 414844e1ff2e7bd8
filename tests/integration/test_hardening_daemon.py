"""Findings of the adversarial review (issue 12) that schemadriftd shows, each tried as a hostile
user or a careless operator would, against a real PostgreSQL, the real webhook receiver and the
real daemon: a corrupt or symlinked alert-state file (A), symlinks and a writable state_dir (C),
server text that would drive a terminal, and invalid UTF-8 in status (D, E), a baseline that
cannot be loaded (G), a pooled connection the server closed (H), and an alert the full disk
would not take (J, with the fault-injection shim).
"""

import glob
import json
import os
import socket
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

RAW_BYTES = (b"\x1b", b"\x07", b"\xff", "\u202e".encode())


class DaemonHardening(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        self.pg.psql("postgres", "DROP DATABASE IF EXISTS app WITH (FORCE)")
        self.pg.create_db("app")
        self.pg.psql("app", "CREATE TABLE orders (id int PRIMARY KEY)")
        self.rx = http_receiver.Receiver().start()
        self.addCleanup(self.rx.stop)

    def daemon(self, sub="d", env=None, dsn=None, **daemon_keys):
        wd = os.path.join(self.workdir, sub)
        os.makedirs(wd, exist_ok=True)
        d = dh.Daemon(wd, "", env=env)
        keys = dict(schedule="every 2s", settle_delay="0s", error_threshold=1)
        keys.update(daemon_keys)
        d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir, **keys)
                       + dh.target_section("app", dsn or self.pg.dsn("app"), notifiers="hook")
                       + dh.webhook_section("hook", self.rx.url("/hook")))
        return d

    def kinds(self):
        return [r.json["kind"] for r in self.rx.requests]

    def assert_no_raw(self, data, what):
        for b in RAW_BYTES:
            self.assertNotIn(b, data, "%s holds %r raw" % (what, b))

    # -- A ---------------------------------------------------------------
    def test_a_corrupt_or_symlinked_alert_state_keeps_the_target(self):
        victim = self.path("victim")
        with open(victim, "w") as f:
            f.write("not json, not ours\n")
        for variant in ("corrupt", "symlink"):
            self.rx = http_receiver.Receiver().start()
            self.addCleanup(self.rx.stop)
            d = self.daemon(variant)
            tdir = os.path.join(d.state_dir, "targets", "app")
            os.makedirs(tdir)
            state = os.path.join(tdir, "app.json")
            if variant == "corrupt":
                with open(state, "w") as f:
                    f.write('{"version":1,')
            else:
                os.symlink(victim, state)
            with d:
                d.start()
                st = d.wait_runs("app", 1)
                self.assertIsNotNone(st, "the target was dropped")
                d.wait_log(r"error: target 'app': the alert state cannot be used .*moved to")
                moved = glob.glob(os.path.join(tdir, "corrupt", "app.json.*"))
                self.assertEqual(len(moved), 1, os.listdir(tdir))
                alerts = dh.wait_until(lambda: [r.json for r in self.rx.requests
                                                if r.json["kind"] == "error" and
                                                "alert state" in r.json.get("message", "")],
                                       what="an error alert about the alert state")
                self.assertIn("moved to", alerts[0]["message"])
                self.assertEqual(d.stop()[0], 0)
            with open(victim) as f:
                self.assertEqual(f.read(), "not json, not ours\n")

    def test_a_target_named_like_a_store_file_keeps_both(self):
        # A target's alert state lives beside baseline.json, acks.json, retention.json and
        # checks.json in its directory of the file store: targets named so must not
        # overwrite one with the other.
        names = ("baseline", "acks", "retention", "checks")
        wd = os.path.join(self.workdir, "named")
        os.makedirs(wd)
        d = dh.Daemon(wd, "")
        d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every 2s",
                                         settle_delay="0s", error_threshold=1)
                       + "".join(dh.target_section(n, self.pg.dsn("app"), notifiers="hook")
                                 for n in names)
                       + dh.webhook_section("hook", self.rx.url("/hook")))
        with d:
            d.start()
            for n in names:
                d.wait_runs(n, 1)
            self.pg.psql("app", "ALTER TABLE orders ADD COLUMN note text")
            drifts = dh.wait_until(lambda: len(dh.received_alerts(self.rx, "drift")) ==
                                   len(names) and dh.received_alerts(self.rx, "drift"),
                                   what="one drift alert per target")
            for n in names:
                d.wait_runs(n, d.target_status(n)["runs"] + 1)
            self.assertEqual(d.stop()[0], 0)
        self.assertEqual(sorted(a[1] for a in drifts), sorted(names))
        for n in names:
            tdir = os.path.join(d.state_dir, "targets", n)
            self.assertEqual(os.listdir(os.path.join(tdir, "corrupt"))
                             if os.path.isdir(os.path.join(tdir, "corrupt")) else [], [], n)
            rc, out, err = pgharness.run_cli("baseline", "show", n, "--state-dir", d.state_dir)
            self.assertEqual(rc, 0, "baseline show %s: %s" % (n, err))
        # A restart reads each one's state back: the drift goes on, nothing alerts again.
        with d:
            d.start()
            for n in names:
                d.wait_runs(n, 2)
            self.assertEqual(d.stop()[0], 0)
        self.assertEqual(len(dh.received_alerts(self.rx)), len(names), self.kinds())
        self.assertNotIn("cannot be used", d.log())
        self.assertNotIn("cannot load", d.log())

    # -- C ---------------------------------------------------------------
    def test_c_symlinks_under_the_state_dir_are_never_followed(self):
        victim = self.path("victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        d = self.daemon()
        tdir = os.path.join(d.state_dir, "targets", "app")
        os.makedirs(tdir)
        os.symlink(victim, os.path.join(tdir, "history.log"))
        with d:
            d.start()
            d.wait_log(r"history\.log: is a symbolic link: refused, not followed")
            d.stop()
        # baseline accept appends to audit.log: a link there is refused too.
        os.unlink(os.path.join(tdir, "history.log"))
        pgharness.cli_ok("snapshot", "--dsn", self.pg.dsn("app"), "--target", "app",
                         "--state-dir", d.state_dir)
        os.symlink(victim, os.path.join(tdir, "audit.log"))
        rc, out, err = pgharness.run_cli("baseline", "accept", "app", "--reason", "x",
                                         "--state-dir", d.state_dir)
        self.assertEqual(rc, 2, out)
        self.assertIn("audit.log: is a symbolic link", err)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_c_state_dir_others_can_write_is_refused(self):
        d = self.daemon()
        os.makedirs(d.state_dir)
        os.chmod(d.state_dir, 0o777)
        with d:
            d.start()
            rc = d.proc.wait(30)
        self.assertEqual(rc, 2, d.log())
        self.assertIn("can be written by group or others (mode 0777)", d.log())
        rc, out, err = pgharness.run_cli("history", "app", "--state-dir", d.state_dir)
        self.assertEqual(rc, 2)
        self.assertIn("can be written by group or others", err)
        # A planted targets/ symlink (only possible while it was writable) is not followed.
        os.chmod(d.state_dir, 0o750)
        elsewhere = self.path("elsewhere")
        os.makedirs(elsewhere)
        os.symlink(elsewhere, os.path.join(d.state_dir, "targets"))
        with d:
            d.start()
            d.wait_log(r"targets: is a symbolic link: refused, not followed")
            d.stop()
        self.assertEqual(os.listdir(elsewhere), [])

    # -- D, E ------------------------------------------------------------
    def test_d_e_server_text_is_escaped_in_logs_status_and_history(self):
        # The server echoes the database name it was asked for; a service file
        # lets the name hold bytes the configuration itself refuses.
        evil = b"x\x1b]0;pwn\x07\xff\xe2\x80\xaegnp"
        svc = self.path("pg_service.conf")
        with open(svc, "wb") as f:
            f.write(b"[evil]\nhost=%s\nport=%d\nuser=%s\ndbname=%s\n" % (
                self.pg.sockdir.encode(), self.pg.port, pgharness.SUPERUSER.encode(), evil))
        d = self.daemon(env={"PGSERVICEFILE": svc}, dsn="service=evil")
        with d:
            d.start()
            d.wait_log(r"run failed: ")
            st = dh.wait_until(lambda: d.target_status("app"),
                               what="the failing target in status --format json")
            self.assertIn("\\xff", st["last_error"])
            self.assertIn("\\x1b]0;pwn\\x07", st["last_error"])
            self.assertIn("\\u202egnp", st["last_error"])
            rc, out, err = pgharness.run_cli("status", "--runtime-dir", d.runtime_dir,
                                             binary=True)
            self.assertEqual(rc, 0, err)
            self.assertIn(b"app", out)
            self.assert_no_raw(out, "status")
            d.stop()
        with open(d.log_path, "rb") as f:
            log = f.read()
        self.assertIn(b"run failed: ", log)
        self.assert_no_raw(log, "the daemon's log")
        rc, out, err = pgharness.run_cli("history", "app", "--state-dir", d.state_dir,
                                         binary=True)
        self.assertEqual(rc, 0, err)
        self.assertIn(b"error ", out)
        self.assertIn(b'database "x\\x1b]0;pwn\\x07\\xff\\u202egnp" does not exist', out)
        self.assert_no_raw(out, "history")

    # -- G ---------------------------------------------------------------
    def test_g_unloadable_baseline_is_a_store_error_not_drift(self):
        d = self.daemon()
        with d:
            d.start()
            d.wait_log(r"baseline created from the first snapshot")
            d.stop()
        snaps = glob.glob(os.path.join(d.state_dir, "targets", "app", "snapshots", "*.json"))
        self.assertEqual(len(snaps), 1, snaps)
        with open(snaps[0], "w") as f:
            f.write('{"schemadrift_snapshot":')
        self.pg.psql("app", "ALTER TABLE orders ADD COLUMN note text")
        with d:
            d.start()
            alerts = dh.wait_until(lambda: self.rx.requests and
                                   [r.json for r in self.rx.requests],
                                   what="an alert")
            runs = d.target_status("app")["runs"]
            d.wait_runs("app", runs + 2)
            self.assertNotIn("drift", self.kinds())
            self.assertEqual(alerts[0]["kind"], "error")
            self.assertIn("cannot load the baseline snapshot", alerts[0]["message"])
            d.stop()
        self.assertNotIn("Schema drift", d.log())

    # -- H ---------------------------------------------------------------
    def test_h_a_pooled_connection_the_server_closed_is_reestablished(self):
        d = self.daemon()
        with d:
            d.start()
            d.wait_runs("app", 2)
            for _ in range(3):
                # The daemon's pooled connection, idle between runs: the server ends it.
                dh.wait_until(lambda: self.pg.scalar(
                    "postgres", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = 'schemadrift' AND state = 'idle'") == "1",
                    what="an idle pooled connection to terminate")
                runs = d.target_status("app")["runs"]
                d.wait_runs("app", runs + 1)
            st = d.target_status("app")
            self.assertEqual(st["failures"], 0, d.log())
            self.assertEqual(self.kinds(), [])
            self.assertTrue(d.log_lines(r"the pooled connection failed .*reconnecting"))
            d.stop()

    # -- I ---------------------------------------------------------------
    def test_i_control_request_without_newline_is_answered(self):
        d = self.daemon()
        with d:
            d.start()
            d.wait_runs("app", 1)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.settimeout(20)
                c.connect(os.path.join(d.runtime_dir, "control.sock"))
                c.sendall(b'{"command": "status"}')
                c.shutdown(socket.SHUT_WR)
                answer = b""
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            self.assertEqual([t["target"] for t in json.loads(answer)["targets"]], ["app"])
            d.stop()

    def test_i_baseline_accept_of_a_moved_aside_snapshot_says_so(self):
        state = self.path("state")
        sd = ("--state-dir", state)
        pgharness.cli_ok("snapshot", "--dsn", self.pg.dsn("app"), "--target", "app", *sd)
        pgharness.cli_ok("baseline", "accept", "app", "--reason", "first", *sd)
        self.pg.psql("app", "ALTER TABLE orders ADD COLUMN note text")
        pgharness.cli_ok("snapshot", "--dsn", self.pg.dsn("app"), "--target", "app", *sd)
        latest = pgharness.cli_ok("show", "app@latest", "--format", "json", *sd)
        h = json.loads(latest)["schemadrift_snapshot"]["hash"]
        path = os.path.join(state, "targets", "app", "snapshots", h + ".json")
        with open(path, "w") as f:
            f.write("{")
        rc, out, err = pgharness.run_cli("show", "app@latest", *sd)
        self.assertEqual(rc, 2)
        rc, out, err = pgharness.run_cli("baseline", "accept", "app", "--reason", "x", *sd)
        self.assertEqual(rc, 2, out)
        self.assertIn("was damaged and moved aside to corrupt/%s.json." % h, err)
        self.assertNotIn("retention removed it", err)

    # -- J ---------------------------------------------------------------
    def test_j_an_alert_the_full_disk_refuses_is_kept_and_retried(self):
        shim = os.environ.get("SCHEMADRIFT_FAULTINJECT")
        if not shim or not os.path.exists(shim):
            self.fail("SCHEMADRIFT_FAULTINJECT is not set (run through ctest)")
        switch = self.path("disk-full")
        metrics_port = pgharness.free_port()
        env = {"LD_PRELOAD": shim, "SCHEMADRIFT_FAULT": "fsync:0:ENOSPC:/outbox/",
               "SCHEMADRIFT_FAULT_SWITCH": switch,
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
        d = self.daemon(env=env, metrics_listen="127.0.0.1:%d" % metrics_port)
        with d:
            d.start()
            d.wait_log(r"baseline created from the first snapshot")
            open(switch, "w").close()
            self.pg.psql("app", "ALTER TABLE orders ADD COLUMN note text")
            d.wait_log(r"cannot spool alert .* to hook: .*kept in memory, retrying")
            st = d.status()
            self.assertGreaterEqual(st["alerts_unspooled"], 1)
            text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port,
                                          timeout=10).read().decode()
            self.assertRegex(text, r"(?m)^schemadrift_alerts_unspooled [1-9]")
            out = pgharness.cli_ok("status", "--runtime-dir", d.runtime_dir)
            self.assertIn("could not be spooled", out)
            self.assertEqual(self.kinds(), [])
            os.unlink(switch)
            dh.wait_until(lambda: "drift" in self.kinds(), what="the drift alert")
            d.wait_log(r"spooled after all")
            runs = d.target_status("app")["runs"]
            d.wait_runs("app", runs + 2)
            self.assertEqual(self.kinds(), ["drift"])
            self.assertEqual(d.status()["alerts_unspooled"], 0)
            d.stop()


if __name__ == "__main__":
    pgharness.main()
