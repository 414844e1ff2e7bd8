"""The Grafana dashboard and the Prometheus rules (packaging/) against the real daemon's /metrics.

`promtool check rules` accepts the rules file and `promtool test rules` shows each alert
firing when it should (tests/prometheus/schemadrift-rules.test.yml).  A real schemadriftd
watching a real PostgreSQL, with a drift alerted to a real webhook receiver, is scraped; every
series the dashboard's queries and the rules name is one that scrape holds, every dashboard
query parses as PromQL (promtool, with Grafana's variables filled in), and `cmake --install`
puts both files where the .deb and the .rpm take them from (/usr/share/schemadrift/).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

# scripts/deps.sh installs promtool (pgharness.promtool_path()); SCHEMADRIFT_PROMTOOL overrides.
PROMTOOL = pgharness.promtool_path() or "promtool"
SRC = pgharness.source_dir()
RULES = os.path.join(SRC, "packaging", "prometheus", "schemadrift-rules.yml")
RULES_TEST = os.path.join(SRC, "tests", "prometheus", "schemadrift-rules.test.yml")
DASHBOARD = os.path.join(SRC, "packaging", "grafana", "schemadrift-dashboard.json")
# Series Prometheus makes itself, not the daemon.
PROMETHEUS_OWN = {"up"}


def promtool(*args, input=None):
    p = subprocess.run([PROMTOOL] + list(args), input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def series_names(expr):
    """Metric names an expression selects (identifiers that are neither functions nor
    keywords nor label names)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)             # matchers
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)            # ranges
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        word = m.group(0)
        rest = expr[m.end():].lstrip()
        if rest.startswith("(") or word in ("and", "or", "unless", "bool", "offset"):
            continue
        names.add(word)
    return names


def dashboard_exprs(dash):
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            out.append(("panel %r" % p["title"], t["expr"]))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q)
            assert m, "variable %s: %r is not label_values(SERIES, LABEL)" % (v["name"], q)
            out.append(("variable %r" % v["name"], m.group(1)))
    return out


def rule_exprs(text):
    return re.findall(r"^\s+expr:\s*(.+?)\s*$", text, re.M)


class PrometheusGrafana(pgharness.PgTestCase):

    def setUp(self):
        super().setUp()
        if not shutil.which(PROMTOOL):
            self.fail("%s is missing: scripts/deps.sh installs promtool" % PROMTOOL)

    def test_rules_check_and_fire(self):
        rc, out = promtool("check", "rules", RULES)
        self.assertEqual(rc, 0, out)
        self.assertIn("SUCCESS: 6 rules found", out)
        rc, out = promtool("test", "rules", RULES_TEST)
        self.assertEqual(rc, 0, out)
        with open(RULES) as f:
            text = f.read()
        with open(RULES_TEST) as f:
            test_text = f.read()
        for alert in ("SchemadriftTargetDrifting", "SchemadriftTargetFailing",
                      "SchemadriftOutboxDeadLetters", "SchemadriftDaemonDown"):
            self.assertIn("alert: %s\n" % alert, text)
            self.assertIn("alertname: %s\n" % alert, test_text)

    def scrape_real_daemon(self):
        self.pg.create_db("app")
        self.pg.psql("app", "CREATE TABLE orders (id int PRIMARY KEY)")
        rx = http_receiver.Receiver().start()
        self.addCleanup(rx.stop)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        d = dh.Daemon(self.workdir, "")
        d.write_config(dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every 1s",
                                         settle_delay="0s",
                                         metrics_listen="127.0.0.1:%d" % port)
                       + dh.target_section("app", self.pg.dsn("app"), notifiers="hook")
                       + dh.webhook_section("hook", rx.url("/hook")))
        with d:
            d.start()
            d.wait_log(r"target 'app': baseline created")
            self.pg.psql("app", "ALTER TABLE orders ADD COLUMN note text")
            rx.wait_for(1)
            url = "http://127.0.0.1:%d/metrics" % port

            def delivered():
                text = urllib.request.urlopen(url, timeout=10).read().decode()
                return 'schemadrift_alerts_sent_total{notifier="hook"} 1' in text and text
            text = dh.wait_until(delivered, what="the delivery counted in /metrics")
            rc, _ = d.stop()
            self.assertEqual(rc, 0)
        return text

    def test_dashboard_and_rules_name_real_series(self):
        scrape = self.scrape_real_daemon()
        served = {re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", l).group(0)
                  for l in scrape.splitlines() if l and not l.startswith("#")}
        self.assertIn("schemadrift_drift", served)
        # What Prometheus itself would say about the exposition.
        rc, out = promtool("check", "metrics", input=scrape.encode())
        self.assertEqual(rc, 0, out)

        with open(DASHBOARD) as f:
            dash = json.load(f)
        self.assertEqual(dash["uid"], "schemadrift")
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids repeat")
        exprs = dashboard_exprs(dash)
        self.assertGreaterEqual(len(exprs), 10)
        used = set()
        for where, expr in exprs:
            names = series_names(expr) - {"vector", "time"}
            self.assertTrue(names, "%s: %r names no series" % (where, expr))
            missing = names - served
            self.assertFalse(missing, "%s: %r names series the daemon does not serve: %s" %
                             (where, expr, sorted(missing)))
            used |= names
        # Every per-target and outbox series is on the dashboard.
        self.assertFalse({n for n in served if n.startswith("schemadrift_")} - used,
                         "served but not on the dashboard")
        with open(RULES) as f:
            rules = rule_exprs(f.read())
        self.assertEqual(len(rules), 6)
        for expr in rules:
            missing = series_names(expr) - served - PROMETHEUS_OWN
            self.assertFalse(missing, "rule %r: unknown series %s" % (expr, sorted(missing)))

        # Each dashboard query is valid PromQL: promtool parses them as recording rules,
        # with Grafana's variables as Grafana would fill them in.
        lines = ["groups:", "  - name: dashboard", "    rules:"]
        for i, (_, expr) in enumerate(exprs):
            e = expr.replace("$__rate_interval", "5m").replace("$instance", ".*") \
                    .replace("$target", ".*")
            lines += ["      - record: dashboard:query_%d" % i, "        expr: %s" % json.dumps(e)]
        path = self.path("dashboard-rules.yml")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        rc, out = promtool("check", "rules", path)
        self.assertEqual(rc, 0, out)

    def test_installed_for_the_packages(self):
        build = os.path.dirname(os.path.abspath(pgharness.cli_bin()))
        dest = tempfile.mkdtemp(prefix="schemadrift-install-", dir=self.workdir)
        p = subprocess.run(["cmake", "--install", build, "--prefix", "/usr"],
                           env=dict(os.environ, DESTDIR=dest), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout.decode())
        share = ["usr/share/schemadrift/grafana/schemadrift-dashboard.json",
                 "usr/share/schemadrift/prometheus/schemadrift-rules.yml"]
        for rel in share:
            self.assertTrue(os.path.isfile(os.path.join(dest, rel)), rel)
        with open(os.path.join(SRC, "packaging", "debian", "install")) as f:
            deb = f.read().split()
        for rel in share:
            self.assertIn(rel, deb)
        with open(os.path.join(SRC, "packaging", "rpm", "schemadrift.spec")) as f:
            self.assertIn("%{_datadir}/schemadrift/\n", f.read())


if __name__ == "__main__":
    pgharness.main()
