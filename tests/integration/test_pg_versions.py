"""Same SQL, same snapshot across PostgreSQL majors (issue 11).

The all-kinds fixture, plus what reads differently between majors (a
partitioned table with an identity, procedures, GRANT ALL), is loaded into a
15 and an 18 server, and into a 13 and a 14 server.  Each pair's snapshots
diff to no drift at all (exit 0); what only the servers render differently
(view definitions, extension versions) is listed under server_rendering.
A real change made on one side is still found, and only it.

Needs SCHEMADRIFT_PG13/14/15/18_BINDIR (ctest sets them when the build was
configured with -DSCHEMADRIFT_PG_VERSIONS); exits 77 (skipped) without any pair.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixture_all_kinds.sql")

# Things each major reports its own way, beyond the fixture.
ACROSS_MAJORS = """
CREATE TABLE cov.measures (id integer GENERATED ALWAYS AS IDENTITY, at date NOT NULL,
	v numeric DEFAULT 0) PARTITION BY RANGE (at);
CREATE TABLE cov.measures_2024 PARTITION OF cov.measures
	FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE cov.measures_rest PARTITION OF cov.measures DEFAULT;
CREATE PROCEDURE cov.archive(INOUT n integer, keep text DEFAULT 'all')
	LANGUAGE plpgsql AS $$BEGIN n := n + 1; END$$;
CREATE PROCEDURE cov.purge(days integer, VARIADIC tags text[])
	LANGUAGE plpgsql AS $$BEGIN END$$;
GRANT ALL ON cov.measures TO cov_writer;
GRANT ALL ON cov.customers TO cov_writer WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES IN SCHEMA cov GRANT ALL ON TABLES TO cov_writer;
CREATE VIEW cov.big_measures AS SELECT m.id, m.v FROM cov.measures m WHERE m.v > 100;
"""


def pair_available(a, b):
    return pgharness.server_bindir(a) is not None and pgharness.server_bindir(b) is not None


class MajorPair:
    """Mixin: one cluster per major, the same SQL loaded into each."""

    old = new = None

    @classmethod
    def setUpClass(cls):
        cls.clusters = []
        cls.workdir = None
        for major in (cls.old, cls.new):
            pg = pgharness.PgCluster(name="pg%d" % major, bindir=pgharness.server_bindir(major))
            cls.clusters.append(pg)
            pg.start()
            with open(FIXTURE, encoding="utf-8") as f:
                # The features of the older side, so both run the very same SQL.
                sql = pgharness.fixture_text(f.read(), cls.old)
            pg.create_db("app")
            pg.psql("app", sql + ACROSS_MAJORS)
        cls.old_pg, cls.new_pg = cls.clusters

    @classmethod
    def tearDownClass(cls):
        for pg in cls.clusters:
            pg.stop()

    def snapshot(self, pg, name):
        path = os.path.join(pg.tmpdir, name)
        return pg.snapshot_file("app", path)

    def diff(self, expect):
        a = self.snapshot(self.old_pg, "old.json")
        b = self.snapshot(self.new_pg, "new.json")
        rc, doc, err = pgharness.diff(a, b, expect=expect)
        self.assertEqual(err, "")
        return doc

    def test_same_sql_no_drift(self):
        self.assertEqual((self.old_pg.major, self.new_pg.major), (self.old, self.new))
        doc = self.diff(expect=0)
        self.assertEqual(doc["changes"], [], "drift between %d and %d" % (self.old, self.new))
        self.assertEqual(doc["summary"]["changes"], 0)
        rendering = doc.get("server_rendering", [])
        self.assertEqual(doc["summary"].get("server_rendering", 0), len(rendering))
        for c in rendering:
            self.assertTrue(c["server_rendering"])
            self.assertEqual(c["change"], "modified")
        self.check_rendering({(c["kind"], c["object"], c["attribute"]) for c in rendering})
        # And the text form says so, without calling it drift.
        rc, text, _ = pgharness.diff(self.snapshot(self.old_pg, "old.json"),
                                     self.snapshot(self.new_pg, "new.json"), fmt="text")
        self.assertEqual(rc, 0)
        self.assertTrue(text.rstrip().endswith("no changes"), text)
        if rendering:
            self.assertIn("rendered differently by PostgreSQL %d and %d, not drift" %
                          (self.old, self.new), text)

    def check_rendering(self, rendering):
        pass

    def test_real_change_on_one_side_is_found(self):
        db = "changed"
        pg = self.new_pg
        pg.psql("postgres", "CREATE DATABASE %s TEMPLATE app" % db)
        self.addCleanup(pg.drop_db, db)
        pg.copy_db_settings("app", db)
        pg.psql(db, self.real_change)
        a = self.snapshot(self.old_pg, "old.json")
        b = pg.snapshot_file(db, os.path.join(pg.tmpdir, "changed.json"))
        rc, doc, _ = pgharness.diff(a, b, expect=1)
        got = sorted((c["change"], c["kind"], c["object"], c.get("attribute"))
                     for c in doc["changes"])
        self.assertEqual(got, sorted(self.expected_changes))


@unittest.skipUnless(pair_available(15, 18), "needs PostgreSQL 15 and 18")
class From15To18(MajorPair, unittest.TestCase):
    old, new = 15, 18
    # A MAINTAIN granted alone is a real privilege, and only 17+ has it; a
    # view that reads another column is not a rendering of the old one.
    real_change = """
        ALTER TABLE cov.orders ADD COLUMN note text;
        GRANT MAINTAIN ON cov.scratch TO cov_reader;
        REVOKE ALL ON cov.measures FROM cov_writer;
        DROP VIEW cov.big_measures;
        CREATE VIEW cov.big_measures AS SELECT m.id, m.v, m.at FROM cov.measures m WHERE m.v > 100;
    """
    expected_changes = [
        ("added", "column", "cov.orders.note", None),
        ("modified", "table", "cov.scratch", "acl"),
        ("modified", "table", "cov.measures", "acl"),
        ("modified", "view", "cov.big_measures", "definition"),
    ]

    def check_rendering(self, rendering):
        # 16 stopped qualifying a lone table's columns in view definitions.
        self.assertIn(("view", "cov.open_orders", "definition"), rendering)
        self.assertIn(("view", "cov.big_measures", "definition"), rendering)
        self.assertIn(("materialized_view", "cov.daily_totals", "definition"), rendering)
        # 18 names the NOT NULL that CREATE TABLE ... (LIKE) copies after its source.
        self.assertIn(("column", "cov.archive_orders.placed", "not_null_name"), rendering)
        # Only deparsed text and names, never a privilege or a partition's identity.
        self.assertEqual({a for _, _, a in rendering} - {"definition", "version", "not_null_name"},
                         set())


@unittest.skipUnless(pair_available(13, 14), "needs PostgreSQL 13 and 14")
class From13To14(MajorPair, unittest.TestCase):
    old, new = 13, 14
    real_change = """
        DROP PROCEDURE cov.purge(integer, text[]);
        CREATE PROCEDURE cov.purge(days bigint, VARIADIC tags text[])
            LANGUAGE plpgsql AS $$BEGIN END$$;
        ALTER PROCEDURE cov.archive(integer, text) SECURITY DEFINER;
    """
    expected_changes = [
        ("removed", "procedure", "cov.purge(IN days integer, VARIADIC tags text[])", None),
        ("added", "procedure", "cov.purge(IN days bigint, VARIADIC tags text[])", None),
        ("modified", "procedure", "cov.archive(INOUT n integer, IN keep text)",
         "security_definer"),
    ]


if __name__ == "__main__":
    if not (pair_available(15, 18) or pair_available(13, 14)):
        pgharness.require_majors(13, 14, 15, 18)
    pgharness.main()
