"""No secret leaks from schemadriftd: with a canary database password (password = file:...,
the role's real password over scram-sha-256) and a canary token in the webhook URL, nothing the
daemon writes or shows contains either -- stderr, alert payloads (bodies and headers), the
state directory (snapshots, history, baselines, alert state, outbox), `schemadrift status`,
/proc/PID/cmdline and /proc/PID/environ -- through a drift alert, a failed delivery that is
retried, and a database outage with its error alert and recovery.
"""

import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

ROLE = "canary_role"


def files_containing(root, needles):
    """[(path, needle)] for every file under root holding one of needles."""
    hits = []
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            hits += [(p, x) for x in needles if x.encode() in data]
    return hits


class DaemonSecrets(pgharness.PgTestCase):
    def test_no_canary_anywhere(self):
        password = "CanaryPw-" + secrets.token_hex(12)
        token = "CanaryTok-" + secrets.token_hex(12)
        canaries = [password, token]
        self.pg.create_db("app")
        self.pg.psql("app", "CREATE TABLE t (id int PRIMARY KEY)")
        self.pg.create_password_role(ROLE, password)
        self.pg.psql("app", "GRANT pg_read_all_settings TO %s" % ROLE)
        pwfile = dh.write_private(self.path("db.pass"), password + "\n")

        with http_receiver.Receiver() as rx:
            # The first delivery fails and is logged with the server's answer, which
            # echoes the URL's path the way web frameworks do; then it works.
            rx.respond(500, body="Cannot POST /hook/%s" % token)
            d = dh.Daemon(self.workdir, "")
            dsn = "host=127.0.0.1 port=%d dbname=app user=%s" % (self.pg.port, ROLE)
            d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir, error_threshold=1)
                           + dh.target_section("app", dsn, password="file:" + pwfile,
                                               notifiers="hook")
                           + dh.webhook_section("hook", rx.url("/hook/" + token)))
            # The canaries really are where the test looks from: the files hold them.
            self.assertEqual(sorted(x for _, x in files_containing(self.workdir, canaries)),
                             sorted(canaries))
            with d:
                d.start()
                d.wait_log(r"baseline created from the first snapshot")
                self.pg.psql("app", "ALTER TABLE t ADD COLUMN c text")
                rx.wait_for(2)   # the 500, then the retry that is delivered
                d.wait_log(r"delivered to hook")
                retry = d.log_lines(r"will retry")
                self.assertTrue(retry, d.log())
                self.assertIn("Cannot POST [redacted]", retry[0])
                # An outage: connection errors go to the log, the alert and the history.
                dh.pg_pause(self.pg)
                try:
                    rx.wait_for(3)
                finally:
                    dh.pg_resume(self.pg)
                rx.wait_for(4)
                kinds = [r.json["kind"] for r in rx.requests[1:]]
                self.assertEqual(kinds, ["drift", "error", "recovered"])
                # The password was used: the role logged in over scram and snapshots exist.
                self.assertTrue(os.listdir(os.path.join(d.state_dir, "targets", "app",
                                                        "snapshots")))

                with open("/proc/%d/cmdline" % d.pid, "rb") as f:
                    cmdline = f.read()
                with open("/proc/%d/environ" % d.pid, "rb") as f:
                    environ = f.read()
                status_text = pgharness.cli_ok("status", "--runtime-dir", d.runtime_dir)
                status_json = pgharness.cli_ok("status", "--runtime-dir", d.runtime_dir,
                                               "--format", "json")
                rc, _ = d.stop()
                self.assertEqual(rc, 0)

            for x in canaries:
                self.assertNotIn(x.encode(), cmdline, "canary in /proc/PID/cmdline")
                self.assertNotIn(x.encode(), environ, "canary in /proc/PID/environ")
                self.assertNotIn(x, d.log(), "canary on stderr")
                self.assertNotIn(x, status_text, "canary in schemadrift status")
                self.assertNotIn(x, status_json, "canary in schemadrift status --format json")
                for r in rx.requests:
                    self.assertNotIn(x.encode(), r.body, "canary in an alert payload")
                    for k, v in r.headers.items():
                        self.assertNotIn(x, "%s: %s" % (k, v), "canary in a request header")
            self.assertEqual(files_containing(d.state_dir, canaries), [],
                             "canary in the state directory")
            self.assertEqual(files_containing(d.runtime_dir, canaries), [])
            # Every failed run reached the log and the history, none with the secret in it.
            self.assertTrue(d.log_lines(r"run failed"))
            history = pgharness.cli_ok("history", "app", "--state-dir", d.state_dir)
            for x in canaries:
                self.assertNotIn(x, history)


if __name__ == "__main__":
    pgharness.main()
