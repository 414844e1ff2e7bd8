"""The HTML history report, opened in a real browser (headless Chromium, Debian's chromium).

A real schemadriftd watches two databases of a real PostgreSQL and keeps its report in
report_dir; the test drifts one (an added column, alerted to a real webhook receiver), accepts
that as the new baseline with a reason, drifts it again (a column type and a hand-made
index), acknowledges the index until a date, and then reads what Chromium shows: the drifted
object and its attribute change, the baseline accept with its reason, the ack with its expiry,
the alerts, and on the fleet page the drifting target beside the calm one.  A screenshot is
kept in the build tree and its path printed.  A second test names tables
`<img src=x onerror=alert(1)>` and one with U+202E (right-to-left override): the browser's DOM
shows them as text and holds no element they could have injected.
"""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402
import daemonharness as dh  # noqa: E402
import http_receiver  # noqa: E402
import pgharness  # noqa: E402
from pgharness import cli_ok, run_cli  # noqa: E402

RLO = "\u202e"


def screenshot_dir():
    # Beside the CLI under test: the build tree (build/report-screenshots/).
    return os.path.join(os.path.dirname(os.path.abspath(pgharness.cli_bin())),
                        "report-screenshots")


def row_texts(dom, cls):
    return [" ".join(r.text().split()) for r in dom.find_all(tag="tr", cls=cls)]


class ReportInBrowser(pgharness.PgTestCase):

    def setUp(self):
        super().setUp()
        if not browser.available():
            self.fail("%s is missing: scripts/deps.sh installs Debian's chromium" %
                      browser.CHROMIUM)

    def test_daemon_report_in_chromium(self):
        self.pg.create_db("app")
        self.pg.create_db("calm")
        self.pg.psql("app", "CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);"
                            "CREATE TABLE customers (id int PRIMARY KEY, name text)")
        self.pg.psql("calm", "CREATE TABLE t (id int)")
        rx = http_receiver.Receiver().start()
        self.addCleanup(rx.stop)
        www = self.path("www")
        d = dh.Daemon(self.workdir, "")
        conf = (dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every 1s",
                                  settle_delay="1s", report_dir=www)
                + dh.target_section("app", self.pg.dsn("app"), notifiers="hook")
                + dh.target_section("calm", self.pg.dsn("calm"))
                + dh.webhook_section("hook", rx.url("/hook")))
        d.write_config(conf)
        page = os.path.join(www, "app.html")

        def page_has(needle):
            try:
                with open(page, encoding="utf-8") as f:
                    return needle in f.read()
            except FileNotFoundError:
                return False

        with d:
            d.start()
            d.wait_log(r"target 'app': baseline created from the first snapshot")
            d.wait_runs("calm", 1)
            # -- drift 1, alerted; then accepted as the new baseline with a reason
            self.pg.psql("app", "ALTER TABLE orders ADD COLUMN note text")
            dh.wait_until(lambda: d.target_status("app")["state"] == "drifting",
                          what="app drifting")
            rx.wait_for(1)
            d.store_cli("baseline", "accept", "app", "--reason", "migration 42 applied")
            dh.wait_until(lambda: d.target_status("app")["state"] == "ok", what="app ok again")
            # -- drift 2: a type change and a hand-made index; the index is acknowledged
            self.pg.psql("app", "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);"
                                "CREATE INDEX orders_hand_idx ON orders (total)")
            dh.wait_until(lambda: d.target_status("app")["state"] == "drifting" and
                          len(rx.requests) >= 3, what="the second drift alerted")
            d.store_cli("ack", "app", "index:public.orders_hand_idx", "--reason",
                        "hand-made for the reports", "--expires", "2099-12-31")
            # The daemon rewrites the page after the run that saw the ack (an audit entry).
            dh.wait_until(lambda: page_has("hand-made for the reports"),
                          what="the daemon's report showing the ack")
            dh.wait_until(lambda: os.path.exists(os.path.join(www, "index.html")),
                          what="index.html")
            # Quiet runs do not rewrite a page: calm's was written at startup and after its
            # first run (a new snapshot, the baseline); the runs since leave the file alone
            # (each write is a rename: a new inode).
            calm_page = os.path.join(www, "calm.html")
            runs = d.wait_runs("calm", 6)["runs"]
            before = os.stat(calm_page)
            d.wait_runs("calm", runs + 4)
            after = os.stat(calm_page)
            self.assertEqual((before.st_ino, before.st_mtime_ns),
                             (after.st_ino, after.st_mtime_ns), "calm.html was rewritten")
            rc, _ = d.stop()
            self.assertEqual(rc, 0)

        with open(os.path.join(d.state_dir, "targets", "app", "acks.json")) as f:
            expires = json.load(f)["acks"][0]["expires"]
        self.assertTrue(expires.startswith("2099-12-31") or expires.startswith("2100-01-01"),
                        expires)

        # The daemon's page and the CLI's are the same report (bar the generation time).
        cli_page = self.path("app-cli.html")
        cli_ok("report", "app", "-o", cli_page, "--state-dir", d.state_dir)
        with open(cli_page, encoding="utf-8") as f:
            cli_text = f.read()
        self.assertNotIn("<script", cli_text)
        self.assertNotIn("http://", cli_text.replace("http://www.w3.org/2000/svg", ""))
        self.assertNotIn("https://", cli_text)

        dom = browser.dump_dom(page)
        # -- the drift now: the column whose type changed, before and after
        drift = dom.find(tag="details", cls="drift")
        changes = drift.find_all(tag="tr", cls="change")
        total = [r for r in changes if "public.orders.total" in r.text()]
        self.assertEqual(len(total), 1, [r.text() for r in changes])
        self.assertEqual(total[0].find(cls="attribute").text(), "type")
        self.assertEqual(total[0].find(cls="before").text(), "numeric")
        self.assertEqual(total[0].find(cls="after").text(), "numeric(12,2)")
        idx = [r for r in changes if "public.orders_hand_idx" in r.text()]
        self.assertEqual(len(idx), 1)
        self.assertIn("acknowledged: hand-made for the reports", idx[0].text())
        # -- the timeline: the accept with its reason, the ack with its expiry, the alerts
        accepts = row_texts(dom, "r-baseline")
        self.assertTrue(any("baseline accept" in r and "migration 42 applied" in r
                            for r in accepts), accepts)
        self.assertTrue(any("baseline create" in r and "first run of the daemon" in r
                            for r in accepts), accepts)
        acks = dom.find_all(tag="tr", cls="r-ack")
        self.assertEqual(len(acks), 1)
        self.assertIn("index:public.orders_hand_idx", acks[0].text())
        self.assertIn("hand-made for the reports", acks[0].text())
        exp = acks[0].find(cls="expires")
        self.assertTrue(exp.text().startswith("expires "), exp.text())
        self.assertEqual(exp.find(tag="time").attrs["datetime"], expires)
        alerts = row_texts(dom, "r-alert")
        kinds = [r.find(cls="alert-kind").text() for r in dom.find_all(tag="tr", cls="r-alert")]
        # newest first: drift 2, the accept's recovery, drift 1
        self.assertEqual(kinds, ["drift", "recovered", "drift"], alerts)
        self.assertTrue(all("spooled to hook" in a for a in alerts), alerts)
        changed = row_texts(dom, "r-change")
        self.assertGreaterEqual(len(changed), 3, changed)  # first snapshot + two changes
        # -- each change of schema attribute by attribute, expandable
        details = dom.find_all(tag="details", cls="change")
        self.assertEqual(len(details), 2)
        self.assertIn("public.orders.note", details[1].text())  # the older: ADD COLUMN
        self.assertEqual(dom.find(cls="state").find(cls="badge").text(), "drifting")
        # the daemon's alert state: the second drift is incident 2 (the first one recovered)
        self.assertRegex(dom.find(cls="alerting").text(), r"^drift incident #2 since ")
        self.assertEqual(len(dom.find_all(tag="svg", cls="timeline")), 1)
        # -- the acknowledgements in force
        ack_rows = dom.find(tag="table", cls="acks").find_all(tag="tr", cls="ack")
        self.assertEqual(len(ack_rows), 1)
        self.assertIn("public.orders_hand_idx", ack_rows[0].text())

        # -- the fleet page: app drifting (for how long), calm ok
        fleet = browser.dump_dom(os.path.join(www, "index.html"))
        rows = {r.attrs["data-target"]: r for r in fleet.find_all(tag="tr", cls="target")}
        self.assertEqual(sorted(rows), ["app", "calm"])
        self.assertEqual([b.text() for b in rows["app"].find_all(cls="badge")], ["drifting"])
        self.assertEqual([b.text() for b in rows["calm"].find_all(cls="badge")], ["ok"])
        self.assertRegex(rows["app"].find(cls="drifting-for").text(), r"^\d+(s|m)$")
        self.assertEqual(rows["app"].find(tag="a").attrs["href"], "app.html")
        self.assertIn("1 drifting", fleet.find(cls="fleet-summary").text())

        shot = browser.screenshot(page, os.path.join(screenshot_dir(), "app.png"))
        print("\nreport screenshot: %s (%d bytes)" % (shot, os.path.getsize(shot)))

    def test_report_dir_set_by_a_reload(self):
        # The pages appear when a reload sets report_dir, without waiting for a change.
        self.pg.create_db("quiet")
        d = dh.Daemon(self.workdir, "")
        www = self.path("www")
        base = dh.daemon_section(d.state_dir, d.runtime_dir, schedule="every 1s")
        target = dh.target_section("quiet", self.pg.dsn("quiet"))
        d.write_config(base + target)
        with d:
            d.start()
            d.wait_runs("quiet", 2)
            self.assertFalse(os.path.exists(www))
            d.write_config(base + "report_dir = %s\n" % www + target)
            d.signal(signal.SIGHUP)
            d.wait_log(r"configuration reloaded")
            dh.wait_until(lambda: os.path.exists(os.path.join(www, "quiet.html")) and
                          os.path.exists(os.path.join(www, "index.html")),
                          what="the pages after the reload")
            rc, _ = d.stop()
            self.assertEqual(rc, 0)
        with open(os.path.join(www, "index.html"), encoding="utf-8") as f:
            self.assertIn('data-target="quiet"', f.read())
        self.assertEqual(os.stat(os.path.join(www, "quiet.html")).st_mode & 0o777, 0o644)

    def test_hostile_names_stay_text(self):
        # SQL_ASCII keeps any bytes: the UTF-8 of U+202E as it is, and a byte (0xe9) that is
        # not UTF-8 at all.
        self.pg.create_db("hostile", encoding="SQL_ASCII", lc_collate="C", lc_ctype="C")
        state = self.path("state")
        dsn = self.pg.dsn("hostile")
        self.pg.psql("hostile", "CREATE TABLE plain (id int)")
        cli_ok("snapshot", "--dsn", dsn, "--target", "hostile", "--state-dir", state)
        cli_ok("baseline", "accept", "hostile", "--reason", "<b>bold</b> & \"quoted\"",
               "--state-dir", state)
        self.pg.psql("hostile", ('CREATE TABLE "<img src=x onerror=alert(1)>" (id int);'
                                 'CREATE TABLE "evil%sgnp.exe" (id int);'
                                 'CREATE TABLE "a""b&c\'d" (id int);'
                                 'ALTER TABLE plain ADD COLUMN "<script>x</script>" text;'
                                 % RLO).encode() + b'CREATE TABLE "caf\xe9" (id int);',
                     client_encoding="SQL_ASCII")
        cli_ok("snapshot", "--dsn", dsn, "--target", "hostile", "--state-dir", state)
        out = self.path("hostile.html")
        cli_ok("report", "hostile", "-o", out, "--state-dir", state)
        with open(out, "rb") as f:
            raw = f.read()
        self.assertNotIn(RLO.encode(), raw, "the raw override reached the page")
        raw.decode("utf-8")  # the page itself is valid UTF-8

        text = browser.dump_dom_text(out)
        dom = browser.parse(text)
        tags = {n.tag for n in dom.iter()}
        self.assertNotIn("img", tags)
        self.assertNotIn("script", tags)
        self.assertNotIn("b", tags)
        self.assertFalse([n for n in dom.iter() if any(k.startswith("on") for k in n.attrs)])
        objects = [o.text() for o in dom.find(tag="details", cls="drift").find_all(cls="object")]
        self.assertIn('public."<img src=x onerror=alert(1)>"', objects)
        self.assertIn('public."evil\\u202egnp.exe"', [o.lower() for o in objects])
        self.assertIn('public."a""b&c\'d"', objects)
        self.assertIn('public."caf\\xe9"', objects)
        self.assertIn('public.plain."<script>x</script>"', objects)
        self.assertNotIn(RLO, dom.text())
        reasons = [r.text() for r in dom.find_all(cls="reason")]
        self.assertIn('<b>bold</b> & "quoted"', reasons)

if __name__ == "__main__":
    pgharness.main()
