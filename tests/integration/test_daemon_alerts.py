"""schemadriftd end to end: a real PostgreSQL, a real webhook receiver and a real SMTP server.

One daemon lives through what an operator sees: the first run makes the baseline and sends
nothing; an ALTER TABLE is alerted exactly once per channel within one schedule period plus
the settle delay; `schemadrift baseline accept` sends `recovered`; stopping PostgreSQL sends
one error alert (after error_threshold failed runs, not one per run) and restarting it one
`recovered`; SIGTERM ends the daemon with status 0.
"""

import email
import email.policy
import os
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402
import smtp_server  # noqa: E402

PERIOD = 2.0        # schedule = every 2s
SETTLE = 2.0        # settle_delay = 2s
# What the bound on the drift alert allows beyond one period and the settle
# delay: two snapshots, the spool's fsync and one delivery on a loaded machine.
GRACE = 4.0
ERROR_THRESHOLD = 2


def mail_kind(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg["X-Schemadrift-Alert"], str(msg["Subject"])


class DaemonAlerts(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        self.pg.create_db("app")
        self.pg.psql("app", "CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL)")
        self.rx = http_receiver.Receiver().start()
        self.addCleanup(self.rx.stop)
        self.smtp = smtp_server.SmtpServer(self.path("smtp"), mode="open").start()
        self.addCleanup(self.smtp.stop)

    def kinds(self):
        hooks = [r.json["kind"] for r in self.rx.requests]
        mails = [mail_kind(raw)[0] for raw, _ in self.smtp.messages()]
        return hooks, mails

    def wait_kinds(self, n):
        return dh.wait_until(lambda: all(len(k) >= n for k in self.kinds()) and self.kinds(),
                             what="%d alerts on each channel (have %r)" % (n, self.kinds()))

    def test_lifecycle(self):
        os.makedirs(self.path("smtp"), exist_ok=True)
        d = dh.Daemon(self.workdir, "")
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
        probe.close()
        conf = (dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every 2s",
                                  settle_delay="2s", error_threshold=ERROR_THRESHOLD,
                                  metrics_listen="127.0.0.1:%d" % metrics_port)
                + dh.target_section("app", self.pg.dsn("app"), notifiers="hook, mail",
                                    environment="test")
                + dh.webhook_section("hook", self.rx.url("/hook"))
                + dh.smtp_section("mail", self.smtp.port))
        d.write_config(conf)
        with d:
            d.start()
            # -- the first run makes the baseline and alerts nobody
            d.wait_log(r"target 'app': baseline created from the first snapshot")
            shown = d.store_cli("baseline", "show", "app")
            self.assertIn("schemadriftd", shown)
            # (the status wait_runs read: a new read could catch the next run in flight)
            st = d.wait_runs("app", 3)
            self.assertEqual(self.kinds(), ([], []), "alerts without any change")
            self.assertEqual(st["state"], "ok")

            # -- one ALTER TABLE: one drift alert per channel, within the bound
            t0 = time.monotonic()
            self.pg.psql("app", "ALTER TABLE orders ADD COLUMN note text")
            self.wait_kinds(1)
            lag = time.monotonic() - t0
            sys.stderr.write("drift alert %.1f s after the ALTER TABLE\n" % lag)
            self.assertLessEqual(lag, PERIOD + SETTLE + GRACE,
                                 "drift alerted %.1f s after the change" % lag)
            hook = self.rx.requests[0].json
            self.assertEqual(hook["kind"], "drift")
            self.assertEqual(hook["target"], "app")
            self.assertEqual(hook["environment"], "test")
            self.assertIn("public.orders.note", [c["object"] for c in hook["changes"]])
            kind, subject = mail_kind(self.smtp.messages()[0][0])
            self.assertEqual(kind, "drift")
            self.assertIn("Schema drift on app", subject)
            # Confirmation and later runs must not alert again.
            runs = d.target_status("app")["runs"]
            st = d.wait_runs("app", runs + 3)
            self.assertEqual(self.kinds(), (["drift"], ["drift"]))
            self.assertEqual(st["state"], "drifting")
            self.assertTrue(st["drifting"])
            self.assertEqual(len(d.log_lines(r"Schema drift on app")), 1, d.log())
            # -v shows the probe's decision (debug), whatever log_level says.
            self.assertTrue(d.log_lines(r"^debug: target 'app': the catalog moved"), d.log())

            # -- accepting the new schema as the baseline: recovered
            d.store_cli("baseline", "accept", "app", "--reason", "migration 42 applied")
            self.wait_kinds(2)
            self.assertEqual(self.rx.requests[1].json["kind"], "recovered")
            runs = d.target_status("app")["runs"]
            st = d.wait_runs("app", runs + 2)
            self.assertEqual(self.kinds(), (["drift", "recovered"], ["drift", "recovered"]))
            self.assertEqual(st["state"], "ok")
            # -- every notifier's deliveries are counted in /metrics
            url = "http://127.0.0.1:%d/metrics" % metrics_port
            text = dh.wait_until(lambda: (lambda t: 'notifier="mail"} 2' in t and t)(
                urllib.request.urlopen(url, timeout=10).read().decode()), what="/metrics")
            self.assertRegex(text, r'(?m)^schemadrift_alerts_sent_total\{notifier="hook"\} 2$')
            self.assertRegex(text, r'(?m)^schemadrift_alerts_sent_total\{notifier="mail"\} 2$')
            self.assertRegex(text, r'(?m)^schemadrift_alerts_failed_total\{notifier="hook"\} 0$')

            # -- PostgreSQL down: one error alert after error_threshold failures
            dh.pg_pause(self.pg)
            try:
                self.wait_kinds(3)
                st = dh.wait_until(lambda: d.target_status("app")["failing"] and
                                   d.target_status("app"), what="failing status")
                self.assertTrue(st["last_error"])
                failures = st["failures"]
                self.assertGreaterEqual(failures, ERROR_THRESHOLD)
                # Several more failed runs: still the one error alert.
                st = dh.wait_until(lambda: (lambda t: t["failures"] >= failures + 3 and
                                            not t["running"] and t)(d.target_status("app")),
                                   what="three more failed runs")
                self.assertEqual(self.kinds(), (["drift", "recovered", "error"],
                                                ["drift", "recovered", "error"]))
                self.assertEqual(st["state"], "failing")
            finally:
                dh.pg_resume(self.pg)

            # -- PostgreSQL back: one recovery
            self.wait_kinds(4)
            runs = d.target_status("app")["runs"]
            st = d.wait_runs("app", runs + 3)
            want = ["drift", "recovered", "error", "recovered"]
            self.assertEqual(self.kinds(), (want, want))
            self.assertEqual(st["state"], "ok")
            self.assertIsNone(st["last_error"])
            # The alerts a user greps the log for, once each.
            self.assertEqual(len(d.log_lines(r"Schema drift on app")), 1)

            rc, secs = d.stop()
            self.assertEqual(rc, 0, d.log())
        # Every alert reached both channels; none is left in the outbox.
        queue = os.path.join(d.state_dir, "outbox", "queue")
        self.assertEqual(os.listdir(queue) if os.path.isdir(queue) else [], [])


if __name__ == "__main__":
    pgharness.main()
