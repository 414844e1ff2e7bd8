"""Every key of the daemon's key table, with a bad value, is refused alike by
`schemadriftd --check-config` and by starting the daemon: both exit 78 (EX_CONFIG) and name
FILE:LINE of the bad line and the key; a running daemon's reload (SIGHUP) refuses it too and
keeps running.  The keys come from the table itself
(`schemadriftd --print-keys`), so a key added to lib/config.c is covered without touching
this file; a key of a type this file has no bad value for fails the test.  No database: the
daemon refuses before it connects to anything.
"""

import os
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import pgharness  # noqa: E402

EX_CONFIG = 78


def bad_value(key):
    """A value that key's type must refuse (key: a row of --print-keys as a dict)."""
    t = key["type"]
    if t in ("int", "duration"):
        # Just past the maximum (durations are in ms).
        return ("%d" if t == "int" else "%dms") % (int(key["max"]) + 1)
    return {
        "bool": "maybe",
        "enum": "no-such-choice",
        "list": "a,,b",
        "secret": "hunter2-inline",
        "string": "",
        "path": "relative/dir",
        "listen": "127.0.0.1",      # no port: the finding that opened issue 14
        "dsn": "host=db1 port",
        "schedule": "every banana",
        "zone": "Mars/Olympus",
        "link": "ftp://example.com/{nope}",
    }.get(t)


def print_keys():
    p = subprocess.run([dh.daemon_bin(), "--print-keys"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, check=True)
    lines = p.stdout.decode().splitlines()
    header = lines[0].lstrip("# ").split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


class EveryKey(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="schemadrift-keys-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir]))

    def config_with(self, key, value):
        """A configuration valid but for `key = value`; returns (text, its line number)."""
        daemon = {"state_dir": self.dir + "/state", "runtime_dir": self.dir + "/run"}
        target = {"dsn": "dbname=app"}
        (daemon if key["section"] == "daemon" else target)[key["key"]] = value
        lines = ["[daemon]"] + ["%s = %s" % kv for kv in daemon.items()]
        lines += ["", "[target app]"] + ["%s = %s" % kv for kv in target.items()]
        section = "[daemon]" if key["section"] == "daemon" else "[target app]"
        start = lines.index(section)
        line = next(i for i, l in enumerate(lines[start:], start + 1)
                    if l.startswith(key["key"] + " = "))
        return "\n".join(lines) + "\n", line

    def run_daemon(self, *args):
        env = pgharness.clean_env()
        for k in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY"):
            env.pop(k, None)
        p = subprocess.Popen([dh.daemon_bin()] + list(args), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            # It started: the bad value got through.
            p.kill()
            out, err = p.communicate()
            return None, out.decode(), err.decode()
        return p.returncode, out.decode(), err.decode()

    def test_table_is_not_empty(self):
        keys = print_keys()
        sections = {k["section"] for k in keys}
        self.assertEqual(sections, {"daemon", "target"})
        self.assertGreater(len(keys), 30)

    def test_every_key_refused_by_check_and_by_startup(self):
        keys = print_keys()
        checked = []
        for key in keys:
            name = "[%s] %s" % (key["section"], key["key"])
            with self.subTest(key=name, type=key["type"]):
                value = bad_value(key)
                self.assertIsNotNone(value, "%s has type %r, for which this test knows no bad "
                                     "value: add one to bad_value()" % (name, key["type"]))
                text, line = self.config_with(key, value)
                path = os.path.join(self.dir, "schemadrift.conf")
                dh.write_private(path, text)
                where = "%s:%d:" % (path, line)

                rc, out, err = self.run_daemon("--check-config", "-c", path)
                self.assertEqual(rc, EX_CONFIG, "--check-config accepted %s = %r:\n%s%s" % (
                    name, value, out, err))
                self.assertIn(where, err, "--check-config: %s" % err)
                self.assertIn("'%s'" % key["key"], err)

                rc, out, err = self.run_daemon("-c", path, "-f")
                self.assertEqual(rc, EX_CONFIG, "the daemon started with %s = %r:\n%s" % (
                    name, value, err))
                self.assertIn(where, err, "startup: %s" % err)
                self.assertIn("'%s'" % key["key"], err)
                checked.append(name)
        self.assertEqual(len(checked), len(keys))
        sys.stderr.write("refused by both: %d keys (%s)\n" % (len(checked), ", ".join(checked)))

    def test_every_key_refused_by_a_reload(self):
        # A running daemon keeps its configuration when a reload brings a bad value of
        # any key, and says where it is.
        good, _ = self.config_with({"section": "target", "key": "environment"}, "production")
        d = dh.Daemon(self.dir, good)
        with d:
            d.start()
            d.wait_log(r"started: 1 target")
            for n, key in enumerate(print_keys(), 1):
                name = "[%s] %s" % (key["section"], key["key"])
                with self.subTest(key=name):
                    text, line = self.config_with(key, bad_value(key))
                    d.write_config(text)
                    d.signal(signal.SIGHUP)
                    lines = d.wait_log(r"reload failed, keeping the running configuration",
                                       count=n)
                    self.assertIn("%s:%d:" % (d.config, line), lines[-1])
                    self.assertIn("'%s'" % key["key"], lines[-1])
            self.assertTrue(d.alive())
            self.assertEqual(d.log_lines(r"configuration reloaded"), [])
            rc, _ = d.stop()
            self.assertEqual(rc, 0)

    def test_the_same_file_without_the_bad_value_starts(self):
        # The control: the configuration around each bad value is itself valid.
        text, _ = self.config_with({"section": "target", "key": "environment"}, "production")
        path = os.path.join(self.dir, "schemadrift.conf")
        dh.write_private(path, text)
        rc, out, err = self.run_daemon("--check-config", "-c", path)
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("configuration is valid (1 target)", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
