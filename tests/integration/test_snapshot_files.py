"""diff and hash of stored snapshot files: only what differs is built (issue 16).

The streaming path must give exactly what reading both files whole gives,
check every object's hash where that is the point (hash), and fall back to
the full reader for any file that is not in the layout schemadrift writes.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402
import richschema  # noqa: E402


def rewrite_pretty(src, dst, reverse=False):
    """The same snapshot as other valid JSON: indented, objects in reverse order if asked."""
    with open(src) as f:
        doc = json.load(f)
    if reverse:
        doc["objects"].reverse()
    with open(dst, "w") as f:
        json.dump(doc, f, indent=2)
    return dst


class SnapshotFilesTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.create_db("app")
        cls.pg.psql("app", richschema.natural_sql())

    def test_diff_streaming_equals_whole_files(self):
        a = self.pg.snapshot_file("app", self.path("a.json"))
        self.pg.psql("app", "CREATE TABLE public.fresh (id int); "
                     "CREATE SCHEMA zzz; CREATE TABLE zzz.t (x int); "
                     "CREATE SCHEMA aaa; CREATE VIEW aaa.v AS SELECT 1 AS one")
        b = self.pg.snapshot_file("app", self.path("b.json"))
        self.pg.psql("app", "DROP TABLE public.fresh; DROP SCHEMA zzz CASCADE; "
                     "DROP SCHEMA aaa CASCADE")
        pa = rewrite_pretty(a, self.path("pa.json"))
        pb = rewrite_pretty(b, self.path("pb.json"), reverse=True)
        for fmt in ("json", "text", "sql"):
            with self.subTest(format=fmt):
                rc1, fast, err1 = pgharness.run_cli("diff", a, b, "--format", fmt)
                rc2, whole, err2 = pgharness.run_cli("diff", pa, pb, "--format", fmt)
                self.assertEqual((rc1, rc2), (1, 1), (err1, err2))
                if fmt == "json":
                    fast, whole = json.loads(fast), json.loads(whole)
                    for doc in (fast, whole):
                        for side in ("from", "to"):
                            doc["schemadrift_diff"][side].pop("source")
                self.assertEqual(fast, whole)
        rc, out, err = pgharness.run_cli("diff", a, a)
        self.assertEqual((rc, out), (0, "no changes\n"), err)

    def test_hash_streaming_equals_live_and_pretty(self):
        a = self.pg.snapshot_file("app", self.path("h.json"))
        live = self.pg.hash("app")
        self.assertEqual(pgharness.cli_ok("hash", a).strip(), live)
        pa = rewrite_pretty(a, self.path("hp.json"), reverse=True)
        self.assertEqual(pgharness.cli_ok("hash", pa).strip(), live)

    def test_damaged_object_is_caught(self):
        a = self.pg.snapshot_file("app", self.path("d.json"))
        with open(a) as f:
            lines = f.read().split("\n")
        # An edit that keeps the JSON valid: a column's position.
        at = next(i for i, l in enumerate(lines) if '"position":1,' in l)
        lines[at] = lines[at].replace('"position":1,', '"position":7,', 1)
        bad = self.path("bad.json")
        with open(bad, "w") as f:
            f.write("\n".join(lines))
        rc, out, err = pgharness.run_cli("hash", bad)
        self.assertEqual(rc, 2, out)
        self.assertIn("does not match its hash", err)
        # diff builds that object (it differs from the other side) and checks it.
        rc, out, err = pgharness.run_cli("diff", a, bad)
        self.assertEqual(rc, 2, out)
        self.assertIn("does not match its hash", err)
        self.assertRegex(err, r"bad\.json: byte \d+: ")

    def test_diff_builds_only_what_differs(self):
        """A damaged object in a part both files share is never parsed by diff.

        (hash, which is about every object, still finds it.)  This is how a
        user can see that diff reads only what differs."""
        a = self.pg.snapshot_file("app", self.path("s_a.json"))
        self.pg.psql("app", "CREATE TABLE public.only_in_b (id int)")
        b = self.pg.snapshot_file("app", self.path("s_b.json"))
        self.pg.psql("app", "DROP TABLE public.only_in_b")
        damaged = []
        for src in (a, b):
            with open(src) as f:
                lines = f.read().split("\n")
            at = next(i for i, l in enumerate(lines) if '"position":1,' in l)
            lines[at] = lines[at].replace('"position":1,', '"position":9,', 1)
            dst = src.replace(".json", "_damaged.json")
            with open(dst, "w") as f:
                f.write("\n".join(lines))
            damaged.append(dst)
        rc, out, err = pgharness.run_cli("hash", damaged[0])
        self.assertEqual(rc, 2, out)
        self.assertIn("does not match its hash", err)
        rc, out, err = pgharness.run_cli("diff", *damaged, "--format", "json")
        self.assertEqual(rc, 1, err)
        changes = [(c["change"], c["object"]) for c in json.loads(out)["changes"]]
        self.assertEqual(changes, [("added", "public.only_in_b")])

    def test_not_a_snapshot_at_all(self):
        # Endless binary input is refused at its first byte, not read to the end.
        for args in (("hash", "/dev/zero"), ("diff", "/dev/zero", "/dev/zero")):
            rc, out, err = pgharness.run_cli(*args, timeout=30)
            self.assertEqual(rc, 2, (args, out))
            self.assertIn("/dev/zero: byte 0: not a schemadrift snapshot", err)

    def test_truncated_file(self):
        a = self.pg.snapshot_file("app", self.path("t.json"))
        with open(a, "rb") as f:
            data = f.read()
        cut = self.path("cut.json")
        with open(cut, "wb") as f:
            f.write(data[:len(data) // 2])
        for args in (("hash", cut), ("diff", a, cut)):
            rc, out, err = pgharness.run_cli(*args)
            self.assertEqual(rc, 2, (args, out))
            self.assertIn("cut.json: byte ", err)


if __name__ == "__main__":
    pgharness.main()
