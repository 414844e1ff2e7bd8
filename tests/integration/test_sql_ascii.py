"""SQL_ASCII databases: names and values that are not UTF-8 are written as {"hex": ...}."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

# Raw bytes (client_encoding SQL_ASCII: the server stores them as given).
SETUP_SQL = (
    b'CREATE SCHEMA "sch\xe9ma";\n'
    b'CREATE TABLE "caf\xe9" (id integer PRIMARY KEY, "na\xefve" text DEFAULT \'d\xe9faut\',\n'
    b'    note text, CONSTRAINT "chk_\xff" CHECK (note <> \'\xe0\'));\n'
    b'CREATE INDEX "idx_\xe9" ON "caf\xe9" (note);\n'
    b'CREATE TABLE "sch\xe9ma".t (x integer);\n'
    # Valid UTF-8 bytes (U+00E9 as C3 A9) stay a plain JSON string.
    b'CREATE TABLE "utf8_\xc3\xa9" (y integer);\n'
    b'CREATE VIEW "v\xe9" AS SELECT id, \'\xe9t\xe9\'::text AS summer FROM "caf\xe9";\n'
)


def decode_name(v):
    """A JSON name: str -> UTF-8 bytes, {"hex": ...} -> raw bytes."""
    if isinstance(v, dict):
        assert list(v) == ["hex"], v
        return bytes.fromhex(v["hex"])
    return v.encode("utf-8")


class SqlAsciiTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.create_db("ascii", encoding="SQL_ASCII", lc_collate="C", lc_ctype="C")
        cls.pg.psql("ascii", SETUP_SQL, client_encoding="SQL_ASCII")

    def snapshot(self):
        raw = self.pg.snapshot_raw("ascii")
        # Must be valid UTF-8 and valid JSON.
        text = raw.decode("utf-8")
        return raw, json.loads(text)

    def find(self, snap, kind, name, parent=None):
        for o in snap["objects"]:
            if o["kind"] == kind and decode_name(o["name"]) == name and \
                    (parent is None or decode_name(o.get("parent", "")) == parent):
                return o
        self.fail("no %s %r in snapshot; names: %r" % (
            kind, name, [o["name"] for o in snap["objects"] if o["kind"] == kind]))

    def test_encoding_is_sql_ascii(self):
        self.assertEqual(self.pg.scalar("ascii", "SHOW server_encoding"), "SQL_ASCII")

    def test_hex_names(self):
        raw, snap = self.snapshot()
        t = self.find(snap, "table", b"caf\xe9")
        self.assertIsInstance(t["name"], dict, t)
        self.assertEqual(bytes.fromhex(t["name"]["hex"]), b"caf\xe9")
        self.assertEqual(t["schema"], "public")
        col = self.find(snap, "column", b"na\xefve", parent=b"caf\xe9")
        self.assertIsInstance(col["name"], dict, col)
        self.assertEqual(bytes.fromhex(col["name"]["hex"]), b"na\xefve")
        self.assertEqual(bytes.fromhex(col["parent"]["hex"]), b"caf\xe9")
        s = self.find(snap, "schema", b"sch\xe9ma")
        self.assertIsInstance(s["name"], dict)
        t2 = self.find(snap, "table", b"t")
        self.assertEqual(bytes.fromhex(t2["schema"]["hex"]), b"sch\xe9ma")
        self.find(snap, "constraint", b"chk_\xff", parent=b"caf\xe9")
        self.find(snap, "index", b"idx_\xe9", parent=b"caf\xe9")
        # Valid UTF-8 stays a string.
        u = self.find(snap, "table", "utf8_\u00e9".encode("utf-8"))
        self.assertEqual(u["name"], "utf8_\u00e9")

    def test_hex_values(self):
        _, snap = self.snapshot()
        col = self.find(snap, "column", b"na\xefve", parent=b"caf\xe9")
        dflt = col["attrs"]["default"]
        self.assertIsInstance(dflt, dict, col)
        self.assertIn(b"d\xe9faut", bytes.fromhex(dflt["hex"]))
        chk = self.find(snap, "constraint", b"chk_\xff", parent=b"caf\xe9")
        self.assertIn(b"\xe0", bytes.fromhex(chk["attrs"]["definition"]["hex"]))
        idx = self.find(snap, "index", b"idx_\xe9", parent=b"caf\xe9")
        self.assertIn(b'"idx_\xe9"', bytes.fromhex(idx["attrs"]["definition"]["hex"]))
        v = self.find(snap, "view", b"v\xe9")
        self.assertIn(b"\xe9t\xe9", bytes.fromhex(v["attrs"]["definition"]["hex"]))

    def test_file_round_trip(self):
        path = self.pg.snapshot_file("ascii", self.path("ascii.json"))
        self.assertEqual(pgharness.hash_file(path), self.pg.hash("ascii"))
        rc, doc, err = pgharness.diff(path, self.pg.live_side("ascii"), "json")
        self.assertEqual(rc, 0, err)
        with open(path, "rb") as f:
            json.loads(f.read().decode("utf-8"))

    def test_diff_shows_hex_names(self):
        self.pg.create_db("ascii2", encoding="SQL_ASCII", lc_collate="C", lc_ctype="C")
        self.pg.psql("ascii2", SETUP_SQL, client_encoding="SQL_ASCII")
        a = self.pg.snapshot_file("ascii2", self.path("a.json"))
        self.pg.psql("ascii2", b'DROP TABLE "caf\xe9" CASCADE;\n'
                               b'ALTER TABLE "sch\xe9ma".t ALTER COLUMN x TYPE bigint;\n',
                     client_encoding="SQL_ASCII")
        rc, doc, err = pgharness.diff(a, self.pg.live_side("ascii2"), "json")
        self.assertEqual(rc, 1, err)
        removed = [c for c in doc["changes"] if c["change"] == "removed" and c["kind"] == "table"]
        self.assertEqual(len(removed), 1, doc["changes"])
        self.assertEqual(decode_name(removed[0]["name"]), b"caf\xe9")
        mod = [c for c in doc["changes"] if c["change"] == "modified"]
        self.assertEqual([(decode_name(c["schema"]), c["attribute"], c["before"], c["after"],
                           c["severity"]) for c in mod],
                         [(b"sch\xe9ma", "type", "integer", "bigint", "warning")])
        rc, text, err = pgharness.diff(a, self.pg.live_side("ascii2"), "text")
        self.assertEqual(rc, 1, err)
        # Human names show invalid bytes as \xHH.
        self.assertIn("caf\\xe9", text.lower())
        self.assertIn("sch\\xe9ma", text.lower())


if __name__ == "__main__":
    pgharness.main()
