"""The change probe the daemon runs first (`schemadrift probe --dsn`): ANALYZE, VACUUM, row
inserts, updates and deletes and nextval() leave it alone, so an idle database costs one cheap
query per run; and the probe prints the very fingerprint a full snapshot records, which is
what the daemon compares it with.  That every DDL change moves it, so the daemon takes a full
snapshot, is checked by each drift case on each major (run_drift_case.py: snapshot B's recorded
fingerprint differs from snapshot A's; this test is what makes B's the probe's).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402
import richschema  # noqa: E402


def probe(pg, db):
    out = pgharness.cli_ok("probe", "--dsn", pg.dsn(db)).strip()
    if not out:
        raise pgharness.HarnessError("probe printed nothing")
    return out


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

    def test_the_snapshot_records_what_the_probe_prints(self):
        path = os.path.join(self.pg.tmpdir, "probe-snapshot.json")
        pgharness.cli_ok("snapshot", "--dsn", self.pg.dsn("rich"), "-o", path)
        with open(path) as f:
            recorded = json.load(f)["schemadrift_snapshot"]["meta"].get("fingerprint")
        self.assertTrue(recorded, "the snapshot records no fingerprint")
        self.assertEqual(recorded, probe(self.pg, "rich"))

    def test_a_ddl_statement_does_move_it(self):
        # The assertion above can fail: the same probe sees a plain ALTER TABLE.
        before = probe(self.pg, "rich")
        self.pg.psql("rich", "ALTER TABLE app.orders ADD COLUMN extra int")
        self.assertNotEqual(before, probe(self.pg, "rich"))


if __name__ == "__main__":
    pgharness.main()
