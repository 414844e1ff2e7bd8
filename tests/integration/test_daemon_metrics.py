"""schemadriftd's /metrics as Prometheus reads it: a real daemon with a real PostgreSQL target, a
target that never connects, and three webhook notifiers on real HTTP receivers (one never used,
one that answers 503, one that answers 400).  The scrape passes `promtool check metrics`; it has
schemadrift_build_info, every notifier's counters at 0 from the start, the outbox's depth,
oldest entry age and dead letters, reload successes and failures and the last reload time;
the target that never succeeded has no success-timestamp sample; values print without float
noise; the Content-Type names its charset, and /healthz is text/plain.  A SIGHUP that changes a
restart-only key says it takes effect at the next restart, and does not apply it.
"""

import os
import re
import signal
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402


def samples(text):
    """{(name, labels text): value text} of a scrape."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.match(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        out[(m.group(1), m.group(2) or "")] = m.group(3)
    return out


def significant(number):
    """How many significant digits a number's text has ("0.041" 2, "1.5e+09" 2, "300" 1)."""
    return len(number.lower().split("e")[0].lstrip("-").replace(".", "").strip("0"))


def promtool(text):
    """`promtool check metrics` on text: (exit status, what it printed)."""
    tool = pgharness.promtool_path()
    if not tool:
        raise AssertionError("promtool is missing: run scripts/deps.sh")
    p = subprocess.run([tool, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode()


class Metrics(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        self.pg.create_db("app")
        self.rx = {}
        for name, status in (("idle", 200), ("retry", 503), ("dead", 400)):
            rx = http_receiver.Receiver().start()
            rx.set_default(status)
            self.addCleanup(rx.stop)
            self.rx[name] = rx
        self.port = pgharness.free_port()

    def config(self, d, runtime_dir=None, extra=""):
        down = "host=127.0.0.1 port=%d dbname=nothing connect_timeout=2" % pgharness.free_port()
        text = dh.daemon_section(d.state_dir, runtime_dir or d.runtime_dir,
                                 metrics_listen="127.0.0.1:%d" % self.port, error_threshold=1,
                                 outbox_backoff_base="30s")
        text += dh.target_section("ok", self.pg.dsn("app"), notifiers="idle")
        text += dh.target_section("down", down, notifiers="retry, dead") + extra
        for name, rx in self.rx.items():
            text += dh.webhook_section(name, rx.url("/" + name))
        return text

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path),
                                    timeout=10) as r:
            return r.headers.get("Content-Type"), r.read().decode()

    def test_scrape(self):
        d = dh.Daemon(self.workdir, "")
        d.write_config(self.config(d))
        with d:
            d.start()
            # -- at once: every notifier has its counters, at 0, before any delivery
            ctype, text = dh.wait_until(lambda: self.get("/metrics"), what="/metrics")
            s = samples(text)
            for name in ("idle", "retry", "dead"):
                for counter in ("schemadrift_alerts_sent_total",
                                "schemadrift_alerts_failed_total"):
                    self.assertIn((counter, '{notifier="%s"}' % name), s, text)
            self.assertEqual(s[("schemadrift_alerts_sent_total", '{notifier="idle"}')], "0")
            self.assertEqual(s[("schemadrift_build_info", '{version="0.1.0"}')], "1")
            self.assertEqual(ctype, "text/plain; version=0.0.4; charset=utf-8")
            hctype, body = self.get("/healthz")
            self.assertEqual((hctype, body), ("text/plain; charset=utf-8", "ok\n"))

            # -- the down target's error alert: 503 keeps it waiting, 400 buries it
            d.wait_runs("ok", 1)
            self.rx["retry"].wait_for(1)
            self.rx["dead"].wait_for(1)
            d.wait_log(r"given up")

            # -- a reload changing a restart-only key, then a failed reload
            d.write_config(self.config(d, runtime_dir=d.runtime_dir + "-new"))
            d.signal(signal.SIGHUP)
            lines = d.wait_log(r"key 'runtime_dir' changed: it takes effect at the next restart")
            self.assertIn("%s:3: [daemon] key 'runtime_dir'" % d.config, lines[0])
            d.wait_log(r"configuration reloaded: 2 targets")
            # Not applied: the control socket is where it was.
            self.assertEqual(len(d.status()["targets"]), 2)
            self.assertFalse(os.path.exists(d.runtime_dir + "-new"))
            d.write_config(self.config(d, extra="bogus_key = 1\n"))
            d.signal(signal.SIGHUP)
            d.wait_log(r"reload failed")

            _, text = self.get("/metrics")
            sys.stderr.write("----- /metrics -----\n%s----- end -----\n" % text)
            s = samples(text)

            rc, out = promtool(text)
            self.assertEqual((rc, out), (0, ""), "promtool check metrics:\n" + out)

            # Success timestamps: a sample for the target that succeeded, none for the other.
            self.assertIn(("schemadrift_last_success_timestamp_seconds", '{target="ok"}'), s)
            self.assertNotIn(("schemadrift_last_success_timestamp_seconds", '{target="down"}'),
                             s, text)
            self.assertIn("# TYPE schemadrift_last_success_timestamp_seconds gauge", text)
            # The outbox: the 503'd alert waits, the 400'd one is a dead letter.
            self.assertGreaterEqual(int(s[("schemadrift_outbox_depth", "")]), 1)
            self.assertGreater(float(s[("schemadrift_outbox_oldest_age_seconds", "")]), 0)
            self.assertEqual(s[("schemadrift_outbox_dead_letters", "")], "1")
            self.assertEqual(s[("schemadrift_alerts_failed_total", '{notifier="dead"}')], "1")
            self.assertEqual(s[("schemadrift_alerts_sent_total", '{notifier="idle"}')], "0")
            # Reloads.
            self.assertEqual(s[("schemadrift_config_reloads_total", '{result="success"}')], "1")
            self.assertEqual(s[("schemadrift_config_reloads_total", '{result="failure"}')], "1")
            self.assertEqual(s[("schemadrift_config_last_reload_successful", "")], "0")
            loaded = float(s[("schemadrift_config_last_reload_success_timestamp_seconds", "")])
            self.assertGreater(loaded, 1.7e9)
            # No float noise: no more digits than the shortest form that reads back the
            # same (Python's repr), whole numbers without an exponent, durations in ms.
            for (name, labels), v in s.items():
                what = "%s%s %s" % (name, labels, v)
                self.assertLessEqual(significant(v), significant(repr(float(v))), what)
                if float(v).is_integer():
                    self.assertRegex(v, r"^-?\d+$", what)
                if name == "schemadrift_last_run_duration_seconds":
                    self.assertRegex(v, r"^\d+(\.\d{1,3})?$", "%s%s %s" % (name, labels, v))
            rc, _ = d.stop()
            self.assertEqual(rc, 0)



class Promtool(unittest.TestCase):
    def test_promtool_can_fail(self):
        # The check above means something: promtool refuses a malformed exposition, and
        # flags a counter without _total.
        rc, out = promtool("# TYPE x counter\nx{a=\"1\" 1\n")
        self.assertNotEqual(rc, 0, out)
        rc, out = promtool("# HELP x_seconds X.\n# TYPE x_seconds counter\nx_seconds 1\n")
        self.assertNotEqual((rc, out), (0, ""))


if __name__ == "__main__":
    pgharness.main()
