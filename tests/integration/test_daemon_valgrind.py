"""schemadriftd under valgrind's memcheck through a short end-to-end scenario: baseline, a drift
alert to a webhook and an SMTP server (attributed by the DDL recorder), 100 SIGHUP reloads that add and remove a target and a
notifier (one of them while its run hangs on a server that never answers),
`schemadrift run-now` and `status`, the recorder disabled (a recorder alert), a baseline
accepted (recovered), a reload with a
bad file, and SIGTERM.  No invalid access and no definite leak (valgrind's exit status), and
the daemon's own exit status 0.  Skipped when valgrind is not installed.
"""

import os
import re
import shutil
import subprocess
import signal
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402
import smtp_server  # noqa: E402

RELOADS = 100
VALGRIND = shutil.which("valgrind")
# valgrind's own status for errors, so it is never confused with the daemon's.
VG_ERROR_EXIT = 99
# Everything is 20-50 times slower under memcheck.
SLOW = 240


def built_with_asan():
    """memcheck cannot run a binary built with AddressSanitizer (the ASan build
    checks the same scenario its own way); the plain build runs it."""
    daemon = os.environ.get("SCHEMADRIFTD_BIN", "")
    try:
        out = subprocess.run(["ldd", daemon], capture_output=True, text=True).stdout
    except OSError:
        return False
    return "libasan" in out


@unittest.skipUnless(VALGRIND, "valgrind is not installed: memcheck scenario skipped")
@unittest.skipIf(built_with_asan(), "the daemon is built with ASan: memcheck runs on the plain build")
class DaemonUnderValgrind(pgharness.PgTestCase):
    def test_scenario(self):
        self.pg.create_db("app")
        self.pg.psql("app", "CREATE TABLE t (id int PRIMARY KEY)")
        self.pg.psql("app", "CREATE TABLE c (t_id int REFERENCES t)")
        pgharness.cli_ok("audit", "install", "--dsn", self.pg.dsn("app"))
        smtp_dir = self.path("smtp")
        os.makedirs(smtp_dir)
        vg_log = self.path("valgrind.log")
        # A "server" that accepts and never answers: target "stuck" is always mid-run
        # when a reload removes it.
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        held = []

        def accept():
            while True:
                try:
                    held.append(silent.accept()[0])
                except OSError:
                    return
        threading.Thread(target=accept, daemon=True).start()
        self.addCleanup(lambda: [x.close() for x in held + [silent]])
        stuck_dsn = "host=127.0.0.1 port=%d dbname=x user=x" % silent.getsockname()[1]
        wrapper = [VALGRIND, "--tool=memcheck", "--leak-check=full",
                   "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                   "--error-exitcode=%d" % VG_ERROR_EXIT, "--num-callers=30",
                   "--log-file=" + vg_log]
        with http_receiver.Receiver() as rx, \
                smtp_server.SmtpServer(smtp_dir, mode="open") as smtp, \
                dh.NotifySocket(self.workdir) as ns:
            d = dh.Daemon(self.workdir, "", notify=ns, wrapper=wrapper,
                          env={"WATCHDOG_USEC": "5000000"})
            www = self.path("www")
            head = dh.daemon_section(d.state_dir, d.runtime_dir, settle_delay="1s",
                                     error_threshold=1, connect_timeout="60s",
                                     report_dir=www)
            hook = dh.webhook_section("hook", rx.url("/hook"))
            mail = dh.smtp_section("mail", smtp.port)
            # app also runs checks (on a worker thread; target_check.c) when asked.
            checks = {"checks": "fk-index, orphans, custom:sleepy"}
            custom = "\n[check sleepy]\nsql = SELECT 1 FROM pg_sleep(2)\nstatement_timeout = 100ms\n"
            conf_a = head + dh.target_section("app", self.pg.dsn("app"),
                                              notifiers="hook, mail", **checks) + hook + mail \
                + custom
            conf_b = head + dh.target_section("app", self.pg.dsn("app"), notifiers="hook",
                                              **checks) + custom \
                + dh.target_section("other", self.pg.dsn("app"), schedule="every 3s",
                                    notifiers="hook") \
                + dh.target_section("stuck", stuck_dsn) + hook
            conf_bad = conf_a + "\n[target broken]\ndsn = dbname=x\nschedule = every 1x\n"
            d.write_config(conf_a)
            with d:
                d.start()
                ns.wait_for(lambda m: m == "READY=1", timeout=SLOW)
                d.wait_log(r"baseline created from the first snapshot", timeout=SLOW)

                self.pg.psql("app", "ALTER TABLE t ADD COLUMN c text")
                rx.wait_for(1, timeout=SLOW)
                dh.wait_until(lambda: len(smtp.messages()) >= 1, timeout=SLOW,
                              what="the drift email")
                self.assertEqual(rx.requests[0].json["kind"], "drift")
                self.assertTrue(rx.requests[0].json["changes"][0]["attribution"].startswith(
                    "by postgres from the local socket"), rx.requests[0].json)

                for i in range(RELOADS):
                    d.write_config(conf_b if i % 2 == 0 else conf_a)
                    mark = ns.count()
                    d.signal(signal.SIGHUP)
                    i_rel, _ = ns.wait_for(lambda m: m.startswith("RELOADING=1"), start=mark,
                                           timeout=SLOW)
                    ns.wait_for(lambda m: m == "READY=1", start=i_rel + 1, timeout=SLOW)
                self.assertEqual(len(d.log_lines(r"configuration reloaded")), RELOADS)
                self.assertGreaterEqual(len(held), RELOADS // 2 - 5,
                                        "target stuck did not start its runs")
                self.assertFalse(d.log_lines(r"reload failed"), d.log())

                # A bad file keeps the running configuration.
                d.write_config(conf_bad)
                mark = ns.count()
                d.signal(signal.SIGHUP)
                i_rel, _ = ns.wait_for(lambda m: m.startswith("RELOADING=1"), start=mark,
                                       timeout=SLOW)
                ns.wait_for(lambda m: m == "READY=1", start=i_rel + 1, timeout=SLOW)
                st = dh.wait_until(lambda: d.status()["reload_error"] and d.status(),
                                   timeout=SLOW, what="reload_error")
                self.assertIn("schedule", st["reload_error"])

                runs = d.target_status("app")["runs"]
                pgharness.cli_ok("run-now", "app", "--runtime-dir", d.runtime_dir)
                d.wait_runs("app", runs + 1, timeout=SLOW)

                # The checks: a finding (an FK no index covers), a timed-out custom check,
                # a check alert through the outbox.
                pgharness.cli_ok("check", "--target", "app", "--runtime-dir", d.runtime_dir)
                dh.wait_until(lambda: "check" in [r.json["kind"] for r in rx.requests],
                              timeout=SLOW, what="the check alert")
                self.assertEqual(d.target_status("app")["checks"]["findings"], 1)

                self.pg.psql("app", "ALTER EVENT TRIGGER schemadrift_recorder_drop DISABLE")
                dh.wait_until(lambda: "recorder" in [r.json["kind"] for r in rx.requests],
                              timeout=SLOW, what="the recorder alert")

                d.store_cli("baseline", "accept", "app", "--reason", "valgrind scenario")
                dh.wait_until(lambda: "recovered" in [r.json["kind"] for r in rx.requests],
                              timeout=SLOW, what="the recovered alert")
                # The report's worker thread rendered the accept (docs/report.md).
                page = os.path.join(www, "app.html")
                dh.wait_until(lambda: os.path.exists(page) and
                              "valgrind scenario" in open(page, encoding="utf-8").read(),
                              timeout=SLOW, what="the report showing the accept")

                rc, secs = d.stop(timeout=SLOW)
        with open(vg_log) as f:
            report = f.read()
        summary = re.findall(r"ERROR SUMMARY: .*", report)
        sys.stderr.write("valgrind: %s; SIGTERM to exit %.1f s\n" %
                         (summary[-1] if summary else "no summary", secs))
        self.assertNotEqual(rc, VG_ERROR_EXIT, "memcheck found errors:\n%s" % report[-20000:])
        self.assertEqual(rc, 0, "schemadriftd exited %d under valgrind" % rc)
        self.assertRegex(report, r"ERROR SUMMARY: 0 errors", report[-20000:])
        self.assertNotRegex(report, r"definitely lost: [1-9]", report[-20000:])


if __name__ == "__main__":
    pgharness.main()
