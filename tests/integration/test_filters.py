"""Noise control (issue 3): include/exclude globs, --ignore groups, kinds and attributes,
--partitions, whitespace-blind bodies; filtering happens before hashing.

Each test builds its own database, takes a snapshot with the filter, makes a
real change and checks what the filtered diff and hash show, and that the same
change *is* visible without the filter (so every test can fail).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402


def role_sql(*names):
    return "".join("DO $$BEGIN CREATE ROLE %s NOLOGIN; EXCEPTION WHEN duplicate_object "
                   "THEN NULL; END$$;\n" % n for n in names)


class FilterTest(pgharness.PgTestCase):

    _n = 0

    def new_db(self, sql):
        FilterTest._n += 1
        db = "f%d" % FilterTest._n
        self.pg.create_db(db)
        self.pg.psql(db, sql)
        return db

    def snap(self, db, *opts):
        FilterTest._n += 1
        path = self.path("snap%d.json" % FilterTest._n)
        pgharness.cli_ok("snapshot", "--dsn", self.pg.dsn(db), "-o", path, *opts)
        return path

    def hash(self, db, *opts):
        return pgharness.cli_ok("hash", "--dsn", self.pg.dsn(db), *opts).strip()

    def changes(self, a, b, *opts, expect=(0, 1)):
        """diff a b --format json with opts: (exit status, changes)."""
        rc, out, err = pgharness.run_cli("diff", a, b, "--format", "json", *opts)
        self.assertIn(rc, expect, "diff %s: exit %d\n%s%s" % (" ".join(opts), rc, err, out))
        return rc, json.loads(out)["changes"]

    def scenario(self, before, after, *opts):
        """Snapshot with and without opts, apply `after`, diff live both ways.

        Returns (filtered changes, unfiltered changes, filtered hash before/after)."""
        db = self.new_db(before)
        a_f, a_u = self.snap(db, *opts), self.snap(db)
        h_before = self.hash(db, *opts)
        self.pg.psql(db, after)
        _, filtered = self.changes(a_f, self.pg.live_side(db), *opts)
        _, unfiltered = self.changes(a_u, self.pg.live_side(db))
        h_after = self.hash(db, *opts)
        return db, filtered, unfiltered, (h_before, h_after)

    def keys(self, changes):
        return sorted((c["change"], c["kind"], c["object"], c.get("attribute")) for c in changes)

    # -- include / exclude -------------------------------------------------

    BASE = """
        CREATE SCHEMA audit;
        CREATE SCHEMA tmp_work;
        CREATE TABLE public.orders (id integer PRIMARY KEY, total numeric);
        CREATE TABLE public.keep_me (id integer);
        CREATE TABLE audit.log (id integer, msg text);
        CREATE INDEX log_msg ON audit.log (msg);
        CREATE TABLE tmp_work.scratch (a integer);
        CREATE FUNCTION audit.note() RETURNS integer LANGUAGE sql AS 'SELECT 1';
    """
    AUDIT_CHANGES = """
        ALTER TABLE audit.log ADD COLUMN at timestamp, ALTER COLUMN msg TYPE varchar(10);
        DROP INDEX audit.log_msg;
        CREATE TABLE audit.log2 (id integer);
        GRANT SELECT ON audit.log TO PUBLIC;
        CREATE OR REPLACE FUNCTION audit.note() RETURNS integer LANGUAGE sql AS 'SELECT 2';
        COMMENT ON TABLE audit.log IS 'x';
    """

    def test_exclude_glob_hides_changes_and_keeps_hash(self):
        db, filtered, unfiltered, (h1, h2) = self.scenario(
            self.BASE, self.AUDIT_CHANGES, "--exclude", "audit.*")
        self.assertEqual(filtered, [])
        self.assertEqual(h1, h2, "hash changed by excluded objects")
        self.assertGreaterEqual(len(unfiltered), 6, unfiltered)
        self.assertNotEqual(self.hash(db), h1)
        # A change outside the excluded set is still seen, and moves the hash.
        a = self.snap(db, "--exclude", "audit.*")
        self.pg.psql(db, "ALTER TABLE public.orders ADD COLUMN note text")
        rc, ch = self.changes(a, self.pg.live_side(db), "--exclude", "audit.*")
        self.assertEqual(self.keys(ch), [("added", "column", "public.orders.note", None)])
        self.assertNotEqual(self.hash(db, "--exclude", "audit.*"), h2)

    def test_exclude_one_table_takes_its_children(self):
        """Excluding a table excludes its columns, indexes, constraints and triggers too."""
        db, filtered, unfiltered, (h1, h2) = self.scenario(
            self.BASE, """
            ALTER TABLE public.orders ADD COLUMN c integer;
            CREATE INDEX orders_total ON public.orders (total);
            ALTER TABLE public.orders ADD CONSTRAINT pos CHECK (total > 0);
            """, "--exclude", "public.orders")
        self.assertEqual(filtered, [])
        self.assertEqual(h1, h2)
        self.assertEqual(len(unfiltered), 3, unfiltered)
        snap = self.pg.snapshot(db)  # unfiltered, for comparison
        self.assertTrue(any(o.get("parent") == "orders" for o in snap["objects"]))

    def test_exclude_schema(self):
        db, filtered, unfiltered, (h1, h2) = self.scenario(
            self.BASE, self.AUDIT_CHANGES + "CREATE TABLE tmp_work.more (a integer);",
            "--exclude-schema", "audit", "--exclude-schema", "tmp_*")
        self.assertEqual(filtered, [])
        self.assertEqual(h1, h2)
        self.assertGreaterEqual(len(unfiltered), 7)
        names = {(o["kind"], o.get("schema"), o["name"]) for o in self.pg.snapshot(
            db)["objects"]}
        self.assertIn(("table", "tmp_work", "more"), names)

    def test_excluded_schema_hashes_like_absent_schema(self):
        """Filtering happens before hashing: excluded objects are as if they did not exist."""
        with_audit = self.new_db(self.BASE)
        without = self.new_db("""
            CREATE TABLE public.orders (id integer PRIMARY KEY, total numeric);
            CREATE TABLE public.keep_me (id integer);
        """)
        opts = ("--exclude-schema", "audit", "--exclude-schema", "tmp_work")
        self.assertEqual(self.hash(with_audit, *opts), self.hash(without))
        self.assertNotEqual(self.hash(with_audit), self.hash(without))
        rc, ch = self.changes(self.pg.live_side(with_audit), self.pg.live_side(without), *opts)
        self.assertEqual((rc, ch), (0, []))

    def test_filter_applies_to_snapshot_files_too(self):
        """An unfiltered snapshot file compared with a filter is filtered the same way."""
        db = self.new_db(self.BASE)
        a = self.snap(db)
        self.pg.psql(db, self.AUDIT_CHANGES)
        rc, ch = self.changes(a, self.pg.live_side(db), "--exclude-schema", "audit")
        self.assertEqual((rc, ch), (0, []))
        self.assertEqual(pgharness.cli_ok("hash", a, "--exclude-schema", "audit").strip(),
                         self.hash(db, "--exclude-schema", "audit"))

    def test_include(self):
        db, filtered, unfiltered, (h1, h2) = self.scenario(
            self.BASE, self.AUDIT_CHANGES + """
            ALTER TABLE public.orders ADD COLUMN c integer;
            ALTER TABLE public.keep_me ADD COLUMN c integer;
            CREATE INDEX keep_me_c ON public.keep_me (c);
            """, "--include", "public.keep*")
        self.assertEqual(self.keys(filtered), [
            ("added", "column", "public.keep_me.c", None),
            ("added", "index", "public.keep_me_c", None)])
        self.assertNotEqual(h1, h2)
        self.assertGreater(len(unfiltered), len(filtered))
        snap = json.loads(pgharness.cli_ok("snapshot", "--dsn", self.pg.dsn(db),
                                           "--include", "public.keep*"))
        tables = {o["name"] for o in snap["objects"] if o["kind"] == "table"}
        self.assertEqual(tables, {"keep_me"})

    def test_include_schema(self):
        db, filtered, unfiltered, (h1, h2) = self.scenario(
            self.BASE, self.AUDIT_CHANGES + "ALTER TABLE public.orders ADD COLUMN c integer;",
            "--include-schema", "audit")
        self.assertNotIn("public.orders.c", [c["object"] for c in filtered])
        self.assertIn(("added", "table", "audit.log2", None), self.keys(filtered))
        self.assertIn("public.orders.c", [c["object"] for c in unfiltered])

    def test_system_schemas_never_included(self):
        db = self.new_db("CREATE TABLE t (a integer);")
        for opts in ((), ("--include-schema", "*"), ("--include-schema", "pg_*"),
                     ("--include-schema", "information_schema"), ("--include", "pg_catalog.*")):
            snap = json.loads(pgharness.cli_ok("snapshot", "--dsn", self.pg.dsn(db), *opts))
            schemas = {o.get("schema") or (o["name"] if o["kind"] == "schema" else None)
                       for o in snap["objects"]}
            bad = schemas & {"pg_catalog", "information_schema", "pg_toast"}
            self.assertEqual(bad, set(), "with %s" % (opts,))
            self.assertFalse(any(s and s.startswith("pg_temp") for s in schemas))

    # -- --ignore ------------------------------------------------------------

    PRIV_BASE = role_sql("filt_reader", "filt_owner") + """
        CREATE TABLE t (a integer, b text);
        CREATE SEQUENCE s;
        CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
        CREATE SCHEMA sch;
    """

    def test_ignore_privileges(self):
        """--ignore privileges makes GRANTs invisible while a column change is still seen."""
        db, filtered, unfiltered, (h1, h2) = self.scenario(self.PRIV_BASE, """
            GRANT SELECT ON t TO filt_reader;
            GRANT UPDATE (b) ON t TO filt_reader;
            GRANT USAGE ON SEQUENCE s TO filt_reader;
            REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;
            GRANT USAGE ON SCHEMA sch TO filt_reader;
            ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO filt_reader;
            """, "--ignore", "privileges")
        self.assertEqual(filtered, [])
        self.assertEqual(h1, h2)
        self.assertEqual(len(unfiltered), 6, unfiltered)
        # The same snapshot, now with a column change on top of a grant.
        a = self.snap(db, "--ignore", "privileges")
        self.pg.psql(db, "GRANT INSERT ON t TO filt_reader; ALTER TABLE t ALTER COLUMN a TYPE bigint;")
        rc, ch = self.changes(a, self.pg.live_side(db), "--ignore", "privileges")
        self.assertEqual(rc, 1)
        self.assertEqual(self.keys(ch), [("modified", "column", "public.t.a", "type")])

    def test_ignore_ownership(self):
        """ALTER ... OWNER TO is invisible with --ignore ownership (the owner and the
        ACL the server rewrites for the new owner alike)."""
        db, filtered, unfiltered, (h1, h2) = self.scenario(self.PRIV_BASE, """
            ALTER TABLE t OWNER TO filt_owner;
            ALTER SEQUENCE s OWNER TO filt_owner;
            ALTER FUNCTION f() OWNER TO filt_owner;
            ALTER SCHEMA sch OWNER TO filt_owner;
            """, "--ignore", "ownership")
        self.assertEqual([c["attribute"] for c in unfiltered].count("owner"), 4, unfiltered)
        self.assertEqual(filtered, [])
        self.assertEqual(h1, h2)

    def test_ignore_ownership_and_privileges(self):
        db, filtered, unfiltered, (h1, h2) = self.scenario(self.PRIV_BASE, """
            ALTER TABLE t OWNER TO filt_owner;
            GRANT SELECT ON t TO filt_reader;
            ALTER TABLE t ADD COLUMN c integer;
            """, "--ignore", "ownership,privileges")
        self.assertEqual(self.keys(filtered), [("added", "column", "public.t.c", None)])

    def test_ignore_comments(self):
        db, filtered, unfiltered, (h1, h2) = self.scenario(self.PRIV_BASE, """
            COMMENT ON TABLE t IS 'a table';
            COMMENT ON COLUMN t.a IS 'a column';
            COMMENT ON FUNCTION f() IS 'a function';
            COMMENT ON SCHEMA sch IS 'a schema';
            """, "--ignore", "comments")
        self.assertEqual(filtered, [])
        self.assertEqual(h1, h2)
        self.assertEqual(len(unfiltered), 4)

    def test_ignore_column_order(self):
        """A table rebuilt with its columns in another order: only the order differs."""
        db, filtered, unfiltered, (h1, h2) = self.scenario(
            "CREATE TABLE t (a integer, b text, c date);",
            "DROP TABLE t; CREATE TABLE t (c date, a integer, b text);",
            "--ignore", "column-order")
        self.assertEqual(filtered, [])
        self.assertEqual(h1, h2)
        self.assertEqual({c["attribute"] for c in unfiltered}, {"position"})
        # A dropped column still shows, without the moves it causes.
        a = self.snap(db, "--ignore", "column-order")
        self.pg.psql(db, "ALTER TABLE t DROP COLUMN c")
        rc, ch = self.changes(a, self.pg.live_side(db), "--ignore", "column-order")
        self.assertEqual(self.keys(ch), [("removed", "column", "public.t.c", None)])

    def test_ignore_kind_and_attribute(self):
        db, filtered, unfiltered, (h1, h2) = self.scenario("""
            CREATE TABLE t (a text, b text);
            CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
            """, """
            CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg();
            ALTER TABLE t ALTER COLUMN a TYPE text COLLATE "C";
            ALTER TABLE t ALTER COLUMN b SET DEFAULT 'x';
            """, "--ignore", "trigger,column.collation")
        self.assertEqual(self.keys(filtered), [("modified", "column", "public.t.b", "default")])
        self.assertEqual(len(unfiltered), 3)

    def test_ignore_unknown_name_is_an_error(self):
        rc, out, err = pgharness.run_cli("hash", "--dsn", self.pg.dsn("postgres"),
                                         "--ignore", "privileges,no-such-thing")
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("no-such-thing", err)
        self.assertIn("schemadrift kinds", err)

    # -- partitions ----------------------------------------------------------

    PART = """
        CREATE TABLE m (id integer NOT NULL, at date NOT NULL, note text) PARTITION BY RANGE (at);
        CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE m_rest PARTITION OF m DEFAULT;
        ALTER TABLE m ADD PRIMARY KEY (id, at);
        CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
        CREATE TRIGGER m_tr BEFORE INSERT ON m FOR EACH ROW EXECUTE FUNCTION trg();
    """
    PARTS = ("m_2024", "m_2025", "m_rest")

    def test_partitions_parent_default(self):
        db = self.new_db(self.PART)
        objs = self.pg.snapshot(db)["objects"]
        # Partition set and bounds are reported...
        parts = {o["name"]: o["attrs"] for o in objs if o["kind"] == "table"
                 and o["attrs"].get("partition_of")}
        self.assertEqual(set(parts), set(self.PARTS))
        self.assertEqual(parts["m_rest"]["partition_bound"], "DEFAULT")
        # ...what they inherit is not.
        inherited = [(o["kind"], o.get("parent"), o["name"]) for o in objs
                     if o.get("parent") in self.PARTS]
        self.assertEqual(inherited, [])
        parent = {(o["kind"], o["name"]) for o in objs if o.get("parent") == "m"}
        self.assertTrue({("column", "id"), ("column", "at"), ("column", "note"),
                         ("index", "m_pkey"), ("constraint", "m_pkey"),
                         ("trigger", "m_tr")} <= parent, parent)

    def test_partitions_full(self):
        db = self.new_db(self.PART)
        objs = json.loads(pgharness.cli_ok("snapshot", "--dsn", self.pg.dsn(db),
                                           "--partitions", "full"))["objects"]
        for p in self.PARTS:
            children = {(o["kind"], o["name"]) for o in objs if o.get("parent") == p}
            self.assertTrue({("column", "id"), ("column", "at"), ("column", "note"),
                             ("trigger", "m_tr")} <= children, (p, children))
            self.assertTrue(any(k == "index" for k, _ in children), (p, children))

    def test_partitions_change_reported_once_at_parent(self):
        change = "ALTER TABLE m ADD COLUMN extra integer; CREATE INDEX m_note ON m (note);"
        db, parent_mode, _, _ = self.scenario(self.PART, change)
        self.assertEqual(self.keys(parent_mode), [("added", "column", "public.m.extra", None),
                                                  ("added", "index", "public.m_note", None)])
        db, full, _, _ = self.scenario(self.PART, change, "--partitions", "full")
        cols = sorted(c["object"] for c in full if c["kind"] == "column")
        self.assertEqual(cols, sorted(["public.m.extra"] +
                                      ["public.%s.extra" % p for p in self.PARTS]))
        idx_parents = sorted(c["parent"] for c in full if c["kind"] == "index")
        self.assertEqual(idx_parents, sorted(["m"] + list(self.PARTS)))

    def test_partitions_own_objects_reported_by_default(self):
        """What a partition has of its own (not inherited) is drift even in parent mode."""
        db, changes, full_changes, _ = self.scenario(self.PART, """
            CREATE INDEX m_2024_note ON m_2024 (note);
            ALTER TABLE m_2024 ADD CONSTRAINT m_2024_pos CHECK (id > 0);
            """)
        self.assertEqual(self.keys(changes), [
            ("added", "constraint", "public.m_2024.m_2024_pos", None),
            ("added", "index", "public.m_2024_note", None)])

    def test_partitions_own_column_settings_reported_by_default(self):
        """A default or NOT NULL set on one partition's column only is not inherited: drift."""
        db, changes, _, _ = self.scenario(self.PART, """
            ALTER TABLE m_2024 ALTER COLUMN note SET DEFAULT 'x';
            ALTER TABLE m_2025 ALTER COLUMN note SET NOT NULL;
            """)
        self.assertEqual(self.keys(changes), [
            ("modified", "column", "public.m_2024.note", "default"),
            ("modified", "column", "public.m_2025.note", "not_null")])

    # -- whitespace in bodies --------------------------------------------------

    def body_case(self, before_body, after_body, language="plpgsql"):
        """A function whose body goes from before_body to after_body: the changes
        with and without --ignore body-whitespace."""
        fn = "CREATE OR REPLACE FUNCTION f(a integer) RETURNS text LANGUAGE %s AS $fn$%s$fn$;"
        db, filtered, unfiltered, hashes = self.scenario(
            fn % (language, before_body), fn % (language, after_body),
            "--ignore", "body-whitespace")
        # Without the option every one of these is a body change.
        self.assertEqual(self.keys(unfiltered),
                         [("modified", "function", "public.f(a integer)", "body")])
        return filtered, hashes

    def test_body_whitespace_only_is_hidden(self):
        before = "\nBEGIN\n  RETURN a::text || 'x';\nEND\n"
        after = "BEGIN RETURN   a :: text\n\t||  'x' ;  END"
        filtered, (h1, h2) = self.body_case(before, after)
        self.assertEqual(filtered, [])
        self.assertEqual(h1, h2)

    def test_body_whitespace_sql_function(self):
        filtered, _ = self.body_case("SELECT a::text", "\n  SELECT\n    a::text\n", "sql")
        self.assertEqual(filtered, [])

    def test_body_real_change_still_seen(self):
        filtered, (h1, h2) = self.body_case("BEGIN RETURN a::text; END",
                                            "BEGIN  RETURN (a + 1)::text;  END")
        self.assertEqual(self.keys(filtered),
                         [("modified", "function", "public.f(a integer)", "body")])
        self.assertNotEqual(h1, h2)

    def test_body_whitespace_in_string_literal_is_real(self):
        filtered, _ = self.body_case("BEGIN RETURN 'a b'; END", "BEGIN RETURN 'a  b'; END")
        self.assertEqual(len(filtered), 1, filtered)

    def test_body_whitespace_in_escape_string_is_real(self):
        filtered, _ = self.body_case("BEGIN RETURN E'it\\'s a b'; END",
                                     "BEGIN RETURN E'it\\'s a  b'; END")
        self.assertEqual(len(filtered), 1, filtered)

    def test_body_whitespace_in_dollar_quote_is_real(self):
        filtered, _ = self.body_case("BEGIN RETURN $q$a b$q$; END",
                                     "BEGIN RETURN $q$a\tb$q$; END")
        self.assertEqual(len(filtered), 1, filtered)
        filtered, _ = self.body_case("BEGIN RETURN $$a b$$; END",
                                     "BEGIN RETURN $$a\nb$$; END")
        self.assertEqual(len(filtered), 1, filtered)

    def test_body_whitespace_in_quoted_identifier_is_real(self):
        filtered, _ = self.body_case('BEGIN RETURN (SELECT 1 AS "x y")::text; END',
                                     'BEGIN RETURN (SELECT 1 AS "x  y")::text; END')
        self.assertEqual(len(filtered), 1, filtered)

    def test_body_whitespace_around_quotes_hidden(self):
        """Whitespace next to (not inside) strings and dollar quotes is still noise."""
        filtered, _ = self.body_case("BEGIN RETURN 'a b' || $q$c d$q$; END",
                                     "BEGIN\n  RETURN 'a b'\n    || $q$c d$q$;\nEND")
        self.assertEqual(filtered, [])

    def test_body_quote_in_comment(self):
        """An apostrophe in a comment opens no string: whitespace after it is still noise,
        a string after it still real."""
        body = "BEGIN -- don't\n RETURN 'a%sb'%s; END"
        filtered, _ = self.body_case(body % (" ", ""), body % (" ", "   "))
        self.assertEqual(filtered, [])
        filtered, _ = self.body_case(body % (" ", ""), body % ("  ", ""))
        self.assertEqual(len(filtered), 1, filtered)

    def test_body_whitespace_procedure(self):
        db, filtered, unfiltered, _ = self.scenario(
            "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$BEGIN PERFORM 1; END$$;",
            "CREATE OR REPLACE PROCEDURE p() LANGUAGE plpgsql AS $$\nBEGIN\n  PERFORM 1;\nEND\n$$;",
            "--ignore", "body-whitespace")
        self.assertEqual(filtered, [])
        self.assertEqual(len(unfiltered), 1)


if __name__ == "__main__":
    pgharness.main()
