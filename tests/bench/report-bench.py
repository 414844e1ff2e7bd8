#!/usr/bin/python3
"""The history report over 10,000 runs (a benchmark, never a test): its size, how long
`schemadrift report` takes to write it, and how long headless Chromium takes to open it
against an empty page opened the same way (the baseline), as a ratio.

The store is built as tests/integration/test_store_history_scale.py builds it: 50 real
snapshots from a live database (tables added, columns added), the unchanged runs in between
written as the lines the daemon writes for them, one a minute, plus a failed run every 97th,
a baseline accept, an acknowledgement and one alert line per change.

    SCHEMADRIFT_BIN=build/schemadrift /usr/bin/python3 tests/bench/report-bench.py [RUNS] [ROUNDS]
"""
import datetime
import json
import os
import resource
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import browser  # noqa: E402
import pgharness  # noqa: E402
from pgharness import cli_ok  # noqa: E402

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 7
DISTINCT = 50


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def build_store(pg, state):
    tdir = os.path.join(state, "targets", "app")
    pg.create_db("app")
    dsn = pg.dsn("app")
    pg.psql("app", "".join("CREATE TABLE base%d (id int PRIMARY KEY, v text);" % i
                           for i in range(20)))
    for i in range(DISTINCT):
        if i:
            pg.psql("app", "CREATE TABLE t%d (id int, v text NOT NULL);" % i if i % 2
                    else "ALTER TABLE base%d ADD COLUMN c%d int;" % (i % 20, i))
        cli_ok("snapshot", "--dsn", dsn, "--target", "app", "--state-dir", state)
    with open(os.path.join(tdir, "history.log")) as f:
        real = [json.loads(l) for l in f]
    start = int(time.time()) - RUNS * 60
    per = RUNS // DISTINCT
    lines, alerts = [], []
    for k in range(RUNS):
        src = real[min(k // per, DISTINCT - 1)]
        t = start + 60 * k
        if k % per == 0 and k // per < DISTINCT:
            rec = dict(src)
            if k:
                alerts.append({"time": iso(t + 1), "id": "%032x" % k, "kind": "drift",
                               "severity": "info", "dedup_key": "schemadrift:app:drift:%d" % k,
                               "headline": "Schema drift on app", "changes": 1,
                               "channels": ["ops-slack", "dba-mail"]})
        elif k % 97 == 0:
            rec = {"outcome": "error", "duration_ms": 10003,
                   "error": "host=db1 port=5432 dbname=app user=monitor: timeout expired"}
        else:
            rec = {"outcome": "ok", "hash": src["hash"], "duration_ms": 40 + k % 17,
                   "objects": src["objects"], "new": False}
        rec["time"] = iso(t)
        lines.append(json.dumps(rec, separators=(",", ":")) + "\n")
    with open(os.path.join(tdir, "history.log"), "w") as f:
        f.writelines(lines)
    with open(os.path.join(tdir, "alerts.log"), "w") as f:
        f.writelines(json.dumps(a) + "\n" for a in alerts)
    cli_ok("baseline", "accept", "app", real[10]["hash"][:12], "--reason", "bench",
           "--state-dir", state)
    cli_ok("ack", "app", "table:public.t*", "--reason", "bench", "--expires", "2099-01-01",
           "--state-dir", state)


def timed(fn, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.monotonic()
        fn()
        times.append(time.monotonic() - t0)
    return statistics.median(times)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def open_in_chromium(path):
    """(wall seconds, CPU seconds of every chromium process) of one --dump-dom."""
    c0, t0 = children_cpu(), time.monotonic()
    browser.dump_dom_text(path)
    return time.monotonic() - t0, children_cpu() - c0


def main():
    with pgharness.PgCluster(name="reportbench") as pg, \
            tempfile.TemporaryDirectory(prefix="schemadrift-report-bench-") as work:
        state = os.path.join(work, "state")
        build_store(pg, state)
        out = os.path.join(work, "app.html")
        write_s = timed(lambda: cli_ok("report", "app", "-o", out, "--state-dir", state), ROUNDS)
        size = os.path.getsize(out)
        empty = os.path.join(work, "empty.html")
        with open(empty, "w") as f:
            f.write("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>empty</title>"
                    "</head><body></body></html>\n")
        dom = browser.parse(browser.dump_dom_text(out))  # warm the page cache once
        rows = len(dom.find_all(tag="tr"))
        # Interleaved, so that a machine busy with something else slows both alike; the CPU
        # time Chromium's processes used says the same with less of the other load in it.
        base, page = [], []
        for _ in range(ROUNDS):
            base.append(open_in_chromium(empty))
            page.append(open_in_chromium(out))
        base_s, page_s = (statistics.median(x[0] for x in v) for v in (base, page))
        base_c, page_c = (statistics.median(x[1] for x in v) for v in (base, page))
        print("report over %d runs (%d distinct snapshots): %d bytes (%.2f MB), %d table rows"
              % (RUNS, DISTINCT, size, size / 1e6, rows))
        print("schemadrift report: median %.3f s over %d rounds" % (write_s, ROUNDS))
        print("chromium --dump-dom, median of %d: empty page %.3f s, report %.3f s, "
              "ratio %.2f, the report's own cost %.3f s"
              % (ROUNDS, base_s, page_s, page_s / base_s, page_s - base_s))
        print("chromium CPU time, median of %d: empty page %.3f s, report %.3f s, ratio %.2f, "
              "the report's own cost %.3f s" % (ROUNDS, base_c, page_c, page_c / base_c,
                                                page_c - base_c))


if __name__ == "__main__":
    main()
