"""Snapshots taken while another session runs DDL: consistent or a clean exit 2, never blocking the DDL."""

import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

SNAPSHOTS = 20
LOCK_TIMEOUT = "500ms"


class DdlLoop(threading.Thread):
    """Runs ADD COLUMN / DROP COLUMN (and CREATE/DROP TABLE) in one psql session until stopped."""

    def __init__(self, pg, db, errfile):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.iterations = 0
        self.failure = None
        self.errfile = errfile
        with open(errfile, "wb") as err:
            self.proc = subprocess.Popen(
                [pgharness.PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=0", "-d", pg.dsn(db)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                env=pgharness.clean_env())

    def run(self):
        p = self.proc
        try:
            p.stdin.write(b"SET lock_timeout = '%s';\nSET application_name = 'ddl_loop';\n"
                          % LOCK_TIMEOUT.encode())
            i = 0
            while not self.stop.is_set():
                i += 1
                p.stdin.write(
                    b"ALTER TABLE hot ADD COLUMN c%d integer DEFAULT %d;\n"
                    b"CREATE TABLE churn_%d (x integer PRIMARY KEY, y text);\n"
                    b"CREATE INDEX hot_c%d_idx ON hot (c%d);\n"
                    b"ALTER TABLE hot DROP COLUMN c%d;\n"
                    b"DROP TABLE churn_%d;\n"
                    b"\\echo tick %d\n" % (i, i, i, i, i, i, i, i))
                p.stdin.flush()
                line = p.stdout.readline()
                if line != b"tick %d\n" % i:
                    self.failure = "ddl loop: unexpected psql output %r" % line
                    return
                self.iterations = i
        except (OSError, ValueError) as e:
            self.failure = "ddl loop: %s" % e
        finally:
            try:
                p.stdin.close()
            except OSError:
                pass

    def finish(self):
        self.stop.set()
        self.join(60)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with open(self.errfile, "rb") as f:
            return f.read().decode("utf-8", "replace")


def check_consistent(snap):
    """Problems in one snapshot: children without their parent, position gaps."""
    problems = []
    objs = snap["objects"]
    if snap["schemadrift_snapshot"]["objects"] != len(objs):
        problems.append("header says %r objects, array has %d" %
                        (snap["schemadrift_snapshot"]["objects"], len(objs)))
    key = lambda o: (json.dumps(o.get("schema")), json.dumps(o.get("name")))  # noqa: E731
    tables = {key(o) for o in objs if o["kind"] == "table"}
    relations = tables | {key(o) for o in objs if o["kind"] == "materialized_view"}
    positions = {}
    for o in objs:
        if o["kind"] in ("column", "constraint", "index"):
            parent = (json.dumps(o.get("schema")), json.dumps(o.get("parent")))
            allowed = tables if o["kind"] != "index" else relations
            if parent not in allowed:
                problems.append("%s %s.%s.%s has no parent in the snapshot" %
                                (o["kind"], o.get("schema"), o.get("parent"), o.get("name")))
        if o["kind"] == "column":
            parent = (o.get("schema"), o.get("parent"))
            positions.setdefault(str(parent), []).append(o["attrs"].get("position"))
    for t, pos in positions.items():
        if sorted(pos) != list(range(1, len(pos) + 1)):
            problems.append("table %s: column positions %s are not 1..%d" % (t, sorted(pos), len(pos)))
    return problems


class ConcurrentDdlTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.create_db("busy")
        ddl = ["CREATE TABLE hot (id integer PRIMARY KEY, a text, b integer);",
               "CREATE INDEX hot_b_idx ON hot (b);"]
        for i in range(150):
            ddl.append("CREATE TABLE filler_%d (id integer PRIMARY KEY, a text NOT NULL,"
                       " b numeric(10,2) DEFAULT 0, c timestamptz, CHECK (b >= 0));" % i)
            ddl.append("CREATE INDEX filler_%d_c_idx ON filler_%d (c) WHERE c IS NOT NULL;" % (i, i))
        cls.pg.psql("busy", "\n".join(ddl))

    def test_snapshots_during_ddl(self):
        loop = DdlLoop(self.pg, "busy", self.path("ddl.err"))
        loop.start()
        results = []
        try:
            # Let the loop get going.
            deadline = time.time() + 10
            while loop.iterations < 5 and time.time() < deadline and loop.is_alive():
                time.sleep(0.01)
            for n in range(SNAPSHOTS):
                t0 = time.time()
                rc, out, err = pgharness.run_cli("snapshot", "--dsn", self.pg.dsn("busy"),
                                                 binary=True, timeout=120)
                results.append((n, rc, out, err.decode("utf-8", "replace"), time.time() - t0))
        finally:
            ddl_errors = loop.finish()

        self.assertIsNone(loop.failure)
        self.assertGreaterEqual(loop.iterations, 10,
                                "the DDL loop hardly ran; the test proves nothing")
        ok = 0
        problems = []
        for n, rc, out, err, secs in results:
            if rc == 0:
                try:
                    snap = json.loads(out.decode("utf-8"))
                except ValueError as e:
                    problems.append("snapshot %d: exit 0 but output is not JSON: %s" % (n, e))
                    continue
                for p in check_consistent(snap):
                    problems.append("snapshot %d: %s" % (n, p))
                ok += 1
            elif rc == 2:
                lines = err.strip().splitlines()
                if len(lines) != 1 or not lines[0].startswith("schemadrift: ") or \
                        len(lines[0]) < len("schemadrift: ") + 10:
                    problems.append("snapshot %d: exit 2 without a clear one-line message: %r" %
                                    (n, err))
            else:
                problems.append("snapshot %d: exit %d, stderr %r" % (n, rc, err))
        failed = [(n, err.strip()) for n, rc, out, err, secs in results if rc == 2]
        sys.stderr.write("concurrent DDL: %d DDL iterations, %d/%d snapshots ok, failures: %s\n"
                         % (loop.iterations, ok, len(results), failed))
        self.assertEqual(problems, [])
        self.assertGreater(ok, 0, "no snapshot succeeded during DDL: %s" % failed)

        lock_timeouts = ddl_errors.count("lock timeout")
        self.assertEqual(lock_timeouts, 0,
                         "DDL statements failed with lock timeout (the snapshot blocked them):\n"
                         + ddl_errors[:3000])
        self.assertEqual(ddl_errors.strip(), "", "DDL loop errors:\n" + ddl_errors[:3000])

        # Quiet again: a snapshot succeeds and equals the live database.
        path = self.pg.snapshot_file("busy", self.path("after.json"))
        rc, doc, err = pgharness.diff(path, self.pg.live_side("busy"), "json")
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    pgharness.main()
