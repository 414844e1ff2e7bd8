"""SIGKILL writers of the history store at random points, at least 200 times; nothing may be left broken.

Writers are real `schemadrift snapshot --target` runs (against a live database whose schema
keeps changing, so new snapshot files are written and retention deletes old ones) and
`schemadrift baseline accept` runs.  Each is killed after a random delay drawn from its own
measured running time, so kills land everywhere: connecting, reading the catalog, writing
the snapshot, appending history, pruning, accepting.  Afterwards every file must parse,
every history and audit line must be whole, the baseline must be intact and be the last
accept that was audited, and every accept that completed must be in the audit log.
"""

import glob
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time

import pgharness
from pgharness import cli_bin, clean_env, run_cli

KILLS = int(os.environ.get("SCHEMADRIFT_CRASH_KILLS", "200"))


class StoreCrashTest(pgharness.PgTestCase):

    def setUp(self):
        super().setUp()
        self.state = self.path("state")
        self.tdir = os.path.join(self.state, "targets", "app")
        self.pg.create_db("app")
        self.dsn = self.pg.dsn("app")
        # Big enough that writing, diffing and pruning take a noticeable share of a run.
        self.pg.psql("app", "".join(
            "CREATE TABLE t%d (id int PRIMARY KEY, a text NOT NULL DEFAULT '', b numeric(10,2), "
            "c timestamptz); CREATE INDEX t%d_a ON t%d (a);" % (i, i, i) for i in range(120)))

    def start(self, *args):
        return subprocess.Popen([cli_bin()] + list(args) + ["--state-dir", self.state],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())

    def timed(self, *args):
        t0 = time.monotonic()
        p = self.start(*args)
        out, err = p.communicate()
        self.assertEqual(p.returncode, 0, err.decode())
        return time.monotonic() - t0

    # -- checks ------------------------------------------------------------

    def json_lines(self, name, final):
        """Every line of a JSON-lines file, insisting that each is whole and parses.

        Before the next writer ran, the file may end in an unfinished append (the
        writer died inside write(2): no newline yet): readers ignore it and the next
        writer cuts it off, so it only counts as a line once it has its newline."""
        path = os.path.join(self.tdir, name)
        with open(path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            self.assertFalse(final, "%s ends in a partial line: %r" % (path, data[-200:]))
            self.unfinished += 1
            data = data[:data.rfind(b"\n") + 1]
        out = []
        for n, line in enumerate(data.split(b"\n")[:-1], 1):
            try:
                out.append(json.loads(line))
            except ValueError as e:
                self.fail("%s:%d is not whole JSON (%s): %r" % (path, n, e, line[:200]))
        return out

    def verify_store(self, final):
        """Every file parses; returns (history, audit, baseline, temp files).

        final: after a writer that ran to completion (nothing may be pending)."""
        temps = []
        for p in glob.glob(os.path.join(self.tdir, "**"), recursive=True):
            if os.path.isdir(p):
                continue
            base = os.path.basename(p)
            if ".tmp." in base:
                temps.append(p)
                continue
            if base.endswith(".json") and "/snapshots/" in p:
                if self.full_check:  # the CLI verifies every object hash and the overall hash
                    rc, out, err = run_cli("hash", p)
                    self.assertEqual(rc, 0, "%s does not parse: %s" % (p, err))
                    self.assertEqual(out.strip(), base[:-5], "%s holds another snapshot" % p)
                else:
                    with open(p) as f:
                        json.load(f)
            elif base.endswith(".json"):
                with open(p) as f:
                    json.load(f)
        self.assertEqual(glob.glob(os.path.join(self.tdir, "corrupt", "*")), [],
                         "nothing may have been found corrupt")
        history = self.json_lines("history.log", final)
        for h in history:
            self.assertIn(h["outcome"], ("ok", "error"))
            self.assertRegex(h["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        audit = self.json_lines("audit.log", final)
        with open(os.path.join(self.tdir, "baseline.json")) as f:
            baseline = json.load(f)
        snap = os.path.join(self.tdir, "snapshots", baseline["hash"] + ".json")
        self.assertTrue(os.path.exists(snap), "the baseline's snapshot %s is gone" % snap)
        accepts = [a for a in audit if a["action"].startswith("baseline")]
        pending = baseline["audit"]["id"] not in set(a["id"] for a in audit)
        if pending:
            # Killed between baseline.json and its audit line: the next writer's
            # lock appends the line (baseline.json carries it), never later.
            self.assertFalse(final, "an accept that took effect is missing from the audit log")
            self.pending += 1
        else:
            self.assertEqual(accepts[-1]["hash"], baseline["hash"],
                             "the baseline is not the last audited accept")
        return history, audit, baseline, temps

    # -- the test ----------------------------------------------------------

    def test_sigkill_at_random_points(self):
        seed = int(os.environ.get("SCHEMADRIFT_CRASH_SEED", str(int(time.time()))))
        rng = random.Random(seed)
        sys.stderr.write("seed %d (SCHEMADRIFT_CRASH_SEED to repeat)\n" % seed)
        run = ["snapshot", "--dsn", self.dsn, "--target", "app"]
        # Retention that deletes as it goes, so kills also land in pruning.
        self.timed(*run, "--keep", "3", "--keep-days", "0")
        self.timed("baseline", "accept", "app", "latest", "--reason", "initial")
        snap_time = statistics.median(self.timed(*run) for _ in range(3))
        accept_time = statistics.median(
            self.timed("baseline", "accept", "app", "latest", "--reason", "warm-up %d" % i)
            for i in range(3))
        sys.stderr.write("a run takes %.0f ms, an accept %.0f ms\n" %
                         (snap_time * 1000, accept_time * 1000))

        span = {"snapshot": snap_time, "accept": accept_time}
        self.pending = 0
        self.unfinished = 0
        self.full_check = False
        kills = {"snapshot": 0, "accept": 0}
        completed_accepts = []
        temps_seen = 0
        table = 0
        attempts = 0
        while sum(kills.values()) < KILLS:
            attempts += 1
            self.assertLess(attempts, KILLS * 20, "processes keep finishing before the kill")
            if attempts % 3 == 0:  # a new schema: the next run writes a new snapshot
                table += 1
                self.pg.psql("app", "CREATE TABLE n%d (id int, v text)" % table)
            if rng.random() < 0.65:
                kind, args = "snapshot", run
            else:
                files = glob.glob(os.path.join(self.tdir, "snapshots", "*.json"))
                ref = rng.choice(["latest"] + [os.path.basename(f)[:10] for f in files])
                reason = "accept %d" % attempts
                kind, args = "accept", ["baseline", "accept", "app", ref, "--reason", reason]
            p = self.start(*args)
            time.sleep(rng.uniform(0, span[kind]))
            # The window follows the real running time: about 7 in 10 processes are
            # killed, the rest finish, so kills also reach the writes at the end.
            span[kind] *= 1.03 if p.poll() is None else 0.93
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.communicate()
                kills[kind] += 1
                _, _, _, temps = self.verify_store(final=False)
                temps_seen += bool(temps)
            else:
                out, err = p.communicate()
                # A prefix pruned meanwhile is a clean refusal, not a failure.
                if p.returncode != 0:
                    self.assertIn(b"no stored snapshot", err, err.decode())
                    continue
                if kind == "accept":
                    completed_accepts.append(reason)
                    with open(os.path.join(self.tdir, "baseline.json")) as f:
                        b = json.load(f)
                    self.assertEqual(b["reason"], reason, "a completed accept did not take")

        self.full_check = True
        history, audit, baseline, temps = self.verify_store(final=False)
        reasons = [a.get("reason") for a in audit if a["action"] == "baseline accept"]
        for r in completed_accepts:
            self.assertIn(r, reasons, "completed accept %r is not in the audit log" % r)
        self.assertEqual(len(set(a["id"] for a in audit)), len(audit), "an audit entry twice")
        sys.stderr.write(
            "%d kills (%d during snapshot runs, %d during accepts) in %d attempts; "
            "%d kills left temporary files behind (died mid-write), %d an accept without its "
            "audit line yet (recovered by the next writer), %d an unfinished log line; "
            "%d accepts completed; "
            "%d history lines, %d audit entries, %d snapshots kept\n" % (
                sum(kills.values()), kills["snapshot"], kills["accept"], attempts, temps_seen,
                self.pending, self.unfinished, len(completed_accepts), len(history), len(audit),
                len(glob.glob(os.path.join(self.tdir, "snapshots", "*.json")))))

        # The next writer cleans up after the dead ones and works normally.
        n = len(history)
        self.timed(*run)
        history, audit, baseline, temps = self.verify_store(final=True)
        self.assertEqual(temps, [], "temporary files of dead writers must be removed")
        self.assertEqual(len(history), n + 1)
        self.assertEqual(history[-1]["outcome"], "ok")
        self.assertEqual(history[-1]["hash"], self.pg.hash("app"))
        rc, out, err = run_cli("history", "app", "--state-dir", self.state)
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "", "history reads without warnings")


if __name__ == "__main__":
    pgharness.main()
