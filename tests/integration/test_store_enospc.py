"""The history store on a small full filesystem (a tmpfs this test mounts): clear ENOSPC errors, nothing lost.

Needs root to mount; without it the test is skipped with the reason.
"""

import errno
import glob
import json
import os
import subprocess
import tempfile
import unittest

import pgharness
from pgharness import run_cli


class StoreFullDiskTest(pgharness.PgTestCase):

    def setUp(self):
        super().setUp()
        self.mnt = tempfile.mkdtemp(prefix="schemadrift-tmpfs-")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=768k,mode=0755", "tmpfs", self.mnt],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            os.rmdir(self.mnt)
            self.skipTest("cannot mount a tmpfs (needs root; CI runs as root): %s"
                          % p.stdout.decode().strip())
        self.addCleanup(self.unmount)
        self.state = os.path.join(self.mnt, "state")
        self.tdir = os.path.join(self.state, "targets", "app")
        self.filler = os.path.join(self.mnt, "filler")
        self.pg.create_db("app")
        self.dsn = self.pg.dsn("app")

    def unmount(self):
        subprocess.run(["umount", self.mnt])
        os.rmdir(self.mnt)

    def sd(self, *args):
        return run_cli(*args, "--state-dir", self.state)

    def fill(self):
        """Fills the filesystem to the last block; returns how much was written."""
        n = 0
        with open(self.filler, "ab", buffering=0) as f:
            for size in (65536, 4096, 512, 1):
                while True:
                    try:
                        f.write(b"\0" * size)
                        n += size
                    except OSError as e:
                        self.assertEqual(e.errno, errno.ENOSPC)
                        break
        return n

    def contents(self):
        """Every file of the store (but the lock), by path."""
        out = {}
        for p in glob.glob(os.path.join(self.tdir, "**"), recursive=True):
            if os.path.isfile(p) and not p.endswith("/lock"):
                with open(p, "rb") as f:
                    out[p] = f.read()
        return out

    def check_intact(self, before, grown_ok=("history.log",)):
        """Files from before are unchanged (history.log may have gained whole lines)."""
        now = self.contents()
        for p, data in before.items():
            self.assertIn(p, now, "%s disappeared" % p)
            if os.path.basename(p) in grown_ok:
                self.assertTrue(now[p].startswith(data), "%s was rewritten" % p)
                self.assertTrue(now[p].endswith(b"\n"))
                for line in now[p][len(data):].splitlines():
                    json.loads(line)
            else:
                self.assertEqual(now[p], data, "%s changed" % p)
        leftovers = [p for p in now if ".tmp." in p]
        self.assertEqual(leftovers, [], "a failed write left its temporary file")
        for p in now:
            if "/snapshots/" in p:
                rc, out, err = run_cli("hash", p)
                self.assertEqual(rc, 0, err)
                self.assertEqual(out.strip(), os.path.basename(p)[:-5])
        return now

    def test_full_filesystem(self):
        self.pg.psql("app", "CREATE TABLE t (id int PRIMARY KEY)")
        rc, out, err = self.sd("baseline", "create", "app", "--dsn", self.dsn)
        self.assertEqual(rc, 0, err)
        self.pg.psql("app", "CREATE TABLE u (id int)")
        rc, out, err = self.sd("snapshot", "--dsn", self.dsn, "--target", "app")
        self.assertEqual(rc, 0, err)
        before = self.contents()
        lines_before = before[os.path.join(self.tdir, "history.log")].count(b"\n")

        filled = self.fill()
        # A new schema needs a new snapshot file, which cannot be written.
        self.pg.psql("app", "".join("CREATE TABLE wide%d (%s);" % (
            i, ", ".join("c%d text" % c for c in range(30))) for i in range(20)))
        new_hash = self.pg.hash("app")
        rc, out, err = self.sd("snapshot", "--dsn", self.dsn, "--target", "app")
        self.assertEqual(rc, 2, "a full disk must fail the run\nstdout: %s" % out)
        want_path = os.path.join(self.tdir, "snapshots", new_hash + ".json")
        self.assertIn(want_path, err)
        self.assertIn("No space left on device (ENOSPC)", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        print("\nfilled %d bytes; the run said: %s" % (filled, err.strip()))
        now = self.check_intact(before)
        self.assertFalse(os.path.exists(want_path))
        extra = now[os.path.join(self.tdir, "history.log")].splitlines()[lines_before:]
        for line in extra:  # if the disk still took a line, it says the run failed
            rec = json.loads(line)
            self.assertEqual(rec["outcome"], "error")
            self.assertIn("ENOSPC", rec["error"])

        # Accepting a baseline on the full disk fails cleanly too.
        rc, out, err = self.sd("baseline", "accept", "app", "latest", "--reason", "full disk")
        self.assertEqual(rc, 2)
        self.assertIn(os.path.join(self.tdir, "baseline.json"), err)
        self.assertIn("ENOSPC", err)
        self.check_intact(before)
        rc, out, err = self.sd("baseline", "show", "app")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("full disk", out)

        # Space freed: the next write works.
        os.unlink(self.filler)
        rc, out, err = self.sd("snapshot", "--dsn", self.dsn, "--target", "app")
        self.assertEqual(rc, 0, err)
        self.assertIn("20 changes", out)
        self.assertTrue(os.path.exists(want_path))
        rc, out, err = self.sd("baseline", "accept", "app", "latest", "--reason", "space again")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.sd("history", "app")
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        self.assertIn(new_hash[:12], out)


if __name__ == "__main__":
    pgharness.main()
