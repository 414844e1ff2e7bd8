"""The DDL recorder (schemadrift audit, docs/attribution.md) against a real PostgreSQL."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
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

    def test_install_refuses_a_schema_that_is_not_the_recorders(self):
        acl = "SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'"
        before = self.pg.scalar(self.db, acl)
        rc, out, err = self.audit("install", "--recorder-schema", "public")
        self.assertEqual(rc, 2, out)
        self.assertIn("schema 'public' exists and holds no DDL recorder", err)
        # Nothing changed: PUBLIC keeps its rights on public, no trigger, no table.
        self.assertEqual(self.pg.scalar(self.db, acl), before)
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) FROM pg_event_trigger"), "0")
        self.assertEqual(self.pg.scalar(self.db, "SELECT to_regclass('public.ddl_log') IS NULL"),
                         "t")
        # A recorder schema of another owner is refused too.
        self.assertEqual(self.audit("install")[0], 0)
        self.pg.psql(self.db, "ALTER SCHEMA schemadrift OWNER TO alice")
        rc, out, err = self.audit("install")
        self.assertEqual(rc, 2, out)
        self.assertIn("owned by role 'alice'", err)

    def test_uninstall_keeps_what_is_not_the_recorders(self):
        self.assertEqual(self.audit("install")[0], 0)
        self.pg.psql(self.db, "CREATE TABLE schemadrift.mine (x int); INSERT INTO schemadrift.mine"
                              " VALUES (7)")
        rc, out, err = self.audit("uninstall")
        self.assertEqual(rc, 0, err)
        self.assertIn("kept schema schemadrift", out)
        self.assertEqual(self.pg.scalar(self.db, "SELECT x FROM schemadrift.mine"), "7")
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) FROM pg_event_trigger"), "0")
        self.assertEqual(self.pg.scalar(
            self.db, "SELECT to_regclass('schemadrift.ddl_log') IS NULL"
                     " AND to_regprocedure('schemadrift.recorder_capture()') IS NULL"), "t")

    def test_status_of_a_replica_trigger(self):
        # ENABLE REPLICA fires only under session_replication_role = replica: it does
        # not record the ordinary sessions' DDL, so status says so, as the daemon does.
        self.assertEqual(self.audit("install")[0], 0)
        self.pg.psql(self.db, "ALTER EVENT TRIGGER schemadrift_recorder_ddl ENABLE REPLICA")
        rc, out, err = self.audit("status")
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, r"schemadrift_recorder_ddl\s+replica")
        self.assertIn("the recorder does not record", out)
        self.pg.psql(self.db, "ALTER EVENT TRIGGER schemadrift_recorder_ddl ENABLE ALWAYS")
        self.assertEqual(self.audit("status")[0], 0)

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
        # Cut to --statement-length characters.
        self.assertEqual(alter[6], "ALTER TABLE public.orders ADD COLUMN total numeric"[:40])
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

    def test_install_as_database_owner_without_superuser(self):
        self.pg.psql("postgres", 'ALTER DATABASE "%s" OWNER TO alice' % self.db)
        rc, out, err = self.audit("install", user="alice")
        self.assertEqual(rc, 2)
        self.assertIn("needs the rights that event triggers need", err)
        self.assertIn("event trigger", err.split("azure_pg_admin)")[1])
        self.assertEqual(self.pg.scalar(
            self.db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'schemadrift'"), "0")

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
        # Pasted into the $recorder$ function bodies: a '$' is refused, nothing installed.
        rc, out, err = self.audit("install", "--recorder-schema",
                                  "x$recorder$ LANGUAGE sql AS $$SELECT$$; --")
        self.assertEqual(rc, 2, out)
        self.assertIn("cannot hold '$'", err)
        rc, out, err = self.audit("install", "--retention", "1 day$recorder$")
        self.assertEqual(rc, 2, out)
        self.assertIn("retention '1 day$recorder$' cannot hold '$'", err)
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) FROM pg_event_trigger"), "0")
        self.assertEqual(self.pg.scalar(self.db, "SELECT count(*) FROM pg_namespace"
                                                 " WHERE nspname LIKE '%recorder%'"
                                                 " OR nspname = 'schemadrift'"), "0")


def by_object(doc):
    return {(c["change"], c["kind"], c["object"]): c for c in doc["changes"]}


class AttributionTest(pgharness.PgTestCase):
    """Reading the recorder with the snapshot, and each change of a diff attributed."""

    log_statement = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.psql("postgres", "CREATE ROLE alice LOGIN; CREATE ROLE monitor LOGIN;"
                                " CREATE ROLE nosy LOGIN")

    def setUp(self):
        self.db = self.pg.create_db("a_%s" % self._testMethodName.lower()[:50])
        self.pg.psql(self.db, "CREATE TABLE public.orders (id int PRIMARY KEY, note text);"
                              " ALTER TABLE public.orders OWNER TO alice;"
                              " CREATE TABLE public.old_stuff (x int);"
                              " CREATE FUNCTION public.noop() RETURNS event_trigger"
                              "  LANGUAGE plpgsql AS $$BEGIN END$$;"
                              " CREATE EVENT TRIGGER users_own ON ddl_command_start"
                              "  EXECUTE FUNCTION public.noop()")
        self.base = os.path.join(self.pg.tmpdir, "%s-base.json" % self.db)

    def tearDown(self):
        self.pg.drop_db(self.db)

    def install(self, *extra):
        pgharness.cli_ok("audit", "install", "--dsn", self.pg.dsn(self.db), *extra)

    def test_recorder_objects_absent_from_snapshots(self):
        before = self.pg.snapshot(self.db)
        h0 = self.pg.hash(self.db)
        self.install("--grant", "monitor")
        after = self.pg.snapshot(self.db)
        self.assertEqual(self.pg.hash(self.db), h0, "installing the recorder changed the hash")
        self.assertEqual(self.pg.hash(self.db, user="monitor"), h0)
        self.assertEqual(before["objects"], after["objects"])
        names = [(o["kind"], o.get("schema"), o["name"]) for o in after["objects"]]
        self.assertFalse([n for n in names if n[1] == "schemadrift" or n[2] == "schemadrift"
                          or n[2].startswith("schemadrift_recorder")], names)
        # The user's own event trigger is still there.
        self.assertIn(("event_trigger", None, "users_own"), names)
        rec = after["schemadrift_snapshot"]["meta"]["recorder"]
        self.assertEqual((rec["schema"], rec["ddl_trigger"], rec["drop_trigger"]),
                         ("schemadrift", "origin", "origin"))
        # A diff of the two is empty, and verify and check see nothing of it either.
        rc, doc, err = pgharness.diff(self.pg.live_side(self.db), self.pg.live_side(self.db))
        self.assertEqual(rc, 0, doc)
        rc, out, err = pgharness.run_cli("check", "--dsn", self.pg.dsn(self.db), "--format", "json")
        self.assertIn(rc, (0, 1), err)
        self.assertNotIn("schemadrift.", out)
        self.assertNotIn("ddl_log", out)

    def test_a_forged_recorder_hides_nothing(self):
        # Any role with CREATE on the database can build a schema that looks like the
        # recorder: only the recorder's own objects may be left out, never the rest.
        self.pg.psql("postgres", 'GRANT CREATE ON DATABASE "%s" TO alice' % self.db)
        self.pg.psql(self.db, "CREATE SCHEMA decoy;"
                              " CREATE TABLE decoy.ddl_log (id int, at timestamptz);"
                              " CREATE FUNCTION decoy.recorder_write(event text, tag text,"
                              "  role_name text) RETURNS void LANGUAGE sql AS $$SELECT$$;"
                              " COMMENT ON FUNCTION decoy.recorder_write(text, text, text)"
                              "  IS 'schemadrift DDL recorder: forged';"
                              " CREATE FUNCTION decoy.backdoor() RETURNS int LANGUAGE sql"
                              "  AS $$SELECT 1$$;"
                              " CREATE TABLE decoy.stash (secret text)", user="alice")
        names = [(o["kind"], o.get("schema"), o["name"])
                 for o in self.pg.snapshot(self.db)["objects"]]
        self.assertIn(("function", "decoy", "backdoor"), names)
        self.assertIn(("table", "decoy", "stash"), names)
        # With the real recorder installed, the schema its event triggers call wins.
        self.install()
        snap = self.pg.snapshot(self.db)
        names = [(o["kind"], o.get("schema"), o["name"]) for o in snap["objects"]]
        self.assertEqual(snap["schemadrift_snapshot"]["meta"]["recorder"]["schema"], "schemadrift")
        self.assertIn(("function", "decoy", "backdoor"), names)
        self.assertIn(("function", "decoy", "recorder_write"), names)
        self.assertIn(("table", "decoy", "ddl_log"), names)
        # Other objects in the real recorder's schema are watched too.
        self.pg.psql(self.db, "CREATE FUNCTION schemadrift.extra() RETURNS int LANGUAGE sql"
                              " AS $$SELECT 2$$")
        names = [(o["kind"], o.get("schema"), o["name"])
                 for o in self.pg.snapshot(self.db)["objects"]]
        self.assertIn(("function", "schemadrift", "extra"), names)
        self.assertFalse([n for n in names if n[1] == "schemadrift" and n[2] != "extra"], names)

    def test_one_statement_more_in_the_same_transaction(self):
        self.install()
        start = self.pg.log_offset()
        self.pg.snapshot(self.db)
        with_rec = self.pg.logged_statements("schemadrift", since=start)
        self.pg.psql(self.db, "DROP SCHEMA schemadrift CASCADE")
        start = self.pg.log_offset()
        self.pg.snapshot(self.db)
        without = self.pg.logged_statements("schemadrift", since=start)
        self.assertEqual(len(with_rec), len(without) + 1, "\n".join(with_rec))
        reads = [i for i, s in enumerate(with_rec) if '"schemadrift".ddl_log' in s]
        self.assertEqual(len(reads), 1, with_rec)
        begin = [i for i, s in enumerate(with_rec) if s.startswith("BEGIN")]
        commit = [i for i, s in enumerate(with_rec) if s.startswith("COMMIT")]
        self.assertEqual((len(begin), len(commit)), (1, 1), with_rec)
        self.assertTrue(begin[0] < reads[0] < commit[0], with_rec)

    def test_diff_attributes_each_change(self):
        self.install("--grant", "monitor")
        self.pg.snapshot_file(self.db, self.base, user="monitor")
        self.pg.psql(self.db, "SET application_name = 'deploy-tool';"
                              " ALTER TABLE public.orders ADD COLUMN total numeric",
                     user="alice", tcp=True)
        self.pg.psql(self.db, "SET application_name = 'psql-bob';"
                              " CREATE INDEX orders_note_idx ON public.orders (note)")
        self.pg.psql(self.db, "SET application_name = 'cleanup'; DROP TABLE public.old_stuff")
        self.pg.psql(self.db, "ALTER TABLE public.orders RENAME COLUMN note TO remark")
        live = self.pg.live_side(self.db, user="monitor")
        rc, doc, err = pgharness.diff(self.base, live, expect=1)
        ch = by_object(doc)
        total = ch[("added", "column", "public.orders.total")]["attribution"]
        self.assertEqual((total["session_role"], total["application"], total["client_addr"],
                          total["command_tag"]), ("alice", "deploy-tool", "127.0.0.1",
                                                  "ALTER TABLE"))
        self.assertEqual(total["statement"], "ALTER TABLE public.orders ADD COLUMN total numeric")
        self.assertRegex(total["text"], r"^by alice from 127\.0\.0\.1 \(deploy-tool\) at "
                                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: ALTER TABLE "
                                        r"public\.orders ADD COLUMN total numeric$")
        idx = ch[("added", "index", "public.orders_note_idx")]["attribution"]
        self.assertEqual((idx["session_role"], idx["application"], idx["client_addr"],
                          idx["command_tag"]), ("postgres", "psql-bob", None, "CREATE INDEX"))
        dropped = ch[("removed", "table", "public.old_stuff")]["attribution"]
        self.assertEqual((dropped["application"], dropped["command_tag"], dropped["statement"]),
                         ("cleanup", "DROP TABLE", "DROP TABLE public.old_stuff"))
        renamed = [c for c in doc["changes"] if c["change"] == "renamed"]
        self.assertEqual(len(renamed), 1, doc["changes"])
        self.assertIn("RENAME COLUMN note TO remark", renamed[0]["attribution"]["statement"])
        self.assertIsNone(doc["recorder"]["problem"])
        rc, text, err = pgharness.diff(self.base, live, fmt="text", expect=1)
        self.assertRegex(text, r"\+ column public\.orders\.total \[\w+\]\n    by alice from "
                               r"127\.0\.0\.1 \(deploy-tool\) at [0-9T:Z-]+: ALTER TABLE")
        self.assertNotIn("unattributed", text)

    def test_disabled_recorder_leaves_changes_unattributed(self):
        self.install()
        self.pg.snapshot_file(self.db, self.base)
        self.pg.psql(self.db, "CREATE TABLE public.recorded (x int)")
        self.pg.psql(self.db, "ALTER EVENT TRIGGER schemadrift_recorder_ddl DISABLE;"
                              " CREATE TABLE public.sneaky (x int)")
        rc, doc, err = pgharness.diff(self.base, self.pg.live_side(self.db), expect=1)
        ch = by_object(doc)
        self.assertIsNone(ch[("added", "table", "public.sneaky")]["attribution"])
        self.assertEqual(ch[("added", "table", "public.recorded")]["attribution"]["command_tag"],
                         "CREATE TABLE")
        self.assertIn("disabled", doc["recorder"]["problem"])
        rc, text, err = pgharness.diff(self.base, self.pg.live_side(self.db), fmt="text")
        self.assertRegex(text, r"\+ table public\.sneaky \[\w+\]\n    unattributed: ")
        self.assertIn("attribution: the DDL recorder is disabled", text)
        rc, out, err = pgharness.run_cli("audit", "status", "--dsn", self.pg.dsn(self.db))
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, r"schemadrift_recorder_ddl\s+disabled")
        # render: what a channel would send for that diff carries the same.
        diff_json = os.path.join(self.pg.tmpdir, "%s-diff.json" % self.db)
        with open(diff_json, "w") as f:
            json.dump(doc, f)
        hook = json.loads(pgharness.cli_ok("render", "--channel", "webhook", diff_json))
        rendered = {c["object"]: c for c in hook["changes"]}
        self.assertTrue(rendered["public.sneaky"]["attribution"].startswith("unattributed: "))
        self.assertRegex(rendered["public.recorded"]["attribution"],
                         r"^by postgres from the local socket \(psql\) at [0-9T:Z-]+: CREATE TABLE")
        self.assertIn("disabled", hook["attribution"])

    def test_role_without_the_grant(self):
        self.install()
        self.pg.snapshot_file(self.db, self.base, user="nosy")
        self.pg.psql(self.db, "CREATE TABLE public.newer (x int)")
        rc, doc, err = pgharness.diff(self.base, self.pg.live_side(self.db, user="nosy"), expect=1)
        self.assertIsNone(by_object(doc)[("added", "table", "public.newer")]["attribution"])
        self.assertIn("cannot be read by this role", doc["recorder"]["problem"])

    def test_history_who(self):
        state = os.path.join(self.pg.tmpdir, "%s-state" % self.db)
        store = ("--state-dir", state)
        dsn = self.pg.dsn(self.db, user="monitor")

        def record():
            pgharness.cli_ok("snapshot", "--dsn", dsn, "--target", "app", *store)

        record()
        self.install("--grant", "monitor")
        record()  # the same hash: the recorder is not part of the schema
        self.pg.psql(self.db, "SET application_name = 'deploy-tool';"
                              " ALTER TABLE public.orders ADD COLUMN total numeric", user="alice")
        record()
        self.pg.psql(self.db, "SET application_name = 'cleanup'; DROP TABLE public.old_stuff")
        record()
        out = pgharness.cli_ok("history", "app", "--who", *store)
        lines = out.splitlines()
        self.assertEqual(sum(1 for l in lines if "first snapshot" in l), 1, out)
        i = lines.index("    + column public.orders.total")
        self.assertRegex(lines[i + 1], r"^      by alice from the local socket \(deploy-tool\) at "
                                       r"[0-9T:Z-]+: ALTER TABLE public\.orders ADD COLUMN total")
        i = lines.index("    - table public.old_stuff")
        self.assertRegex(lines[i + 1], r"^      by postgres from the local socket \(cleanup\) at "
                                       r"[0-9T:Z-]+: DROP TABLE public\.old_stuff$")
        # Without --who, history is as it was.
        plain = pgharness.cli_ok("history", "app", *store)
        self.assertNotIn(" by ", plain)
        self.assertEqual(len(plain.splitlines()), 5, plain)  # header, 3 changes, summary

    def test_history_who_cannot_compare(self):
        # A state directory whose name holds a terminal escape, and a kept snapshot gone:
        # history --who says it cannot compare, every byte of the reason escaped.
        state = os.path.join(self.pg.tmpdir, "%s-state\x1b[31m" % self.db)
        store = ("--state-dir", state)
        dsn = self.pg.dsn(self.db, user="monitor")
        self.install("--grant", "monitor")
        pgharness.cli_ok("snapshot", "--dsn", dsn, "--target", "app", *store)
        self.pg.psql(self.db, "ALTER TABLE public.orders ADD COLUMN total numeric")
        pgharness.cli_ok("snapshot", "--dsn", dsn, "--target", "app", *store)
        snaps = sorted((os.path.join(d, f) for d, _, fs in os.walk(state) for f in fs
                        if f.endswith(".json") and len(f) >= 64),
                       key=os.path.getmtime)
        self.assertTrue(snaps, list(os.walk(state)))
        os.unlink(snaps[-1])
        rc, out, err = pgharness.run_cli("history", "app", "--who", *store)
        self.assertIn("(cannot compare: snapshot ", out, err)
        self.assertIn("is not stored", out)
        self.assertNotIn("\x1b", out)

    def test_unreadable_rows_never_fail_the_snapshot(self):
        self.install("--grant", "monitor")
        self.pg.psql(self.db, "CREATE FUNCTION public.boom() RETURNS boolean LANGUAGE plpgsql"
                              " AS $$BEGIN RAISE EXCEPTION 'no'; END$$")
        # SELECT granted, but the table's rows are behind a policy that errors.
        self.pg.psql(self.db, "ALTER TABLE schemadrift.ddl_log ENABLE ROW LEVEL SECURITY;"
                              " CREATE POLICY p ON schemadrift.ddl_log USING (public.boom())")
        h = self.pg.hash(self.db, user="monitor")
        # The policy is not the recorder's own: it is watched like any other object.
        names = [(o["kind"], o.get("schema"), o["name"])
                 for o in self.pg.snapshot(self.db, user="monitor")["objects"]]
        self.assertIn(("policy", "schemadrift", "p"), names)
        self.pg.psql(self.db, "ALTER TABLE public.orders ADD COLUMN x int")
        self.pg.psql(self.db, "ALTER TABLE public.orders DROP COLUMN x")
        snap = self.pg.snapshot(self.db, user="monitor")
        self.assertIs(snap["schemadrift_snapshot"]["meta"]["recorder"]["readable"], False)
        self.assertEqual(self.pg.hash(self.db, user="monitor"), h)

    def test_verify_ignores_the_recorder(self):
        expected = os.path.join(self.pg.tmpdir, "%s-expected.sql" % self.db)
        db = self.pg.create_db("%s_v" % self.db[:40])
        self.addCleanup(self.pg.drop_db, db)
        self.pg.psql(db, "CREATE TABLE public.t (id integer PRIMARY KEY, v text)")
        with open(expected, "w") as f:
            f.write("CREATE TABLE public.t (id integer PRIMARY KEY, v text);\n")
        rc, out, err = pgharness.run_cli("verify", "--dsn", self.pg.dsn(db), "--expected", expected,
                                         "--scratch-dsn", self.pg.dsn("postgres"))
        self.assertEqual(rc, 0, out + err)
        pgharness.cli_ok("audit", "install", "--dsn", self.pg.dsn(db))
        rc, out, err = pgharness.run_cli("verify", "--dsn", self.pg.dsn(db), "--expected", expected,
                                         "--scratch-dsn", self.pg.dsn("postgres"))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("result: the database matches the repository", out)
        self.assertNotIn("ddl_log", out)
        self.assertNotIn("recorder_write", out)
        self.assertNotIn("schemadrift_recorder_ddl", out)

    def test_hostile_statement_is_escaped(self):
        self.install()
        self.pg.snapshot_file(self.db, self.base)
        self.pg.psql(self.db, 'CREATE TABLE public."x\x1b[31mred" (a int) /* \u202etxt.exe */')
        rc, text, err = pgharness.diff(self.base, self.pg.live_side(self.db), fmt="text", expect=1)
        line = [l for l in text.splitlines() if l.startswith("    by ")][0]
        self.assertNotIn("\x1b", line)
        self.assertNotIn("\u202e", line)
        self.assertIn("\\x1b[31mred", line)
        self.assertIn("\\u202e", line.lower())

    def test_without_recorder_nothing_changes(self):
        self.pg.snapshot_file(self.db, self.base)
        self.pg.psql(self.db, "CREATE TABLE public.newer (x int)")
        rc, doc, err = pgharness.diff(self.base, self.pg.live_side(self.db), expect=1)
        self.assertNotIn("recorder", doc)
        self.assertNotIn("attribution", by_object(doc)[("added", "table", "public.newer")])
        with open(self.base) as f:
            self.assertNotIn('"recorder"', f.read())
        rc, text, err = pgharness.diff(self.base, self.pg.live_side(self.db), fmt="text")
        self.assertNotIn("unattributed", text)
        self.assertNotIn("attribution", text)


def changes_of(alert):
    return {c["object"]: c for c in alert["changes"]}


class DaemonAttributionTest(pgharness.PgTestCase):
    """schemadriftd's alerts, delivered to a real webhook receiver, say who made each change."""

    def setUp(self):
        super().setUp()
        self.pg.psql("postgres", "DROP ROLE IF EXISTS alice; DROP ROLE IF EXISTS bob;"
                                 " DROP ROLE IF EXISTS monitor;"
                                 " CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN;"
                                 " CREATE ROLE monitor LOGIN")
        self.db = self.pg.create_db("w_%s" % self._testMethodName.lower()[:50])
        self.addCleanup(self.pg.drop_db, self.db)
        self.pg.psql(self.db, "CREATE TABLE public.orders (id int PRIMARY KEY, total numeric);"
                              " ALTER TABLE public.orders OWNER TO alice;"
                              " CREATE TABLE public.legacy (x int);"
                              " GRANT CREATE ON SCHEMA public TO bob; GRANT alice TO bob")
        self.rx = http_receiver.Receiver().start()
        self.addCleanup(self.rx.stop)

    def daemon(self):
        d = dh.Daemon(self.workdir, "")
        d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every 1s",
                                         settle_delay="1s")
                       + dh.target_section("app", self.pg.dsn(self.db, user="monitor"),
                                           notifiers="hook")
                       + dh.webhook_section("hook", self.rx.url("/hook")))
        return d

    def alerts(self, kind):
        return [r.json for r in self.rx.requests if r.json.get("kind") == kind]

    def wait_drift_with(self, *objects, start=0):
        def found():
            for a in self.alerts("drift")[start:]:
                if all(o in changes_of(a) for o in objects):
                    return a
            return None
        return dh.wait_until(found, what="a drift alert naming %s (have %r)" % (
            ", ".join(objects), [list(changes_of(a)) for a in self.alerts("drift")]))

    def test_alerts_are_attributed(self):
        pgharness.cli_ok("audit", "install", "--dsn", self.pg.dsn(self.db), "--grant", "monitor")
        d = self.daemon()
        with d:
            d.start()
            d.wait_log(r"target 'app': baseline created from the first snapshot")
            self.pg.psql(self.db, "SET application_name = 'deploy-tool';"
                                  " ALTER TABLE public.orders ADD COLUMN note text",
                         user="alice", tcp=True)
            self.pg.psql(self.db, "SET application_name = 'psql-bob';"
                                  " CREATE INDEX orders_total_idx ON public.orders (total)",
                         user="bob")
            hook = self.wait_drift_with("public.orders.note", "public.orders_total_idx")
            self.assertEqual(d.target_status("app")["recorder"], "recording")
            ch = changes_of(hook)
            self.assertRegex(ch["public.orders.note"]["attribution"],
                             r"^by alice from 127\.0\.0\.1 \(deploy-tool\) at [0-9T:Z-]+: "
                             r"ALTER TABLE public\.orders ADD COLUMN note text$")
            self.assertRegex(ch["public.orders_total_idx"]["attribution"],
                             r"^by bob from the local socket \(psql-bob\) at [0-9T:Z-]+: "
                             r"CREATE INDEX orders_total_idx ON public\.orders \(total\)$")
            self.assertNotIn("attribution", hook, "a recording recorder needs no note")

            # -- a DROP, after the drift so far was accepted
            d.store_cli("baseline", "accept", "app", "--reason", "migration 7")
            dh.wait_until(lambda: self.alerts("recovered"), what="recovered")
            seen = len(self.alerts("drift"))
            self.pg.psql(self.db, "SET application_name = 'cleanup'; DROP TABLE public.legacy")
            hook = self.wait_drift_with("public.legacy", start=seen)
            self.assertRegex(changes_of(hook)["public.legacy"]["attribution"],
                             r"^by postgres from the local socket \(cleanup\) at [0-9T:Z-]+: "
                             r"DROP TABLE public\.legacy$")
            self.assertEqual(self.alerts("recorder"), [])

            # -- the recorder disabled: one recorder alert, and the change unattributed
            seen = len(self.alerts("drift"))
            self.pg.psql(self.db, "ALTER EVENT TRIGGER schemadrift_recorder_ddl DISABLE;"
                                  " CREATE TABLE public.sneaky (y text, z int)")
            hook = self.wait_drift_with("public.sneaky", start=seen)
            self.assertTrue(changes_of(hook)["public.sneaky"]["attribution"]
                            .startswith("unattributed: "), hook)
            self.assertIn("disabled", hook["attribution"])
            rec = dh.wait_until(lambda: self.alerts("recorder"), what="a recorder alert")
            self.assertEqual(len(rec), 1, rec)
            self.assertIn("DDL recorder off on app", rec[0]["headline"])
            self.assertIn("ALTER EVENT TRIGGER schemadrift_recorder_ddl ENABLE", rec[0]["headline"])
            runs = d.target_status("app")["runs"]
            d.wait_runs("app", runs + 3)
            self.assertEqual(len(self.alerts("recorder")), 1, "the recorder alert repeated")
            self.assertEqual(d.target_status("app")["recorder"], "not recording")

            # -- removed altogether: one more recorder alert
            pgharness.cli_ok("audit", "uninstall", "--dsn", self.pg.dsn(self.db))
            rec = dh.wait_until(lambda: len(self.alerts("recorder")) >= 2 and self.alerts("recorder"),
                                what="a second recorder alert")
            self.assertIn("was removed", rec[1]["headline"])
            self.assertEqual(d.target_status("app")["recorder"], "absent")

            # -- a restart does not say it again (removing the recorder left the hash as it
            # was, so the last stored snapshot still holds the recorder's rows)
            rc, _ = d.stop()
            self.assertEqual(rc, 0, d.log())
            d.start()
            d.wait_runs("app", 3)  # counted from the restart
            self.assertEqual(len(self.alerts("recorder")), 2,
                             "a restart repeated the recorder alert: %r" % self.alerts("recorder"))
            self.assertEqual(d.target_status("app")["recorder"], "absent")

    def test_without_recorder_the_alert_says_how_to_enable_it(self):
        d = self.daemon()
        with d:
            d.start()
            d.wait_log(r"target 'app': baseline created from the first snapshot")
            self.pg.psql(self.db, "ALTER TABLE public.orders ADD COLUMN note text")
            hook = self.wait_drift_with("public.orders.note")
            self.assertIn("schemadrift audit install", hook["attribution"])
            self.assertNotIn("attribution", changes_of(hook)["public.orders.note"])
            self.assertEqual(self.alerts("recorder"), [])


if __name__ == "__main__":
    pgharness.main()
