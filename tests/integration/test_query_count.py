"""A snapshot sends a constant number of statements, whatever the number of tables: exactly
the number docs/architecture.md documents ("A snapshot sends N statements")."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402



def documented_statements():
    """N from docs/architecture.md's "A snapshot sends N statements" (no retry)."""
    path = os.path.join(pgharness.source_dir(), "docs", "architecture.md")
    with open(path) as f:
        m = re.search(r"A snapshot sends (\d+) statements", re.sub(r"\s+", " ", f.read()))
    if not m:
        raise AssertionError("docs/architecture.md no longer says how many statements a "
                             "snapshot sends")
    return int(m.group(1))


def tables_sql(n):
    out = ["CREATE SCHEMA extra;"]
    for i in range(n):
        schema = "extra" if i % 10 == 0 else "public"
        out.append("CREATE TABLE %s.t%d (id integer PRIMARY KEY, name text NOT NULL DEFAULT '',"
                   " v numeric(8,2), CHECK (v > 0));" % (schema, i))
        out.append("CREATE INDEX t%d_name_idx ON %s.t%d (lower(name));" % (i, schema, i))
        if i % 50 == 0:
            out.append("CREATE VIEW %s.v%d AS SELECT id FROM %s.t%d;" % (schema, i, schema, i))
            out.append("CREATE SEQUENCE %s.s%d;" % (schema, i))
    return "\n".join(out)


class QueryCountTest(pgharness.PgTestCase):
    log_statement = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.create_db("small")
        cls.pg.psql("small", tables_sql(10))
        cls.pg.create_db("large")
        cls.pg.psql("large", tables_sql(500))

    def statements_for(self, db):
        start = self.pg.log_offset()
        snap = self.pg.snapshot(db)
        stmts = self.pg.logged_statements("schemadrift", since=start)
        return snap, stmts

    def test_constant_statement_count(self):
        small_snap, small = self.statements_for("small")
        large_snap, large = self.statements_for("large")
        self.assertEqual(sum(1 for o in small_snap["objects"] if o["kind"] == "table"), 10)
        self.assertEqual(sum(1 for o in large_snap["objects"] if o["kind"] == "table"), 500)
        listing = "small:\n  %s\nlarge:\n  %s" % ("\n  ".join(s[:120] for s in small),
                                                  "\n  ".join(s[:120] for s in large))
        self.assertGreater(len(small), 0, "no statements logged with application_name="
                                          "schemadrift (is application_name set?)\n" + listing)
        self.assertEqual(len(small), len(large), listing)
        self.assertEqual(len(large), documented_statements(),
                         "docs/architecture.md documents another statement count\n" + listing)
        sys.stderr.write("query count: %d statements per snapshot\n" % len(small))

    def test_read_only_repeatable_read(self):
        _, stmts = self.statements_for("small")
        begins = [s for s in stmts if s.upper().lstrip().startswith(("BEGIN", "START TRANSACTION"))]
        self.assertEqual(len(begins), 1, stmts)
        b = begins[0].upper()
        self.assertIn("REPEATABLE READ", b)
        self.assertIn("READ ONLY", b)

    def test_hash_and_diff_count_the_same(self):
        # hash --dsn and a live diff side read the catalog the same way.
        start = self.pg.log_offset()
        self.pg.hash("large")
        n_hash = len(self.pg.logged_statements("schemadrift", since=start))
        _, snap_stmts = self.statements_for("large")
        self.assertEqual(n_hash, len(snap_stmts))


if __name__ == "__main__":
    pgharness.main()
