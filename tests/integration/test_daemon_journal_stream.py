"""schemadriftd's stderr when it is the journal's stream (systemd sets JOURNAL_STREAM to its
device:inode): every line starts with its syslog priority, "<3>error: ...", which journald
takes as the line's priority (sd-daemon(3)), so `journalctl -p err` finds it.  That holds with
-f, and without -f when journald cannot take the message (no socket: a container), so that no
line is lost.  Without JOURNAL_STREAM the lines are plain.  No database.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import pgharness  # noqa: E402

LEVELS = {"emerg": 0, "alert": 1, "crit": 2, "error": 3, "warning": 4, "notice": 5, "info": 6,
          "debug": 7}
JOURNAL_SOCKET = "/run/systemd/journal/socket"


class JournalStream(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="schemadrift-journal-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir]))
        self.conf = os.path.join(self.dir, "schemadrift.conf")
        dh.write_private(self.conf, dh.daemon_section(self.dir + "/state", self.dir + "/run"))

    def run_daemon(self, args, journal_stream=True, stop_after=None):
        """Runs the daemon with stderr in a file; JOURNAL_STREAM names that file when
        journal_stream.  With stop_after (a log pattern) it is stopped by SIGTERM once the
        pattern is logged.  Returns (exit status, stderr lines)."""
        log = os.path.join(self.dir, "stderr")
        env = pgharness.clean_env()
        for k in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "WATCHDOG_USEC"):
            env.pop(k, None)
        with open(log, "wb") as f:
            if journal_stream:
                st = os.fstat(f.fileno())
                env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
            p = subprocess.Popen([dh.daemon_bin()] + args, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=f, env=env)
            try:
                if stop_after:
                    deadline = time.monotonic() + dh.WAIT_TIMEOUT
                    while not re.search(stop_after, open(log).read()):
                        self.assertIsNone(p.poll(), "exited early: " + open(log).read())
                        self.assertLess(time.monotonic(), deadline, "no %r" % stop_after)
                        time.sleep(0.05)
                    p.send_signal(signal.SIGTERM)
                rc = p.wait(timeout=60)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        with open(log) as f:
            return rc, f.read().splitlines()

    def assert_prefixed(self, lines):
        self.assertTrue(lines)
        for line in lines:
            m = re.match(r"^<(\d)>(\w+): ", line)
            self.assertIsNotNone(m, "no <N> priority prefix: %r" % line)
            self.assertEqual(int(m.group(1)), LEVELS[m.group(2)], line)

    def test_foreground_lines_carry_priorities(self):
        rc, lines = self.run_daemon(["-c", self.conf, "-f", "-v"], stop_after=r"started")
        self.assertEqual(rc, 0)
        self.assert_prefixed(lines)
        self.assertTrue(any(l.startswith("<5>notice: started") for l in lines), lines)

    def test_an_error_is_priority_3(self):
        dh.write_private(self.conf, "[daemon]\nmetrics_listen = 127.0.0.1\n")
        rc, lines = self.run_daemon(["-c", self.conf, "-f"])
        self.assertEqual(rc, 78)
        self.assert_prefixed(lines)
        self.assertTrue(any(l.startswith("<3>error: cannot start: %s:2:" % self.conf)
                            for l in lines), lines)

    def test_plain_without_journal_stream(self):
        rc, lines = self.run_daemon(["-c", self.conf, "-f"], journal_stream=False,
                                    stop_after=r"started")
        self.assertEqual(rc, 0)
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^(error|warning|notice|info|debug): ")

    @unittest.skipIf(os.path.exists(JOURNAL_SOCKET),
                     "journald is running here, so messages reach it and not stderr")
    def test_no_journald_falls_back_to_stderr(self):
        # Without -f the daemon sends to journald; with no journald to take them the
        # lines go to stderr (the journal's stream) with their priorities.
        rc, lines = self.run_daemon(["-c", self.conf], stop_after=r"started")
        self.assertEqual(rc, 0)
        self.assert_prefixed(lines)
        self.assertTrue(any(l.startswith("<5>notice: started") for l in lines), lines)
        self.assertTrue(any(l.startswith("<5>notice: stopped") for l in lines), lines)


if __name__ == "__main__":
    unittest.main(verbosity=2)
