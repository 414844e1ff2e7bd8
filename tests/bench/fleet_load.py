"""daemon-load.sh with DAEMONS=K: K schemadriftd sharing N targets through a coordination
database on the same server (never a test).  Reports each daemon's share of the targets,
its worst start lag (first runs aside), RSS and CPU, and the coordination statements per
second (once every target was checked twice by its holder; the worst lag includes the
start-up, where the first daemon up checks every target before handing most over); then
kills the first daemon with SIGKILL and reports how long until the others
hold every target.  Arguments: BUILD_DIR TMP CONF PORT N K LEASE DURATION_S."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

build, tmp, base_conf, port, n, k, lease, duration = sys.argv[1:9]
n, k, duration = int(n), int(k), float(duration)
hz = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def psql(db, sql):
    subprocess.run(["psql", "-X", "-q", "-h", tmp, "-p", port, "-U", "postgres", "-d", db,
                    "-c", sql], check=True, stdout=subprocess.DEVNULL)


def metrics(mport):
    # Generous: a takeover burst keeps a daemon's loop busy for seconds (its runs
    # and store writes), and /metrics is answered on that loop.
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=60).read()
    out = {}
    for line in text.decode().splitlines():
        m = re.match(r"^(schemadrift_(?:leases_held|coordination_queries_total|"
                     r"coordination_up|store_queries_total)) (\S+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    return 0


psql("postgres", "CREATE DATABASE coord")
with open(base_conf) as f:
    text = f.read()
head, sep, targets = text.partition("\n[target ")
nodes = []
for i in range(1, k + 1):
    mport = free_port()
    d = head.replace("state_dir = %s/state" % tmp, "state_dir = %s/state%d" % (tmp, i))
    d = d.replace("runtime_dir = %s/run" % tmp, "runtime_dir = %s/run%d" % (tmp, i))
    d += ("coordination = host=%s port=%s user=postgres dbname=coord\nnode_name = node%d\n"
          "lease_timeout = %s\nmetrics_listen = 127.0.0.1:%d\n" % (tmp, port, i, lease, mport))
    if os.environ.get("STORE") == "postgresql":
        d += "store = postgresql\n"  # in the coordination database
    path = "%s/schemadrift%d.conf" % (tmp, i)
    with open(path, "w") as f:
        f.write(d + sep + targets)
    log = open("%s/daemon%d.log" % (tmp, i), "wb")
    proc = subprocess.Popen([os.path.join(build, "schemadriftd"), "-c", path, "-f"],
                            stdout=log, stderr=subprocess.STDOUT)
    nodes.append({"i": i, "proc": proc, "mport": mport, "run": "%s/run%d" % (tmp, i)})
try:
    print("pids: %s" % " ".join(str(x["proc"].pid) for x in nodes), file=sys.stderr)

    # Every daemon up and every target held before measuring.
    deadline = time.monotonic() + 300
    while True:
        try:
            held = sum(metrics(x["mport"]).get("schemadrift_leases_held", 0) for x in nodes)
            if held == n:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit("the daemons did not share the %d targets within 300 s" % n)
        time.sleep(0.5)
    # ... and every target checked twice by its holder: the first daemon up checks all
    # of them first and hands most over, and those first runs (baselines made and
    # published, imported by the next holder) are start-up, not the steady state.
    def settled():
        for x in nodes:
            st = json.loads(subprocess.run(
                [os.path.join(build, "schemadrift"), "status", "--runtime-dir", x["run"],
                 "--format", "json"], check=True, stdout=subprocess.PIPE).stdout)
            if any(t["runs"] < 2 for t in st["targets"] if t.get("leased")):
                return False
        return True
    while not settled():
        if time.monotonic() > deadline:
            sys.exit("the targets were not each checked twice within 300 s")
        time.sleep(1)
    start = time.monotonic()
    queries = "schemadrift_coordination_queries_total"
    sq = "schemadrift_store_queries_total"
    before = [(cpu_ticks(x["proc"].pid), metrics(x["mport"])[queries],
               metrics(x["mport"]).get(sq, 0)) for x in nodes]
    time.sleep(duration)
    took = time.monotonic() - start
    total_q = total_s = 0.0
    for x, (t0, q0, s0) in zip(nodes, before):
        m = metrics(x["mport"])
        st = json.loads(subprocess.run(
            [os.path.join(build, "schemadrift"), "status", "--runtime-dir", x["run"],
             "--format", "json"], check=True, stdout=subprocess.PIPE).stdout)
        mine = [t for t in st["targets"] if t.get("leased")]
        lags = [t.get("worst_lag_s", 0) for t in mine] or [0]
        qps = (m[queries] - q0) / took
        sps = (m.get(sq, 0) - s0) / took
        total_q += qps
        total_s += sps
        cpu = 100.0 * (cpu_ticks(x["proc"].pid) - t0) / hz / took
        errors = [t["last_error"] for t in mine if t.get("last_error")]
        print("node%d: %d targets held, runs %d (failed %d), worst start lag %.1f s, "
              "RSS %.1f MiB, CPU %.1f%%, coordination %.2f statements/s%s"
              % (x["i"], len(mine), sum(t["runs"] for t in mine),
                 sum(t["failures"] for t in mine), max(lags),
                 rss_kib(x["proc"].pid) / 1024.0, cpu, qps,
                 ", central store %.2f statements/s" % sps if sq in m else ""))
        if errors:
            print("  e.g. %s" % errors[0])
    print("coordination statements per second, all %d daemons: %.2f" % (k, total_q))
    if os.environ.get("STORE") == "postgresql":
        print("central store statements per second, all %d daemons: %.2f (%.3f per target)"
              % (k, total_s, total_s / n))

    victim, rest = nodes[0], nodes[1:]
    victim_held = int(metrics(victim["mport"])["schemadrift_leases_held"])
    victim["proc"].kill()
    victim["proc"].wait()
    t0 = time.monotonic()
    while sum(metrics(x["mport"]).get("schemadrift_leases_held", 0) for x in rest) < n:
        if time.monotonic() - t0 > 600:
            sys.exit("the %d targets of node1 were not taken over within 600 s" % victim_held)
        time.sleep(0.1)
    print("kill -9 of node1 (%d targets): all %d targets held by the others after %.1f s "
          "(lease_timeout %s)" % (victim_held, n, time.monotonic() - t0, lease))
finally:
    for x in nodes:
        if x["proc"].poll() is None:
            x["proc"].kill()
            x["proc"].wait()
