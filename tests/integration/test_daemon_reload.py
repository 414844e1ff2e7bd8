"""schemadriftd and its supervisor: sd_notify messages (read from a NOTIFY_SOCKET this test binds),
SIGHUP reloads (a new target is monitored, a bad file keeps the running configuration and says
so in STATUS= and `schemadrift status`), `schemadrift status` and `run-now` through the control
socket, the metrics listener, and SIGTERM ending the daemon promptly with status 0, even
with a run in flight or a target removed while its run is in flight.
"""

import os
import re
import signal
import socket
import stat
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import pgharness  # noqa: E402

# SIGTERM must end the daemon within this (issue: "stops within a bounded time").
STOP_BOUND_S = 5.0


def is_(text):
    return lambda m: m == text


def starts(prefix):
    return lambda m: m.startswith(prefix)


class DaemonReload(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        for db in ("a", "b"):
            self.pg.drop_db(db)
            self.pg.create_db(db)
            self.pg.psql(db, "CREATE TABLE t (id int)")

    def config(self, d, targets, extra_target_keys=None, **daemon_keys):
        text = dh.daemon_section(d.state_dir, d.runtime_dir, **daemon_keys)
        for name, keys in targets:
            text += dh.target_section(name, self.pg.dsn(name), **keys)
        return text

    def test_notify_reload_status_stop(self):
        port = pgharness.free_port()
        metrics = {"metrics_listen": "127.0.0.1:%d" % port}
        with dh.NotifySocket(self.workdir) as ns:
            d = dh.Daemon(self.workdir, "", notify=ns, env={"WATCHDOG_USEC": "1000000"})
            d.write_config(self.config(d, [("a", {})], **metrics))
            with d:
                d.start()
                # -- startup: STATUS= then READY=1, once the configuration is loaded
                i_ready, _ = ns.wait_for(is_("READY=1"))
                i_status, status = ns.wait_for(starts("STATUS="))
                self.assertLess(i_status, i_ready, "STATUS= should describe the loaded config")
                self.assertIn("1 target,", status)
                self.assertEqual(ns.messages.count("READY=1"), 1)
                # The control socket keeps other users out.
                sock = os.path.join(d.runtime_dir, "control.sock")
                self.assertTrue(stat.S_ISSOCK(os.stat(sock).st_mode))
                self.assertEqual(os.stat(sock).st_mode & 0o007, 0, oct(os.stat(sock).st_mode))
                self.assertEqual(os.stat(d.runtime_dir).st_mode & 0o007, 0)
                # -- the watchdog is pinged from the loop (WatchdogSec=1s here: every 0.5 s)
                n = ns.messages.count("WATCHDOG=1")
                ns.wait_for(is_("WATCHDOG=1"), start=ns.count())
                ns.wait_for(is_("WATCHDOG=1"), start=ns.count())
                self.assertGreaterEqual(ns.messages.count("WATCHDOG=1"), n + 2)

                a = d.wait_runs("a", 2)
                self.assertEqual(a["state"], "ok")
                # -- the metrics listener (Prometheus text) and /healthz
                base = "http://127.0.0.1:%d" % port
                with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
                    self.assertEqual((r.status, r.read()), (200, b"ok\n"))
                with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
                    text = r.read().decode()
                self.assertRegex(text, r"(?m)^schemadrift_targets 1$")
                m = re.search(r'(?m)^schemadrift_runs_total\{target="a"\} (\d+)$', text)
                self.assertTrue(m and int(m.group(1)) >= 2, text)
                self.assertRegex(text, r'(?m)^schemadrift_drift\{target="a"\} 0$')
                self.assertRegex(text, r"(?m)^schemadrift_outbox_depth 0$")

                # -- SIGHUP adding a target: RELOADING=1 with MONOTONIC_USEC, then READY=1
                d.write_config(self.config(d, [("a", {}), ("b", {})], **metrics))
                mark = ns.count()
                d.signal(signal.SIGHUP)
                i_rel, rel = ns.wait_for(starts("RELOADING=1"), start=mark)
                now_us = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
                f = dh.fields(rel)
                self.assertIn("MONOTONIC_USEC", f, rel)
                self.assertLess(abs(int(f["MONOTONIC_USEC"]) - now_us), 30e6,
                                "MONOTONIC_USEC is not CLOCK_MONOTONIC: %s" % rel)
                ns.wait_for(is_("READY=1"), start=i_rel + 1)
                d.wait_log(r"configuration reloaded: 2 targets")
                b = d.wait_runs("b", 1)
                d.wait_log(r"target 'b': baseline created from the first snapshot")
                self.assertTrue(os.path.exists(os.path.join(d.state_dir, "targets", "b",
                                                            "baseline.json")))
                ns.wait_for(lambda m: m.startswith("STATUS=2 targets"), start=i_rel)
                # Target a kept its state (no second baseline, runs go on counting).
                a2 = d.wait_runs("a", a["runs"] + 1)
                self.assertGreater(a2["runs"], a["runs"])
                self.assertEqual(len(d.log_lines(r"target 'a': baseline created")), 1)

                # -- a bad configuration: the old one keeps running, STATUS= and status say why
                bad = self.config(d, [("a", {}), ("b", {"bogus_key": "1"}), ("c", {})], **metrics)
                d.write_config(bad)
                bad_line = bad.splitlines().index("bogus_key = 1") + 1
                mark = ns.count()
                d.signal(signal.SIGHUP)
                i_rel, _ = ns.wait_for(starts("RELOADING=1"), start=mark)
                ns.wait_for(is_("READY=1"), start=i_rel + 1)
                _, st_msg = ns.wait_for(lambda m: m.startswith("STATUS=") and
                                        "last reload failed" in m, start=i_rel)
                self.assertIn("bogus_key", st_msg)
                d.wait_log(r"reload failed, keeping the running configuration")
                st = d.status()
                where = "%s:%d" % (d.config, bad_line)
                self.assertIn(where, st["reload_error"] or "")
                self.assertIn("bogus_key", st["reload_error"])
                self.assertEqual(sorted(t["target"] for t in st["targets"]), ["a", "b"])
                runs = {t["target"]: t["runs"] for t in st["targets"]}
                d.wait_runs("a", runs["a"] + 1)
                d.wait_runs("b", runs["b"] + 1)
                # a and b run every 2 s: the text is read again while it shows a run in flight
                text = dh.wait_until(lambda: (lambda s: re.search(r"(?m)^a\s+ok\s", s) and s)(
                    pgharness.cli_ok("status", "--runtime-dir", d.runtime_dir)),
                    what="`schemadrift status` to show a between runs")
                self.assertIn("last reload failed", text)
                self.assertIn(where, text)
                self.assertRegex(text, r"(?m)^a\s+ok\s")
                self.assertRegex(text, r"(?m)^TARGET\s+STATE\s+LAST RUN\s+HASH\s+NEXT RUN\s+"
                                       r"LAST ERROR$")
                self.assertIsNone(d.target_status("c"))

                # -- a good one again: the error is gone, b removed, a on a slow schedule
                d.write_config(self.config(d, [("a", {"schedule": dh.quiet_schedule()})], **metrics))
                mark = ns.count()
                d.signal(signal.SIGHUP)
                i_rel, _ = ns.wait_for(starts("RELOADING=1"), start=mark)
                ns.wait_for(is_("READY=1"), start=i_rel + 1)
                d.wait_log(r"target 'b': no longer monitored")
                st = dh.wait_until(lambda: d.status()["reload_error"] is None and d.status(),
                                   what="reload_error cleared")
                self.assertEqual([t["target"] for t in st["targets"]], ["a"])
                ns.wait_for(lambda m: m.startswith("STATUS=") and "reload failed" not in m,
                            start=i_rel)

                # -- run-now: a target not due for hours runs at once
                a = d.wait_runs("a", 1)
                rc, out, err = pgharness.run_cli("run-now", "a", "--runtime-dir", d.runtime_dir)
                self.assertEqual(rc, 0, err)
                self.assertIn("a: run", out)
                a2 = d.wait_runs("a", a["runs"] + 1, timeout=20)
                self.assertEqual(a2["runs"], a["runs"] + 1)
                d.wait_log(r"target 'a': run requested from the control socket")
                rc, out, err = pgharness.run_cli("run-now", "nosuch", "--runtime-dir",
                                                 d.runtime_dir)
                self.assertEqual(rc, 2)
                self.assertIn("no such target", err)

                # -- SIGTERM: STOPPING=1, status 0, promptly; the socket is gone
                mark = ns.count()
                rc, secs = d.stop()
                self.assertEqual(rc, 0, d.log())
                self.assertLess(secs, STOP_BOUND_S)
                ns.wait_for(is_("STOPPING=1"), start=mark, timeout=5)
                self.assertFalse(os.path.exists(sock))
        rc, out, err = pgharness.run_cli("status", "--runtime-dir", d.runtime_dir)
        self.assertEqual(rc, 2)
        self.assertIn("is schemadriftd running?", err)

    def silent_server(self):
        """A "server" that accepts connections and never answers: a run against it hangs
        in the startup handshake until connect_timeout.  Returns (dsn, accepted sockets)."""
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(16)
        held = []

        def accept():
            while True:
                try:
                    c, _ = lsock.accept()
                except OSError:
                    return
                held.append(c)
        threading.Thread(target=accept, daemon=True).start()
        self.addCleanup(lambda: [s.close() for s in held + [lsock]])
        return "host=127.0.0.1 port=%d dbname=x user=x" % lsock.getsockname()[1], held

    def test_sigterm_with_a_run_in_flight(self):
        # connect_timeout 60 s: far past the bound.
        stuck_dsn, held = self.silent_server()
        d = dh.Daemon(self.workdir, "")
        d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir, connect_timeout="60s")
                       + dh.target_section("stuck", stuck_dsn)
                       + dh.target_section("a", self.pg.dsn("a")))
        with d:
            d.start()
            dh.wait_until(lambda: held, what="the daemon to connect to the silent server")
            st = dh.wait_until(lambda: d.target_status("stuck")["running"] and
                               d.target_status("stuck"), what="the stuck run")
            self.assertEqual(st["state"], "running")
            d.wait_runs("a", 1)
            rc, secs = d.stop()
            self.assertEqual(rc, 0, d.log())
            self.assertLess(secs, STOP_BOUND_S, "SIGTERM took %.1f s with a run in flight" % secs)


    def test_removing_a_target_while_it_runs(self):
        # Its run is abandoned; the others go on, and a free slot is used at once.
        stuck_dsn, held = self.silent_server()
        d = dh.Daemon(self.workdir, "")
        head = dh.daemon_section(d.state_dir, d.runtime_dir, connect_timeout="60s",
                                 max_concurrent=1)
        with_stuck = head + dh.target_section("stuck", stuck_dsn) + \
            dh.target_section("a", self.pg.dsn("a"))
        without = head + dh.target_section("a", self.pg.dsn("a"))
        d.write_config(with_stuck)
        with d:
            d.start()
            for round_ in range(3):
                st = dh.wait_until(lambda: d.target_status("stuck") and
                                   d.target_status("stuck")["running"] and
                                   d.target_status("stuck"), what="the stuck run")
                self.assertEqual(st["state"], "running")
                runs = d.target_status("a")["runs"]
                d.write_config(without)
                d.signal(signal.SIGHUP)
                d.wait_log(r"target 'stuck': no longer monitored", count=round_ + 1)
                # max_concurrent = 1: a runs only because the slot was given back.
                d.wait_runs("a", runs + 1)
                self.assertIsNone(d.target_status("stuck"))
                d.write_config(with_stuck)
                d.signal(signal.SIGHUP)
            rc, secs = d.stop()
            self.assertEqual(rc, 0, d.log())


if __name__ == "__main__":
    pgharness.main()
