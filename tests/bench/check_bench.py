#!/usr/bin/python3
"""Schema health checks on big tables (a benchmark, never a test): every check on a generated
schema with a 1 M-row and a 10 M-row table, each check's wall time without sampling (the
baseline: full scans) and with sampling (TABLESAMPLE SYSTEM above --sample-above), as
ratios against that baseline run in the same process; then one run with a short
statement_timeout shows that it bounds a check on the biggest table.

    SCHEMADRIFT_BIN=build/schemadrift /usr/bin/python3 tests/bench/check_bench.py [ROWS...]

ROWS defaults to "1000000 10000000" (about 1.2 GB of tables, a few minutes to generate on a
2-core machine); pass smaller sizes for a quick look.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import pgharness  # noqa: E402

SIZES = [int(a) for a in sys.argv[1:]] or [1000000, 10000000]
CHECKS = ["fk-index", "orphans", "check-violations", "null-violations", "custom:status"]
SAMPLE_ABOVE = 100000  # rows: each table is sampled down to about this many
TIMEOUT = 0.5          # seconds, for the bounded run


def generate(pg, n):
    """One database per size, so each check's time is that of one table."""
    db = "big_%d" % n
    pg.create_db(db)
    pg.psql(db, """
        CREATE TABLE parent (id int PRIMARY KEY);
        INSERT INTO parent SELECT generate_series(1, 100000);
        CREATE DOMAIN posint AS int;
    """)
    t = "child"
    t0 = time.monotonic()
    # Five rows per table (spread out) are orphans, five fail the CHECK, five the
    # domain constraint, five have a NULL note, five a bad status: fewer than
    # sample_rows, so an unsampled scan reads the whole table (a LIMIT never cuts it
    # short), as on a healthy database.  No index on parent_id (an fk-index finding).
    pg.psql(db, """
        CREATE TABLE {t} (id bigint NOT NULL, parent_id int, qty int, amount posint,
                          note text, status text);
        INSERT INTO {t} SELECT g,
               CASE WHEN g % {k} = 0 THEN 200000 ELSE 1 + g % 100000 END,
               CASE WHEN g % {k} = 1 THEN -1 ELSE 1 END,
               CASE WHEN g % {k} = 2 THEN -5 ELSE 5 END,
               CASE WHEN g % {k} = 3 THEN NULL ELSE 'n' END,
               CASE WHEN g % {k} = 4 THEN 'bogus' ELSE 'new' END
          FROM generate_series(1, {n}) g;
        ALTER TABLE {t} ADD CONSTRAINT {t}_fk FOREIGN KEY (parent_id) REFERENCES parent
            NOT VALID;
        ALTER TABLE {t} ADD CONSTRAINT {t}_qty CHECK (qty > 0) NOT VALID;
        ANALYZE {t};
    """.format(t=t, n=n, k=n // 5), timeout=3600)
    print("generated %s.%s: %d rows in %.1f s (%s)" % (
        db, t, n, time.monotonic() - t0,
        pg.scalar(db, "SELECT pg_size_pretty(pg_relation_size('%s'))" % t)))
    pg.psql(db, "ALTER DOMAIN posint ADD CONSTRAINT posint_check CHECK (VALUE > 0) NOT VALID")
    return db


def run(pg, db, conf, only, *args):
    t0 = time.monotonic()
    rc, out, err = pgharness.run_cli("check", "--dsn", pg.dsn(db), "--config", conf, "--only",
                                     only, "--format", "json", *args, timeout=7200)
    wall = time.monotonic() - t0
    if rc not in (0, 1, 2) or not out:
        raise SystemExit("schemadrift check --only %s: exit %d: %s" % (only, rc, err))
    return wall, json.loads(out)


def main():
    with pgharness.PgCluster(name="checkbench") as pg:
        dbs = [(n, generate(pg, n)) for n in SIZES]
        conf = os.path.join(pg.tmpdir, "bench.conf")
        with open(conf, "w") as f:
            f.write("[check status]\nsql = SELECT id, status FROM public.child "
                    "WHERE status NOT IN ('new', 'paid')\n")
        for n, db in dbs:
            print("\n%d rows (sampled: --sample-above %d)" % (n, SAMPLE_ABOVE))
            print("%-34s %10s %12s %8s   findings (full / sampled)" % (
                "check", "full (s)", "sampled (s)", "ratio"))
            variants = [(c, ()) for c in CHECKS] + [
                ("null-violations --all-constraints", ("--all-constraints",)),
                ("orphans --exact-counts", ("--exact-counts",))]
            for label, extra in variants:
                only = label.split()[0]
                # Warm the cache once so neither run pays for the first read from disk.
                run(pg, db, conf, only, "--sample-above", "0", *extra)
                full, rf = run(pg, db, conf, only, "--sample-above", "0", *extra)
                sampled, rs = run(pg, db, conf, only, "--sample-above", str(SAMPLE_ABOVE),
                                  *extra)
                print("%-34s %10.3f %12.3f %8.3f   %d / %d" % (
                    label, full, sampled, sampled / full if full else 0,
                    len(rf["findings"]), len(rs["findings"])))
            # statement_timeout bounds every statement of a check: the orphan scan is
            # cut off, reported as timed out, and the run goes on.
            base, _ = run(pg, db, conf, "all", "--sample-above", "0")
            bounded, rb = run(pg, db, conf, "all", "--sample-above", "0",
                              "--statement-timeout", str(TIMEOUT))
            timed_out = [c["name"] for c in rb["checks"] if c["status"] == "timeout"]
            print("all checks, statement_timeout %.1f s: %.3f s (unbounded %.3f s, ratio %.3f); "
                  "timed out: %s; findings %d" % (TIMEOUT, bounded, base, bounded / base,
                                                  ", ".join(timed_out) or "none",
                                                  len(rb["findings"])))


if __name__ == "__main__":
    main()
