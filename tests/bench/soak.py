#!/usr/bin/python3
"""Soak benchmark for schemadriftd (never a test; issue 12): many targets on one throwaway
PostgreSQL, a webhook receiver that flaps between 200 and 500, schema changes that open and
close drift incidents, and PostgreSQL restarted periodically (each restart an outage of every
target).  Samples the daemon's RSS and open descriptors, and checks at the end that every
alert was accepted by the receiver exactly once per (dedup key, kind) and that nothing the
daemon spooled was lost.

    BUILD_DIR=build /usr/bin/python3 tests/bench/soak.py [--targets 200] [--duration 3600]
        [--restart-every 600] [--down 40] [--flap 30] [--interval 20]

Prints one line per minute (RSS, fds, runs, alerts) and a summary; exit 1 when an alert was
lost or duplicated, or RSS or fds kept growing (the last quarter's median above the second
quarter's by more than 20% / 5 descriptors).
"""

import argparse
import collections
import os
import random
import re
import statistics
import sys
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, os.path.join(repo, "tests", "integration"))
build = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(repo, "build")))
os.environ.setdefault("SCHEMADRIFT_BIN", os.path.join(build, "schemadrift"))
os.environ.setdefault("SCHEMADRIFTD_BIN", os.path.join(build, "schemadriftd"))
os.environ.setdefault("SCHEMADRIFT_PG_BINDIR", "/usr/lib/postgresql/15/bin")
os.environ.setdefault("SCHEMADRIFT_PG_CACHE", os.path.join(build, "tests", "pgcache"))

import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402


def proc_sample(pid):
    """(RSS KiB, open fds, [heap] RSS KiB, other anonymous RSS KiB): the main arena grows
    [heap]; glibc's per-thread arenas are anonymous mappings, as are libraries' own."""
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    heap = anon = 0
    name = None
    with open("/proc/%d/smaps" % pid) as f:
        for l in f:
            fields = l.split()
            if fields and not fields[0].endswith(":"):  # a mapping's header line
                name = fields[5] if len(fields) > 5 else ""
            elif fields and fields[0] == "Rss:":
                if name == "[heap]":
                    heap += int(fields[1])
                elif name == "":
                    anon += int(fields[1])
    return rss, len(os.listdir("/proc/%d/fd" % pid)), heap, anon


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--duration", type=float, default=3600)
    ap.add_argument("--restart-every", type=float, default=600)
    ap.add_argument("--down", type=float, default=40, help="seconds PostgreSQL stays down")
    ap.add_argument("--flap", type=float, default=30, help="receiver: seconds up, then down")
    ap.add_argument("--interval", type=int, default=20, help="each target's schedule (s)")
    ap.add_argument("--changes", type=int, default=5, help="databases changed per minute")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="set in the daemon's environment (MALLOC_ARENA_MAX=2, say)")
    a = ap.parse_args()

    rx = http_receiver.Receiver().start()
    stop = threading.Event()

    def flapper():
        up = True
        while not stop.wait(a.flap):
            up = not up
            rx.set_default(200 if up else 500)
        rx.set_default(200)

    settings = {"max_connections": str(a.targets + 30), "fsync": "off"}
    with pgharness.PgCluster(settings=settings, name="soak") as pg:
        pg.create_db("tmpl")
        pg.psql("tmpl", "CREATE TABLE customers (id bigint PRIMARY KEY, email text UNIQUE);"
                        "CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint "
                        "REFERENCES customers, total numeric(12,2));"
                        "CREATE VIEW big AS SELECT * FROM orders WHERE total > 100")
        for i in range(a.targets):
            pg.psql("postgres", "CREATE DATABASE db%d TEMPLATE tmpl" % i)
        work = pgharness.cluster_base_dir()
        wd = os.path.join(work, "soak-%d" % os.getpid())
        os.makedirs(wd)
        d = dh.Daemon(wd, "", verbose=False, env=dict(e.split("=", 1) for e in a.env))
        conf = dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every %ds" % a.interval,
                                 settle_delay="2s", error_threshold=2, max_concurrent=16,
                                 log_level="info")
        conf = conf.replace("jitter = 0", "jitter = %ds" % (a.interval // 2))
        for i in range(a.targets):
            conf += dh.target_section("db%d" % i, pg.dsn("db%d" % i), notifiers="hook")
        conf += dh.webhook_section("hook", rx.url("/hook"))
        d.write_config(conf)
        samples = []
        changed = {}  # db -> True while it has the extra column (drifting)
        t0 = time.monotonic()
        next_restart = t0 + a.restart_every
        restarts = 0
        with d:
            d.start()
            dh.wait_until(lambda: all(t["runs"] >= 1 for t in d.status()["targets"]),
                          timeout=600, what="every target's first run")
            threading.Thread(target=flapper, daemon=True).start()
            last_print = 0
            while time.monotonic() - t0 < a.duration:
                now = time.monotonic()
                samples.append((now - t0,) + proc_sample(d.pid))
                if now >= next_restart:
                    dh.pg_pause(pg)
                    time.sleep(a.down)
                    dh.pg_resume(pg)
                    restarts += 1
                    next_restart = time.monotonic() + a.restart_every
                    continue
                if now - last_print >= 60:
                    last_print = now
                    for db in random.sample(range(a.targets), a.changes):
                        if changed.get(db):
                            pg.psql("db%d" % db, "ALTER TABLE orders DROP COLUMN note")
                        else:
                            pg.psql("db%d" % db, "ALTER TABLE orders ADD COLUMN note text")
                        changed[db] = not changed.get(db)
                    st = d.status()
                    runs = sum(t["runs"] for t in st["targets"])
                    print("%6.0f s  rss %6d KiB (heap %6d, anon %6d)  fds %4d  runs %7d  "
                          "alerts accepted %5d  requests %6d" % (
                              now - t0, samples[-1][1], samples[-1][3], samples[-1][4],
                              samples[-1][2], runs,
                                            sum(1 for r in rx.requests if r.answered == 200),
                                            len(rx.requests)), flush=True)
                time.sleep(10)
            stop.set()
            rx.set_default(200)
            # Let every spooled alert get out, then stop.
            dh.wait_until(lambda: d.status()["alerts_unspooled"] == 0 and
                          not os.listdir(os.path.join(d.state_dir, "outbox", "queue")),
                          timeout=900, interval=2, what="the outbox to drain")
            st = d.status()
            rc, _ = d.stop(timeout=120)
        log = d.log()
        rx.stop()

    accepted = [r.json for r in rx.requests if r.answered == 200 and r.json]
    per_key = collections.Counter((x.get("dedup_key"), x["kind"]) for x in accepted)
    dups = {k: n for k, n in per_key.items() if n > 1}
    ids_accepted = collections.Counter(x["id"] for x in accepted)
    delivered_lines = [l for l in log.splitlines() if " delivered to hook" in l]
    given_up = [l for l in log.splitlines() if re.search(
        r"alert \S+ to \S+ (given up|dropped:|lost:)|never spooled", l)]
    kinds = collections.Counter(x["kind"] for x in accepted)
    q = len(samples) // 4
    rss_mid = statistics.median(s[1] for s in samples[q:2 * q]) if q else 0
    rss_end = statistics.median(s[1] for s in samples[3 * q:]) if q else 0
    fds_mid = statistics.median(s[2] for s in samples[q:2 * q]) if q else 0
    fds_end = statistics.median(s[2] for s in samples[3 * q:]) if q else 0
    print("\n== soak summary")
    print("duration %.0f s, %d targets every %d s, %d PostgreSQL restarts (%.0f s down), "
          "receiver flapping every %.0f s" % (a.duration, a.targets, a.interval, restarts,
                                              a.down, a.flap))
    print("runs %d, failures %d" % (sum(t["runs"] for t in st["targets"]),
                                    sum(t["failures"] for t in st["targets"])))
    print("requests %d, accepted %d (%s), answered 500 %d" % (
        len(rx.requests), len(accepted), dict(kinds),
        sum(1 for r in rx.requests if r.answered == 500)))
    print("duplicates per (dedup key, kind): %d; alert ids accepted twice: %d; "
          "given up/dropped/lost: %d; daemon 'delivered' lines %d" % (
              len(dups), sum(1 for n in ids_accepted.values() if n > 1), len(given_up),
              len(delivered_lines)))
    print("RSS KiB: first %d, 2nd-quarter median %d, last-quarter median %d, max %d" % (
        samples[0][1], rss_mid, rss_end, max(s[1] for s in samples)))
    for col, what in ((3, "[heap]"), (4, "other anonymous")):
        print("%s RSS KiB: first %d, 2nd-quarter median %d, last-quarter median %d" % (
            what, samples[0][col], statistics.median(s[col] for s in samples[q:2 * q]) if q else 0,
            statistics.median(s[col] for s in samples[3 * q:]) if q else 0))
    print("open fds: first %d, 2nd-quarter median %d, last-quarter median %d, max %d" % (
        samples[0][2], fds_mid, fds_end, max(s[2] for s in samples)))
    print("daemon exit status %d" % rc)
    bad = dups or given_up or len(delivered_lines) != len(accepted) or rc != 0 or \
        (q and (rss_end > rss_mid * 1.2 or fds_end > fds_mid + 5))
    if dups:
        print("duplicated:", list(dups.items())[:10])
    if given_up:
        print("lost:", given_up[:10])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
