"""The central store from the command line (`[daemon] store = postgresql`, docs/store.md).

The CLI reads the daemon's configuration (--config) and works on tables in a real
PostgreSQL: runs and history, baselines and the audit log, diff sides TARGET@REF,
retention of content-addressed snapshots shared by two targets, a damaged snapshot moved
aside, two writers at once, and an unreachable store (its error, never its password).
"""

import json
import os
import threading

import pgharness
from pgharness import run_cli

S = "schemadrift_store"


class CentralStoreCli(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        self.db = "app_%s" % self._testMethodName[-20:].lower()
        self.pg.create_db(self.db)
        self.dsn = self.pg.dsn(self.db)
        self.store_db = "store_%s" % self._testMethodName[-20:].lower()
        self.pg.create_db(self.store_db)
        self.conf = self.path("schemadrift.conf")
        with open(self.conf, "w") as f:
            f.write("[daemon]\nstate_dir = %s\nstore = postgresql\nstore_dsn = %s\n"
                    % (self.path("state"), self.pg.dsn(self.store_db)))

    def sd(self, *args, expect=0, conf=None):
        rc, out, err = run_cli(*(list(args) + ["--config", conf or self.conf]))
        if expect is not None:
            self.assertEqual(rc, expect, "schemadrift %s: exit %d\nstdout: %s\nstderr: %s"
                             % (" ".join(args), rc, out, err))
        return rc, out, err

    def sql(self, query):
        return self.pg.psql(self.store_db, query, tuples=True).strip()

    def run_target(self, target="app"):
        return self.sd("snapshot", "--dsn", self.dsn, "--target", target)[1]

    def test_runs_history_baseline_and_refs(self):
        self.pg.psql(self.db, "CREATE TABLE orders (id int PRIMARY KEY)")
        self.assertIn("first snapshot", self.run_target())
        self.run_target()
        self.sd("baseline", "create", "app", "--dsn", self.dsn)  # records a run too
        h1 = self.pg.hash(self.db)
        self.assertEqual(self.sql("SELECT hash FROM %s.target_snapshots" % S), h1)
        self.assertEqual(self.sql("SELECT count(*) FROM %s.lines WHERE name = 'history.log'"
                                  % S), "3")
        self.pg.psql(self.db, "ALTER TABLE orders ADD COLUMN note text NOT NULL")
        self.assertIn("1 change", self.run_target())
        h2 = self.pg.hash(self.db)
        self.assertEqual(sorted(self.sql("SELECT hash FROM %s.snapshots" % S).split()),
                         sorted([h1, h2]))
        # Every line is a history record as the file store writes them.
        for line in self.sql("SELECT line FROM %s.lines WHERE name = 'history.log' ORDER BY seq"
                             % S).splitlines():
            self.assertIn(json.loads(line)["outcome"], ("ok", "error"))

        # The baseline (created by the first run), refs and a diff of two stored sides.
        self.assertIn(h1[:12], self.sd("baseline", "show", "app")[1])
        rc, out, _ = self.sd("diff", "app@baseline", "app@latest", expect=1)
        self.assertIn("note", out)
        self.assertIn("orders", self.sd("show", "app@" + h2[:8])[1])
        self.sd("baseline", "accept", "app", "--reason", "the note is wanted")
        shown = self.sd("baseline", "show", "app")[1]
        self.assertIn(h2[:12], shown)
        self.assertIn("the note is wanted", shown)
        self.sd("diff", "app@baseline", "app@latest", expect=0)
        audit = [json.loads(l) for l in self.sql(
            "SELECT line FROM %s.lines WHERE name = 'audit.log' ORDER BY seq" % S).splitlines()]
        self.assertEqual([a["action"] for a in audit], ["baseline create", "baseline accept"])
        self.assertEqual(audit[-1]["previous"], h1)

        # A failed run is recorded with its error.
        rc, _, err = run_cli("snapshot", "--dsn", self.pg.dsn("no_such_db"), "--target", "app",
                             "--config", self.conf)
        self.assertEqual(rc, 2)
        self.assertIn("no_such_db", self.sd("history", "app")[1])
        # Nothing of it in the local state dir.
        local = os.path.join(self.path("state"), "targets", "app")
        self.assertFalse(os.path.exists(os.path.join(local, "history.log")))

    def test_retention_and_shared_snapshots(self):
        self.pg.psql(self.db, "CREATE TABLE t (id int)")
        self.sd("baseline", "create", "a", "--dsn", self.dsn)
        self.run_target("b")  # the same schema: one body, two references
        self.assertEqual(self.sql("SELECT count(*) FROM %s.snapshots" % S), "1")
        first = self.pg.hash(self.db)
        for i in range(3):
            self.pg.psql(self.db, "ALTER TABLE t ADD COLUMN c%d int" % i)
            self.run_target("a")
        self.sd("history", "prune", "a", "--keep", "1", "--keep-days", "0")
        kept = self.sql("SELECT hash FROM %s.target_snapshots WHERE target = 'a' ORDER BY 1"
                        % S).split()
        # The latest, and the baseline (the first snapshot), are kept; the two between go.
        self.assertEqual(sorted(kept), sorted([first, self.pg.hash(self.db)]))
        self.assertEqual(self.sql("SELECT count(*) FROM %s.snapshots" % S), "2")
        # b's reference to the first snapshot keeps its body whatever a does.
        self.sd("baseline", "accept", "a", "--reason", "move on")
        self.sd("history", "prune", "a", "--keep", "1", "--keep-days", "0")
        self.assertNotIn(first, self.sql("SELECT hash FROM %s.target_snapshots WHERE target = 'a'"
                                         % S))
        self.assertIn(first, self.sql("SELECT hash FROM %s.snapshots" % S))
        self.assertIn("public.t", self.sd("show", "b@latest")[1])

    def test_damaged_snapshot_is_moved_aside(self):
        self.pg.psql(self.db, "CREATE TABLE t (id int)")
        self.run_target()
        h = self.pg.hash(self.db)
        self.sql("UPDATE %s.snapshots SET body = left(body, 40)" % S)
        rc, _, err = self.sd("show", "app@latest", expect=2)
        self.assertIn("postgresql:", err)
        self.assertIn("moved to", err)
        self.assertEqual(self.sql("SELECT count(*) FROM %s.corrupt WHERE name LIKE '%s.json.%%'"
                                  % (S, h)), "1")
        # The next run stores it again, whole.
        self.run_target()
        self.assertIn("id", self.sd("show", "app@latest")[1])

    def test_two_writers_at_once(self):
        self.pg.psql(self.db, "CREATE TABLE t (id int)")
        self.run_target()
        self.pg.psql(self.db, "ALTER TABLE t ADD COLUMN x int")
        self.run_target()
        results = []

        def accept(reason):
            results.append(run_cli("baseline", "accept", "app", "--reason", reason,
                                   "--config", self.conf))
        threads = [threading.Thread(target=accept, args=("writer %d" % i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([r[0] for r in results], [0] * 4, results)
        reasons = self.sql("SELECT line::json ->> 'reason' FROM %s.lines"
                           " WHERE name = 'audit.log' AND line::json ->> 'action' ="
                           " 'baseline accept'" % S).split("\n")
        self.assertEqual(sorted(reasons), ["writer %d" % i for i in range(4)])

    def test_unreachable_store_names_it_without_the_password(self):
        pw = self.path("store.pass")
        fd = os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"Sup3rSecret-pw\n")
        os.close(fd)
        conf = self.path("down.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\nstate_dir = %s\nstore = postgresql\n"
                    "store_dsn = host=127.0.0.1 port=1 dbname=nowhere user=mon\n"
                    "store_password = file:%s\n" % (self.path("state"), pw))
        rc, out, err = self.sd("history", "app", expect=2, conf=conf)
        self.assertIn("127.0.0.1", err)
        self.assertIn("port=1", err.replace(":1", " port=1"))
        self.assertRegex(err, r"(?i)connect")
        self.assertNotIn("Sup3rSecret", out + err)
        # A password in store_dsn itself is refused with its file and line.
        with open(conf, "w") as f:
            f.write("[daemon]\nstore = postgresql\n"
                    "store_dsn = postgresql://mon:Sup3rSecret@127.0.0.1/db\n")
        rc, out, err = self.sd("history", "app", expect=2, conf=conf)
        self.assertIn("%s:3:" % conf, err)
        self.assertIn("store_password", err)
        self.assertNotIn("Sup3rSecret", out + err)


if __name__ == "__main__":
    pgharness.main()
