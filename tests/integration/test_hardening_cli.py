"""Findings of the adversarial review (issue 12) that the CLI and --check-config show, each
tried as a hostile user or a careless operator would: a password in a URI (B), server text
that would drive a terminal (D), unbounded reads and FIFOs (F), and unclear messages (I).
A real PostgreSQL where a server is involved; the real binaries throughout.
"""

import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import pgharness  # noqa: E402

# What must never reach a terminal raw: ESC, BEL, CR, BS, 0xff, U+202E, U+2066.
RAW_BYTES = (b"\x1b", b"\x07", b"\r", b"\x08", b"\xff", "\u202e".encode(), "\u2066".encode())


def run_watched(argv, timeout=60, max_rss_mb=512):
    """Runs argv and kills it when its RSS passes max_rss_mb (a reader that does not
    stream fills memory; RLIMIT_AS would not do: ASan reserves terabytes of address
    space); returns (rc, stdout, stderr) as bytes, rc None when it was killed."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=pgharness.clean_env())
    deadline = time.monotonic() + timeout
    killed = False
    while p.poll() is None:
        try:
            with open("/proc/%d/status" % p.pid) as f:
                rss = next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
        except OSError:
            rss = 0
        if rss > max_rss_mb * 1024 or time.monotonic() > deadline:
            p.kill()
            killed = True
            break
        time.sleep(0.05)
    out, err = p.communicate()
    return (None if killed else p.returncode), out, err


def run_daemon(*args, timeout=60):
    p = subprocess.run([dh.daemon_bin()] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=pgharness.clean_env(), timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode("utf-8", "surrogateescape")


class Hostile(pgharness.PgTestCase):
    def assert_no_raw(self, data, what):
        for b in RAW_BYTES:
            self.assertNotIn(b, data, "%s holds %r raw: %r" % (what, b, data[:400]))

    # -- B: a password in a URI never reaches any output, in any encoding
    def test_b_bad_percent_escape_is_redacted(self):
        snap = self.path("base.json")
        self.pg.snapshot_file("postgres", snap)
        uri = "postgresql://mon:Bad%%ZZPw@127.0.0.1:%d/postgres" % self.pg.port
        rc, out, err = pgharness.run_cli("diff", snap, uri)
        self.assertEqual(rc, 2, err)
        self.assertNotIn("ZZPw", err + out)
        self.assertIn("invalid percent-encoded token", err)
        self.assertIn("***", err)

    def test_b_check_and_verify_redact_their_own_connections(self):
        # check and verify's history read open connections of their own, not live.c's.
        uri = "postgresql://mon:Bad%%ZZPw@127.0.0.1:%d/postgres" % self.pg.port
        schema = self.path("schema.sql")
        with open(schema, "w") as f:
            f.write("CREATE TABLE t (id int);\n")
        for argv in (("check", "--dsn", uri),
                     ("verify", "--dsn", uri, "--expected", schema)):
            rc, out, err = pgharness.run_cli(*argv)
            self.assertEqual(rc, 2, "%s: %s" % (argv[0], err))
            self.assertNotIn("ZZPw", err + out, argv[0])
            self.assertIn("invalid percent-encoded token", err, argv[0])

    def test_b_wrong_password_in_uri_is_redacted(self):
        self.pg.create_password_role("mon", "right-one")
        snap = self.path("base.json")
        self.pg.snapshot_file("postgres", snap)
        for secret, written in (("S3cr%t p@ss", "S3cr%25t%20p%40ss"),):
            uri = "postgresql://mon:%s@127.0.0.1:%d/nodb%s" % (written, self.pg.port, written)
            rc, out, err = pgharness.run_cli("diff", snap, uri)
            self.assertEqual(rc, 2, err)
            for s in (secret, written):
                self.assertNotIn(s, err + out)

    # -- D: a server's error text is escaped on its way to the terminal
    def test_d_server_error_text_is_escaped(self):
        snap = self.path("base.json")
        self.pg.snapshot_file("postgres", snap)
        evil = "x\x1b]0;pwned\x07\r\x08\u202egnp"
        dsn = "dsn:host=%s port=%d user=%s dbname='%s'" % (self.pg.sockdir, self.pg.port,
                                                           pgharness.SUPERUSER, evil)
        rc, out, err = pgharness.run_cli("diff", snap, dsn, binary=True)
        self.assertEqual(rc, 2, err)
        self.assert_no_raw(err, "the error")
        self.assertIn(b"\\x1b]0;pwned\\x07\\x0d\\x08\\u202egnp", err)

    def test_d_bidi_names_are_escaped_in_diff_text(self):
        self.pg.create_db("bidi")
        before = self.path("before.json")
        self.pg.snapshot_file("bidi", before)
        self.pg.psql("bidi", 'CREATE TABLE "rtl_\u202egnp.exe" (id int)')
        rc, out, err = pgharness.run_cli("diff", before, self.pg.live_side("bidi"),
                                         "--format", "text", binary=True)
        self.assertEqual(rc, 1, err)
        self.assert_no_raw(out, "diff text")
        self.assertIn(b"rtl_\\u202egnp.exe", out)


class Bounded(unittest.TestCase):
    """F: what is not a bounded regular file is refused quickly, never read whole or waited on."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="schemadrift-bounded-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir]))
        self.head = "[daemon]\nstate_dir = %s/state\nruntime_dir = %s/run\n" % (self.dir,
                                                                                 self.dir)

    def conf(self, text):
        return dh.write_private(os.path.join(self.dir, "schemadrift.conf"), self.head + text)

    def test_f_hash_dev_zero(self):
        rc, out, err = run_watched([pgharness.cli_bin(), "hash", "/dev/zero"])
        self.assertEqual(rc, 2, err)
        self.assertIn(b"/dev/zero: byte 0: not a schemadrift snapshot", err)

    def test_f_include_dev_zero(self):
        path = self.conf("include = /dev/zero\n")
        rc, out, err = run_watched([dh.daemon_bin(), "--check-config", "-c", path])
        self.assertEqual(rc, 78, err)
        self.assertIn(b"schemadrift.conf:4: include '/dev/zero': not a regular file", err)

    def test_f_secret_fifo_does_not_hang(self):
        fifo = os.path.join(self.dir, "pw.fifo")
        os.mkfifo(fifo, 0o600)
        path = self.conf("[target app]\ndsn = host=db dbname=app\npassword = file:%s\n" % fifo)
        rc, out, err = run_daemon("--check-config", "-c", path, timeout=20)
        self.assertEqual(rc, 78, err)
        self.assertIn("secret file %s: not a regular file" % fifo, err)


class Messages(unittest.TestCase):
    """I: every message says what is wrong and where."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="schemadrift-msg-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir]))
        self.head = "[daemon]\nstate_dir = %s/state\nruntime_dir = %s/run\n" % (self.dir,
                                                                                 self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def sample(self):
        """A real snapshot (header line, '"objects":[' line, then one object per line)."""
        src = os.path.join(pgharness.source_dir(), "tests", "fuzz", "corpus", "snapshot",
                           "two_tables.json")
        with open(src, "rb") as f:
            return f.read()

    def test_i_header_count(self):
        data = self.sample().replace(b'"objects":6,"version"', b'"objects":7,"version"', 1)
        rc, out, err = pgharness.run_cli("hash", self.write("s.json", data))
        self.assertEqual(rc, 2)
        self.assertIn("header says 7 objects, file has 6", err)

    def test_i_hash_mismatch_and_duplicate_at_their_byte(self):
        lines = self.sample().split(b"\n")
        at = lambda i: sum(len(l) + 1 for l in lines[:i])  # noqa: E731
        self.assertIn(b'"type":"integer"', lines[5])
        bad = lines[:5] + [lines[5].replace(b'"type":"integer"', b'"type":"bigint"')] + lines[6:]
        rc, out, err = pgharness.run_cli("hash", self.write("h.json", b"\n".join(bad)))
        self.assertEqual(rc, 2)
        self.assertIn("byte %d: object public.a.id does not match its hash" % at(5), err)
        dup = lines[:6] + [lines[5]] + lines[7:]
        rc, out, err = pgharness.run_cli("hash", self.write("d.json", b"\n".join(dup)))
        self.assertEqual(rc, 2)
        self.assertIn("byte %d: object public.a.id is duplicated" % at(6), err)

    def test_i_diff_stdin_twice(self):
        rc, out, err = pgharness.run_cli("diff", "-", "-", input="")
        self.assertEqual(rc, 2)
        self.assertIn("only one side may be '-'", err)

    def test_i_repeated_key(self):
        path = dh.write_private(os.path.join(self.dir, "c.conf"), self.head +
                                "[target app]\ndsn = dbname=a\nschedule = every 5m\n"
                                "dsn = dbname=b\n")
        rc, out, err = run_daemon("--check-config", "-c", path)
        self.assertEqual(rc, 78, out)
        self.assertIn("%s:7: key 'dsn': repeated in [target app] (first at %s:5)" % (path, path),
                      err)

    def test_i_invalid_utf8_value(self):
        path = os.path.join(self.dir, "u.conf")
        dh.write_private(path, "")
        with open(path, "wb") as f:
            f.write(self.head.encode() + b"[target app]\ndsn = dbname=\xff\xfe\n")
        rc, out, err = run_daemon("--check-config", "-c", path)
        self.assertEqual(rc, 78, out)
        self.assertIn("%s:5: key 'dsn': the value is not valid UTF-8" % path, err)

    def test_i_huge_key_is_cut(self):
        path = dh.write_private(os.path.join(self.dir, "k.conf"),
                                self.head + "k" * (1 << 20) + " = 1\n")
        rc, out, err = run_daemon("--check-config", "-c", path)
        self.assertEqual(rc, 78)
        self.assertIn("is too long (1048576 bytes)", err)
        self.assertLess(len(err), 600, "the key is echoed: %d bytes" % len(err))

    def test_b_check_config_refuses_uri_and_upper_case_passwords(self):
        for dsn in ("postgresql://user:secret@host/db", "host=db PASSWORD = x",
                    "postgres://h/db?Password=y"):
            path = dh.write_private(os.path.join(self.dir, "p.conf"), self.head +
                                    "[target app]\ndsn = %s\n" % dsn)
            rc, out, err = run_daemon("--check-config", "-c", path)
            self.assertEqual(rc, 78, "accepted %r: %s" % (dsn, out))
            self.assertIn("holds a password", err)
            for secret in ("secret", "= x", "y"):
                if secret in dsn:
                    self.assertNotIn(dsn, err)


if __name__ == "__main__":
    pgharness.main()
