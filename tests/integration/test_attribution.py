"""The DDL recorder (schemadrift audit, docs/attribution.md) against a real PostgreSQL."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402


def recorder_rows(pg, db, where="true"):
    return pg.query(db, "SELECT session_role, current_role_name, application, command_tag,"
                        " object_type, object_identity, coalesce(statement, '<null>')"
                        " FROM schemadrift.ddl_log WHERE %s ORDER BY id" % where)


class RecorderInstallTest(pgharness.PgTestCase):
    """audit install | uninstall | status, and what the trigger records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pg = cls.pg
        pg.psql("postgres", "CREATE ROLE alice LOGIN; CREATE ROLE monitor LOGIN;"
                            " CREATE ROLE app_owner NOLOGIN")

    def setUp(self):
        self.db = self.pg.create_db("d_%s" % self._testMethodName.lower()[:50])
        self.pg.psql(self.db, "CREATE TABLE public.orders (id int PRIMARY KEY);"
                              " GRANT ALL ON SCHEMA public TO alice;"
                              " GRANT ALL ON public.orders TO alice;"
                              " GRANT app_owner TO alice; GRANT CREATE ON SCHEMA public TO app_owner;"
                              " ALTER TABLE public.orders OWNER TO app_owner")

    def tearDown(self):
        self.pg.drop_db(self.db)

    def audit(self, *args, user="postgres"):
        return pgharness.run_cli("audit", *args, "--dsn", self.pg.dsn(self.db, user=user))

    def test_install_status_uninstall(self):
        rc, out, err = self.audit("status")
        self.assertEqual(rc, 1, err)
        self.assertIn("not installed", out)
        rc, out, err = self.audit("install", "--grant", "monitor")
        self.assertEqual(rc, 0, err)
        self.assertIn("installed the DDL recorder in schema schemadrift", out)
        rc, out, err = self.audit("status")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"schemadrift_recorder_ddl\s+origin")
        self.assertRegex(out, r"schemadrift_recorder_drop\s+origin")
        self.assertRegex(out, r"readers\s+monitor")
        self.assertIn("retention 30 days", out)
        # The monitoring role reads the rows; a role without the grant does not.
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) >= 0 FROM schemadrift.ddl_log",
                                        user="monitor"), "t")
        self.assertEqual(self.pg.scalar(self.db, "SELECT has_table_privilege('alice',"
                                                 " 'schemadrift.ddl_log', 'SELECT')"), "f")
        # Installing again keeps the rows.
        self.pg.psql(self.db, "ALTER TABLE public.orders ADD COLUMN note text")
        before = recorder_rows(self.pg, self.db)
        self.assertEqual(self.audit("install")[0], 0)
        self.assertEqual(recorder_rows(self.pg, self.db)[:len(before)], before)
        rc, out, err = self.audit("uninstall")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) FROM pg_event_trigger"), "0")
        self.assertEqual(self.pg.scalar(
            self.db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'schemadrift'"), "0")
        # Uninstall never drops a schema that is not a recorder.
        self.pg.psql(self.db, "CREATE SCHEMA schemadrift; CREATE TABLE schemadrift.mine (x int)")
        rc, out, err = self.audit("uninstall")
        self.assertEqual(rc, 2)
        self.assertIn("holds no DDL recorder", err)
        self.assertEqual(self.pg.scalar(self.db, "SELECT to_regclass('schemadrift.mine') IS NOT NULL"),
                         "t")

    def test_rows_record_role_application_and_statement(self):
        self.assertEqual(self.audit("install", "--statement-length", "40")[0], 0)
        self.pg.psql(self.db, "SET application_name = 'deploy-tool';"
                              " SET ROLE app_owner;"
                              " ALTER TABLE public.orders ADD COLUMN total numeric", user="alice")
        self.pg.psql(self.db, "SET application_name = 'psql-bob';"
                              " CREATE INDEX orders_total_idx ON public.orders (total)")
        self.pg.psql(self.db, "ALTER TABLE public.orders DROP COLUMN total")
        rows = recorder_rows(self.pg, self.db)
        alter = [r for r in rows if r[3] == "ALTER TABLE" and r[0] == "alice"][0]
        self.assertEqual(alter[:6], ["alice", "app_owner", "deploy-tool", "ALTER TABLE", "table",
                                     "public.orders"])
        self.assertLessEqual(len(alter[6].encode()), 40)
        self.assertIn(["postgres", "postgres", "psql-bob", "CREATE INDEX", "index",
                       "public.orders_total_idx"], [r[:6] for r in rows])
        # The drop names the column itself (sql_drop).
        self.assertIn(["postgres", "postgres", "ALTER TABLE", "table column",
                       "public.orders.total"], [[r[0], r[1], r[3], r[4], r[5]] for r in rows])

    def test_no_statement_text(self):
        self.assertEqual(self.audit("install", "--no-statement")[0], 0)
        self.pg.psql(self.db, "CREATE TABLE public.secret_literal (x text DEFAULT 'hunter2')")
        rows = recorder_rows(self.pg, self.db)
        self.assertTrue(rows)
        self.assertEqual({r[6] for r in rows}, {"<null>"})
        self.assertIn("no statement text", self.audit("status")[1])

    def test_retention_bounds_the_table(self):
        self.assertEqual(self.audit("install", "--retention", "1 hour")[0], 0)
        for i in range(5):
            self.pg.psql(self.db, "CREATE TABLE public.t%d ()" % i)
        # Rows as if written two hours ago: the next DDL removes them.
        self.pg.psql(self.db, "UPDATE schemadrift.ddl_log SET at = at - interval '2 hours'")
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) FROM schemadrift.ddl_log"), "5")
        self.pg.psql(self.db, "CREATE TABLE public.fresh ()")
        self.assertEqual(recorder_rows(self.pg, self.db, "true")[0][5], "public.fresh")
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) FROM schemadrift.ddl_log"), "1")
        rc, out, err = self.audit("install", "--retention", "-1 day")
        self.assertEqual(rc, 2)
        self.assertIn("must be positive", err)
        rc, out, err = self.audit("install", "--retention", "forever")
        self.assertEqual(rc, 2)
        self.assertIn("retention 'forever'", err)

    def test_ddl_succeeds_when_the_trigger_cannot_log(self):
        self.assertEqual(self.audit("install")[0], 0)
        # Every insert into the log now fails.
        self.pg.psql(self.db, "ALTER TABLE schemadrift.ddl_log ADD CONSTRAINT never"
                              " CHECK (false) NOT VALID")
        count = self.pg.scalar(self.db, "SELECT count(*) FROM schemadrift.ddl_log")
        self.pg.psql(self.db, "CREATE TABLE public.still_works (x int); DROP TABLE public.orders")
        self.assertEqual(self.pg.scalar(self.db, "SELECT to_regclass('public.still_works') IS NOT NULL"
                                                 " AND to_regclass('public.orders') IS NULL"), "t")
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) FROM schemadrift.ddl_log"), count)

    def test_install_without_rights(self):
        rc, out, err = self.audit("install", user="alice")
        self.assertEqual(rc, 2)
        self.assertIn("needs the rights that event triggers need", err)
        self.assertIn("superuser", err)
        self.assertIn("port=%d" % self.pg.port, err)
        # Nothing was left behind.
        self.assertEqual(self.pg.scalar(
            self.db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'schemadrift'"), "0")
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) FROM pg_event_trigger"), "0")

    def test_bad_arguments(self):
        rc, out, err = pgharness.run_cli("audit", "frobnicate", "--dsn", self.pg.dsn(self.db))
        self.assertEqual(rc, 2)
        self.assertIn("install, uninstall or status", err)
        rc, out, err = pgharness.run_cli("audit", "install")
        self.assertEqual(rc, 2)
        self.assertIn("--dsn", err)
        rc, out, err = self.audit("install", "--statement-length", "-3")
        self.assertEqual(rc, 2)
        self.assertIn("--statement-length", err)


if __name__ == "__main__":
    pgharness.main()
