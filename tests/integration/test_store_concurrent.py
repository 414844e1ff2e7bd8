"""A daemon-style writer, `baseline accept` and `history prune` on one target at once: no lost update.

The writer records run after run (the schema changes now and then), an operator accepts
baselines, and pruning with a zero-day history limit rewrites history.log while runs are
being appended.  Every history line must be accounted for (still there, or reported as
removed by a prune), every accept must be in the audit log exactly once, and the baseline
must be the last accept.
"""

import json
import os
import re
import subprocess
import threading
import time

import pgharness
from pgharness import cli_bin, clean_env

WRITER_RUNS = 60
ACCEPTS = 40
PRUNES = 40


class StoreConcurrencyTest(pgharness.PgTestCase):

    def cli(self, *args):
        p = subprocess.run([cli_bin()] + list(args) + ["--state-dir", self.state],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(),
                           timeout=120)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_writer_accept_and_prune_at_once(self):
        self.state = self.path("state")
        tdir = os.path.join(self.state, "targets", "app")
        self.pg.create_db("app")
        dsn = self.pg.dsn("app")
        self.pg.psql("app", "CREATE TABLE t (id int)")
        rc, out, err = self.cli("baseline", "create", "app", "--dsn", dsn)
        self.assertEqual(rc, 0, err)
        failures = []
        removed = []
        runs = [1]  # baseline create recorded one

        def writer():
            for i in range(WRITER_RUNS):
                if i % 5 == 4:
                    self.pg.psql("app", "CREATE TABLE w%d (id int)" % i)
                rc, out, err = self.cli("snapshot", "--dsn", dsn, "--target", "app")
                if rc != 0:
                    failures.append("writer: " + err)
                else:
                    runs.append(1)

        def acceptor():
            for i in range(ACCEPTS):
                rc, out, err = self.cli("baseline", "accept", "app", "latest", "--reason",
                                        "accept %d" % i)
                if rc != 0:
                    failures.append("accept: " + err)

        def pruner():
            # History times have one-second resolution: let the first lines age
            # past "0 days" so every prune has something to rewrite.
            time.sleep(1.2)
            for i in range(PRUNES):
                rc, out, err = self.cli("history", "prune", "app", "--history-days", "0")
                if rc != 0:
                    failures.append("prune: " + err)
                    continue
                m = re.search(r"removed (\d+) history lines?", out)
                removed.append(int(m.group(1)))

        threads = [threading.Thread(target=f) for f in (writer, acceptor, pruner)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])

        with open(os.path.join(tdir, "history.log"), "rb") as f:
            data = f.read()
        self.assertTrue(data.endswith(b"\n"))
        lines = [json.loads(l) for l in data.splitlines()]
        self.assertGreater(sum(removed), 0, "pruning never rewrote the history: no race tested")
        self.assertEqual(len(lines) + sum(removed), len(runs),
                         "history lines lost or duplicated: %d left + %d pruned != %d runs"
                         % (len(lines), sum(removed), len(runs)))

        with open(os.path.join(tdir, "audit.log")) as f:
            audit = [json.loads(l) for l in f]
        reasons = [a["reason"] for a in audit if a["action"] == "baseline accept"]
        self.assertEqual(sorted(reasons), sorted("accept %d" % i for i in range(ACCEPTS)))
        self.assertEqual(reasons, ["accept %d" % i for i in range(ACCEPTS)], "out of order")
        with open(os.path.join(tdir, "baseline.json")) as f:
            baseline = json.load(f)
        self.assertEqual(baseline["reason"], "accept %d" % (ACCEPTS - 1))
        self.assertEqual(baseline["hash"], [a for a in audit if a["action"] == "baseline accept"][-1]["hash"])
        self.assertTrue(os.path.exists(os.path.join(tdir, "snapshots", baseline["hash"] + ".json")))
        print("\n%d runs, %d history lines left, %d removed by %d prunes; %d accepts audited"
              % (len(runs), len(lines), sum(removed), len(removed), len(reasons)))


if __name__ == "__main__":
    pgharness.main()
