"""No false drift for a schema that uses every kind at once (fixture_all_kinds.sql, issue 3).

The same schema must hash the same after pg_dump -Fc / pg_restore into a fresh
database, when created in another order (with other OIDs), after ALTER
EXTENSION ... UPDATE to the version already installed, after re-running
CREATE OR REPLACE FUNCTION with identical text, and with privileges and
policy roles granted in another order.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixture_all_kinds.sql")

# Another valid creation order: every step after the ones it depends on, but
# otherwise shuffled (foreign objects and default privileges early, tables late).
REORDERED = ["roles", "tablespaces", "schemas", "default_privileges", "collations",
             "extensions", "sequences", "domains", "types", "partitions", "foreign",
             "functions", "event_triggers", "procedures", "aggregates", "tables", "rls",
             "views", "triggers", "rules", "publications", "settings"]

# Attributes `schemadrift kinds` lists that the fixture cannot show on this server.
NOT_IN_FIXTURE = {
    # A foreign key's disabled internal triggers: pg_dump does not dump them, so a
    # restored database enforces the key again (and its snapshot says so).
    # tests/drift/constraint_fk_triggers_disabled shows the attribute.
    ("constraint", "triggers"),
}
NOT_IN_FIXTURE_BEFORE = {
    14: {("column", "compression")},
    15: {("publication", "schemas"),  # FOR TABLES IN SCHEMA
         ("collation", "locale")},  # pg_collation.colliculocale
    18: {("constraint", "enforced"),  # NOT ENFORCED
         ("column", "virtual"),
         ("column", "not_null_name"),  # NOT NULL constraints with names of their own
         ("column", "not_null_validated"),
         ("column", "not_null_no_inherit")},
}


def not_in_fixture(major):
    out = set(NOT_IN_FIXTURE)
    for since, attrs in NOT_IN_FIXTURE_BEFORE.items():
        if major < since:
            out |= attrs
    return out


def fixture_steps(major):
    """The fixture for a server of this major, as an ordered list of (step name, SQL)."""
    with open(FIXTURE, encoding="utf-8") as f:
        text = pgharness.fixture_text(f.read(), major)
    parts = re.split(r"^-- @step (\w+)\n", text, flags=re.M)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


def known_kinds():
    """kind -> attribute names, from `schemadrift kinds`."""
    kinds = {}
    for line in pgharness.cli_ok("kinds").splitlines():
        if line.startswith("--") or ":" not in line:
            continue
        kind, attrs = line.split(":", 1)
        kinds[kind.strip()] = attrs.split()
    return kinds


class CoverageNoFalseDriftTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.steps = fixture_steps(cls.pg.major)
        cls.pg.create_db("orig")
        cls.pg.psql_file("orig", FIXTURE)
        cls.orig_hash = cls.pg.hash("orig")

    def load_fixture(self, db, order=None):
        self.pg.create_db(db)
        steps = dict(self.steps)
        if order is None:
            self.pg.psql(db, "".join(sql for _, sql in self.steps))
            return
        self.assertEqual(sorted(order), sorted(steps), "REORDERED must name every step once")
        self.pg.psql(db, "".join(steps[name] for name in order))

    def assertSameSchema(self, db_a, db_b):
        """Hashes equal and `diff` says no changes; on failure show what differs."""
        ha, hb = self.pg.hash(db_a), self.pg.hash(db_b)
        if ha != hb:
            rc, text, err = pgharness.diff(self.pg.live_side(db_a), self.pg.live_side(db_b),
                                           "text")
            self.fail("hash of %s (%s) != hash of %s (%s)\n%s\ndiff (exit %d):\n%s%s" % (
                db_a, ha, db_b, hb,
                pgharness.diff_objects(self.pg.snapshot(db_a), self.pg.snapshot(db_b)),
                rc, text, err))
        rc, doc, err = pgharness.diff(self.pg.live_side(db_a), self.pg.live_side(db_b), "json")
        self.assertEqual(rc, 0, "diff %s %s: %s %s" % (db_a, db_b, err, doc))

    # -- the fixture really uses every kind --------------------------------

    def test_fixture_uses_every_kind_and_attribute(self):
        snap = self.pg.snapshot("orig")
        seen = {}
        for o in snap["objects"]:
            seen.setdefault(o["kind"], set()).update(o.get("attrs", {}))
        kinds = known_kinds()
        self.assertGreater(len(kinds), 20, "`schemadrift kinds` lists too few kinds: %r" % kinds)
        missing_kinds = sorted(k for k in kinds if k not in seen)
        self.assertEqual(missing_kinds, [], "kinds the fixture does not produce")
        missing_attrs = sorted((k, a) for k, attrs in kinds.items() for a in attrs
                               if a not in seen.get(k, ()) and (k, a) not in not_in_fixture(self.pg.major))
        self.assertEqual(missing_attrs, [], "attributes no fixture object has")

    def test_extension_members_not_reported(self):
        """pg_trgm, hstore and postgres_fdw add dozens of objects: only the extensions show."""
        snap = self.pg.snapshot("orig")
        names = {(o["kind"], o.get("schema"), o["name"]) for o in snap["objects"]}
        for ext in ("pg_trgm", "hstore", "postgres_fdw"):
            self.assertIn(("extension", None, ext), names)
        leaked = sorted(n for n in names if n[1] == "ext")
        self.assertEqual(leaked, [], "objects of extensions reported one by one")
        self.assertNotIn(("foreign_data_wrapper", None, "postgres_fdw"), names)

    def test_user_mapping_secrets_never_read(self):
        raw = self.pg.snapshot_raw("orig")
        self.assertNotIn(b"hunter2", raw)
        self.assertNotIn(b"user mapping", raw.lower())

    # -- no false drift ----------------------------------------------------

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
        # pg_restore brings ALTER DATABASE ... SET back only with --create, which
        # would make "orig" itself: copied by hand, as when restoring under another name.
        self.pg.copy_db_settings("orig", "restored")
        self.assertSameSchema("orig", "restored")

    def test_creation_order(self):
        self.pg.create_db("reordered")
        # Burn OIDs first so that no object gets the OID it has in "orig".
        self.pg.psql("reordered", """
            CREATE TABLE burn (a integer);
            DO $$BEGIN FOR i IN 1..50 LOOP
                EXECUTE format('CREATE TYPE burn_%s AS ENUM (''x'')', i);
                EXECUTE format('DROP TYPE burn_%s', i);
            END LOOP; END$$;
            DROP TABLE burn;
        """)
        steps = dict(self.steps)
        self.assertEqual(sorted(REORDERED), sorted(steps), "REORDERED must name every step once")
        self.pg.psql("reordered", "".join(steps[name] for name in REORDERED))
        orig_oid = self.pg.scalar("orig", "SELECT 'cov.orders'::regclass::oid")
        self.assertNotEqual(orig_oid, self.pg.scalar("reordered",
                                                     "SELECT 'cov.orders'::regclass::oid"))
        self.assertSameSchema("orig", "reordered")

    def test_extension_update_to_same_version(self):
        self.load_fixture("extupd")
        before = self.pg.hash("extupd")
        for ext in ("pg_trgm", "hstore", "postgres_fdw"):
            version = self.pg.scalar("extupd", "SELECT extversion FROM pg_extension "
                                               "WHERE extname = '%s'" % ext)
            self.assertTrue(version, ext)
            self.pg.psql("extupd", "ALTER EXTENSION %s UPDATE TO '%s'" % (ext, version))
            self.pg.psql("extupd", "ALTER EXTENSION %s UPDATE" % ext)
            self.assertEqual(version, self.pg.scalar(
                "extupd", "SELECT extversion FROM pg_extension WHERE extname = '%s'" % ext))
        self.assertEqual(self.pg.hash("extupd"), before)
        self.assertSameSchema("orig", "extupd")

    def test_create_or_replace_identical(self):
        self.load_fixture("replaced")
        before = self.pg.hash("replaced")
        steps = dict(self.steps)
        again = (steps["functions"] + steps["procedures"]).replace(
            "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace(
            "CREATE PROCEDURE", "CREATE OR REPLACE PROCEDURE")
        self.assertGreaterEqual(again.count("CREATE OR REPLACE"), 8)
        # Proof that the functions really were replaced: xmin changes.
        xmin = self.pg.scalar("replaced", "SELECT xmin FROM pg_proc WHERE proname = 'touch'")
        self.pg.psql("replaced", again)
        self.assertNotEqual(xmin, self.pg.scalar(
            "replaced", "SELECT xmin FROM pg_proc WHERE proname = 'touch'"))
        self.assertEqual(self.pg.hash("replaced"), before)
        self.assertSameSchema("orig", "replaced")

    def test_privileges_and_policy_roles_as_sets(self):
        """GRANTs and policy roles named in another order: the catalog differs, the hash not."""
        ddl = """
            CREATE TABLE acl_t (a integer, b integer);
            CREATE FUNCTION acl_f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
            REVOKE ALL ON FUNCTION acl_f() FROM PUBLIC;
        """
        grants = ["GRANT SELECT ON acl_t TO cov_reader;",
                  "GRANT INSERT ON acl_t TO cov_writer;",
                  "GRANT UPDATE (b) ON acl_t TO cov_writer;",
                  "GRANT UPDATE (b) ON acl_t TO cov_reader;",
                  "GRANT EXECUTE ON FUNCTION acl_f() TO cov_writer;",
                  "GRANT EXECUTE ON FUNCTION acl_f() TO cov_reader;"]
        self.pg.create_db("acl1")
        self.pg.create_db("acl2")
        self.pg.psql("acl1", ddl + "\n".join(grants) +
                     "\nCREATE POLICY p ON acl_t TO cov_reader, cov_writer USING (true);")
        self.pg.psql("acl2", ddl + "\n".join(reversed(grants)) +
                     "\nCREATE POLICY p ON acl_t TO cov_writer, cov_reader USING (true);")
        # The server keeps the order the grants were made in: different arrays.
        q = "SELECT relacl::text FROM pg_class WHERE relname = 'acl_t'"
        self.assertNotEqual(self.pg.scalar("acl1", q), self.pg.scalar("acl2", q))
        self.assertSameSchema("acl1", "acl2")


if __name__ == "__main__":
    pgharness.main()
