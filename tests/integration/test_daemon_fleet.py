"""Several schemadriftd sharing their targets through a coordination database (docs/operations.md).

Two and three real daemons on one machine, one PostgreSQL holding the targets and another
one for coordination (so that it can be stopped alone), one webhook receiver that records
which daemon sent what (each daemon posts to its own path).  What an operator checks:

  - every target is checked by exactly one daemon, and both daemons get some (then all
    three); a reload keeps a daemon's leases;
  - a drift alerted before a daemon is killed (-9) is not alerted again by the daemon that
    takes its targets over; its targets are taken over within lease_timeout plus one
    schedule period, and a drift made during the outage alerts exactly once;
  - a daemon stopped with SIGTERM hands its leases over at once;
  - with the coordination server stopped, the daemons stop checking once their leases
    would have expired (no double alerts), and take their targets back when it returns,
    where a drift made meanwhile alerts exactly once.
"""

import hashlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

PERIOD = 1.0        # schedule = every 1s
LEASE = 3.0         # lease_timeout = 3s
# Beyond lease_timeout + one period: a coordination round (a quarter of a lease),
# one snapshot and one delivery on a loaded machine.
GRACE = 4.0
N_TARGETS = 8
TARGETS = ["db%d" % i for i in range(N_TARGETS)]


class Blackhole:
    """A TCP relay to the coordination server that can stop passing bytes while keeping
    every connection open: a hung server, or a link that drops all but keepalives,
    which no socket error ever reports."""

    def __init__(self, port):
        self.target = ("127.0.0.1", port)
        self.holes = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            b = socket.create_connection(self.target)
            self.conns += [a, b]
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()
            threading.Thread(target=self._pump, args=(b, a), daemon=True).start()

    def _pump(self, src, dst):
        while True:
            if self.holes.is_set():
                time.sleep(0.05)
                continue
            r, _, _ = select.select([src], [], [], 0.05)
            if not r or self.holes.is_set():
                continue  # what came in meanwhile stays unread: nothing passes
            try:
                data = src.recv(65536)
                if not data:
                    dst.close()
                    return
                dst.sendall(data)
            except OSError:
                return

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def rendezvous(nodes, target):
    """The node a target goes to among live nodes (docs/operations.md): the highest weight,
    the first 8 bytes (big-endian) of SHA-256(node NUL target); ties to the smaller name."""
    def weight(n):
        return int.from_bytes(hashlib.sha256(n.encode() + b"\0" + target.encode())
                              .digest()[:8], "big")
    return sorted(nodes, key=lambda n: (-weight(n), n))[0]


def shared_drift(coord, target):
    """The drift incident the coordination database holds for target (None: none)."""
    out = coord.psql("postgres", "SELECT alert_state::json -> 'drift' ->> 'incident' FROM "
                     "schemadrift_coord.target_state WHERE target = '%s'" % target,
                     tuples=True).strip()
    return out or None


class Fleet(pgharness.PgTestCase):
    def setUp(self):
        super().setUp()
        for name in TARGETS:
            self.pg.psql("postgres", "DROP DATABASE IF EXISTS %s" % name)
            self.pg.create_db(name)
            self.pg.psql(name, "CREATE TABLE orders (id int PRIMARY KEY)")
        self.coord = pgharness.PgCluster(name="coord")
        self.coord.start()
        self.addCleanup(self.coord.stop)
        self.rx = http_receiver.Receiver().start()
        self.addCleanup(self.rx.stop)
        self.daemons = {}

    def start_daemon(self, node, coordination=None, dsns=None, checks="fk-index", extra=""):
        directory = self.path(node)
        os.makedirs(directory, exist_ok=True)
        d = dh.Daemon(directory, "")
        conf = dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every 1s",
                                 settle_delay="0", error_threshold=100, connect_timeout="2s",
                                 coordination=coordination or self.coord.dsn("postgres"),
                                 lease_timeout="3s", node_name=node)
        # Schema checks too (fk-index: no finding here), on a schedule of their own.
        conf += "".join(dh.target_section(t, (dsns or {}).get(t) or self.pg.dsn(t),
                                          notifiers="hook",
                                          checks=checks, checks_schedule="every 2s")
                        for t in TARGETS)
        conf += extra + dh.webhook_section("hook", self.rx.url("/hook/" + node))
        d.write_config(conf)
        self.addCleanup(self.dump_log, d, node)
        self.addCleanup(d.kill)
        self.daemons[node] = d
        d.start()
        return d

    def dump_log(self, d, node):
        """The daemon's last lines on stderr, when the test failed (read by whoever debugs it)."""
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        failed = result is not None and any(
            t is self for t, _ in list(result.failures) + list(result.errors))
        if not failed and not os.environ.get("SCHEMADRIFT_TEST_LOGS"):
            return
        try:
            tail = "\n".join(d.log().splitlines()[-40:])
        except OSError:
            tail = "(no log)"
        sys.stderr.write("----- %s stderr (last 40 lines) -----\n%s\n" % (node, tail))

    def alerts(self, kind=None, target=None):
        return dh.received_alerts(self.rx, kind, target)

    def holders(self, nodes, targets=TARGETS):
        return dh.lease_holders(self.daemons, nodes, targets)

    def wait_spread(self, nodes):
        return self.wait_spread_of(nodes, TARGETS)

    def wait_spread_of(self, nodes, targets):
        """Until every target is held by exactly one of nodes, the one rendezvous hashing
        gives it among them (the rebalance is done: a node keeps a target it should hand
        over while a run of it is in flight), each node holds some, and each node agrees
        who holds what."""
        want = {t: rendezvous(nodes, t) for t in targets}
        self.assertEqual(set(want.values()), set(nodes), "a node would hold nothing")

        def spread():
            held = self.holders(nodes, targets)
            if any(v != [want[t]] for t, v in held.items()):
                return None
            for n in nodes:
                for t in self.daemons[n].status()["targets"]:
                    if t.get("holder") != held[t["target"]][0]:
                        return None
            return {t: v[0] for t, v in held.items()}
        return dh.wait_until(spread, what="every target held by exactly one of %r" % (nodes,))

    def runs(self, nodes):
        """(snapshot runs, check runs) per (node, target)."""
        return {(n, t["target"]): (t["runs"], (t.get("checks") or {}).get("runs", 0))
                for n in nodes for t in self.daemons[n].status()["targets"]}

    def wait_unheld_runs_ended(self, nodes):
        """A run or a check run that a node started before its lease went is recorded when
        it ends (alerting nothing): waits until no node has one of a target it no longer
        holds, so that counting from here is fair."""
        dh.wait_until(lambda: not any(
            not t.get("leased") and (t.get("running") or (t.get("checks") or {}).get("running"))
            for n in nodes for t in self.daemons[n].status()["targets"]),
            what="runs in flight of targets no longer held to end")

    def assert_one_checker(self, nodes, owner, checks_grow=True):
        """Over a few periods, each target's runs and check runs grow at its holder only
        (checks_grow=False: check runs slower than that need not grow)."""
        self.wait_unheld_runs_ended(nodes)
        before = self.runs(nodes)
        time.sleep(4 * PERIOD)
        after = self.runs(nodes)
        for (n, t), (r, c) in after.items():
            r0, c0 = before[(n, t)]
            if owner[t] == n:
                self.assertGreater(r, r0, "%s did not check %s, its own" % (n, t))
                if checks_grow:
                    self.assertGreater(c, c0, "%s did not run the checks of %s" % (n, t))
            else:
                self.assertEqual((r, c), (r0, c0), "%s checked %s, held by %s" % (n, t, owner[t]))

    def test_two_daemons_then_a_third_and_a_kill(self):
        self.start_daemon("n1")
        self.start_daemon("n2")
        owner = self.wait_spread(["n1", "n2"])
        self.assert_one_checker(["n1", "n2"], owner)
        # Every target has its baseline (made by whoever ran it first); nothing alerted.
        self.assertEqual(self.alerts(), [], "alerts without any change")

        # A third daemon joins: the targets spread over three.
        self.start_daemon("n3")
        owner = self.wait_spread(["n1", "n2", "n3"])
        self.assert_one_checker(["n1", "n2", "n3"], owner)
        self.assertEqual(self.alerts(), [], "a rebalance alerted")

        # A reload keeps the leases (a restart-only key changed says so, and waits).
        n2 = self.daemons["n2"]
        with open(n2.config) as f:
            n2.write_config(f.read().replace("lease_timeout = 3s", "lease_timeout = 5s"))
        handed = len(n2.log_lines(r"lease handed over"))
        n2.signal(signal.SIGHUP)
        n2.wait_log(r"configuration reloaded")
        self.assertTrue(n2.log_lines(r"key 'lease_timeout' changed: it takes effect at the "
                                     r"next restart"))
        self.assert_one_checker(["n1", "n2", "n3"], owner)
        self.assertEqual(self.wait_spread(["n1", "n2", "n3"]), owner)
        self.assertEqual(len(n2.log_lines(r"lease handed over")), handed, "a reload lost leases")

        # The daemon with the most targets drifts one of them, and is killed.
        victim = max(["n1", "n2", "n3"], key=lambda n: list(owner.values()).count(n))
        mine = sorted(t for t, n in owner.items() if n == victim)
        self.assertGreaterEqual(len(mine), 2, "the victim needs two targets: %r" % owner)
        before_kill, during = mine[0], mine[1]
        self.pg.psql(before_kill, "ALTER TABLE orders ADD COLUMN note text")
        dh.wait_until(lambda: self.alerts("drift", before_kill),
                      what="the drift of %s alerted by %s" % (before_kill, victim))
        self.assertEqual([a[0] for a in self.alerts("drift", before_kill)], [victim])
        # Its alert state reaches the coordination database at once (docs/operations.md:
        # what the database never received may be alerted again, with the same key).
        dh.wait_until(lambda: shared_drift(self.coord, before_kill),
                      what="the drift state of %s in the coordination database" % before_kill)
        self.daemons[victim].proc.send_signal(signal.SIGKILL)
        self.daemons[victim].proc.wait()
        killed = time.monotonic()
        self.pg.psql(during, "ALTER TABLE orders ADD COLUMN made_during_outage int")

        rest = [n for n in ["n1", "n2", "n3"] if n != victim]

        def taken():
            held = self.holders(rest)
            return all(len(held[t]) == 1 for t in mine) and held
        dh.wait_until(taken, what="%s's targets %r taken over" % (victim, mine))
        took = time.monotonic() - killed
        sys.stderr.write("takeover after %.1f s (lease %.0f s, period %.0f s)\n"
                         % (took, LEASE, PERIOD))
        self.assertLess(took, LEASE + PERIOD + GRACE)
        dh.wait_until(lambda: self.alerts("drift", during),
                      what="the drift made during the outage alerted")
        took_alert = time.monotonic() - killed
        self.assertLess(took_alert, LEASE + PERIOD + GRACE + PERIOD)
        # Several more periods: nothing is alerted twice, nor by two daemons.
        time.sleep(4 * PERIOD)
        drifts = self.alerts("drift")
        self.assertEqual(sorted(a[1] for a in drifts), sorted([before_kill, during]), drifts)
        self.assertNotEqual(self.alerts("drift", during)[0][0], victim)
        self.assertEqual([a for a in self.alerts() if a[2] != "drift"], [],
                         "other alerts after the takeover")
        owner = self.wait_spread(rest)
        self.assert_one_checker(rest, owner)
        # status shows the holder of each target, the same on both survivors.
        for n in rest:
            st = self.daemons[n].status()
            self.assertEqual(st["coordination"]["node"], n)
            self.assertTrue(st["coordination"]["connected"])
            self.assertEqual({t["target"]: t["holder"] for t in st["targets"]}, owner)
        # The text an operator reads, and run-now sent to the wrong daemon.
        a, b = rest
        text = pgharness.cli_ok("status", "--runtime-dir", self.daemons[a].runtime_dir)
        self.assertRegex(text, r"coordination: node %s, connected, 2 live nodes" % a)
        self.assertRegex(text, r"(?m)^TARGET +HOLDER +STATE ")
        for t, n in owner.items():
            self.assertRegex(text, r"(?m)^%s +%s +%s" % (t, n, "not held" if n != a else ""))
        theirs = next(t for t, n in owner.items() if n == b)
        rc, out, err = pgharness.run_cli("run-now", theirs, "--runtime-dir",
                                         self.daemons[a].runtime_dir)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("lease held by %s" % b, err)

    def test_coordination_server_stopped_and_back(self):
        self.start_daemon("n1")
        self.start_daemon("n2")
        owner = self.wait_spread(["n1", "n2"])
        self.assertEqual(self.alerts(), [])
        dh.pg_pause(self.coord)
        paused = time.monotonic()
        # Once the leases would have expired, nobody checks anything.
        dh.wait_until(lambda: not any(v for v in self.holders(["n1", "n2"]).values()),
                      what="the leases given up with the coordination server away")
        self.assertLess(time.monotonic() - paused, LEASE + GRACE)
        for n in ("n1", "n2"):
            self.daemons[n].wait_log(r"leases? expired without renewal \(coordination "
                                     r"database unreachable\)")
        target = TARGETS[0]
        self.pg.psql(target, "ALTER TABLE orders ADD COLUMN while_coord_down int")
        self.wait_unheld_runs_ended(["n1", "n2"])
        before = self.runs(["n1", "n2"])
        time.sleep(3 * PERIOD)
        self.assertEqual(self.runs(["n1", "n2"]), before, "checks went on without a lease")
        self.assertEqual(self.alerts(), [], "alerted without a lease")

        dh.pg_resume(self.coord)
        self.assertEqual(self.wait_spread(["n1", "n2"]), owner,
                         "the same daemons take the same targets back")
        dh.wait_until(lambda: self.alerts("drift", target),
                      what="the drift made while coordination was away alerted")
        time.sleep(4 * PERIOD)
        self.assertEqual([a[1:3] for a in self.alerts()], [(target, "drift")],
                         "exactly one alert after the coordination server came back")
        # Whoever reached the database first may have checked it before the other's
        # heartbeat was back; the lease then moved on with the alert state, so the
        # daemon that holds it now did not alert it again.
        for n in ("n1", "n2"):
            self.daemons[n].wait_log(r"coordination: the database is back")

        # A stop (SIGTERM) hands the leases over at once: the other daemon takes them
        # without waiting for them to expire (no takeover of an expired lease counted).
        takeovers = self.daemons["n2"].status()["coordination"]["takeovers"]
        rc, _ = self.daemons["n1"].stop()
        self.assertEqual(rc, 0)
        self.daemons["n1"].wait_log(r"coordination: leases released")
        self.wait_spread(["n2"])
        self.assertEqual(self.daemons["n2"].status()["coordination"]["takeovers"], takeovers)
        self.assertEqual(len(self.alerts()), 1, "the handover alerted")


    def test_password_from_a_file_and_config_errors(self):
        """coordination's password comes from coordination_password, never from the DSN,
        and never reaches the log; --check-config refuses what startup would."""
        secret = "c0ord-S3cret"
        self.coord.create_password_role("fleet", secret)
        self.coord.psql("postgres", "GRANT CREATE ON DATABASE postgres TO fleet")
        os.makedirs(self.path("n1"))
        pw = dh.write_private(self.path("coord.pass"), secret + "\n")
        d = dh.Daemon(self.path("n1"), "")
        head = dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every 1s",
                                 settle_delay="0", lease_timeout="3s", node_name="n1")
        dsn = self.coord.dsn("postgres", user="fleet", tcp=True)
        target = dh.target_section(TARGETS[0], self.pg.dsn(TARGETS[0]))

        def check(conf):
            d.write_config(conf)
            p = subprocess.run([dh.daemon_bin(), "--check-config", "-c", d.config],
                               capture_output=True, text=True, env=pgharness.clean_env())
            return p.returncode, p.stderr
        rc, err = check(head + "coordination = %s password=%s\n" % (dsn, secret) + target)
        self.assertEqual(rc, 78, err)
        self.assertIn("use coordination_password", err)
        self.assertNotIn(secret, err)
        rc, err = check(head + "coordination_password = file:%s\n" % pw + target)
        self.assertEqual(rc, 78, err)
        self.assertRegex(err, r"schemadrift.conf:\d+: key 'coordination_password': without "
                              r"coordination")
        rc, err = check(head + "coordination = %s\ncoordination_password = file:%s.missing\n"
                        % (dsn, pw) + target)
        self.assertEqual(rc, 78, err)
        self.assertIn("coord.pass.missing", err)

        conf = head + "coordination = %s\ncoordination_password = file:%s\n" % (dsn, pw) + target
        self.assertEqual(check(conf), (0, ""))
        d.write_config(conf)
        self.addCleanup(d.kill)
        self.daemons["n1"] = d
        d.start()
        self.assertEqual(self.wait_spread_of(["n1"], [TARGETS[0]]), {TARGETS[0]: "n1"})
        self.assertNotIn(secret, d.log())
        # The schema is the daemon's, made by the role it logs in as.
        owner = self.coord.psql("postgres", "SELECT nspowner::regrole FROM pg_namespace "
                                "WHERE nspname = 'schemadrift_coord'", tuples=True).strip()
        self.assertEqual(owner, "fleet")


    def test_one_daemon_cut_off_by_a_silent_link(self):
        """n1 reaches the coordination server through a link that goes silent (no error,
        no reset): n1 stops checking when its leases would expire, n2 takes its targets
        after they expired in the database (never both at once), a drift made then is
        alerted once, and n1 comes back when the link does."""
        hole = Blackhole(self.coord.port)
        self.addCleanup(hole.close)
        self.start_daemon("n1", coordination="host=127.0.0.1 port=%d dbname=postgres user=%s"
                          % (hole.port, pgharness.SUPERUSER))
        self.start_daemon("n2")
        owner = self.wait_spread(["n1", "n2"])
        mine = sorted(t for t, n in owner.items() if n == "n1")
        hole.holes.set()
        cut = time.monotonic()
        dh.wait_until(lambda: not any(t.get("leased")
                                      for t in self.daemons["n1"].status()["targets"]),
                      what="n1 giving its leases up")
        n1_stopped = time.monotonic() - cut
        # A run or a check run still in flight when the leases went is recorded when it
        # ends (alerting nothing): count from when none is left.
        self.wait_unheld_runs_ended(["n1"])
        runs_n1 = self.runs(["n1"])
        self.pg.psql(mine[0], "ALTER TABLE orders ADD COLUMN while_cut_off int")
        held = dh.wait_until(lambda: all(self.holders(["n2"])[t] for t in mine) and
                             time.monotonic() - cut,
                             what="n2 taking n1's targets %r" % mine)
        sys.stderr.write("silent link: n1 stopped after %.1f s, n2 held its targets after "
                         "%.1f s\n" % (n1_stopped, held))
        self.assertLess(n1_stopped, held, "n2 took a target n1 was still checking")
        dh.wait_until(lambda: self.alerts("drift", mine[0]), what="the drift alerted by n2")
        time.sleep(3 * PERIOD)
        self.assertEqual(self.runs(["n1"]), runs_n1, "n1 checked while cut off")
        self.daemons["n1"].wait_log(r"no answer within")
        self.assertEqual([a[:3] for a in self.alerts()], [("n2", mine[0], "drift")])

        hole.holes.clear()
        self.assertEqual(self.wait_spread(["n1", "n2"]), owner)
        time.sleep(3 * PERIOD)
        self.assertEqual([a[:3] for a in self.alerts()], [("n2", mine[0], "drift")],
                         "n1 alerted the drift again after it came back")

    def start_slow_checker(self, sql, **limits):
        """n1 alone, with a custom check of sql beside fk-index on every target, once it has
        run each target's checks once."""
        slow = "[check slow]\nsql = %s\n" % sql + "".join(
            "%s = %s\n" % kv for kv in sorted(limits.items()))
        self.start_daemon("n1", checks="fk-index, custom:slow", extra=slow)
        self.wait_spread(["n1"])
        dh.wait_until(lambda: all((t.get("checks") or {}).get("runs", 0) >= 1
                                  for t in self.daemons["n1"].status()["targets"]),
                      what="n1's first check run of each target")

    def test_a_check_run_in_flight_keeps_its_lease(self):
        """A daemon that should hand a target over to a node that joined keeps its lease
        while a check run of that target is in flight (running or waiting for a worker),
        so that two daemons never check one target at once; the target moves when the run
        ends.  The check runs are held up by an advisory lock that a custom check waits for
        (the snapshot runs go on)."""
        self.start_slow_checker("SELECT 1 FROM pg_advisory_xact_lock_shared(42) l "
                                "WHERE l::text = 'never'",
                                lock_timeout="60s", statement_timeout="60s")
        lockers = []

        def unlock():
            for p in lockers:
                p.stdin.close()
                p.wait(timeout=30)
            lockers.clear()
        self.addCleanup(unlock)
        for t in TARGETS:
            p = subprocess.Popen([pgharness.PSQL, "-X", "-q", "-A", "-t", "-w", "-d",
                                  self.pg.dsn(t)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, env=pgharness.clean_env(), text=True)
            lockers.append(p)
            p.stdin.write("SELECT pg_advisory_lock(42);\nSELECT 'locked';\n")
            p.stdin.flush()
            self.assertEqual(p.stdout.readline().strip(), "")  # pg_advisory_lock's void
            self.assertEqual(p.stdout.readline().strip(), "locked")
        # Every target's next check run waits for its lock (two on the worker threads, the
        # others queued behind them).
        dh.wait_until(lambda: all((t.get("checks") or {}).get("running")
                                  for t in self.daemons["n1"].status()["targets"]),
                      what="a check run of every target in flight on n1")
        self.start_daemon("n2")
        self.daemons["n2"].wait_log(r"coordination: connected as node n2")
        # Rounds of both nodes go by (a round every quarter lease): n1 keeps everything.
        time.sleep(2 * LEASE)
        held = self.holders(["n1", "n2"])
        self.assertEqual(sorted(t for t, h in held.items() if h != ["n1"]), [],
                         "targets handed over while n1 still checks them: %r" % held)
        self.assertEqual([t["target"] for t in self.daemons["n2"].status()["targets"]
                          if (t.get("checks") or {}).get("runs", 0) or t["runs"]], [],
                         "n2 ran targets that n1 was checking")
        unlock()
        # The runs end; the targets n2 wins move to it.
        owner = self.wait_spread(["n1", "n2"])
        self.assertIn("n2", owner.values())
        self.assert_one_checker(["n1", "n2"], owner)

    def test_check_runs_back_to_back_do_not_keep_a_lease(self):
        """Check runs that take longer than their schedule's period run back to back, so
        one is nearly always in flight: a node that should hand a target over starts no
        new run of it, and the target moves once the one in flight ends."""
        self.start_slow_checker("SELECT 1 FROM pg_sleep(3) s WHERE s::text = 'never'",
                                statement_timeout="60s")
        joined = time.monotonic()
        self.start_daemon("n2")
        owner = self.wait_spread(["n1", "n2"])
        took = time.monotonic() - joined
        sys.stderr.write("back-to-back check runs: the targets moved %.1f s after n2 started\n"
                         % took)
        self.daemons["n1"].wait_log(r"to be handed over to n2 once the run in flight ends")
        self.assert_one_checker(["n1", "n2"], owner, checks_grow=False)

    def test_lease_lost_during_a_run(self):
        """A run still going when its lease expires (the coordination link silent) ends
        without alerting: the drift it found is the next holder's to alert.  db0's
        server link goes silent first, so that its run hangs while the lease runs out."""
        hole_c = Blackhole(self.coord.port)
        self.addCleanup(hole_c.close)
        hole_t = Blackhole(self.pg.port)
        self.addCleanup(hole_t.close)
        d = self.start_daemon(
            "n1", coordination="host=127.0.0.1 port=%d dbname=postgres user=%s"
            % (hole_c.port, pgharness.SUPERUSER),
            dsns={"db0": "host=127.0.0.1 port=%d dbname=db0 user=%s"
                  % (hole_t.port, pgharness.SUPERUSER)})

        def db0():
            return [t for t in d.status()["targets"] if t["target"] == "db0"][0]
        dh.wait_until(lambda: db0().get("leased") and db0()["runs"] >= 2,
                      what="n1 checking db0")
        hole_t.holes.set()
        self.pg.psql("db0", "ALTER TABLE orders ADD COLUMN during_the_run int")
        runs = db0()["runs"]
        dh.wait_until(lambda: db0()["running"], what="a run of db0 hanging")
        hole_c.holes.set()
        dh.wait_until(lambda: not db0().get("leased"), what="n1's lease of db0 expiring")
        hole_t.holes.clear()
        dh.wait_until(lambda: db0()["runs"] > runs, what="the hung run of db0 ending")
        d.wait_log(r"lease lost during the run: its alerts are left to the holder")
        time.sleep(2 * PERIOD)
        self.assertEqual(self.alerts("drift"), [], "n1 alerted a drift found without a lease")

    def test_create_privilege_revoked_after_the_first_start(self):
        """The coordination role needs CREATE on the database only the first time: with it
        revoked after the schema exists, a restarted daemon still coordinates."""
        self.coord.psql("postgres", "CREATE ROLE coordinator LOGIN")
        self.coord.create_db("coordination")  # owned by the superuser, not the role
        self.coord.psql("coordination", "GRANT CREATE ON DATABASE coordination TO coordinator")
        dsn = self.coord.dsn("coordination", user="coordinator")
        d = self.start_daemon("n1", coordination=dsn)
        self.wait_spread(["n1"])
        d.stop()
        self.coord.psql("coordination", "REVOKE CREATE ON DATABASE coordination FROM coordinator")
        self.assertEqual(self.coord.psql(
            "coordination", "SELECT has_database_privilege('coordinator', 'coordination', "
            "'CREATE')", tuples=True).strip(), "f")
        d = self.start_daemon("n1", coordination=dsn)
        d.wait_log(r"coordination: connected as node n1")
        self.wait_spread(["n1"])
        self.assertEqual(d.log_lines(r"permission denied"), [])

    def test_a_baseline_that_cannot_be_read_is_published_later(self):
        """A baseline whose snapshot file cannot be read (here a symlink, which the daemon
        never follows in its state) is not published, and a later run publishes it once
        the file is back."""
        def shared_baseline():
            return self.coord.psql("postgres", "SELECT baseline_hash FROM "
                                   "schemadrift_coord.target_state WHERE target = 'db0'",
                                   tuples=True).strip()
        d = self.start_daemon("n1")
        self.wait_spread(["n1"])
        h = dh.wait_until(shared_baseline, what="db0's baseline published")
        d.stop()
        self.coord.psql("postgres", "UPDATE schemadrift_coord.target_state SET "
                        "baseline_hash = NULL, baseline = NULL WHERE target = 'db0'")
        snap = os.path.join(d.state_dir, "targets", "db0", "snapshots", h + ".json")
        os.rename(snap, snap + ".real")
        os.symlink(snap + ".real", snap)
        d = self.start_daemon("n1")
        d.wait_log(r"cannot publish the baseline", count=2)
        self.assertEqual(shared_baseline(), "")
        os.unlink(snap)
        os.rename(snap + ".real", snap)
        self.assertEqual(dh.wait_until(shared_baseline, what="db0's baseline published"), h)


if __name__ == "__main__":
    pgharness.main()
