"""schemadrift check on a real PostgreSQL: covered and uncovered foreign keys of every shape,
orphans, NOT VALID CHECK and domain violators, custom checks, timeouts, unreadable tables."""

import json
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

FK_SCHEMA = """
CREATE TABLE parent (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL, t text UNIQUE,
                     UNIQUE (a, b));
INSERT INTO parent SELECT g, g, g, 'p' || g FROM generate_series(1, 10) g;

-- Uncovered: no index at all, with ON DELETE CASCADE (worse).
CREATE TABLE plain (id int, pid int REFERENCES parent ON DELETE CASCADE);
-- Covered: the FK's columns in another order.
CREATE TABLE reordered (x int, y int, FOREIGN KEY (x, y) REFERENCES parent (a, b));
CREATE INDEX reordered_idx ON reordered (y, x);
-- Uncovered: the FK column later in the index.
CREATE TABLE later (x int, pid int REFERENCES parent);
CREATE INDEX later_idx ON later (x, pid);
-- Covered: FK column first, more key columns after it.
CREATE TABLE leads (pid int REFERENCES parent, x int);
CREATE INDEX leads_idx ON leads (pid, x);
-- Uncovered: the FK column only as an INCLUDE column.
CREATE TABLE included (x int, pid int REFERENCES parent);
CREATE INDEX included_idx ON included (x) INCLUDE (pid);
-- Covered: partial index saying the FK column is NOT NULL.
CREATE TABLE partial_ok (pid int REFERENCES parent);
CREATE INDEX partial_ok_idx ON partial_ok (pid) WHERE pid IS NOT NULL;
-- Uncovered: any other partial index.
CREATE TABLE partial_bad (pid int REFERENCES parent);
CREATE INDEX partial_bad_idx ON partial_bad (pid) WHERE pid > 5;
-- Uncovered: an expression index.
CREATE TABLE expr (pid int REFERENCES parent);
CREATE INDEX expr_idx ON expr ((pid + 0));
-- Uncovered: a two-column FK with only one of its columns in each of two indexes.
CREATE TABLE split (x int, y int, FOREIGN KEY (x, y) REFERENCES parent (a, b));
CREATE INDEX split_x ON split (x);
CREATE INDEX split_y ON split (y);
-- Covered: a two-column FK by a three-column index.
CREATE TABLE multi (x int, y int, z int, FOREIGN KEY (x, y) REFERENCES parent (a, b));
CREATE INDEX multi_idx ON multi (x, y, z);
-- Covered: the primary key and a unique constraint count.
CREATE TABLE by_pk (pid int PRIMARY KEY REFERENCES parent);
CREATE TABLE by_unique (pid int UNIQUE REFERENCES parent);
-- Covered: a hash index on one column; uncovered: a BRIN index.
CREATE TABLE by_hash (pid int REFERENCES parent);
CREATE INDEX by_hash_idx ON by_hash USING hash (pid);
CREATE TABLE by_brin (pid int REFERENCES parent);
CREATE INDEX by_brin_idx ON by_brin USING brin (pid);
-- Uncovered: a text FK with an index in another collation; covered: the column's own.
CREATE TABLE coll_bad (t text REFERENCES parent (t));
CREATE INDEX coll_bad_idx ON coll_bad (t COLLATE "C") ;
CREATE TABLE coll_ok (t text REFERENCES parent (t));
CREATE INDEX coll_ok_idx ON coll_ok (t);
-- Covered: text_pattern_ops's family holds text's = too (the FK's equality).
CREATE TABLE pattern (t text REFERENCES parent (t));
CREATE INDEX pattern_idx ON pattern (t text_pattern_ops);
-- Partitioned, covered at the parent.
CREATE TABLE part_parent_idx (id int, pid int REFERENCES parent) PARTITION BY RANGE (id);
CREATE TABLE part_parent_idx_1 PARTITION OF part_parent_idx FOR VALUES FROM (0) TO (10);
CREATE INDEX part_parent_idx_pid ON part_parent_idx (pid);
-- Partitioned, covered by an index on every leaf (none on the parent).
CREATE TABLE part_leaves (id int, pid int REFERENCES parent) PARTITION BY RANGE (id);
CREATE TABLE part_leaves_1 PARTITION OF part_leaves FOR VALUES FROM (0) TO (10);
CREATE TABLE part_leaves_2 PARTITION OF part_leaves FOR VALUES FROM (10) TO (20);
CREATE INDEX ON part_leaves_1 (pid);
CREATE INDEX ON part_leaves_2 (pid);
-- Partitioned, one leaf without an index: uncovered, judged once at the parent.
CREATE TABLE part_some (id int, pid int REFERENCES parent) PARTITION BY RANGE (id);
CREATE TABLE part_some_1 PARTITION OF part_some FOR VALUES FROM (0) TO (10);
CREATE TABLE part_some_2 PARTITION OF part_some FOR VALUES FROM (10) TO (20);
CREATE INDEX ON part_some_1 (pid);
-- Partitioned, no index anywhere.
CREATE TABLE part_none (id int, pid int REFERENCES parent) PARTITION BY RANGE (id);
CREATE TABLE part_none_1 PARTITION OF part_none FOR VALUES FROM (0) TO (10);
CREATE TABLE part_none_2 PARTITION OF part_none FOR VALUES FROM (10) TO (20);
-- A very long table name: the suggested index name must fit in 63 bytes.
CREATE TABLE a_table_with_a_really_long_name_that_goes_on_and_on_forever_x (
    the_parent_reference_column int REFERENCES parent);
"""


class CheckTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pg = cls.pg
        pg.create_db("fk")
        pg.psql("fk", FK_SCHEMA)
        # A failed CREATE INDEX CONCURRENTLY leaves an invalid index behind:
        # duplicates make the unique build fail after the index was created.
        pg.psql("fk", "CREATE TABLE invalid_idx (pid int REFERENCES parent);"
                      "INSERT INTO invalid_idx VALUES (1), (1);")
        pg.psql("fk", "CREATE UNIQUE INDEX CONCURRENTLY invalid_idx_pid ON invalid_idx (pid)",
                check=False)
        assert pg.scalar("fk", "SELECT indisvalid FROM pg_index WHERE indexrelid = "
                               "'invalid_idx_pid'::regclass") == "f"

    def check(self, db, *args, expect=None):
        rc, out, err = pgharness.run_cli("check", "--dsn", self.pg.dsn(db), *args)
        if expect is not None:
            self.assertEqual(rc, expect, "exit %d\nstdout: %s\nstderr: %s" % (rc, out, err))
        return rc, out, err

    def report(self, db, *args, expect=None):
        rc, out, err = self.check(db, "--format", "json", *args, expect=expect)
        return json.loads(out)

    def test_fk_index_shapes(self):
        rep = self.report("fk", "--only", "fk-index")
        self.assertEqual(rep["checks"][0]["statements"], 1, "one catalog query")
        self.assertFalse(rep["checks"][0]["reads_data"], "fk-index reads the catalog only")
        found = {f["details"]["table"]: f for f in rep["findings"]}
        uncovered = {"public.plain", "public.later", "public.included", "public.partial_bad",
                     "public.expr", "public.split", "public.by_brin", "public.coll_bad",
                     "public.part_some", "public.part_none", "public.invalid_idx",
                     "public.a_table_with_a_really_long_name_that_goes_on_and_on_forever_x"}
        self.assertEqual(set(found), uncovered)
        # Each finding says which FK, both tables, the size and the actions.
        f = found["public.plain"]
        self.assertEqual(f["key"], "fk-index:public.plain.plain_pid_fkey")
        self.assertEqual(f["details"]["references"], "public.parent")
        self.assertEqual(f["details"]["on_delete"], "CASCADE")
        self.assertIn("table_bytes", f["details"])
        self.assertEqual(f["fix"],
                         "CREATE INDEX CONCURRENTLY IF NOT EXISTS plain_pid_idx ON public.plain (pid);\n")
        # CASCADE makes it worse than the same table without an action.
        self.assertEqual(f["severity"], "warning")
        self.assertEqual(found["public.later"]["severity"], "info")
        # A two-column FK: the fix has the FK's column order.
        self.assertIn("ON public.split (x, y);", found["public.split"]["fix"])
        # Partitioned: judged once, at the parent, with ON ONLY + CONCURRENTLY + ATTACH.
        p = found["public.part_some"]
        self.assertEqual(p["details"]["partitions"]["leaves"], 2)
        self.assertEqual(p["details"]["partitions"]["covered"], 1)
        self.assertEqual(p["details"]["partitions"]["missing"], ["public.part_some_2"])
        lines = p["fix"].splitlines()
        self.assertEqual(lines[0], "CREATE INDEX IF NOT EXISTS part_some_pid_idx ON ONLY public.part_some (pid);")
        self.assertIn("CREATE INDEX CONCURRENTLY IF NOT EXISTS part_some_2_pid_idx ON public.part_some_2 (pid);", lines)
        self.assertIn("ALTER INDEX public.part_some_pid_idx ATTACH PARTITION public.part_some_2_pid_idx;", lines)
        self.assertFalse(any("part_some_1" in k or "part_some_2" in k for k in found),
                         "partitions are not judged one by one")
        self.assertEqual(found["public.part_none"]["details"]["partitions"],
                         {"leaves": 2, "covered": 0,
                          "missing": ["public.part_none_1", "public.part_none_2"]})
        # The long name fits in 63 bytes, and the suggestion runs as given.
        long = found["public.a_table_with_a_really_long_name_that_goes_on_and_on_forever_x"]
        name = long["fix"].split()[6]
        self.assertLessEqual(len(name.encode()), 63)
        for stmt in long["fix"].strip().split("\n"):
            self.pg.psql("fk", stmt)
        for stmt in p["fix"].strip().split("\n"):
            self.pg.psql("fk", stmt)
        rep2 = self.report("fk", "--only", "fk-index")
        tables = {f["details"]["table"] for f in rep2["findings"]}
        self.assertNotIn("public.part_some", tables)
        self.assertNotIn(long["details"]["table"], tables)
        self.assertEqual(len(tables), len(uncovered) - 2)

    def test_exit_codes_and_formats(self):
        # Findings at warning or above: 1; only info with --fail-on breaking: 0.
        self.check("fk", "--only", "fk-index", expect=1)
        self.check("fk", "--only", "fk-index", "--fail-on", "breaking", expect=0)
        rc, out, err = self.check("fk", "--only", "nonsense", expect=2)
        self.assertIn("unknown check 'nonsense'", err)
        rc, out, err = self.check("fk", "--only", "fk-index", "--format", "junit", expect=1)
        root = ET.fromstring(out)
        failures = root.findall(".//failure")
        self.assertTrue(any("plain_pid_fkey" in tc.get("name")
                            for tc in root.iter("testcase") if tc.find("failure") is not None))
        self.assertGreater(len(failures), 5)
        rc, out, err = self.check("fk", "--only", "fk-index", "--format", "github", expect=1)
        self.assertIn("::warning title=fk-index%3Apublic.plain.plain_pid_fkey::", out)
        rc, out, err = self.check("fk", "--only", "fk-index", expect=1)
        self.assertIn("CREATE INDEX CONCURRENTLY IF NOT EXISTS plain_pid_idx ON public.plain (pid);", out)

    def test_orphans_not_valid_and_match_full(self):
        pg = self.pg
        pg.create_db("orph")
        pg.psql("orph", """
            CREATE TABLE p (id int PRIMARY KEY, a int, b int, UNIQUE (a, b));
            INSERT INTO p VALUES (1, 1, 1), (2, 2, 2);
            CREATE TABLE c (id int, pid int);
            INSERT INTO c VALUES (1, 1), (2, 99), (3, NULL), (4, 98);
            ALTER TABLE c ADD CONSTRAINT c_pid_fkey FOREIGN KEY (pid) REFERENCES p NOT VALID;
            CREATE TABLE simple (x int, y int);
            INSERT INTO simple VALUES (1, 1), (1, NULL), (5, 5);
            ALTER TABLE simple ADD CONSTRAINT simple_fk FOREIGN KEY (x, y) REFERENCES p (a, b) NOT VALID;
            CREATE TABLE full_ (x int, y int);
            INSERT INTO full_ VALUES (1, 1), (1, NULL), (NULL, NULL), (5, 5);
            ALTER TABLE full_ ADD CONSTRAINT full_fk FOREIGN KEY (x, y) REFERENCES p (a, b)
                MATCH FULL NOT VALID;
            -- A valid FK: only looked at with --all-constraints.
            CREATE TABLE ok (pid int REFERENCES p);
            INSERT INTO ok VALUES (1);
        """)
        rep = self.report("orph", "--only", "orphans", "--exact-counts")
        self.assertTrue(rep["checks"][0]["reads_data"])
        f = {x["object"]: x for x in rep["findings"]}
        self.assertEqual(set(f), {"public.c.c_pid_fkey", "public.simple.simple_fk",
                                  "public.full_.full_fk"})
        self.assertEqual(f["public.c.c_pid_fkey"]["details"]["count"], 2)
        self.assertEqual(sorted(r[-1] for r in f["public.c.c_pid_fkey"]["details"]["rows"]),
                         ["98", "99"])
        # MATCH SIMPLE: (1, NULL) is exempt; only (5, 5) is an orphan.
        self.assertEqual(f["public.simple.simple_fk"]["details"]["count"], 1)
        self.assertEqual(f["public.simple.simple_fk"]["details"]["rows"][0][1:], ["5", "5"])
        # MATCH FULL: (1, NULL) violates too; (NULL, NULL) does not.
        self.assertEqual(f["public.full_.full_fk"]["details"]["count"], 2)
        self.assertEqual(f["public.full_.full_fk"]["details"]["match"], "FULL")
        # --sample-rows bounds the rows shown; the count stays exact.
        rep = self.report("orph", "--only", "orphans", "--sample-rows", "1", "--exact-counts")
        c = [x for x in rep["findings"] if x["object"] == "public.c.c_pid_fkey"][0]
        self.assertEqual(len(c["details"]["rows"]), 1)
        self.assertTrue(c["details"]["more_rows"])
        self.assertEqual(c["details"]["count"], 2)
        # Without --exact-counts: no count, "more than 1".
        rep = self.report("orph", "--only", "orphans", "--sample-rows", "1")
        c = [x for x in rep["findings"] if x["object"] == "public.c.c_pid_fkey"][0]
        self.assertIsNone(c["details"]["count"])
        self.assertTrue(c["message"].startswith("more than 1 rows"), c["message"])
        # Valid FKs too when asked; NOT VALID ones come first.
        rep = self.report("orph", "--only", "orphans", "--all-constraints")
        self.assertEqual(rep["checks"][0]["statements"], 1 + 4)
        # Never VALIDATE CONSTRAINT: the constraints are still NOT VALID.
        self.assertEqual(pg.scalar("orph", "SELECT count(*) FROM pg_constraint "
                                           "WHERE contype = 'f' AND NOT convalidated"), "3")

    def test_check_and_domain_violations(self):
        pg = self.pg
        pg.create_db("ck")
        pg.psql("ck", """
            CREATE TABLE t (id int, v int, w text);
            INSERT INTO t VALUES (1, -1, 'x'), (2, NULL, 'y'), (3, 3, 'z');
            ALTER TABLE t ADD CONSTRAINT t_v_positive CHECK (v > 0) NOT VALID;
            CREATE DOMAIN posint AS int;
            CREATE DOMAIN code AS text;
            CREATE TABLE d (id int, n posint, c code);
            INSERT INTO d VALUES (1, -5, 'ok'), (2, 5, 'VALUE'), (3, NULL, 'bad value');
            ALTER DOMAIN posint ADD CONSTRAINT posint_check CHECK (VALUE > 0) NOT VALID;
            ALTER DOMAIN code ADD CONSTRAINT code_check CHECK (VALUE IN ('ok', 'VALUE')) NOT VALID;
            CREATE TABLE fine (v int);
            INSERT INTO fine VALUES (1);
            ALTER TABLE fine ADD CONSTRAINT fine_check CHECK (v > 0) NOT VALID;
        """)
        rep = self.report("ck", "--only", "check-violations", "--exact-counts", expect=1)
        f = {x["object"]: x for x in rep["findings"]}
        self.assertEqual(set(f), {"public.t.t_v_positive", "public.posint.posint_check@public.d.n",
                                  "public.code.code_check@public.d.c"})
        # NULL satisfies a CHECK: only -1 fails.
        self.assertEqual(f["public.t.t_v_positive"]["details"]["count"], 1)
        self.assertEqual(f["public.t.t_v_positive"]["details"]["rows"][0][1], "-1")
        self.assertEqual(f["public.posint.posint_check@public.d.n"]["details"]["rows"][0][1], "-5")
        # A string literal 'VALUE' is not the domain's value.
        self.assertEqual(f["public.code.code_check@public.d.c"]["details"]["rows"][0][1], "bad value")

    def test_custom_check(self):
        pg = self.pg
        pg.create_db("cu")
        pg.psql("cu", """
            CREATE TABLE orders (id int, status text);
            INSERT INTO orders VALUES (1, 'new'), (2, 'shipped'), (3, 'lost'), (4, 'bogus');
        """)
        sqlfile = self.path("statuses.sql")
        with open(sqlfile, "w") as f:
            f.write("SELECT id, status FROM public.orders\n"
                    "WHERE status NOT IN ('new', 'shipped', 'delivered') ORDER BY id;\n")
        conf = self.path("checks.conf")
        with open(conf, "w") as f:
            f.write("[check statuses]\nfile = statuses.sql\nseverity = breaking\n"
                    "description = orders with a status outside the allowed set\n\n"
                    "[check none]\nsql = SELECT 1 WHERE false\n\n"
                    "[check elsewhere]\nsql = SELECT 1\ntargets = other\n")
        rep = self.report("cu", "--config", conf, "--only", "custom", "--target", "mine",
                          "--exact-counts", expect=1)
        self.assertEqual([c["name"] for c in rep["checks"]], ["custom:statuses", "custom:none"])
        self.assertEqual(len(rep["findings"]), 1)
        f = rep["findings"][0]
        self.assertEqual(f["key"], "custom:statuses")
        self.assertEqual(f["severity"], "breaking")
        self.assertEqual(f["details"]["rows"], [["3", "lost"], ["4", "bogus"]])
        self.assertEqual(f["details"]["count"], 2)
        self.assertIn("outside the allowed set", f["message"])
        # A custom check runs in the read-only transaction: writes fail and are reported.
        with open(conf, "w") as f:
            f.write("[check writer]\nsql = INSERT INTO public.orders VALUES (9, 'x') RETURNING id\n")
        rc, out, err = self.check("cu", "--config", conf, "--only", "custom:writer",
                                  "--format", "json", expect=2)
        self.assertEqual(json.loads(out)["checks"][0]["status"], "failed")
        self.assertEqual(pg.scalar("cu", "SELECT count(*) FROM orders"), "4")
        # A bad section is a config error with file:line.
        with open(conf, "w") as f:
            f.write("[check broken]\nseverity = huge\nsql = SELECT 1\n")
        rc, out, err = self.check("cu", "--config", conf, expect=2)
        self.assertIn("checks.conf:2", err)

    def test_statement_timeout_and_unreadable_table(self):
        pg = self.pg
        pg.create_db("slow")
        pg.psql("slow", """
            CREATE TABLE p (id int PRIMARY KEY);
            INSERT INTO p VALUES (1);
            CREATE TABLE c (pid int);
            INSERT INTO c VALUES (1), (2);
            ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (pid) REFERENCES p NOT VALID;
            CREATE TABLE secret (pid int);
            INSERT INTO secret VALUES (3);
            ALTER TABLE secret ADD CONSTRAINT secret_fk FOREIGN KEY (pid) REFERENCES p NOT VALID;
            CREATE ROLE monitor LOGIN;
            GRANT SELECT ON p, c TO monitor;
        """)
        conf = self.path("slow.conf")
        with open(conf, "w") as f:
            # This check's own limit; the run's stays at its default (30 s).
            f.write("[check sleepy]\nsql = SELECT 1 FROM pg_sleep(5)\nstatement_timeout = 200ms\n"
                    "\n[check sleepier]\nsql = SELECT 1 FROM pg_sleep(5)\n")
        rc, out, err = pgharness.run_cli("check", "--dsn", pg.dsn("slow", user="monitor"),
                                         "--config", conf, "--only",
                                         "fk-index,orphans,custom:sleepy", "--format", "json")
        rep = json.loads(out)
        self.assertEqual(rc, 2, err)  # a check that timed out: we cannot say
        by = {c["name"]: c for c in rep["checks"]}
        self.assertEqual(by["custom:sleepy"]["status"], "timeout")
        self.assertIn("statement timeout", by["custom:sleepy"]["error"])
        self.assertLess(by["custom:sleepy"]["duration_ms"], 4000)
        # The others still ran: the orphan in c is found...
        self.assertIn("orphans:public.c.c_fk", [f["key"] for f in rep["findings"]])
        # ...and the table the role cannot read is reported, not fatal.
        self.assertEqual(by["orphans"]["status"], "partial")
        self.assertTrue(any("cannot read public.secret.secret_fk" in n and "permission denied" in n
                            for n in by["orphans"]["notes"]), by["orphans"]["notes"])
        self.assertEqual(by["fk-index"]["status"], "ok")
        # --statement-timeout bounds every check's statements.
        rc, out, err = pgharness.run_cli("check", "--dsn", pg.dsn("slow"), "--config", conf,
                                         "--only", "custom:sleepier", "--statement-timeout",
                                         "0.2", "--format", "json")
        self.assertEqual(rc, 2, err)
        res = json.loads(out)["checks"][0]
        self.assertEqual(res["status"], "timeout")
        self.assertLess(res["duration_ms"], 4000)

    def test_hostile_names(self):
        pg = self.pg
        pg.create_db("odd")
        pg.psql("odd", r'''
            CREATE SCHEMA "Sales Dept";
            CREATE TABLE "Sales Dept"."Parent ""P""" ("Id" int PRIMARY KEY);
            INSERT INTO "Sales Dept"."Parent ""P""" VALUES (1);
            CREATE TABLE "Sales Dept"."select" ("Parent
Ref" int, "x;y" text);
            INSERT INTO "Sales Dept"."select" VALUES (1, 'a'), (7, E'line\nbreak\x1b[31m');
            ALTER TABLE "Sales Dept"."select" ADD CONSTRAINT "fk ""q""" FOREIGN KEY ("Parent
Ref") REFERENCES "Sales Dept"."Parent ""P""" NOT VALID;
        ''')
        rep = self.report("odd", "--only", "fk-index,orphans")
        fk = [f for f in rep["findings"] if f["check"] == "fk-index"][0]
        # The suggested index runs as printed, and then the FK is covered.
        pg.psql("odd", fk["fix"])
        rep2 = self.report("odd", "--only", "fk-index", expect=0)
        self.assertEqual(rep2["findings"], [])
        orphan = [f for f in rep["findings"] if f["check"] == "orphans"][0]
        self.assertEqual(orphan["details"]["rows"][0][1], "7")
        # Text output keeps every finding on its lines: control characters escaped.
        rc, out, err = self.check("odd", "--only", "orphans,fk-index", expect=1)
        self.assertNotIn("\x1b", out)
        self.assertIn("Parent\\x0aRef", out)

    def test_sampling_large_tables(self):
        pg = self.pg
        pg.create_db("big")
        pg.psql("big", """
            CREATE TABLE p (id int PRIMARY KEY);
            INSERT INTO p SELECT generate_series(1, 100);
            CREATE TABLE c (pid int);
            INSERT INTO c SELECT 1 + g % 200 FROM generate_series(1, 20000) g;
            ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (pid) REFERENCES p NOT VALID;
            ANALYZE c;
        """)
        rep = self.report("big", "--only", "orphans", "--sample-above", "2000")
        notes = rep["checks"][0]["notes"]
        self.assertTrue(any("TABLESAMPLE SYSTEM" in n and "REPEATABLE" in n for n in notes), notes)
        f = rep["findings"][0]
        self.assertTrue(f["details"]["sampled"])
        self.assertIn("TABLESAMPLE SYSTEM", f["details"]["query"])
        self.assertIn("(in a sample)", f["message"])
        rep = self.report("big", "--only", "orphans", "--sample-above", "0", "--exact-counts")
        f = rep["findings"][0]
        self.assertFalse(f["details"]["sampled"])
        self.assertEqual(f["details"]["count"], 10000)


if __name__ == "__main__":
    pgharness.main()
