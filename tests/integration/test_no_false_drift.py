"""No false drift: the hash survives dump/restore, creation order, maintenance and attnum gaps."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402
import richschema  # noqa: E402


class NoFalseDriftTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.create_db("orig")
        cls.pg.psql("orig", richschema.natural_sql())
        cls.pg.psql("orig", richschema.DATA_SQL)
        cls.orig_hash = cls.pg.hash("orig")

    def assertSameSchema(self, db_a, db_b):
        """Hashes equal; on failure show the object-level difference."""
        ha, hb = self.pg.hash(db_a), self.pg.hash(db_b)
        if ha != hb:
            sa, sb = self.pg.snapshot(db_a), self.pg.snapshot(db_b)
            rc, text, err = pgharness.diff(self.pg.live_side(db_a), self.pg.live_side(db_b), "text")
            self.fail("hash of %s (%s) != hash of %s (%s)\n%s\ndiff --format text (exit %d):\n%s%s"
                      % (db_a, ha, db_b, hb, pgharness.diff_objects(sa, sb), rc, text, err))
        # The diff agrees.
        rc, doc, err = pgharness.diff(self.pg.live_side(db_a), self.pg.live_side(db_b), "json")
        self.assertEqual(rc, 0, "diff %s %s: %s %s" % (db_a, db_b, err, doc))

    def test_hash_is_stable(self):
        self.assertEqual(self.pg.hash("orig"), self.orig_hash)

    def test_dump_restore(self):
        dump = self.path("orig.dump")
        env = pgharness.clean_env()
        p = subprocess.run([pgharness.client_tool("pg_dump", self.pg.major), "-Fc", "-f", dump,
                            "-d", self.pg.dsn("orig")], env=env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.pg.create_db("restored")
        p = subprocess.run([pgharness.client_tool("pg_restore", self.pg.major), "--exit-on-error",
                            "-d", self.pg.dsn("restored"), dump],
                           env=env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertSameSchema("orig", "restored")

    def test_creation_order(self):
        self.pg.create_db("reordered")
        self.pg.psql("reordered", richschema.reordered_sql())
        self.assertSameSchema("orig", "reordered")

    def test_maintenance(self):
        self.pg.create_db("maint")
        self.pg.psql("maint", richschema.natural_sql())
        self.pg.psql("maint", richschema.DATA_SQL)
        before = self.pg.hash("maint")
        self.assertEqual(before, self.orig_hash)
        # Each statement in its own transaction (psql autocommit): VACUUM FULL,
        # REINDEX DATABASE and CLUSTER cannot run in a transaction block.
        self.pg.psql("maint", """
            VACUUM FULL;
            ANALYZE;
            REINDEX DATABASE maint;
            CLUSTER app.orders USING orders_pkey;
            CLUSTER app.customers USING customers_pkey;
            INSERT INTO app.customers (email) SELECT 'x' || g FROM generate_series(1, 500) g;
            DELETE FROM app.order_items WHERE qty > 2;
            DELETE FROM app.customers WHERE email LIKE 'x%';
            UPDATE app.orders SET status = 'done' WHERE id % 2 = 0;
            SELECT nextval('app.invoice_numbers') FROM generate_series(1, 50);
            SELECT setval('app.orders_id_seq', 100000);
            SELECT nextval('audit.event_ids');
            REFRESH MATERIALIZED VIEW audit.daily_counts;
            REFRESH MATERIALIZED VIEW CONCURRENTLY audit.daily_counts;
            REFRESH MATERIALIZED VIEW app.product_skus;
            REINDEX TABLE CONCURRENTLY app.orders;
            VACUUM (ANALYZE, FREEZE);
            CHECKPOINT;
        """)
        self.assertEqual(self.pg.hash("maint"), before)
        self.assertSameSchema("orig", "maint")

    def test_attnum_gap(self):
        # A column added and dropped again at the end, and one dropped in the
        # middle of a table that was created with it: attnums have gaps, the
        # positions (rank among live columns) do not.
        self.pg.create_db("gap")
        self.pg.psql("gap", richschema.natural_sql())
        self.pg.psql("gap", """
            ALTER TABLE app.products ADD COLUMN tmp integer;
            ALTER TABLE app.products DROP COLUMN tmp;
            ALTER TABLE app.orders ADD COLUMN tmp2 text NOT NULL DEFAULT 'x';
            ALTER TABLE app.orders DROP COLUMN tmp2;
            ALTER TABLE audit.events ADD COLUMN tmp3 int;
            ALTER TABLE audit.events DROP COLUMN tmp3;
        """)
        self.pg.create_db("nogap")
        self.pg.psql("nogap", richschema.natural_sql())
        self.pg.psql("nogap", "CREATE TABLE public.mid (a integer, b text, c date);")
        self.pg.psql("gap", """
            CREATE TABLE public.mid (a integer, junk integer, b text, junk2 text, c date);
            ALTER TABLE public.mid DROP COLUMN junk;
            ALTER TABLE public.mid DROP COLUMN junk2;
        """)
        self.assertSameSchema("nogap", "gap")
        cols = [o for o in self.pg.snapshot("gap")["objects"]
                if o["kind"] == "column" and o.get("parent") == "mid"]
        self.assertEqual({o["name"]: o["attrs"]["position"] for o in cols},
                         {"a": 1, "b": 2, "c": 3})

    def test_database_name_not_hashed(self):
        self.pg.create_db("another name")
        self.pg.psql("another name", richschema.natural_sql())
        self.assertSameSchema("orig", "another name")


if __name__ == "__main__":
    pgharness.main()
