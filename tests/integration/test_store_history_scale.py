"""`schemadrift history` over 10,000 runs and 50 distinct snapshots: prints how long it took and the store's size.

The 50 snapshots and their change summaries come from 50 real runs against a live database;
the unchanged runs in between (what a target checked every minute produces) are added as
the lines those runs write (docs/store.md), spaced a minute apart, to reach 10,000 runs
without 10,000 connections.  Nothing here asserts a time: the numbers are printed for the
record; the test asserts that the answer is right.
"""

import json
import os
import subprocess
import sys
import time
import datetime

import pgharness
from pgharness import cli_bin, clean_env, run_cli

RUNS = 10000
DISTINCT = 50


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class HistoryScaleTest(pgharness.PgTestCase):

    def test_10000_runs_50_snapshots(self):
        state = self.path("state")
        tdir = os.path.join(state, "targets", "app")
        self.pg.create_db("app")
        dsn = self.pg.dsn("app")
        self.pg.psql("app", "".join("CREATE TABLE base%d (id int PRIMARY KEY, v text);" % i
                                    for i in range(20)))
        for i in range(DISTINCT):
            if i:
                self.pg.psql("app", "CREATE TABLE t%d (id int, v text NOT NULL);" % i if i % 2
                             else "ALTER TABLE base%d ADD COLUMN c%d int;" % (i % 20, i))
            rc, out, err = run_cli("snapshot", "--dsn", dsn, "--target", "app", "--state-dir", state)
            self.assertEqual(rc, 0, err)
        with open(os.path.join(tdir, "history.log")) as f:
            real = [json.loads(l) for l in f]
        self.assertEqual(len(real), DISTINCT)
        self.assertEqual(len(set(r["hash"] for r in real)), DISTINCT)

        # 10,000 runs, one a minute, ending now; each real run followed by its repeats.
        start = int(time.time()) - RUNS * 60
        per = RUNS // DISTINCT
        lines = []
        for k in range(RUNS):
            src = real[k // per]
            if k % per == 0:
                rec = dict(src)
            else:
                rec = {"time": None, "outcome": "ok", "hash": src["hash"],
                       "duration_ms": 40 + k % 17, "objects": src["objects"], "new": False}
            rec["time"] = iso(start + 60 * k)
            lines.append(json.dumps(rec, separators=(",", ":")) + "\n")
        tmp = os.path.join(tdir, "history.log.new")
        with open(tmp, "w") as f:
            f.writelines(lines)
        os.rename(tmp, os.path.join(tdir, "history.log"))
        rc, out, err = run_cli("baseline", "accept", "app", real[10]["hash"][:12], "--reason",
                               "scale test", "--state-dir", state)
        self.assertEqual(rc, 0, err)

        cmd = [cli_bin(), "history", "app", "--state-dir", state]
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
            times.append(time.monotonic() - t0)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.assertEqual(p.stderr, b"")
        out = p.stdout.decode()
        rows = [l for l in out.splitlines() if l[:2] == "20"]
        self.assertEqual(len(rows), DISTINCT, out[:3000])
        self.assertIn("first snapshot", rows[0])
        for row, rec in zip(rows[1:], real[1:]):
            self.assertIn(rec["hash"][:12], row)
            self.assertRegex(row, r"\d+ changes?: \d+ breaking, \d+ warning, \d+ info \(")
        self.assertIn("[baseline]", rows[10])
        self.assertIn("%d runs from %s" % (RUNS, iso(start)), out)
        self.assertIn("%d changes, 0 failed" % (DISTINCT - 1), out)

        # One more daemon-style run on top: record + retention over the 10,000 lines.
        t0 = time.monotonic()
        rc, _, err = run_cli("snapshot", "--dsn", dsn, "--target", "app", "--state-dir", state)
        run_time = time.monotonic() - t0
        self.assertEqual(rc, 0, err)

        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tdir) for f in fs)
        snaps = os.listdir(os.path.join(tdir, "snapshots"))
        du = subprocess.run(["du", "-sh", tdir], stdout=subprocess.PIPE).stdout.decode().split()[0]
        sys.stderr.write(
            "\n`schemadrift history app` over %d runs / %d snapshots: best %.0f ms, median %.0f ms "
            "(wall time of the whole process, 5 tries)\n"
            "one more `snapshot --target` on top (live snapshot + record + retention): %.0f ms\n"
            "store: %d bytes in files (du -sh: %s); history.log %d bytes; %d snapshot files, "
            "%d bytes\n" % (
                RUNS, DISTINCT, min(times) * 1000, sorted(times)[2] * 1000, run_time * 1000,
                size, du, os.path.getsize(os.path.join(tdir, "history.log")), len(snaps),
                sum(os.path.getsize(os.path.join(tdir, "snapshots", s)) for s in snaps)))


if __name__ == "__main__":
    pgharness.main()
