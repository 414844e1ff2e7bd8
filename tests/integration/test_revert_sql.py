"""The SQL schemadrift suggests, run against a real database (issue 16).

For every kind of drift whose revert is exact, a case sets up a baseline,
drifts from it, and runs the revert that `schemadrift diff` prints (the end
of the text diff; the same statements as `diff B A --format sql`): the
database must hash like the baseline again.  `--format sql` of a mixed diff
turns A into B, and says in a comment what it cannot write.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

SETUP = """
CREATE SCHEMA s;
CREATE TABLE s.t (id int PRIMARY KEY, a int NOT NULL, b text DEFAULT 'x', c varchar(10),
                  d numeric);
CREATE INDEX t_a ON s.t (a);
CREATE TABLE s.p (k int, v text) PARTITION BY RANGE (k);
CREATE TABLE s.p1 PARTITION OF s.p FOR VALUES FROM (0) TO (10);
CREATE INDEX p_v ON s.p (v);
CREATE FUNCTION s.f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
CREATE FUNCTION s.touch() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER t_touch BEFORE UPDATE ON s.t FOR EACH ROW EXECUTE FUNCTION s.touch();
CREATE VIEW s.v AS SELECT id, a FROM s.t WHERE a > 0;
CREATE SEQUENCE s.q INCREMENT 2 MAXVALUE 1000;
CREATE TABLE s.o (id int PRIMARY KEY, t_id int, CONSTRAINT o_t FOREIGN KEY (t_id) REFERENCES s.t);
ALTER TABLE s.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY t_read ON s.t FOR SELECT TO reader USING (a > 0);
GRANT USAGE ON SCHEMA s TO reader;
GRANT SELECT ON s.t TO reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO reader;
COMMENT ON TABLE s.t IS 'the t';
CREATE SCHEMA "we""ird";
CREATE TABLE "we""ird"."a b" ("Col" int, "user" int);
"""

# (name, drift SQL): each is reverted exactly by what schemadrift suggests.
CASES = [
    ("index added", "CREATE INDEX t_b ON s.t (b)"),
    ("index removed", "DROP INDEX s.t_a"),
    ("index removed, with comment", "COMMENT ON INDEX s.t_a IS 'hot'", "DROP INDEX s.t_a"),
    ("partitioned index added", "CREATE INDEX p_k ON s.p (k)"),
    ("partitioned index removed", "DROP INDEX s.p_v"),
    ("not null dropped", "ALTER TABLE s.t ALTER a DROP NOT NULL"),
    ("not null set", "ALTER TABLE s.t ALTER c SET NOT NULL"),
    ("default changed", "ALTER TABLE s.t ALTER b SET DEFAULT 'y'"),
    ("default dropped", "ALTER TABLE s.t ALTER b DROP DEFAULT"),
    ("default set", "ALTER TABLE s.t ALTER d SET DEFAULT 0"),
    ("type widened", "ALTER TABLE s.t ALTER c TYPE varchar(20)"),
    ("type changed", "ALTER TABLE s.t ALTER d TYPE bigint"),
    ("grant", "GRANT INSERT, UPDATE ON s.t TO writer"),
    ("grant with grant option", "GRANT SELECT ON s.t TO writer WITH GRANT OPTION"),
    ("grant option added", "GRANT SELECT ON s.t TO reader WITH GRANT OPTION"),
    ("revoke", "REVOKE SELECT ON s.t FROM reader"),
    ("column grant", "GRANT UPDATE (b) ON s.t TO writer"),
    ("function revoke from PUBLIC", "REVOKE EXECUTE ON FUNCTION s.f(int) FROM PUBLIC"),
    ("schema grant", "GRANT CREATE ON SCHEMA s TO writer"),
    ("sequence grant", "GRANT USAGE ON SEQUENCE s.q TO reader"),
    ("hostile names grant", 'GRANT SELECT ("Col") ON "we""ird"."a b" TO "Odd ""Role"""'),
    ("comment changed", "COMMENT ON TABLE s.t IS 'it''s \\ new'"),
    ("comment dropped", "COMMENT ON TABLE s.t IS NULL"),
    ("comments added", "COMMENT ON COLUMN s.t.a IS 'A'; COMMENT ON FUNCTION s.f(int) IS 'f';"
     "COMMENT ON INDEX s.t_a IS E'multi\\nline'; COMMENT ON TRIGGER t_touch ON s.t IS 'tr';"
     "COMMENT ON CONSTRAINT o_t ON s.o IS 'fk'; COMMENT ON POLICY t_read ON s.t IS 'p'"),
    ("owner changed", "ALTER TABLE s.t OWNER TO writer; ALTER FUNCTION s.f(int) OWNER TO writer;"
     "ALTER SCHEMA s OWNER TO writer; ALTER SEQUENCE s.q OWNER TO writer;"
     "ALTER VIEW s.v OWNER TO writer"),
    ("trigger disabled", "ALTER TABLE s.t DISABLE TRIGGER t_touch"),
    ("trigger always", "ALTER TABLE s.t ENABLE ALWAYS TRIGGER t_touch"),
    ("trigger replica", "ALTER TABLE s.t ENABLE REPLICA TRIGGER t_touch"),
    ("trigger added", "CREATE TRIGGER t_touch2 BEFORE INSERT ON s.t FOR EACH ROW "
     "EXECUTE FUNCTION s.touch()"),
    ("view changed", "CREATE OR REPLACE VIEW s.v AS SELECT id, a FROM s.t WHERE a > 1"),
    ("view options", "ALTER VIEW s.v SET (security_barrier = true)"),
    ("view added", "CREATE VIEW s.v2 AS SELECT 1 AS one"),
    ("function body", "CREATE OR REPLACE FUNCTION s.f(x int) RETURNS int LANGUAGE sql "
     "IMMUTABLE AS 'SELECT x + 2'"),
    ("function options", "ALTER FUNCTION s.f(int) STABLE STRICT COST 7 SECURITY DEFINER "
     "SET search_path = s, public SET work_mem = '8MB'"),
    ("function added", "CREATE FUNCTION s.g() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
    ("sequence options", "ALTER SEQUENCE s.q INCREMENT 5 MAXVALUE 5000 CACHE 3 CYCLE"),
    ("default privileges added in schema",
     "ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT INSERT ON TABLES TO writer"),
    ("default privileges removed",
     "ALTER DEFAULT PRIVILEGES IN SCHEMA s REVOKE SELECT ON TABLES FROM reader"),
    ("default privileges global",
     "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;"
     "ALTER DEFAULT PRIVILEGES FOR ROLE writer GRANT SELECT ON TABLES TO reader"),
    ("constraint added", "ALTER TABLE s.t ADD CONSTRAINT a_pos CHECK (a > 0) NOT VALID"),
    ("foreign key removed", "ALTER TABLE s.o DROP CONSTRAINT o_t"),
    ("policy removed", "DROP POLICY t_read ON s.t"),
    ("policy added", "CREATE POLICY t_w ON s.t AS RESTRICTIVE FOR UPDATE TO writer "
     "USING (a > 1) WITH CHECK (a < 100)"),
    ("renamed", "ALTER TABLE s.o RENAME TO o2; ALTER TABLE s.t RENAME COLUMN c TO c2;"
     "ALTER INDEX s.t_a RENAME TO t_a2"),
]

ROLES = ("reader", "writer", 'Odd "Role"')


def statements(sql_text):
    """The statements of --format sql output (comment lines dropped)."""
    return [l for l in sql_text.splitlines() if l and not l.startswith("--")]


class RevertSqlTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for r in ROLES:
            cls.pg.psql("postgres", 'CREATE ROLE "%s" NOLOGIN' % r.replace('"', '""'))
        cls.pg.create_db("base")
        cls.pg.psql("base", SETUP)

    def fresh(self, name):
        self.pg.create_db(name, template="base")
        return name

    def test_each_revert_brings_back_the_baseline(self):
        # Every database made from the template snapshots alike: one baseline
        # file serves the cases that add nothing to it.
        base = self.pg.snapshot_file(self.fresh("case_base"), self.path("base.json"))
        for i, case in enumerate(CASES):
            name, drift = case[0], case[1:]
            with self.subTest(case=name):
                db = self.fresh("case%d" % i)
                for sql in drift[:-1]:     # part of the baseline
                    self.pg.psql(db, sql)
                a = self.pg.snapshot_file(db, self.path("a%d.json" % i)) if drift[:-1] else base
                self.pg.psql(db, drift[-1])
                b = self.pg.snapshot_file(db, self.path("b%d.json" % i))
                rc, text, err = pgharness.run_cli("diff", a, b)
                self.assertEqual(rc, 1, err)
                rc, sql, err = pgharness.run_cli("diff", b, a, "--format", "sql")
                self.assertEqual(rc, 1, err)
                stmts = statements(sql)
                self.assertTrue(stmts, "%s: no SQL:\n%s" % (name, sql))
                self.assertNotIn("no exact SQL", sql, sql)
                # The text diff's revert section holds the same statements.
                revert = text.split("never runs it):\n", 1)[1]
                self.assertEqual(statements("\n".join(l[4:] for l in revert.splitlines())), stmts,
                                 text)
                self.pg.psql(db, sql)
                self.assertEqual(self.pg.hash(db), pgharness.hash_file(a),
                                 "%s: after running\n%s\nthe diff is\n%s" % (
                                     name, sql, pgharness.run_cli(
                                         "diff", a, self.pg.live_side(db))[1]))
                self.pg.drop_db(db)

    def test_mixed_diff_as_sql(self):
        db = self.fresh("mixed")
        a = self.pg.snapshot_file(db, self.path("mixed_a.json"))
        picks = ("index added", "not null dropped", "type changed", "grant", "comment changed",
                 "owner changed", "trigger disabled", "view changed", "function body",
                 "default privileges added in schema", "constraint added", "policy removed",
                 "index removed")
        for case in CASES:
            if case[0] in picks:
                self.pg.psql(db, case[-1])
        b = self.pg.snapshot_file(db, self.path("mixed_b.json"))
        rc, sql, err = pgharness.run_cli("diff", a, b, "--format", "sql")
        self.assertEqual(rc, 1, err)
        self.assertTrue(sql.startswith("-- Suggested by schemadrift"), sql)
        self.assertIn("never runs it", sql)
        # Every change has its comment line, and the statements follow it.
        n = json.loads(pgharness.run_cli("diff", a, b, "--format", "json")[1])["summary"]
        titles = [l for l in sql.splitlines()
                  if re.match(r"^-- (no exact SQL known, write it by hand: )?[-+~>] ", l)]
        self.assertEqual(len(titles), n["changes"], sql)
        # A policy goes before the constraint and index it may use; creations after.
        order = statements(sql)
        self.assertIn("DROP INDEX CONCURRENTLY s.t_a;", order, sql)
        self.assertLess(order.index("DROP POLICY t_read ON s.t;"),
                        order.index("DROP INDEX CONCURRENTLY s.t_a;"))
        self.assertLess(order.index("DROP INDEX CONCURRENTLY s.t_a;"),
                        order.index("CREATE INDEX CONCURRENTLY t_b ON s.t USING btree (b);"))
        # Run against a copy of A, it gives B.
        copy = self.fresh("mixed_copy")
        self.pg.psql(copy, sql)
        self.assertEqual(self.pg.hash(copy), pgharness.hash_file(b),
                         pgharness.run_cli("diff", b, self.pg.live_side(copy))[1])

        # What it cannot write is a comment line; the rest is still written.
        self.pg.psql(db, "CREATE TABLE s.new (x int)")
        c = self.pg.snapshot_file(db, self.path("mixed_c.json"))
        rc, sql, err = pgharness.run_cli("diff", a, c, "--format", "sql")
        self.assertEqual(rc, 1, err)
        self.assertIn("-- no exact SQL known, write it by hand: + table s.new\n", sql)
        self.assertIn("DROP POLICY t_read ON s.t;\n", sql)

    def test_identical_sides(self):
        a = self.pg.snapshot_file("base", self.path("same.json"))
        rc, sql, err = pgharness.run_cli("diff", a, a, "--format", "sql")
        self.assertEqual(rc, 0, err)
        self.assertIn("-- no changes\n", sql)
        self.assertEqual(statements(sql), [])


if __name__ == "__main__":
    pgharness.main()
