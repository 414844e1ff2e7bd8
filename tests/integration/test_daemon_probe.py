"""The change probe the daemon runs first (`schemadrift probe --dsn`): every DDL change of the
drift cases (tests/drift/*/after.sql) moves its fingerprint, so the daemon takes a full
snapshot; ANALYZE, VACUUM, row inserts, updates and deletes and nextval() leave it alone, so
an idle database costs one cheap query per run.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402
import richschema  # noqa: E402

DB = "probe_case"


def probe(pg, db):
    out = pgharness.cli_ok("probe", "--dsn", pg.dsn(db)).strip()
    if not out:
        raise pgharness.HarnessError("probe printed nothing")
    return out


def drift_cases():
    root = os.path.join(pgharness.source_dir(), "tests", "drift")
    return sorted(os.path.join(root, d) for d in os.listdir(root)
                  if os.path.isfile(os.path.join(root, d, "after.sql")))


def case_runs_on(case, major):
    """Whether the case's min_major/max_major (expected.json) let it run on this major."""
    with open(os.path.join(case, "expected.json")) as f:
        expected = json.load(f)
    return expected.get("min_major", major) <= major <= expected.get("max_major", major)


class ProbeMovesOnEveryDdl(pgharness.PgTestCase):
    def roles(self):
        return set(r[0] for r in self.pg.query("postgres", "SELECT rolname FROM pg_roles"))

    def reset(self, initial_roles):
        """Drops the case database and the roles a case created (roles are cluster-wide)."""
        self.pg.drop_db(DB)
        for role in sorted(self.roles() - initial_roles):
            self.pg.psql("postgres", 'DROP ROLE "%s"' % role.replace('"', '""'))

    def test_every_drift_case_moves_the_probe(self):
        cases = drift_cases()
        self.assertGreater(len(cases), 50, "tests/drift looks empty")
        initial_roles = self.roles()
        unmoved = []
        # A case whose feature this server lacks is left out, and said so below.
        other_majors = [os.path.basename(c) for c in cases
                        if not case_runs_on(c, self.pg.major)]
        for case in cases:
            name = os.path.basename(case)
            if name in other_majors:
                continue
            with self.subTest(case=name):
                self.reset(initial_roles)
                self.pg.create_db(DB)
                self.pg.psql_file(DB, os.path.join(case, "before.sql"))
                before = probe(self.pg, DB)
                # The probe is stable while nothing happens.
                self.assertEqual(before, probe(self.pg, DB), "%s: probe unstable" % name)
                self.pg.psql_file(DB, os.path.join(case, "after.sql"))
                after = probe(self.pg, DB)
                if before == after:
                    unmoved.append(name)
                self.assertNotEqual(before, after,
                                    "%s: after.sql did not move the change probe (%s)" %
                                    (name, before))
        self.reset(initial_roles)
        sys.stderr.write("%d drift cases; not for PostgreSQL %d: %s; probe unmoved by: %s\n" %
                         (len(cases) - len(other_majors), self.pg.major,
                          ", ".join(other_majors) or "none", ", ".join(unmoved) or "none"))


class ProbeIgnoresMaintenanceAndData(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        self.pg.drop_db("rich")
        self.pg.create_db("rich")
        self.pg.psql("rich", richschema.natural_sql())
        self.pg.psql("rich", richschema.DATA_SQL)

    def assert_unmoved(self, sql, label):
        before = probe(self.pg, "rich")
        self.pg.psql("rich", sql)
        self.assertEqual(before, probe(self.pg, "rich"), "%s moved the change probe" % label)

    def test_analyze(self):
        self.assert_unmoved("ANALYZE", "ANALYZE")
        self.assert_unmoved("ANALYZE app.orders", "ANALYZE of one table")

    def test_vacuum(self):
        self.pg.psql("rich", "DELETE FROM app.order_items WHERE line = 3")
        self.assert_unmoved("VACUUM", "VACUUM")
        self.assert_unmoved("VACUUM (ANALYZE) app.order_items", "VACUUM ANALYZE")

    def test_rows(self):
        self.assert_unmoved("INSERT INTO app.customers (email, name) "
                            "SELECT 'n' || g || '@example.com', 'n' FROM generate_series(1, 500) g",
                            "INSERT")
        self.assert_unmoved("UPDATE app.orders SET status = 'done' WHERE id % 2 = 0", "UPDATE")
        self.assert_unmoved("DELETE FROM app.order_items WHERE line = 2", "DELETE")
        self.assert_unmoved("INSERT INTO audit.events VALUES (99999, '2024-06-01', 'x', '{}')",
                            "INSERT into a partitioned table")

    def test_nextval(self):
        seqs = [r[0] for r in self.pg.query("rich", "SELECT c.oid::regclass::text FROM pg_class c "
                                            "WHERE c.relkind = 'S' ORDER BY 1")]
        self.assertIn("app.orders_id_seq", seqs)
        for seq in seqs:
            lit = "'%s'" % seq.replace("'", "''")
            self.assert_unmoved("SELECT nextval(%s) FROM generate_series(1, 100)" % lit,
                                "nextval(%s)" % seq)
            self.assert_unmoved("SELECT setval(%s, nextval(%s))" % (lit, lit), "setval(%s)" % seq)

    def test_a_ddl_statement_does_move_it(self):
        # The assertion above can fail: the same probe sees a plain ALTER TABLE.
        before = probe(self.pg, "rich")
        self.pg.psql("rich", "ALTER TABLE app.orders ADD COLUMN extra int")
        self.assertNotEqual(before, probe(self.pg, "rich"))


if __name__ == "__main__":
    pgharness.main()
