"""Bad input: unreachable or wrong servers, bad credentials, corrupt snapshot files -> exit 2, one clear line."""

import json
import os
import socket
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

PASSWORD = "Sup3r-Secret-Passw0rd"
WRONG_PASSWORD = "Wr0ng-Passw0rd-XYZ"


def closed_port():
    """A TCP port on 127.0.0.1 where nothing listens: 1 (tcpmux) if it is closed.

    A port from free_port() could be taken by a parallel test's cluster
    between the check and the use; port 1 never is."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if s.connect_ex(("127.0.0.1", 1)) != 0:
            return 1
    return pgharness.free_port()


class FakeServer(threading.Thread):
    """A TCP server on 127.0.0.1 that is not PostgreSQL.

    mode "garbage": sends an HTTP-ish reply and closes; "close": closes at once;
    "silent": accepts and never answers (until stopped).
    """

    def __init__(self, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.conns = []

    def run(self):
        while not self.stopped.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.mode == "garbage":
                try:
                    c.settimeout(2)
                    try:
                        c.recv(1024)
                    except OSError:
                        pass
                    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n\x00\xff garbage")
                except OSError:
                    pass
                c.close()
            elif self.mode == "close":
                c.close()
            else:
                self.conns.append(c)

    def stop(self):
        self.stopped.set()
        self.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


class BadInputTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.create_db("app")
        cls.pg.psql("app", "CREATE TABLE t (id integer PRIMARY KEY, name text);"
                           "CREATE INDEX t_name_idx ON t (name);")
        cls.pg.create_password_role("scram_user", PASSWORD)

    # -- helpers -------------------------------------------------------------

    def assertCleanError(self, rc, out, err, must_contain=(), secret=PASSWORD, what=""):
        self.assertEqual(rc, 2, "%s: exit %d, expected 2\nstdout: %r\nstderr: %r" %
                         (what, rc, out[:500], err))
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, "%s: expected one line on stderr, got %r" % (what, err))
        self.assertTrue(lines[0].startswith("schemadrift: "), "%s: %r" % (what, err))
        for s in must_contain:
            self.assertIn(str(s), err, "%s: stderr does not mention %r: %r" % (what, s, err))
        for s in (secret, WRONG_PASSWORD):
            if s:
                self.assertNotIn(s, err, "%s: password leaked on stderr" % what)
                self.assertNotIn(s, out, "%s: password leaked on stdout" % what)
        return lines[0]

    def conn_forms(self, host, port, dbname, user, password):
        """The same connection as --dsn conninfo, URI, and dsn:/URI diff sides."""
        from urllib.parse import quote
        conninfo = "host=%s port=%s dbname=%s user=%s password=%s" % (host, port, dbname, user,
                                                                      password)
        uri = "postgresql://%s:%s@%s:%s/%s" % (quote(user), quote(password), host, port,
                                               quote(dbname))
        return [("snapshot --dsn conninfo", ["snapshot", "--dsn", conninfo]),
                ("hash --dsn URI", ["hash", "--dsn", uri]),
                ("diff dsn: side", ["diff", "dsn:" + conninfo, self.good_snapshot()]),
                ("diff URI side", ["diff", self.good_snapshot(), uri, "--format", "json"])]

    def good_snapshot(self):
        p = self.path("good.json")
        if not os.path.exists(p):
            self.pg.snapshot_file("app", p)
        return p

    # -- connections ---------------------------------------------------------

    def test_unreachable_port(self):
        port = closed_port()
        for what, args in self.conn_forms("127.0.0.1", port, "nodb", "someone", PASSWORD):
            t0 = time.time()
            rc, out, err = pgharness.run_cli(*args, timeout=60)
            line = self.assertCleanError(rc, out, err, ("127.0.0.1", port, "nodb"),
                                         what="closed port, " + what)
            self.assertLess(time.time() - t0, 15, what)
            self.assertRegex(line, r"(?i)refused", what)

    def test_wrong_password(self):
        for what, args in self.conn_forms("127.0.0.1", self.pg.port, "app", "scram_user",
                                          WRONG_PASSWORD):
            rc, out, err = pgharness.run_cli(*args)
            self.assertCleanError(rc, out, err, ("127.0.0.1", self.pg.port, "app"),
                                  what="wrong password, " + what)
            self.assertIn("password authentication failed", err, what)

    def test_right_password_works(self):
        # The same role with its password over TCP (scram-sha-256) is fine.
        rc, out, err = pgharness.run_cli("hash", "--dsn", self.pg.dsn(
            "app", user="scram_user", password=PASSWORD, tcp=True))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), self.pg.hash("app"))
        self.assertNotIn(PASSWORD, err)

    def test_missing_password(self):
        rc, out, err = pgharness.run_cli("hash", "--dsn", self.pg.dsn(
            "app", user="scram_user", tcp=True))
        self.assertCleanError(rc, out, err, ("127.0.0.1", self.pg.port, "app"),
                              what="no password")

    def test_missing_database(self):
        for tcp in (False, True):
            rc, out, err = pgharness.run_cli("snapshot", "--dsn",
                                             self.pg.dsn("no_such_db", tcp=tcp))
            self.assertCleanError(rc, out, err, ("no_such_db", self.pg.port),
                                  what="missing database (tcp=%s)" % tcp)
            self.assertIn("does not exist", err)

    def test_not_postgresql(self):
        for mode in ("garbage", "close"):
            srv = FakeServer(mode)
            srv.start()
            try:
                for what, args in self.conn_forms("127.0.0.1", srv.port, "app", "u", PASSWORD):
                    t0 = time.time()
                    rc, out, err = pgharness.run_cli(*args, timeout=60)
                    self.assertCleanError(rc, out, err, ("127.0.0.1", srv.port, "app"),
                                          what="%s server, %s" % (mode, what))
                    self.assertLess(time.time() - t0, 15, what)
            finally:
                srv.stop()

    def test_silent_server_times_out(self):
        srv = FakeServer("silent")
        srv.start()
        try:
            t0 = time.time()
            rc, out, err = pgharness.run_cli(
                "hash", "--dsn", "host=127.0.0.1 port=%d dbname=app user=u" % srv.port,
                timeout=60)
            elapsed = time.time() - t0
            self.assertCleanError(rc, out, err, ("127.0.0.1", srv.port, "app"),
                                  what="silent server")
            # Default connect timeout is 10 s, enforced by the CLI's own timer.
            self.assertLess(elapsed, 30)
        finally:
            srv.stop()

    # -- snapshot files -------------------------------------------------------

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def assertBadFile(self, path, what):
        for args in (["hash", path], ["diff", path, self.good_snapshot()],
                     ["diff", self.good_snapshot(), path, "--format", "json"]):
            rc, out, err = pgharness.run_cli(*args)
            line = self.assertCleanError(rc, out, err, (path,), secret=None,
                                         what="%s: %s" % (what, " ".join(args)))
            self.assertRegex(line, r"byte \d+", "%s: no byte offset: %r" % (what, line))
            self.assertEqual(out, "", what)

    def test_truncated_snapshot(self):
        with open(self.good_snapshot(), "rb") as f:
            data = f.read()
        for cut in (len(data) // 2, len(data) - 3, 40):
            self.assertBadFile(self.write("truncated-%d.json" % cut, data[:cut]),
                               "truncated at %d" % cut)

    def test_not_json(self):
        self.assertBadFile(self.write("notjson.json", b"hello, world\n"), "not JSON")
        self.assertBadFile(self.write("empty.json", b""), "empty file")
        self.assertBadFile(self.write("array.json", b"[1, 2, 3]\n"), "JSON array")
        self.assertBadFile(self.write("binary.json", b"\x00\xff\xfe garbage"), "binary")

    def test_wrong_version(self):
        with open(self.good_snapshot(), "rb") as f:
            snap = json.loads(f.read())
        snap["schemadrift_snapshot"]["version"] = 999
        self.assertBadFile(self.write("v999.json", json.dumps(snap).encode()), "version 999")
        del snap["schemadrift_snapshot"]
        self.assertBadFile(self.write("noheader.json", json.dumps(snap).encode()), "no header")

    def test_missing_file(self):
        p = self.path("does-not-exist.json")
        rc, out, err = pgharness.run_cli("hash", p)
        self.assertCleanError(rc, out, err, (p,), secret=None, what="missing file")
        rc, out, err = pgharness.run_cli("diff", p, self.good_snapshot())
        self.assertCleanError(rc, out, err, (p,), secret=None, what="missing file in diff")

    # -- snapshot -o ----------------------------------------------------------

    def test_output_file_untouched_on_failure(self):
        outdir = self.path("out")
        os.mkdir(outdir)
        target = os.path.join(outdir, "snap.json")
        bad = "host=127.0.0.1 port=%d dbname=app user=u password=%s" % (closed_port(),
                                                                          PASSWORD)
        rc, out, err = pgharness.run_cli("snapshot", "--dsn", bad, "-o", target)
        self.assertCleanError(rc, out, err, what="snapshot -o, unreachable")
        self.assertEqual(os.listdir(outdir), [], "files left behind")

        with open(target, "wb") as f:
            f.write(b"precious contents\n")
        rc, out, err = pgharness.run_cli("snapshot", "--dsn", bad, "-o", target)
        self.assertCleanError(rc, out, err, what="snapshot -o over an existing file")
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"precious contents\n")
        self.assertEqual(os.listdir(outdir), ["snap.json"], "temp file left behind")

        # And a good snapshot replaces it, leaving only the file.
        rc, out, err = pgharness.run_cli("snapshot", "--dsn", self.pg.dsn("app"), "-o", target)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "")
        self.assertEqual(os.listdir(outdir), ["snap.json"])
        with open(target, "rb") as f:
            json.loads(f.read())

    def test_output_to_unwritable_directory(self):
        target = self.path("no/such/dir/snap.json")
        rc, out, err = pgharness.run_cli("snapshot", "--dsn", self.pg.dsn("app"), "-o", target)
        self.assertCleanError(rc, out, err, ("no/such/dir",), secret=None,
                              what="snapshot -o into a missing directory")

    def test_output_to_device_keeps_device(self):
        # `snapshot -o /dev/null` must not replace the device with a regular
        # file (an atomic rename would).  Tested on a private device node.
        if os.geteuid() != 0:
            self.skipTest("needs root to create a device node")
        dev = self.path("null-device")
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        rc, out, err = pgharness.run_cli("snapshot", "--dsn", self.pg.dsn("app"), "-o", dev)
        st = os.lstat(dev)
        self.assertTrue(stat.S_ISCHR(st.st_mode),
                        "snapshot -o DEVICE replaced the device node with a regular file "
                        "(exit %d, %r); as root, `-o /dev/null` breaks /dev/null" % (rc, err))
        self.assertIn(rc, (0, 2), err)
        self.assertEqual([n for n in os.listdir(self.workdir) if n.startswith("null-device.")],
                         [], "temp file left behind")

    def test_password_never_printed(self):
        # Even with a successful connection, nothing prints the password.
        dsn = self.pg.dsn("app", user="scram_user", password=PASSWORD, tcp=True)
        for args in (["snapshot", "--dsn", dsn], ["hash", "--dsn", dsn],
                     ["diff", "dsn:" + dsn, self.good_snapshot()]):
            rc, out, err = pgharness.run_cli(*args)
            self.assertIn(rc, (0, 1), err)
            self.assertNotIn(PASSWORD, out + err, " ".join(args[:1]))

    def test_password_not_in_diff_json_source(self):
        # "source" names the side as given -- but a live side's password must
        # not end up in a report that gets pasted into tickets and CI logs.
        dsn = self.pg.dsn("app", user="scram_user", password=PASSWORD, tcp=True)
        uri = "postgresql://scram_user:%s@127.0.0.1:%d/app" % (PASSWORD, self.pg.port)
        for side in ("dsn:" + dsn, uri):
            rc, out, err = pgharness.run_cli("diff", side, self.good_snapshot(), "--format", "json")
            self.assertEqual(rc, 0, err)
            self.assertNotIn(PASSWORD, out + err, "diff --format json %s" % side.split(":")[0])

if __name__ == "__main__":
    pgharness.main()
