"""schemadrift verify against real PostgreSQL: every input format, history tables, the scratch side, outputs."""

import binascii
import glob
import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import pgharness
from pgharness import run_cli


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def flyway_checksum(text):
    """Flyway's CRC32 over the file's lines without line ends, as a signed int."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "").encode()
    v = binascii.crc32(data) & 0xffffffff
    return v - (1 << 32) if v >= 1 << 31 else v


GOLANG_HISTORY = "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);"


class VerifyTest(pgharness.PgTestCase):

    def setUp(self):
        super().setUp()
        self.db = "v_%s" % self._testMethodName[5:30].lower()
        self.pg.create_db(self.db)
        self.dsn = self.pg.dsn(self.db)
        self.repo = self.path("repo")

    def verify(self, *args, expect=0, fmt="json", scratch=True, env=None):
        extra = ["--scratch-dsn", self.pg.dsn("postgres")] if scratch else []
        rc, out, err = run_cli("verify", "--dsn", self.dsn, "--format", fmt, *extra, *args, env=env)
        self.assertEqual(rc, expect, "verify %s: exit %d\nstdout: %s\nstderr: %s" %
                         (" ".join(args), rc, out, err))
        if fmt == "json" and rc in (0, 1):
            return json.loads(out), err
        return out, err

    def apply(self, *paths):
        for p in paths:
            self.pg.psql_file(self.db, p)

    def changes(self, report):
        return sorted((c["change"], c["kind"], c["object"]) for c in report["diff"]["changes"])

    # -- one .sql file ------------------------------------------------------

    def test_sql_file_match_then_hotfix(self):
        schema = write(self.path("schema.sql"),
                       "CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2));\n"
                       "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
                       "BEGIN RETURN 1; END; $$;\n"
                       "CREATE VIEW v AS SELECT id FROM orders WHERE id > 0;\n")
        self.apply(schema)
        report, _ = self.verify("--expected", schema)
        self.assertEqual(report["result"], "match")
        self.assertEqual(report["expected_format"], "sql")
        text, _ = self.verify("--expected", schema, fmt="text")
        self.assertIn("the database matches the repository", text)
        # A hand-made hotfix on the database: found, exit 1, never "matches".
        self.pg.psql(self.db, "CREATE INDEX orders_total_idx ON orders (total);"
                              "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);"
                              "CREATE OR REPLACE VIEW v AS SELECT id FROM orders WHERE id > 1")
        report, _ = self.verify("--expected", schema, expect=1)
        self.assertEqual(report["result"], "mismatch")
        self.assertIn(("added", "index", "public.orders_total_idx"), self.changes(report))
        self.assertEqual(report["summary"]["only_in_database"], 1)
        self.assertEqual(report["summary"]["different"], 2)
        text, _ = self.verify("--expected", schema, fmt="text", expect=1)
        self.assertIn("only in the database: index public.orders_total_idx", text)
        self.assertIn("different: column public.orders.total: type: numeric(10,2) (repository), "
                      "numeric(12,2) (database)", text)
        # A multi-line value: each side on lines of its own, control characters escaped.
        self.assertRegex(text, r"different: view public.v: definition\n    repository:\n"
                               r"       SELECT orders.id\n.*\n.*WHERE \(orders.id > 0\);\n"
                               r"    database:\n")
        self.assertIn("MISMATCH", text)
        self.assertNotIn("matches", text)
        self.assertNotIn("in sync", text)
        # The scratch databases are dropped.
        self.assertEqual(self.pg.query("postgres", "SELECT datname FROM pg_database WHERE "
                                                   "datname LIKE 'schemadrift_verify%'"), [])

    def test_hostile_names_are_escaped(self):
        schema = write(self.path("schema.sql"), "CREATE TABLE t (id int);\n")
        self.apply(schema)
        self.pg.psql(self.db, 'CREATE TABLE "evil\x1b[31mred\nline" (id int)')
        text, _ = self.verify("--expected", schema, fmt="text", expect=1)
        self.assertNotIn("\x1b", text)
        self.assertIn("only in the database: table public.", text)
        self.assertIn("\\x1b[31mred", text)
        out, _ = self.verify("--expected", schema, fmt="github", expect=1)
        self.assertEqual(len(out.strip().splitlines()), 1, out)  # one annotation, one line
        self.assertNotIn("\x1b", out)

    def test_filters_apply_to_both_sides(self):
        schema = write(self.path("schema.sql"), "CREATE TABLE t (id int);\n")
        self.apply(schema)
        self.pg.psql(self.db, "CREATE SCHEMA scratchpad; CREATE TABLE scratchpad.x (id int)")
        self.verify("--expected", schema, expect=1)
        self.verify("--expected", schema, "--exclude-schema", "scratchpad")

    def test_syntax_error_is_file_and_line(self):
        bad = write(self.path("bad.sql"),
                    "CREATE TABLE a (id int);\n"
                    "-- a comment; with a semicolon\n"
                    "CREATE TABLE b (\n"
                    "  id int,\n"
                    "  name txet\n"
                    ");\n")
        _, err = self.verify("--expected", bad, expect=2, fmt="text")
        self.assertIn("%s:5: type \"txet\" does not exist" % bad, err)
        out, err = self.verify("--expected", bad, expect=2, fmt="github")
        self.assertIn("::error file=%s,line=5," % bad, out)
        write(bad, "CREATE TABLE a (id int);\nCREATE TABEL b (id int);\n")
        _, err = self.verify("--expected", bad, expect=2, fmt="text")
        self.assertIn("%s:2: syntax error at or near \"TABEL\"" % bad, err)

    # -- a directory of plain .sql files ------------------------------------

    def test_sql_dir_natural_order_quotes_and_dollars(self):
        # Natural order: 2 before 10 (as text, 10 would come first and fail).
        write(os.path.join(self.repo, "1_schema.sql"), "CREATE SCHEMA app;\n")
        write(os.path.join(self.repo, "2_table.sql"),
              "CREATE TABLE app.t (id int, note text DEFAULT 'a;b', e text DEFAULT E'x\\';y');\n")
        write(os.path.join(self.repo, "10_func.sql"),
              "/* nested /* comment; */ still; */\n"
              "CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;\n"
              "CREATE FUNCTION app.g() RETURNS int LANGUAGE sql\n"
              "BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\n"
              "CREATE INDEX ON app.t (id);\n")
        for n in ("1_schema.sql", "2_table.sql", "10_func.sql"):
            self.apply(os.path.join(self.repo, n))
        report, _ = self.verify("--expected", self.repo)
        self.assertEqual(report["expected_format"], "sql-dir")
        self.assertEqual(report["result"], "match")

    # -- golang-migrate ---------------------------------------------------------

    def golang_repo(self):
        write(os.path.join(self.repo, "000001_init.up.sql"), "CREATE TABLE users (id int PRIMARY KEY);\n")
        write(os.path.join(self.repo, "000001_init.down.sql"), "DROP TABLE users;\n")
        write(os.path.join(self.repo, "000002_email.up.sql"), "ALTER TABLE users ADD email text;\n")
        write(os.path.join(self.repo, "000002_email.down.sql"), "ALTER TABLE users DROP email;\n")
        write(os.path.join(self.repo, "000003_orders.up.sql"), "CREATE TABLE orders (id int);\n")
        self.apply(os.path.join(self.repo, "000001_init.up.sql"),
                   os.path.join(self.repo, "000002_email.up.sql"))
        self.pg.psql(self.db, GOLANG_HISTORY + "INSERT INTO schema_migrations VALUES (2, false)")

    def test_golang_migrate_applied_and_pending(self):
        self.golang_repo()
        report, _ = self.verify("--expected", self.repo)
        self.assertEqual(report["expected_format"], "golang-migrate")
        self.assertEqual(report["result"], "match")  # a pending migration is not a mismatch
        self.assertEqual(report["migrations"]["applied"], ["000001_init.up.sql", "000002_email.up.sql"])
        self.assertEqual(report["migrations"]["pending"], ["000003_orders.up.sql"])
        self.assertEqual(report["migrations"]["history_table"], "public.schema_migrations")
        text, _ = self.verify("--expected", self.repo, fmt="text")
        self.assertIn("pending: 000003_orders.up.sql", text)
        self.assertIn("2 applied, 1 pending", text)
        # Applied now: the database gains the table, the history says so.
        self.apply(os.path.join(self.repo, "000003_orders.up.sql"))
        report, _ = self.verify("--expected", self.repo, expect=1)  # history still says 2
        self.assertIn(("added", "table", "public.orders"), self.changes(report))
        self.pg.psql(self.db, "UPDATE schema_migrations SET version = 3")
        report, _ = self.verify("--expected", self.repo)
        self.assertEqual(report["migrations"]["pending"], [])

    def test_golang_migrate_dirty_and_missing_file(self):
        self.golang_repo()
        self.pg.psql(self.db, "UPDATE schema_migrations SET dirty = true")
        report, _ = self.verify("--expected", self.repo, expect=1)
        problems = report["migrations"]["problems"]
        self.assertEqual([(p["problem"], p["version"]) for p in problems], [("dirty", "2")])
        self.assertEqual(report["diff"]["changes"], [])  # the schema itself agrees
        text, _ = self.verify("--expected", self.repo, fmt="text", expect=1)
        self.assertIn("dirty: version 2 is dirty", text)
        # An applied migration whose file is gone.
        self.apply(os.path.join(self.repo, "000003_orders.up.sql"))
        self.pg.psql(self.db, "UPDATE schema_migrations SET version = 4, dirty = false")
        report, _ = self.verify("--expected", self.repo, expect=1)
        self.assertEqual([(p["problem"], p["version"], p["file"])
                          for p in report["migrations"]["problems"]], [("missing", "4", None)])

    # -- Flyway -------------------------------------------------------------------

    def test_flyway_versions_repeatables_checksums(self):
        files = {
            "V1__init.sql": "CREATE TABLE t (id int);\n",
            "V1_1__more.sql": "ALTER TABLE t ADD name text;\r\nCREATE TABLE u (id int);\n",
            "V2__later.sql": "CREATE TABLE later (id int);\n",
            "R__view.sql": "CREATE OR REPLACE VIEW tv AS SELECT id, name FROM t;\n",
        }
        for n, text in files.items():
            with open(write(os.path.join(self.repo, n), ""), "w", newline="") as f:
                f.write(text)
        for n in ("V1__init.sql", "V1_1__more.sql", "R__view.sql"):
            self.apply(os.path.join(self.repo, n))
        self.pg.psql(self.db, """
            CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
              description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL,
              checksum int, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
              execution_time int NOT NULL, success boolean NOT NULL);
            CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);""")
        rows = [(1, "'1'", "V1__init.sql"), (2, "'1.1'", "V1_1__more.sql"), (3, "NULL", "R__view.sql")]
        for rank, version, script in rows:
            self.pg.psql(self.db, "INSERT INTO flyway_schema_history VALUES (%d, %s, 'x', 'SQL', '%s', %d, "
                         "'me', now(), 1, true)" % (rank, version, script, flyway_checksum(files[script])))
        report, _ = self.verify("--expected", self.repo)
        self.assertEqual(report["expected_format"], "flyway")
        self.assertEqual(report["migrations"]["applied"], ["V1__init.sql", "V1_1__more.sql", "R__view.sql"])
        self.assertEqual(report["migrations"]["pending"], ["V2__later.sql"])
        self.assertEqual(report["result"], "match")
        # A file edited after it was applied, and a failed run.
        self.pg.psql(self.db, "UPDATE flyway_schema_history SET checksum = 12345 WHERE version = '1'")
        self.pg.psql(self.db, "INSERT INTO flyway_schema_history VALUES (4, '2', 'x', 'SQL', 'V2__later.sql', "
                              "0, 'me', now(), 1, false)")
        report, _ = self.verify("--expected", self.repo, expect=1)
        self.assertEqual(sorted((p["problem"], p["version"]) for p in report["migrations"]["problems"]),
                         [("checksum", "1"), ("failed", "2")])

    # -- goose --------------------------------------------------------------------

    def test_goose_sections_and_statement_blocks(self):
        write(os.path.join(self.repo, "00001_init.sql"),
              "-- +goose Up\n"
              "CREATE TABLE t (id int);\n"
              "-- +goose StatementBegin\n"
              "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS '\n"
              "BEGIN\n"
              "  RETURN NEW;\n"
              "END;\n"
              "';\n"
              "-- +goose StatementEnd\n"
              "-- +goose Down\n"
              "DROP TABLE t;\n")
        write(os.path.join(self.repo, "00002_more.sql"),
              "-- +goose Up\nCREATE TABLE more (id int);\n-- +goose Down\nDROP TABLE more;\n")
        self.pg.psql(self.db, "CREATE TABLE t (id int);"
                              "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS '\n"
                              "BEGIN\n  RETURN NEW;\nEND;\n';"
                              "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL,"
                              " is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());"
                              "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true),"
                              " (2, true), (2, false)")
        report, _ = self.verify("--expected", self.repo)
        self.assertEqual(report["expected_format"], "goose")
        self.assertEqual(report["migrations"]["pending"], ["00002_more.sql"])  # rolled back
        self.assertEqual(report["result"], "match")  # goose_db_version and its sequence left out

    # -- dbmate -----------------------------------------------------------------

    def test_dbmate_sections(self):
        write(os.path.join(self.repo, "20240101120000_init.sql"),
              "-- migrate:up\nCREATE TABLE t (id int);\n\n-- migrate:down\nDROP TABLE t;\n")
        write(os.path.join(self.repo, "20240202120000_more.sql"),
              "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n"
              "-- migrate:down\nDROP INDEX t_id;\n")
        self.pg.psql(self.db, "CREATE TABLE t (id int); CREATE INDEX t_id ON t (id);"
                              "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);"
                              "INSERT INTO schema_migrations VALUES ('20240101120000'), ('20240202120000')")
        report, _ = self.verify("--expected", self.repo)
        self.assertEqual(report["expected_format"], "dbmate")
        self.assertEqual(report["result"], "match")
        self.assertEqual(len(report["migrations"]["applied"]), 2)

    # -- a snapshot file --------------------------------------------------------

    def test_snapshot_file(self):
        self.pg.psql(self.db, "CREATE TABLE t (id int)")
        snap = self.pg.snapshot_file(self.db, self.path("expected.json"))
        report, _ = self.verify("--expected", snap, scratch=False)
        self.assertEqual((report["expected_format"], report["result"], report["scratch"]),
                         ("snapshot", "match", None))
        self.pg.psql(self.db, "ALTER TABLE t ADD c int")
        report, _ = self.verify("--expected", snap, scratch=False, expect=1)
        self.assertIn(("added", "column", "public.t.c"), self.changes(report))

    # -- a migration tool ---------------------------------------------------------

    def test_expected_cmd_shell_script(self):
        # The tool's objects belong to the role that owns the target's.
        self.pg.psql("postgres", "DO $$ BEGIN CREATE ROLE app_owner NOLOGIN; EXCEPTION WHEN "
                                 "duplicate_object THEN NULL; END $$")
        self.pg.psql(self.db, "CREATE TABLE users (id int PRIMARY KEY, name text);"
                              "ALTER TABLE users OWNER TO app_owner")
        tool = write(self.path("migrate.sh"),
                     "#!/bin/sh\nset -e\n"
                     "echo \"migrating $PGDATABASE on $PGHOST:$PGPORT as $PGUSER\"\n"
                     "case \"$DATABASE_URL\" in postgresql://*) ;; *) exit 3 ;; esac\n"
                     "%s -X -q -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -c "
                     "'CREATE TABLE users (id int PRIMARY KEY, name text)'\n" % pgharness.PSQL)
        os.chmod(tool, 0o755)
        report, err = self.verify("--expected-cmd", tool)
        self.assertEqual((report["expected_format"], report["result"]), ("command", "match"))
        self.assertIn("migrating schemadrift_verify_", err)  # its output goes to stderr
        _, err = self.verify("--expected-cmd", "exit 7", expect=2, fmt="text")
        self.assertIn("exited with status 7", err)

    # -- outputs ------------------------------------------------------------------

    def test_junit_and_github_outputs(self):
        schema = write(self.path("schema.sql"), "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n")
        self.apply(schema)
        self.pg.psql(self.db, "ALTER TABLE b ADD extra int")
        out, _ = self.verify("--expected", schema, fmt="junit", expect=1)
        root = ET.fromstring(out)
        cases = root.findall(".//testcase")
        names = [(c.get("classname"), c.get("name")) for c in cases]
        self.assertIn(("schemadrift.verify.table", "public.a"), names)
        failed = [(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None]
        self.assertEqual(failed, [("schemadrift.verify.column", "public.b.extra")])
        self.assertEqual(root.get("failures"), "1")
        self.assertEqual(int(root.get("tests")), len(cases))
        out, _ = self.verify("--expected", schema, fmt="github", expect=1)
        self.assertEqual(out.strip().splitlines(),
                         ["::error title=schema mismatch::only in the database: column public.b.extra"])

    def test_three_way_with_a_store(self):
        schema = write(self.path("schema.sql"), "CREATE TABLE a (id int);\n")
        self.apply(schema)
        state = self.path("state")
        rc, out, err = run_cli("baseline", "create", "app", "--dsn", self.dsn, "--state-dir", state,
                               "--reason", "first")
        self.assertEqual(rc, 0, err)
        self.pg.psql(self.db, "CREATE TABLE hotfix (id int)")
        report, _ = self.verify("--expected", schema, "--target", "app", "--state-dir", state, expect=1)
        b = report["baseline"]
        self.assertEqual(b["target"], "app")
        self.assertEqual([c["object"] for c in b["to_database"]["changes"]], ["public.hotfix"])
        self.assertEqual(b["to_repository"]["changes"], [])
        text, _ = self.verify("--expected", schema, "--target", "app", "--state-dir", state,
                              fmt="text", expect=1)
        self.assertIn("baseline -> database: added table public.hotfix", text)

    def test_bad_arguments(self):
        rc, _, err = run_cli("verify", "--dsn", self.dsn)
        self.assertEqual(rc, 2)
        self.assertIn("--expected PATH", err)
        rc, _, err = run_cli("verify", "--dsn", self.dsn, "--expected", self.path("nope"))
        self.assertEqual(rc, 2)
        self.assertIn("nope: No such file or directory", err)
        os.makedirs(self.repo)
        rc, _, err = run_cli("verify", "--dsn", self.dsn, "--expected", self.repo,
                             "--expected-format", "liquibase")
        self.assertEqual(rc, 2)
        self.assertIn("unknown --expected-format 'liquibase'", err)


class EmbeddedScratchTest(pgharness.PgTestCase):
    """The default scratch side: initdb + postgres from local binaries (as `postgres` when root)."""

    def setUp(self):
        super().setUp()
        self.db = "e_%s" % self._testMethodName[5:30].lower()
        self.pg.create_db(self.db)
        # A private TMPDIR: whatever the embedded cluster leaves behind shows up here.
        self.tmp = self.path("tmp")
        os.mkdir(self.tmp)
        os.chmod(self.workdir, 0o755)
        os.chmod(self.tmp, 0o1777)
        self.env = {"TMPDIR": self.tmp}

    def test_extensions_and_grants_load_then_cleanup(self):
        self.pg.psql("postgres", "DO $$ BEGIN CREATE ROLE app_owner NOLOGIN; CREATE ROLE reporting NOLOGIN;"
                                 " EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        schema = write(self.path("schema.sql"),
                       "CREATE EXTENSION IF NOT EXISTS hstore;\n"
                       "CREATE EXTENSION pg_trgm;\n"
                       "CREATE TABLE items (id int PRIMARY KEY, attrs hstore, name text);\n"
                       "CREATE INDEX items_name ON items USING gin (name gin_trgm_ops);\n"
                       "ALTER TABLE items OWNER TO app_owner;\n"
                       "GRANT SELECT ON items TO reporting;\n")
        # The DBA installed hstore at an older version than the default: the scratch
        # side gets the target's version, so the repository's IF NOT EXISTS matches.
        self.pg.psql(self.db, "CREATE EXTENSION hstore VERSION '1.7'")
        self.pg.psql_file(self.db, schema)
        rc, out, err = run_cli("verify", "--dsn", self.pg.dsn(self.db), "--expected", schema,
                               "--format", "json", "--pg-bindir", pgharness.PG_BINDIR, env=self.env)
        self.assertEqual(rc, 0, "stdout: %s\nstderr: %s" % (out, err))
        report = json.loads(out)
        self.assertEqual(report["result"], "match")
        self.assertTrue(report["scratch"].startswith("embedded PostgreSQL 15"), report["scratch"])
        self.assertEqual(os.listdir(self.tmp), [], "the scratch cluster's directory is left behind")

    def interrupt(self, sig, early=False):
        """Signals a verify whose --expected-cmd sleeps: once the embedded cluster accepts
        connections, or (early) as soon as its directory exists, initdb running.  Either
        way the process ends by the signal and leaves nothing behind."""
        p = subprocess.Popen([pgharness.cli_bin(), "verify", "--dsn", self.pg.dsn(self.db),
                              "--expected-cmd", "sleep 60"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=pgharness.clean_env(self.env))
        postmaster = None
        try:
            def ready():
                if early:
                    return os.listdir(self.tmp)
                # the server's socket: initdb is done, the command runs soon
                return glob.glob(os.path.join(self.tmp, "*", ".s.PGSQL.*.lock"))
            deadline = time.time() + 60
            while not ready() and time.time() < deadline and p.poll() is None:
                time.sleep(0.005 if early else 0.05)
            found = ready()
            self.assertTrue(found, "no embedded cluster started: %s" %
                            (p.stderr.read() if p.poll() is not None else ""))
            if early:
                made = os.listdir(os.path.join(self.tmp, found[0]))
            else:
                with open(os.path.join(os.path.dirname(found[0]), "data",
                                       "postmaster.pid")) as f:
                    postmaster = int(f.readline())
                time.sleep(0.5)  # the command runs by then
            p.send_signal(sig)
            p.wait(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        self.assertEqual(p.returncode, -sig)
        if early:
            self.assertNotIn(".s.PGSQL", " ".join(made), "the signal came too late to test this")
        self.assertEqual(os.listdir(self.tmp), [])
        if postmaster:
            with self.assertRaises(ProcessLookupError):
                os.kill(postmaster, 0)

    def test_sigterm_stops_and_removes_the_cluster(self):
        self.interrupt(signal.SIGTERM)

    def test_sigterm_during_initdb_removes_the_directory(self):
        """A signal while the scratch cluster is still being made removes what was made:
        the directory was left behind when the signal came before the cluster accepted
        connections."""
        self.interrupt(signal.SIGTERM, early=True)

    def test_sigint_stops_and_removes_the_cluster(self):
        self.interrupt(signal.SIGINT)


if __name__ == "__main__":
    pgharness.main()
