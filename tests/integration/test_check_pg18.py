"""null-violations on PostgreSQL 18: NOT NULL NOT VALID constraints, and valid NOT NULL
columns through a test the planner cannot fold away.

Needs a PostgreSQL 18 server: SCHEMADRIFT_PG18_BINDIR names its bin directory (CI sets it;
scripts/pg-server.sh 18 prints one).  Without it the test reports itself skipped to ctest
(exit 77, SKIP_RETURN_CODE), never passed.
"""

import json
import os
import sys

BINDIR = os.environ.get("SCHEMADRIFT_PG18_BINDIR")
if not BINDIR:
    print("SKIP: SCHEMADRIFT_PG18_BINDIR is not set (a PostgreSQL 18 bin directory)")
    sys.exit(77)
os.environ["SCHEMADRIFT_PG_BINDIR"] = BINDIR

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402


class CheckPg18(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pg = cls.pg
        assert int(pg.scalar("postgres", "SHOW server_version_num")) >= 180000
        pg.create_db("app")
        pg.psql("app", """
            CREATE TABLE t (id int, v int, w int NOT NULL);
            INSERT INTO t VALUES (1, NULL, 1), (2, 2, 2), (3, NULL, 3);
            ALTER TABLE t ADD CONSTRAINT t_v_nn NOT NULL v NOT VALID;
            -- NOT ENFORCED constraints promise nothing: no orphans, no violators, and no
            -- index needed (no referential trigger scans the table).
            CREATE TABLE p (id int PRIMARY KEY);
            CREATE TABLE ne (pid int, v int);
            INSERT INTO ne VALUES (99, -1);
            ALTER TABLE ne ADD CONSTRAINT ne_fk FOREIGN KEY (pid) REFERENCES p NOT ENFORCED;
            ALTER TABLE ne ADD CONSTRAINT ne_ck CHECK (v > 0) NOT ENFORCED;
            -- ...while a NOT VALID one on the same data is reported.
            CREATE TABLE nv (pid int, v int);
            INSERT INTO nv VALUES (99, -1);
            ALTER TABLE nv ADD CONSTRAINT nv_fk FOREIGN KEY (pid) REFERENCES p NOT VALID;
            ALTER TABLE nv ADD CONSTRAINT nv_ck CHECK (v > 0) NOT VALID;
        """)

    def report(self, *args, only="null-violations"):
        rc, out, err = pgharness.run_cli("check", "--dsn", self.pg.dsn("app"), "--only",
                                         only, "--format", "json", *args)
        self.assertIn(rc, (0, 1), err)
        return json.loads(out)

    def test_not_null_not_valid(self):
        rep = self.report("--exact-counts")
        self.assertEqual([f["key"] for f in rep["findings"]], ["null-violations:public.t.v"])
        f = rep["findings"][0]
        self.assertEqual(f["details"]["constraint"], "t_v_nn")
        self.assertFalse(f["details"]["validated"])
        self.assertEqual(f["details"]["count"], 2)
        # Never validated by us.
        self.assertEqual(self.pg.scalar("app", "SELECT convalidated FROM pg_constraint "
                                               "WHERE conname = 't_v_nn'"), "f")

    def test_not_enforced_left_out(self):
        rep = self.report(only="fk-index,orphans,check-violations")
        self.assertEqual(sorted(f["key"] for f in rep["findings"]),
                         ["check-violations:public.nv.nv_ck", "fk-index:public.nv.nv_fk",
                          "orphans:public.nv.nv_fk"])

    def test_valid_not_null_the_planner_would_fold(self):
        # A valid NOT NULL column (w) holds no NULL: nothing to report.
        rep = self.report("--all-constraints")
        self.assertEqual([f["key"] for f in rep["findings"]], ["null-violations:public.t.v"])
        # A column the catalog says is NOT NULL but that holds NULLs (a damaged
        # restore, a catalog edit): PostgreSQL 18 folds "v IS NULL" to false...
        self.pg.psql("app", "UPDATE pg_constraint SET convalidated = true WHERE conname = 't_v_nn'")
        try:
            self.assertEqual(self.pg.scalar("app", "SELECT count(*) FROM t WHERE v IS NULL"), "0")
            # ...and the check still finds them.
            rep = self.report("--all-constraints", "--exact-counts")
            f = [x for x in rep["findings"] if x["key"] == "null-violations:public.t.v"][0]
            self.assertTrue(f["details"]["validated"])
            self.assertEqual(f["details"]["count"], 2)
            self.assertEqual(f["severity"], "breaking")
        finally:
            self.pg.psql("app", "UPDATE pg_constraint SET convalidated = false "
                                "WHERE conname = 't_v_nn'")


if __name__ == "__main__":
    pgharness.main()
