#!/usr/bin/python3
"""What the DDL recorder costs (a benchmark, never a test): DDL throughput with and without
`schemadrift audit install`, as a ratio measured in the same process on the same cluster.

Each round runs PAIRS `ALTER TABLE ... ADD COLUMN` / `DROP COLUMN` pairs through one psql
session (each statement its own transaction, as a migration tool in autocommit runs them)
against three databases of one cluster: one without the recorder, one with it (default
settings: statements cut to 1024 characters, 30 days' retention), one with --no-statement.  Rounds alternate between the
sides, each side taking each place of a round in turn, so that a machine that slows down
slows all of them; the medians are compared.

    SCHEMADRIFT_BIN=build/schemadrift /usr/bin/python3 tests/bench/recorder-bench.py [PAIRS] [ROUNDS]
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import pgharness  # noqa: E402

PAIRS = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


# A dropped column still counts against a table's 1600: the pairs go round TABLES tables,
# made afresh (untimed) before each round.
TABLES = 10


def script(path):
    with open(path, "w") as f:
        for i in range(PAIRS):
            f.write("ALTER TABLE public.t%d ADD COLUMN c%d integer;\n" % (i % TABLES, i))
            f.write("ALTER TABLE public.t%d DROP COLUMN c%d;\n" % (i % TABLES, i))
    return path


def fresh_tables(pg, db):
    pg.psql(db, "".join("DROP TABLE IF EXISTS public.t%d; CREATE TABLE public.t%d (id integer);"
                        % (k, k) for k in range(TABLES)))


def run(pg, db, path):
    fresh_tables(pg, db)
    t0 = time.perf_counter()
    subprocess.run([pgharness.PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", pg.dsn(db),
                    "-f", path], check=True, stdout=subprocess.DEVNULL,
                   env=pgharness.clean_env())
    return time.perf_counter() - t0


def main():
    with pgharness.PgCluster() as pg, tempfile.TemporaryDirectory() as tmp:
        path = script(os.path.join(tmp, "ddl.sql"))
        sides = {"without the recorder": "plain", "with the recorder": "recorded",
                 "with it, --no-statement": "nostmt"}
        for db in sides.values():
            pg.create_db(db)
        pgharness.cli_ok("audit", "install", "--dsn", pg.dsn("recorded"))
        pgharness.cli_ok("audit", "install", "--dsn", pg.dsn("nostmt"), "--no-statement")
        # One warm-up round each (catalog caches, the log table's first pages).
        for db in sides.values():
            run(pg, db, path)
        times = {k: [] for k in sides}
        order = list(sides.items())
        for r in range(ROUNDS):
            # Each side takes each place in a round in turn: whatever the
            # machine does to the first or the last run falls on all of them.
            for k, db in order[r % len(order):] + order[:r % len(order)]:
                times[k].append(run(pg, db, path))
        rows = pg.scalar("recorded", "SELECT count(*) FROM schemadrift.ddl_log")
        size = pg.scalar("recorded", "SELECT pg_size_pretty(pg_total_relation_size("
                                     "'schemadrift.ddl_log'))")
        base = statistics.median(times["without the recorder"])
        print("DDL throughput, %d ADD/DROP COLUMN pairs (%d statements) per round, %d rounds,"
              " PostgreSQL %s:" % (PAIRS, 2 * PAIRS, ROUNDS, pg.major))
        for k in sides:
            med = statistics.median(times[k])
            print("  %-24s median %6.2f s  %7.0f statements/s  %5.3f ms/statement  ratio %.2f"
                  % (k, med, 2 * PAIRS / med, 1000 * med / (2 * PAIRS),
                     med / base))
        print("  recorder rows after %d rounds: %s (%s with its index)" % (ROUNDS + 1, rows, size))


if __name__ == "__main__":
    main()
