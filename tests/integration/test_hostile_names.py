"""Hostile identifiers survive snapshot, diff text and diff JSON intact and unambiguous (issue 3).

Names with quotes, spaces, newlines, control characters, unicode, 63 bytes
(and longer, which the server truncates), and names that look like JSON,
markdown or schemadrift's own text output.  JSON must carry the exact names;
a text line must never be broken by a name, never carry a raw control
character, and two different objects must never print the same line.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

SCHEMA = 'hostile "schema"\n🐘'
ROLE = 'rôle "x"=r/y, z'

NAMES = [
    "with space",
    'quote"inside',
    "apos'trophe",
    "new\nline",
    "tab\there",
    "cr\rreturn",
    "esc\x1b[31mred",
    "Ünïcødé 表 🐘",
    "n" * 63,                         # the longest name the server keeps: 63 bytes
    "é" * 31 + "x",                   # 63 bytes of UTF-8, 32 characters
    '{"kind": "table", "name": "x"}',
    '["a", 1]',
    "null",
    "**bold** | `code` | <b>x</b>",
    "# heading\n- [ ] item",
    "t: type integer -> bigint [breaking]",
    "back\\slash",
    "a.b",
    "  padded  ",
    "UPPER",
    "select",
    # Two names that differ only in how a newline is written: a real one and
    # the four characters a text renderer might turn it into.
    "pair\nA",
    "pair\\x0aA",
]

LONG_ASCII = "L" * 70             # the server keeps the first 63 bytes
LONG_UTF8 = "é" * 40              # 80 bytes; cut at a character boundary: 62 bytes


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def literal(value):
    return "'" + value.replace("'", "''") + "'"


def hexname(name):
    return name.encode("utf-8").hex()


def from_hex(sql_expr):
    """SQL that yields sql_expr's text as hex, immune to psql's line-based output."""
    return "encode(convert_to(%s, 'UTF8'), 'hex')" % sql_expr


BEFORE = ["DO $$BEGIN CREATE ROLE %s NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
          % ident(ROLE),
          "CREATE SCHEMA %s;" % ident(SCHEMA),
          "CREATE TYPE %s.%s AS ENUM (%s);" % (ident(SCHEMA), ident("labels"),
                                              ", ".join(literal(n) for n in NAMES[:8]))]
AFTER = ["ALTER TYPE %s.%s ADD VALUE %s;" % (ident(SCHEMA), ident("labels"), literal(NAMES[8]))]
for _n in NAMES:
    _t = "%s.%s" % (ident(SCHEMA), ident(_n))
    BEFORE += [
        "CREATE TABLE %s (id integer, %s integer);" % (_t, ident(_n)),
        "CREATE FUNCTION %s(%s integer) RETURNS integer LANGUAGE sql AS 'SELECT 1';"
        % (_t, ident(_n)),
    ]
    AFTER += [
        "ALTER TABLE %s ALTER COLUMN %s TYPE bigint;" % (_t, ident(_n)),
        "COMMENT ON TABLE %s IS %s;" % (_t, literal(_n)),
        "CREATE OR REPLACE FUNCTION %s(%s integer) RETURNS integer LANGUAGE sql AS 'SELECT 2';"
        % (_t, ident(_n)),
        "GRANT SELECT ON %s TO %s;" % (_t, ident(ROLE)),
    ]


class HostileNamesTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.create_db("h")
        cls.pg.psql("h", "\n".join(BEFORE))
        cls.before_file = os.path.join(cls.pg.tmpdir, "hostile-before.json")
        cls.pg.snapshot_file("h", cls.before_file)
        cls.pg.psql("h", "\n".join(AFTER))
        cls.after_file = os.path.join(cls.pg.tmpdir, "hostile-after.json")
        cls.pg.snapshot_file("h", cls.after_file)

    def server_names(self, sql):
        return {bytes.fromhex(r[0]).decode("utf-8") for r in self.pg.query("h", sql)}

    def load(self, path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    # -- snapshot ----------------------------------------------------------

    def test_server_kept_every_name(self):
        """Precondition: the names went into the catalog as written."""
        tables = self.server_names("SELECT %s FROM pg_class c JOIN pg_namespace n ON "
                                   "n.oid = c.relnamespace WHERE n.nspname = convert_from("
                                   "'\\x%s'::bytea, 'UTF8') AND c.relkind = 'r'"
                                   % (from_hex("c.relname"), hexname(SCHEMA)))
        self.assertEqual(tables, set(NAMES))

    def test_snapshot_names_exact(self):
        snap = self.load(self.after_file)
        objs = [o for o in snap["objects"] if o.get("schema") == SCHEMA or
                (o["kind"] == "schema" and o["name"] == SCHEMA)]
        tables = {o["name"] for o in objs if o["kind"] == "table"}
        self.assertEqual(tables, set(NAMES))
        columns = {(o["parent"], o["name"]) for o in objs if o["kind"] == "column"}
        for n in NAMES:
            self.assertIn((n, n), columns, "column %r of table %r" % (n, n))
            self.assertIn((n, "id"), columns)
        functions = {o["name"]: o for o in objs if o["kind"] == "function"}
        self.assertEqual(set(functions), set(NAMES))
        table_comments = {o["name"]: o["attrs"].get("comment") for o in objs
                          if o["kind"] == "table"}
        self.assertEqual(table_comments, {n: n for n in NAMES})
        labels = [o for o in objs if o["kind"] == "type"][0]["attrs"]["labels"]
        self.assertEqual(labels, NAMES[:9])
        self.assertTrue(any(o["kind"] == "schema" for o in objs), "schema %r missing" % SCHEMA)
        # aclitem text quotes a role name like an identifier.
        granted = ident(ROLE) + "=r/postgres"
        for o in objs:
            if o["kind"] == "table":
                self.assertIn(granted, o["attrs"]["acl"], o["name"])

    def test_snapshot_file_round_trip(self):
        """The file reads back as the same schema: same hash, no diff against the live database."""
        self.assertEqual(pgharness.hash_file(self.after_file), self.pg.hash("h"))
        rc, doc, err = pgharness.diff(self.after_file, self.pg.live_side("h"), "json")
        self.assertEqual(rc, 0, "%s %s" % (err, doc))
        rc, text, err = pgharness.diff(self.after_file, self.pg.live_side("h"), "text")
        self.assertEqual((rc, text), (0, "no changes\n"), err)

    def test_name_length_limits(self):
        self.pg.create_db("long")
        self.pg.psql("long", "CREATE TABLE %s (%s integer); CREATE TABLE %s (a integer);"
                     % (ident(LONG_ASCII), ident(LONG_UTF8), ident(LONG_UTF8)))
        rows = self.pg.query("long", "SELECT %s FROM pg_class WHERE relnamespace = "
                             "'public'::regnamespace AND relkind = 'r'" % from_hex("relname"))
        kept = {bytes.fromhex(r[0]).decode("utf-8") for r in rows}
        # What the server keeps: 63 bytes, cut back to a whole character.
        self.assertEqual(kept, {"L" * 63, "é" * 31})
        snap = self.pg.snapshot("long")
        tables = {o["name"] for o in snap["objects"] if o["kind"] == "table"}
        self.assertEqual(tables, kept)
        cols = {(o["parent"], o["name"]) for o in snap["objects"] if o["kind"] == "column"}
        self.assertIn(("L" * 63, "é" * 31), cols)
        for n in tables:
            self.assertLessEqual(len(n.encode("utf-8")), 63)

    # -- diff JSON ---------------------------------------------------------

    def json_changes(self):
        rc, doc, err = pgharness.diff(self.before_file, self.after_file, "json")
        self.assertEqual(rc, 1, err)
        self.assertEqual(err, "")
        return doc["changes"]

    def test_diff_json_names_exact(self):
        changes = self.json_changes()
        # The signature is the server's own identity-argument text (names quoted its way).
        signatures = {bytes.fromhex(r[0]).decode("utf-8"): bytes.fromhex(r[1]).decode("utf-8")
                      for r in self.pg.query("h", "SELECT %s, %s FROM pg_proc WHERE "
                                             "pronamespace::regnamespace::text = quote_ident("
                                             "convert_from('\\x%s'::bytea, 'UTF8'))" % (
                                                 from_hex("proname"),
                                                 from_hex("pg_get_function_identity_arguments(oid)"),
                                                 hexname(SCHEMA)))}
        self.assertEqual(set(signatures), set(NAMES))
        by_key = {}
        for c in changes:
            by_key.setdefault((c["kind"], c.get("parent"), c["name"], c.get("attribute")), c)
        for n in NAMES:
            col = by_key.get(("column", n, n, "type"))
            self.assertIsNotNone(col, "no type change for column %r of %r" % (n, n))
            self.assertEqual(col["schema"], SCHEMA)
            self.assertEqual((col["before"], col["after"]), ("integer", "bigint"))
            com = by_key.get(("table", None, n, "comment"))
            self.assertIsNotNone(com, "no comment change for table %r" % n)
            self.assertEqual(com["after"], n)
            self.assertIsNone(com["before"])
            fn = by_key.get(("function", None, n, "body"))
            self.assertIsNotNone(fn, "no body change for function %r" % n)
            self.assertEqual(fn["schema"], SCHEMA)
            self.assertEqual(fn["signature"], signatures[n])
            acl = by_key.get(("table", None, n, "acl"))
            self.assertIsNotNone(acl, "no acl change for table %r" % n)
            self.assertIn(ident(ROLE) + "=r/postgres", acl["after"])
            self.assertNotIn(ident(ROLE) + "=r/postgres", acl["before"])
        labels = by_key.get(("type", None, "labels", "labels"))
        self.assertEqual(labels["after"], NAMES[:9])

    def test_diff_json_objects_unambiguous(self):
        """Different objects never share the human-readable "object" name."""
        seen = {}
        for c in self.json_changes():
            key = (c["kind"], c.get("schema"), c.get("parent"), c["name"], c.get("signature"))
            obj = (c["kind"], c["object"])
            if obj in seen:
                self.assertEqual(seen[obj], key, "two objects print as %r: %r and %r"
                                 % (c["object"], seen[obj], key))
            seen[obj] = key

    # -- diff text ---------------------------------------------------------

    def test_diff_text_lines_intact(self):
        rc, text, err = pgharness.diff(self.before_file, self.after_file, "text")
        self.assertEqual(rc, 1, err)
        n_changes = len(self.json_changes())
        lines = text.split("\n")
        self.assertEqual(lines[-1], "", "text must end with a newline")
        lines = lines[:-1]
        for line in lines:
            bad = [ch for ch in line if ord(ch) < 0x20 and ch != "\t" or ord(ch) == 0x7f]
            self.assertEqual(bad, [], "raw control character in %r" % line)
        # What to do comes after the summary: a heading and indented lines.
        at = lines.index("What to do:")
        self.assertEqual(lines[at - 1], "")
        for line in lines[at + 1:]:
            self.assertTrue(line.startswith("  "), "what to do: %r" % line)
        lines = lines[:at - 1]
        headers = [l for l in lines if l[:2] in ("+ ", "- ", "~ ", "> ")]
        blocks = [l for l in lines if l.startswith("    ")]
        self.assertEqual(len(headers), n_changes, "one line per change:\n" + text)
        self.assertEqual(len(headers) + len(blocks) + 1, len(lines),
                         "every line is a change, an indented value line or the summary:\n"
                         + text)
        self.assertRegex(lines[-1], r"^%d changes: \d+ breaking, \d+ warning, \d+ info$"
                         % n_changes)

    def test_diff_text_unambiguous(self):
        """Two different objects never print the same change line."""
        rc, text, err = pgharness.diff(self.before_file, self.after_file, "text")
        headers = [l for l in text.split("\n") if l[:2] in ("+ ", "- ", "~ ", "> ")]
        dupes = sorted({l for l in headers if headers.count(l) > 1})
        self.assertFalse(dupes, "lines printed for two different objects:\n" + "\n".join(dupes))

    def test_diff_text_names_every_column(self):
        """Each hostile column's line names its table and itself, quoted."""
        rc, text, err = pgharness.diff(self.before_file, self.after_file, "text")
        for n in ["with space", 'quote"inside', "Ünïcødé 表 🐘", "é" * 31 + "x",
                  '{"kind": "table", "name": "x"}', "t: type integer -> bigint [breaking]"]:
            want = "~ column %s.%s.%s: type integer -> bigint" % (ident(SCHEMA).replace(
                "\n", "\\x0a"), ident(n), ident(n))
            self.assertIn(want, text)


if __name__ == "__main__":
    pgharness.main()
