#!/usr/bin/python3
"""Gentle on production (a benchmark, never a test): while schemadriftd snapshots a
1,000-table database every 5 s, another session loops ALTER TABLE ... ADD/DROP COLUMN
with lock_timeout = 100ms.  Counts the DDL statements that timed out on a lock (the
target is zero) and the snapshots taken.

    SCHEMADRIFT_BIN=build/schemadrift SCHEMADRIFTD_BIN=build/schemadriftd \\
        /usr/bin/python3 tests/bench/gentle.py [SECONDS] [TABLES]
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import daemonharness  # noqa: E402
import pgharness  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 300
TABLES = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


def main():
    with pgharness.PgCluster(name="gentle") as pg, tempfile.TemporaryDirectory() as work:
        pg.create_db("app")
        for lo in range(1, TABLES + 1, 200):  # a transaction's lock table is finite
            pg.psql("app", "DO $$ BEGIN FOR i IN %d..%d LOOP EXECUTE format("
                    "'CREATE TABLE t%%s (id bigint PRIMARY KEY, a int, b text, c timestamptz)', i);"
                    " END LOOP; END $$;" % (lo, min(lo + 199, TABLES)))
        # full_every = 0: every run is a full snapshot, the worst case for the DDL session.
        conf = daemonharness.daemon_section(os.path.join(work, "state"), os.path.join(work, "run"),
                                            schedule="every 5s", settle_delay="0", full_every="0") + \
            daemonharness.target_section("app", pg.dsn("app"))
        d = daemonharness.Daemon(work, conf)
        d.start()
        daemonharness.wait_until(lambda: d.target_status("app")["runs"] >= 1, what="the first run")
        psql = subprocess.Popen(["/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=0", pg.dsn("app")],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        psql.stdin.write("SET lock_timeout = '100ms';\n")
        start, n = time.monotonic(), 0
        while time.monotonic() - start < SECONDS:
            t = 1 + n % TABLES
            psql.stdin.write("ALTER TABLE t%d ADD COLUMN x int; ALTER TABLE t%d DROP COLUMN x;\n" % (t, t))
            psql.stdin.flush()
            n += 2
            time.sleep(0.01)
        psql.stdin.close()
        err = psql.stderr.read()
        psql.wait()
        runs = d.target_status("app")["runs"]
        d.stop()
        timeouts = err.count("lock timeout")
        print("%d tables, %.0f s: %d ALTER statements, %d timed out on a lock; %d daemon runs "
              "(every one a full snapshot: full_every = 0)" % (TABLES, SECONDS, n, timeouts, runs))
        return 1 if timeouts else 0


if __name__ == "__main__":
    sys.exit(main())
