"""The outbox end to end: a real HTTP receiver, real sender processes (kill -9), 1,000 alerts x 4 channels.

Drives `schemadrift outbox-drain` (the diagnostic command over lib/outbox.c, see
docs/outbox.md) and `schemadrift test-alert` against tests/integration/http_receiver.py.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

SECRET = "whsec_" + "c2NoZW1hZHJpZnQtb3V0Ym94LXRlc3Qta2V5IQ=="  # 32 bytes
# Guards against a broken build hanging the suite; never what a test checks.
GUARD_S = 240
MSG = re.compile(r"^outbox-drain test alert (drain-test-\d) #(\d+)$")
# The bound for "a timer on the loop keeps firing on time": 99% of the ticks
# within it.  The single worst tick is held to five times that: on a shared machine the
# kernel may deschedule the process for longer than 200 ms (464 and 327 ms under ASan
# beside other work), which is not the loop blocking; a loop that waited on deliveries
# would be late on many ticks, not one.
LAG_BOUND_MS = 200
WORST_LAG_BOUND_MS = 5 * LAG_BOUND_MS


class Drain:
    """A running `schemadrift outbox-drain`, its stdout collected line by line."""

    def __init__(self, conf, spool, *extra):
        cmd = [pgharness.cli_bin(), "outbox-drain", "--config", conf, "--spool", spool]
        cmd += [str(a) for a in extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=pgharness.clean_env(), text=True)
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, pred, count=1, timeout=GUARD_S):
        """Blocks until `count` lines satisfy pred; returns them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = [l for l in self.lines if pred(l)]
                if len(hits) >= count:
                    return hits
                if self.proc.poll() is not None and not self.reader.is_alive():
                    raise AssertionError("outbox-drain exited (%s) before the expected output;"
                                         " stderr: %s; last lines: %s" %
                                         (self.proc.returncode, self.proc.stderr.read(),
                                          self.lines[-5:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no such output yet; last lines: %s" % self.lines[-5:])
                self.cond.wait(min(left, 0.5))

    def finish(self, timeout=GUARD_S):
        rc = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        err = self.proc.stderr.read()
        self.close()
        return rc, err

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=10)
        for f in (self.proc.stdout, self.proc.stderr):
            if not f.closed:
                f.close()

    def summary(self):
        lines = [l for l in self.lines if l.startswith("drained: ")]
        if not lines:
            raise AssertionError("no summary line; last lines: %s" % self.lines[-5:])
        return dict(kv.split("=", 1) for kv in lines[-1][len("drained: "):].split())


def spool_entries(spool):
    """alert id -> (channel, target, message) of every entry in spool/queue."""
    out = {}
    for path in sorted(glob.glob(os.path.join(spool, "queue", "*.json"))):
        with open(path) as f:
            e = json.load(f)
        a = e["alert"]
        out[(a["id"], e["channel"])] = (e["channel"], a["target"], a["message"])
    return out


def accepted(rx, path=None):
    """The requests the receiver answered with 2xx, in arrival order."""
    return [r for r in rx.requests
            if r.answered is not None and 200 <= r.answered < 300
            and (path is None or r.path == path)]


def order_by_target(reqs):
    """target -> the #numbers of its messages in arrival order, consecutive repeats
    folded (a redelivery right after a crash is the same entry again)."""
    seqs = {}
    for r in reqs:
        m = MSG.match(r.json["message"])
        assert m, r.json["message"]
        s = seqs.setdefault(m.group(1), [])
        n = int(m.group(2))
        if not s or s[-1] != n:
            s.append(n)
    return seqs


class OutboxTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="schemadrift-outbox-")
        self.spool = os.path.join(self.tmp, "spool")
        self.receivers = []
        self.drains = []

    def tearDown(self):
        for d in self.drains:
            d.close()
        for rx in self.receivers:
            rx.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def receiver(self, port=0, on_request=None):
        rx = http_receiver.Receiver(secret=SECRET, port=port, on_request=on_request).start()
        self.receivers.append(rx)
        return rx

    def drain(self, conf, *extra):
        d = Drain(conf, self.spool, *extra)
        self.drains.append(d)
        return d

    def config(self, port, channels=(("hook", "webhook", "/hook"),), daemon=None):
        lines = ["[daemon]"]
        for k, v in (daemon or {"outbox_backoff_base": "100ms",
                                "outbox_backoff_cap": "400ms"}).items():
            lines.append("%s = %s" % (k, v))
        for name, kind, path in channels:
            lines += ["", "[notifier %s]" % name, "type = %s" % kind,
                      "url = http://127.0.0.1:%d%s" % (port, path), "allow_http = true"]
            if kind == "webhook":
                lines.append("secret = %s" % SECRET)
        path = os.path.join(self.tmp, "schemadrift.conf")
        # Inline secrets are only accepted from a file nobody else can read.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def assert_all_delivered_in_order(self, rx, entries, per_target, max_dups=0):
        ok = accepted(rx)
        ids = [r.headers["webhook-id"] for r in ok]
        want = {aid for (aid, _ch) in entries}
        self.assertEqual(set(ids), want, "every spooled alert arrives")
        dups = len(ids) - len(set(ids))
        self.assertLessEqual(dups, max_dups, "duplicates beyond the deliveries in flight")
        for r in ok:
            self.assertTrue(r.signature_ok, r.signature_reason)
            _ch, target, message = entries[(r.headers["webhook-id"], "hook")]
            self.assertEqual(r.json["id"], r.headers["webhook-id"])
            self.assertEqual(r.json["target"], target)
            self.assertEqual(r.json["message"], message)
        for target, seq in order_by_target(ok).items():
            self.assertEqual(seq, list(range(1, per_target + 1)),
                             "%s: delivered out of order or with gaps" % target)
        self.assertEqual(os.listdir(os.path.join(self.spool, "queue")), [])
        return dups

    # ------------------------------------------------------------------

    def test_receiver_down_then_up_every_alert_once_in_order(self):
        port = pgharness.free_port()
        conf = self.config(port)
        d = self.drain(conf, "--enqueue-test", 40)
        d.wait_line(lambda l: l.startswith("draining "))
        entries = spool_entries(self.spool)
        self.assertEqual(len(entries), 40)
        # Nobody listens: connections are refused and retried with backoff.
        refused = d.wait_line(lambda l: l.startswith("retrying ") and "connect" in l, count=12)
        self.assertIn("attempts=", refused[0])
        rx = self.receiver(port=port)
        rc, err = d.finish()
        self.assertEqual(rc, 0, err)
        s = d.summary()
        self.assertEqual((s["delivered"], s["given_up"], s["left"]), ("40", "0", "0"))
        self.assertGreaterEqual(int(s["retries"]), 12)
        # Exactly once per idempotency key: no crash, so no duplicate at all.
        self.assertEqual(len(rx.requests), 40)
        self.assert_all_delivered_in_order(rx, entries, per_target=10, max_dups=0)
        self.assertEqual(os.listdir(os.path.join(self.spool, "dead")), [])

    def test_server_errors_retry_and_a_permanent_refusal_is_a_dead_letter(self):
        rx = self.receiver()
        rx.respond(503, body="busy", times=3)
        rx.respond(429, headers={"Retry-After": "1"}, body="slow down")
        rx.respond(404, body="no such hook")
        conf = self.config(rx.port)
        d = self.drain(conf, "--enqueue-test", 20)
        rc, err = d.finish()
        self.assertEqual(rc, 0, err)
        first5 = rx.requests[:5]
        self.assertEqual([r.answered for r in first5], [503, 503, 503, 429, 404])
        dead_id = first5[4].headers["webhook-id"]
        # The refused alert is not tried again; everything else arrives exactly once.
        self.assertNotIn(dead_id, rx.ids()[5:])
        ok_ids = [r.headers["webhook-id"] for r in accepted(rx)]
        self.assertEqual(len(ok_ids), 19)
        self.assertEqual(len(set(ok_ids)), 19)
        self.assertNotIn(dead_id, ok_ids)
        for r in first5[:4]:  # retried under the same webhook-id (one of them met the 404)
            if r.headers["webhook-id"] != dead_id:
                self.assertIn(r.headers["webhook-id"], ok_ids)
        gave_up = [l for l in d.lines if l.startswith("gave-up ")]
        self.assertEqual(len(gave_up), 1, d.lines)
        self.assertTrue(gave_up[0].startswith("gave-up %s hook " % dead_id), gave_up[0])
        self.assertIn("404", gave_up[0])
        dead = glob.glob(os.path.join(self.spool, "dead", "*.json"))
        self.assertEqual(len(dead), 1)
        with open(dead[0]) as f:
            letter = json.load(f)
        self.assertEqual(letter["alert"]["id"], dead_id)
        self.assertIn("permanent failure", letter["given_up"]["reason"])
        self.assertIn("no such hook", letter["given_up"]["reason"])
        self.assertEqual(letter["given_up"]["attempts"], rx.ids().count(dead_id))
        # Order per target holds around the retries; the dead one is the only gap.
        dead_msg = MSG.match(first5[4].json["message"])
        for target, seq in order_by_target(accepted(rx)).items():
            want = [n for n in range(1, 6)
                    if not (target == dead_msg.group(1) and n == int(dead_msg.group(2)))]
            self.assertEqual(seq, want, target)
        self.assertEqual(d.summary()["given_up"], "1")

    def test_kill_9_mid_drain_loses_nothing(self):
        port = pgharness.free_port()
        conf = self.config(port)
        first = self.drain(conf, "--enqueue-test", 200)
        first.wait_line(lambda l: l.startswith("draining "))
        entries = spool_entries(self.spool)
        self.assertEqual(len(entries), 200)
        # A slow receiver, so the kill lands while deliveries are in flight.
        rx = self.receiver(port=port, on_request=lambda req: time.sleep(0.02))
        first.wait_line(lambda l: l.startswith("delivered "), count=60)
        first.kill9()
        self.assertEqual(first.proc.returncode, -signal.SIGKILL)
        left = len(os.listdir(os.path.join(self.spool, "queue")))
        self.assertGreater(left, 0, "the kill came too late to test anything")
        second = self.drain(conf)
        rc, err = second.finish()
        self.assertEqual(rc, 0, err)
        # At most one repeat per (target, channel) queue: its entry in flight, or
        # delivered with its file not yet removed, when the kill came.
        dups = self.assert_all_delivered_in_order(rx, entries, per_target=50, max_dups=4)
        print("\nkill -9 after %d deliveries, %d entries left in the spool; %d delivered "
              "twice (at least once, same webhook-id)" % (200 - left, left, dups))

    def test_1000_alerts_4_channels_drain_without_blocking_the_loop(self):
        rx = self.receiver()
        channels = (("hook", "webhook", "/hook"), ("slack", "slack", "/slack"),
                    ("teams", "teams", "/teams"), ("discord", "discord", "/discord"))
        conf = self.config(rx.port, channels=channels, daemon={})
        d = self.drain(conf, "--enqueue-test", 1000)
        d.wait_line(lambda l: l.startswith("draining "))
        t0 = time.monotonic()
        rc, err = d.finish()
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, err)
        s = d.summary()
        self.assertEqual((s["delivered"], s["given_up"], s["left"]), ("4000", "0", "0"))
        for path in ("/hook", "/slack", "/teams", "/discord"):
            self.assertEqual(len(accepted(rx, path)), 1000, path)
        self.assertEqual(len(set(r.headers["webhook-id"] for r in accepted(rx, "/hook"))), 1000)
        worst = float(s["worst_lag_ms"])
        ticks = int(s["ticks"])
        print("\n4000 deliveries (1,000 alerts x 4 channels) drained in %.1f s; a 10 ms timer "
              "on the same loop fired %d times, worst lag %.1f ms, p99 %s ms" %
              (took, ticks, worst, s["p99_lag_ms"]))
        self.assertGreater(ticks, 100)
        self.assertLess(float(s["p99_lag_ms"]), LAG_BOUND_MS)
        self.assertLess(worst, WORST_LAG_BOUND_MS)

    def test_test_alert_prints_the_answer(self):
        rx = self.receiver()
        conf = self.config(rx.port)
        rc, out, err = pgharness.run_cli("test-alert", "--config", conf, "--channel", "hook")
        self.assertEqual(rc, 0, err)
        self.assertIn("notifier 'hook' (webhook): delivered", out)
        self.assertIn("answer: HTTP 200", out)
        [req] = rx.requests
        self.assertTrue(req.signature_ok, req.signature_reason)
        self.assertEqual(req.json["kind"], "test")
        self.assertIn("alert id: %s" % req.headers["webhook-id"], out)

        rx.respond(404, body="no such hook")
        rc, out, err = pgharness.run_cli("test-alert", "--config", conf, "--channel", "hook")
        self.assertEqual(rc, 2, out)
        self.assertIn("permanent failure", out)
        self.assertIn("404", out)
        self.assertIn("no such hook", out)

        rc, out, err = pgharness.run_cli("test-alert", "--config", conf, "--channel", "nope")
        self.assertEqual(rc, 2)
        self.assertIn("no [notifier nope] section", err)
        rc, out, err = pgharness.run_cli("test-alert", "--config", conf)
        self.assertEqual(rc, 2)
        self.assertIn("--channel", err)
        self.assertEqual(len(rx.requests), 2)
        # Not in the spool: test-alert sends directly.
        self.assertFalse(os.path.exists(self.spool))

    def test_unreadable_spool_files_are_moved_aside_and_one_owner_at_a_time(self):
        port = pgharness.free_port()
        conf = self.config(port)
        d = self.drain(conf, "--enqueue-test", 4)
        d.wait_line(lambda l: l.startswith("retrying "))
        # The spool is locked while the first process runs.
        rc, out, err = pgharness.run_cli("outbox-drain", "--config", conf, "--spool", self.spool)
        self.assertEqual(rc, 2)
        self.assertIn("in use by another process", err)
        d.proc.send_signal(signal.SIGTERM)
        rc, err = d.finish()
        self.assertEqual(rc, 2, "interrupted with entries left")
        self.assertEqual(len(os.listdir(os.path.join(self.spool, "queue"))), 4)

        with open(os.path.join(self.spool, "queue", "00000000000000000099.json"), "w") as f:
            f.write('{"schemadrift_outbox": 1, "seq": 99, "channel": "hook", "alert": ')
        with open(os.path.join(self.spool, "queue", "stray.txt"), "w") as f:
            f.write("not an entry")
        rx = self.receiver(port=port)
        rc, out, err = pgharness.run_cli("outbox-drain", "--config", conf, "--spool", self.spool)
        self.assertEqual(rc, 0, err)
        corrupt = [l for l in out.splitlines() if l.startswith("corrupt ")]
        self.assertEqual(len(corrupt), 2, out)
        self.assertTrue(any("00000000000000000099.json" in l and "line 1" in l
                            for l in corrupt), corrupt)
        self.assertEqual(sorted(os.listdir(os.path.join(self.spool, "corrupt"))),
                         ["00000000000000000099.json", "stray.txt"])
        self.assertEqual(len(accepted(rx)), 4)
        self.assertIn("corrupt=2", out)


if __name__ == "__main__":
    pgharness.main()
