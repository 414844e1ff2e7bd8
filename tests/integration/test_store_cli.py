"""The history store from the command line: runs, history, baselines, TARGET@REF sides, acks, corrupt files."""

import datetime
import glob
import json
import os
import re
import time

import pgharness
from pgharness import run_cli


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class StoreCliTest(pgharness.PgTestCase):

    def setUp(self):
        super().setUp()
        self.state = self.path("state")
        self.db = "app_%s" % self._testMethodName[-20:].lower()
        self.pg.create_db(self.db)
        self.dsn = self.pg.dsn(self.db)

    def sd(self, *args, env=None, expect=0):
        rc, out, err = run_cli(*args, "--state-dir", self.state, env=env)
        if expect is not None:
            self.assertEqual(rc, expect, "schemadrift %s: exit %d\nstdout: %s\nstderr: %s"
                             % (" ".join(args), rc, out, err))
        return rc, out, err

    def run_target(self, target="app"):
        return self.sd("snapshot", "--dsn", self.dsn, "--target", target)[1]

    def tdir(self, target="app"):
        return os.path.join(self.state, "targets", target)

    def history_lines(self, target="app"):
        with open(os.path.join(self.tdir(target), "history.log"), "rb") as f:
            data = f.read()
        self.assertTrue(data.endswith(b"\n"))
        return [json.loads(l) for l in data.decode().splitlines()]

    def snapshot_files(self, target="app"):
        return sorted(os.path.basename(p)[:-5]
                      for p in glob.glob(os.path.join(self.tdir(target), "snapshots", "*.json")))

    def audit(self, target="app"):
        with open(os.path.join(self.tdir(target), "audit.log")) as f:
            return [json.loads(l) for l in f]

    # ------------------------------------------------------------------

    def test_runs_history_baseline_and_refs(self):
        self.pg.psql(self.db, "CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2))")
        out = self.run_target()
        self.assertIn("first snapshot", out)
        h1 = self.pg.hash(self.db)
        self.run_target()
        self.run_target()
        self.assertEqual(self.snapshot_files(), [h1], "unchanged runs must not store new files")
        self.assertEqual(len(self.history_lines()), 3, "one history line per run")
        t_first = time.time()
        time.sleep(1.1)
        self.pg.psql(self.db, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);"
                              "ALTER TABLE orders ADD COLUMN note text NOT NULL")
        out = self.run_target()
        self.assertIn("2 changes: 1 breaking, 1 warning, 0 info", out)
        h2 = self.pg.hash(self.db)
        self.assertEqual(self.snapshot_files(), sorted([h1, h2]))

        # A failed run is one line too, with the error.
        rc, _, err = run_cli("snapshot", "--dsn", self.pg.dsn("no_such_db"), "--target", "app",
                             "--state-dir", self.state)
        self.assertEqual(rc, 2)
        last = self.history_lines()[-1]
        self.assertEqual(last["outcome"], "error")
        self.assertIn("no_such_db", last["error"])

        _, out, _ = self.sd("history", "app")
        rows = [l for l in out.splitlines() if re.match(r"\d{4}-", l)]
        self.assertEqual(len(rows), 3, out)
        self.assertIn(h1[:12], rows[0])
        self.assertIn("first snapshot", rows[0])
        self.assertIn(h2[:12], rows[1])
        self.assertIn("2 changes: 1 breaking, 1 warning, 0 info (1 added, 1 modified)", rows[1])
        self.assertIn("run failed", rows[2])
        self.assertIn("5 runs", out)

        # Baselines: create from live, accept by prefix, show, audit.
        self.sd("baseline", "accept", "app", h1[:8], "--reason", "release 41")
        _, out, _ = self.sd("baseline", "show", "app")
        self.assertIn(h1, out)
        self.assertIn("release 41", out)
        self.assertIn("differs: 2 changes", out)
        rc, _, err = self.sd("baseline", "accept", "app", "latest", expect=2)
        self.assertIn("--reason", err)
        self.sd("baseline", "accept", "app", "latest", "--reason", "migration 42 done")
        entries = self.audit()
        self.assertEqual([e["action"] for e in entries], ["baseline accept", "baseline accept"])
        self.assertEqual(entries[1]["hash"], h2)
        self.assertEqual(entries[1]["previous"], h1)
        self.assertEqual(entries[1]["reason"], "migration 42 done")

        # Diff sides: TARGET@baseline, @latest, @prefix, @time.
        rc, out, _ = self.sd("diff", "app@%s" % h1[:6], "app@baseline", expect=1)
        self.assertIn("~ column public.orders.total: type numeric(10,2) -> numeric(12,2)", out)
        self.sd("diff", "app@baseline", "app@latest", expect=0)
        self.sd("diff", "app@%s" % iso(t_first), "app@%s" % h1, expect=0)
        rc, _, err = self.sd("diff", "app@2001-01-01T00:00", "app@latest", expect=2)
        self.assertIn("no snapshot at or before 2001-01-01T00:00", err)
        rc, _, err = self.sd("diff", "app@ffff", "app@latest", expect=2)
        self.assertIn("no stored snapshot whose hash starts with ffff", err)
        rc, _, err = self.sd("show", "nosuch@latest", expect=2)
        self.assertIn("no store for target 'nosuch'", err)
        self.sd("diff", "app@baseline", "dsn:" + self.dsn, expect=0)
        self.assertEqual(self.sd("hash", "app@latest")[1].strip(), h2)

        _, out, _ = self.sd("show", "app@baseline")
        self.assertIn("snapshot:  %s (baseline)" % h2, out)
        self.assertIn("column public.orders.note:", out)
        _, out, _ = self.sd("show", "app@%s" % h1[:10], "--format", "json")
        self.assertEqual(json.loads(out)["schemadrift_snapshot"]["hash"], h1)

        # The state dir from the environment.
        rc, out, err = run_cli("history", "app", env={"SCHEMADRIFT_STATE_DIR": self.state})
        self.assertEqual(rc, 0, err)

    def test_baseline_create_records_a_run(self):
        self.pg.psql(self.db, "CREATE TABLE t (id int)")
        _, out, _ = self.sd("baseline", "create", "app", "--dsn", self.dsn)
        h = self.pg.hash(self.db)
        self.assertIn(h[:12], out)
        self.assertEqual([l["hash"] for l in self.history_lines()], [h])
        entries = self.audit()
        self.assertEqual(entries[0]["action"], "baseline create")
        self.assertIsNone(entries[0]["previous"])
        with open(os.path.join(self.tdir(), "baseline.json")) as f:
            b = json.load(f)
        self.assertEqual(b["hash"], h)
        self.assertEqual(b["audit"]["id"], entries[0]["id"])

    def test_ack_until_the_object_changes_again(self):
        self.pg.psql(self.db, "CREATE TABLE t (id int PRIMARY KEY, note text)")
        self.sd("baseline", "create", "app", "--dsn", self.dsn)
        self.pg.psql(self.db, "CREATE INDEX hand_idx ON t (note); ALTER TABLE t ADD COLUMN x int")
        self.run_target()
        rc, out, _ = self.sd("diff", "app@baseline", "app@latest", expect=1)
        self.assertIn("+ index public.hand_idx [info]\n", out)

        rc, _, err = self.sd("ack", "app", "public.nothing_*", "--reason", "x", expect=2)
        self.assertIn("nothing to acknowledge", err)
        _, out, _ = self.sd("ack", "app", "index:public.hand_*", "--reason", "hand-made, for reports")
        self.assertIn("index public.hand_idx", out)
        ack_id = re.search(r"as ([0-9a-f]{8})", out).group(1)

        rc, out, _ = self.sd("diff", "app@baseline", "app@latest", expect=1)
        self.assertIn("+ index public.hand_idx [info] (acknowledged: hand-made, for reports)", out)
        self.assertIn("+ column public.t.x [info]\n", out)
        self.assertIn("2 changes: 0 breaking, 0 warning, 1 info, 1 acknowledged", out)
        rc, out, _ = self.sd("diff", "app@baseline", "app@latest", "--format", "json", expect=1)
        j = json.loads(out)
        idx = [c for c in j["changes"] if c["name"] == "hand_idx"][0]
        self.assertTrue(idx["acknowledged"])
        self.assertEqual(idx["ack_reason"], "hand-made, for reports")
        self.assertEqual(j["summary"]["acknowledged"], 1)
        self.assertEqual(j["summary"]["info"], 1)
        # Against the live database too.
        self.sd("diff", "app@baseline", "dsn:" + self.dsn, expect=1)

        # Only acknowledged drift left: exit 0.
        self.sd("ack", "app", "public.t.x", "--reason", "new column is fine")
        rc, out, _ = self.sd("diff", "app@baseline", "app@latest", expect=0)
        self.assertIn("2 acknowledged", out)

        # The index changes again: it is drift again.
        self.pg.psql(self.db, "DROP INDEX hand_idx; CREATE INDEX hand_idx ON t (note, id)")
        self.run_target()
        rc, out, _ = self.sd("diff", "app@baseline", "app@latest", expect=1)
        self.assertIn("+ index public.hand_idx [info]\n", out)
        self.assertIn("1 acknowledged", out)  # the column still is
        _, out, _ = self.sd("ack", "--list", "app")
        self.assertIn("changed since", out)

        # Remove by id; audit has every step.
        self.sd("ack", "--remove", "app", ack_id, "--reason", "superseded")
        _, out, _ = self.sd("ack", "--list")
        self.assertNotIn(ack_id, out)
        actions = [e["action"] for e in self.audit()]
        self.assertEqual(actions, ["baseline create", "ack", "ack", "ack remove"])
        self.assertEqual(self.audit()[3]["acks"], [ack_id])

    def test_ack_expires(self):
        self.pg.psql(self.db, "CREATE TABLE t (id int)")
        self.sd("baseline", "create", "app", "--dsn", self.dsn)
        self.pg.psql(self.db, "CREATE INDEX tmp_idx ON t (id)")
        self.run_target()
        rc, _, err = self.sd("ack", "app", "public.tmp_idx", "--reason", "r", "--expires",
                             "2001-01-01", expect=2)
        self.assertIn("already past", err)
        until = int(time.time()) + 3
        _, out, _ = self.sd("ack", "app", "public.tmp_idx", "--reason", "until the migration",
                            "--expires", iso(until))
        self.assertIn("until %s" % iso(until), out)
        rc, out, _ = self.sd("diff", "app@baseline", "app@latest", expect=0)
        self.assertIn("(acknowledged: until the migration)", out)
        while time.time() < until + 0.5:
            time.sleep(0.2)
        rc, out, _ = self.sd("diff", "app@baseline", "app@latest", expect=1)
        self.assertNotIn("acknowledged", out)
        self.assertIn("1 change: 0 breaking, 0 warning, 1 info", out)
        _, out, _ = self.sd("ack", "--list", "app")
        self.assertIn("EXPIRED", out)
        # A date alone lasts through that day.
        _, out, _ = self.sd("ack", "app", "public.tmp_idx", "--reason", "r", "--expires",
                            "2999-12-31")
        self.assertIn("until 3000-01-01T00:00:00Z", out)

    def test_corrupt_file_is_moved_aside_and_other_targets_go_on(self):
        self.pg.psql(self.db, "CREATE TABLE t (id int)")
        self.run_target("a")
        self.run_target("b")
        h = self.pg.hash(self.db)
        bad = os.path.join(self.tdir("a"), "snapshots", h + ".json")
        with open(bad, "r+b") as f:
            f.seek(80)
            f.write(b"garbage")
        rc, out, err = self.sd("show", "a@latest", expect=2)
        self.assertIn(bad, err)
        self.assertIn("moved to %s/corrupt/" % self.tdir("a"), err)
        self.assertFalse(os.path.exists(bad))
        moved = glob.glob(os.path.join(self.tdir("a"), "corrupt", h + ".json.*"))
        self.assertEqual(len(moved), 1, "the corrupt file is kept for a human")
        with open(moved[0], "rb") as f:
            self.assertIn(b"garbage", f.read())
        self.sd("show", "b@latest")
        _, out, _ = self.sd("history", "prune")
        self.assertIn("a: kept", out)
        self.assertIn("b: kept", out)
        # The next run stores the snapshot again.
        self.run_target("a")
        self.sd("show", "a@latest")

        # A corrupt history line is reported with its line number and skipped; the
        # next writer moves the old file aside and keeps the records.
        with open(os.path.join(self.tdir("b"), "history.log"), "ab") as f:
            f.write(b"not json at all\n")
        rc, out, err = self.sd("history", "b")
        self.assertIn("history.log:2: not a valid record", err)
        self.assertIn("1 run ", out)
        rc, out, err = self.sd("snapshot", "--dsn", self.dsn, "--target", "b")
        self.assertIn("history.log:2: not a valid record", err)
        self.assertIn("the old file is kept as %s/corrupt/history.log." % self.tdir("b"), err)
        kept = glob.glob(os.path.join(self.tdir("b"), "corrupt", "history.log.*"))
        self.assertEqual(len(kept), 1)
        with open(kept[0], "rb") as f:
            self.assertIn(b"not json at all", f.read())
        rc, out, err = self.sd("history", "b")
        self.assertEqual(err, "")
        self.assertIn("2 runs", out)

    def test_prune_on_demand_with_saved_policy(self):
        hashes = []
        for i in range(5):
            self.pg.psql(self.db, "CREATE TABLE t%d (id int)" % i)
            self.run_target()
            hashes.append(self.pg.hash(self.db))
        self.sd("baseline", "accept", "app", hashes[0][:10], "--reason", "old but accepted")
        _, out, _ = self.sd("history", "prune", "app", "--keep", "2", "--keep-days", "0")
        self.assertIn("kept 3 snapshots, removed 2", out)
        self.assertEqual(self.snapshot_files(), sorted([hashes[0], hashes[3], hashes[4]]))
        with open(os.path.join(self.tdir(), "retention.json")) as f:
            self.assertEqual(json.load(f)["keep_snapshots"], 2)
        # The saved policy applies to the next run too.
        self.pg.psql(self.db, "CREATE TABLE t9 (id int)")
        self.run_target()
        self.assertEqual(len(self.snapshot_files()), 3)
        self.assertIn(hashes[0], self.snapshot_files())
        rc, _, err = self.sd("show", "app@" + hashes[1][:12], expect=2)
        self.assertIn("no stored snapshot whose hash starts with", err)


if __name__ == "__main__":
    pgharness.main()
