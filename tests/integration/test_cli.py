"""CLI basics: --help, --version, hash of a file vs the live database, diff of identical sides."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402
import richschema  # noqa: E402

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def project_version():
    with open(os.path.join(pgharness.source_dir(), "CMakeLists.txt")) as f:
        m = re.search(r"project\(\s*schemadrift\s+VERSION\s+([0-9.]+)", f.read())
    return m.group(1) if m else None


class CliTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.create_db("app")
        cls.pg.psql("app", richschema.natural_sql())
        cls.pg.create_db("other")
        cls.pg.psql("other", "CREATE TABLE t (id integer PRIMARY KEY, name text);")

    def test_help(self):
        rc, out, err = pgharness.run_cli("--help")
        self.assertEqual(rc, 0, err)
        text = out + err
        for cmd in ("snapshot", "hash", "diff"):
            self.assertIn(cmd, text)
        # How a side names a live database.
        self.assertIn("dsn:", text)
        self.assertTrue("postgresql://" in text or "postgres://" in text, text)
        self.assertIn("--format", text)

    def test_version(self):
        rc, out, err = pgharness.run_cli("--version")
        self.assertEqual(rc, 0, err)
        self.assertIn("schemadrift", out)
        v = project_version()
        if v:
            self.assertIn(v, out)
        self.assertEqual(len(out.strip().splitlines()), 1, out)

    def test_no_arguments_and_unknown_command(self):
        rc, out, err = pgharness.run_cli()
        self.assertEqual(rc, 2, (out, err))
        rc, out, err = pgharness.run_cli("frobnicate")
        self.assertEqual(rc, 2, (out, err))
        self.assertTrue(err.startswith("schemadrift: "), err)
        rc, out, err = pgharness.run_cli("diff", "only-one-side.json")
        self.assertEqual(rc, 2, (out, err))
        rc, out, err = pgharness.run_cli("diff", "a", "b", "--format", "yaml")
        self.assertEqual(rc, 2, (out, err))

    def test_snapshot_format(self):
        raw = self.pg.snapshot_raw("app")
        snap = json.loads(raw.decode("utf-8"))
        hdr = snap["schemadrift_snapshot"]
        self.assertEqual(hdr["version"], 1)
        self.assertRegex(hdr["hash"], HEX64)
        self.assertEqual(hdr["objects"], len(snap["objects"]))
        self.assertEqual(hdr["meta"]["database"], "app")
        self.assertTrue(hdr["meta"]["server_version"].startswith("15"), hdr["meta"])
        self.assertRegex(hdr["meta"]["taken_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        kinds = set()
        for o in snap["objects"]:
            self.assertRegex(o["hash"], HEX64)
            self.assertIn("attrs", o)
            kinds.add(o["kind"])
            if o["kind"] in ("column", "constraint", "index"):
                self.assertIn("parent", o, o)
            if o["kind"] == "schema":
                self.assertNotIn("schema", o, o)
        # At least the kinds of the first issue (later ones may add more).
        self.assertLessEqual({"schema", "table", "column", "constraint", "index", "sequence",
                              "view", "materialized_view"}, kinds)
        # One object per line.
        lines = raw.decode("utf-8").splitlines()
        obj_lines = [ln for ln in lines if ln.startswith('{"') and '"kind":' in ln
                     and "schemadrift_snapshot" not in ln]
        self.assertEqual(len(obj_lines), len(snap["objects"]), "one object per line")
        for ln, o in zip(obj_lines, snap["objects"]):
            self.assertEqual(json.loads(ln.rstrip(",")), o)
        # No system schemas.
        schemas = {o["name"] for o in snap["objects"] if o["kind"] == "schema"}
        self.assertEqual(schemas, {"public", "app", "audit", "Mixed Case"})

    def test_hash_file_equals_hash_dsn(self):
        path = self.pg.snapshot_file("app", self.path("app.json"))
        h_file = pgharness.hash_file(path)
        h_dsn = self.pg.hash("app")
        self.assertRegex(h_file, HEX64)
        self.assertEqual(h_file, h_dsn)
        with open(path) as f:
            self.assertEqual(json.load(f)["schemadrift_snapshot"]["hash"], h_file)
        # stdin as a file
        with open(path, "rb") as f:
            rc, out, err = pgharness.run_cli("hash", "-", input=f.read())
        self.assertEqual((rc, out.strip()), (0, h_file), err)
        # A URI names the same database.
        rc, out, err = pgharness.run_cli("hash", "--dsn", self.pg.uri("app"))
        self.assertEqual((rc, out.strip()), (0, h_file), err)
        # hash output is the hash and a newline, nothing else.
        rc, out, err = pgharness.run_cli("hash", path)
        self.assertEqual(out, h_file + "\n")
        self.assertEqual(err, "")

    def test_snapshot_stdout_equals_file(self):
        path = self.pg.snapshot_file("app", self.path("app.json"))
        with open(path, "rb") as f:
            from_file = json.load(f)
        from_stdout = self.pg.snapshot("app")
        self.assertEqual(from_file["objects"], from_stdout["objects"])
        self.assertEqual(from_file["schemadrift_snapshot"]["hash"],
                         from_stdout["schemadrift_snapshot"]["hash"])
        # The snapshot is stable: a second one is byte-identical apart from meta.taken_at.
        a = self.pg.snapshot_raw("app").decode()
        b = self.pg.snapshot_raw("app").decode()
        strip = re.compile(r'"taken_at":"[^"]*"')
        self.assertEqual(strip.sub("", a), strip.sub("", b))

    def test_diff_identical(self):
        a = self.pg.snapshot_file("app", self.path("a.json"))
        b = self.pg.snapshot_file("app", self.path("b.json"))
        for left, right in ((a, a), (a, b), (a, self.pg.live_side("app")),
                            (self.pg.live_side("app"), self.pg.live_side("app")),
                            (self.pg.uri("app"), a)):
            rc, doc, err = pgharness.diff(left, right, "json")
            self.assertEqual(rc, 0, "diff %s %s: %s" % (left, right, err))
            self.assertEqual(doc["changes"], [])
            self.assertEqual(doc["summary"]["changes"], 0)
            rc, text, err = pgharness.diff(left, right, "text")
            self.assertEqual(rc, 0, err)
            self.assertEqual(text.strip(), "no changes")
        # Default format is text.
        rc, out, err = pgharness.run_cli("diff", a, b)
        self.assertEqual((rc, out.strip()), (0, "no changes"), err)
        # One side on stdin.
        with open(a, "rb") as f:
            rc, out, err = pgharness.run_cli("diff", "-", b, "--format", "json", input=f.read())
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["schemadrift_diff"]["from"]["source"], "-")

    def test_diff_different(self):
        a = self.pg.snapshot_file("app", self.path("a.json"))
        b = self.pg.snapshot_file("other", self.path("b.json"))
        rc, doc, err = pgharness.diff(a, b, "json")
        self.assertEqual(rc, 1, err)
        hdr = doc["schemadrift_diff"]
        self.assertEqual(hdr["version"], 1)
        self.assertEqual(hdr["from"]["source"], a)
        self.assertEqual(hdr["to"]["source"], b)
        self.assertEqual(hdr["from"]["hash"], pgharness.hash_file(a))
        self.assertEqual(hdr["to"]["hash"], pgharness.hash_file(b))
        self.assertGreater(doc["summary"]["changes"], 0)
        self.assertEqual(doc["summary"]["changes"], len(doc["changes"]))
        # Schema app removed: breaking; table public.t added: info.
        self.assertIn({"change": "removed", "kind": "schema", "name": "app", "object": "app",
                       "severity": "breaking"},
                      [{k: c.get(k) for k in ("change", "kind", "name", "object", "severity")}
                       for c in doc["changes"]])
        rc, text, err = pgharness.diff(a, b, "text")
        self.assertEqual(rc, 1, err)
        # The summary line, then what to do about it.
        summary, todo = text.split("\n\nWhat to do:\n")
        last = summary.strip().splitlines()[-1]
        self.assertRegex(last, r"^\d+ changes?: \d+ breaking, \d+ warning, \d+ info$")
        self.assertIn("schemadrift baseline accept TARGET --reason", todo)
        self.assertIn("+ table public.t [info]", text)
        self.assertIn("- schema app [breaking]", text)


if __name__ == "__main__":
    pgharness.main()
