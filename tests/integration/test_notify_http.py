"""HTTP notifiers end to end: real sends (schemadrift test-alert) to a real local receiver,
payloads checked field by field, Standard Webhooks signatures verified, retry
classification (500, 429 + Retry-After, 4xx, redirects, refused, hung), secrets kept out
of every message; and drift from a database with hostile names rendered literally by
every channel (schemadrift render), within each service's limits."""

import base64
import json
import os
import re
import socket
import stat
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_receiver  # noqa: E402
import pgharness  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"schemadrift-test-signing-key-32b").decode()
WORD_JOINER = "\u2060"


def write_private(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def run_test_alert(config, channel, env=None):
    """Runs test-alert; returns (rc, stdout, stderr, fields of stdout)."""
    rc, out, err = pgharness.run_cli("test-alert", "--config", config, "--channel", channel,
                                     env=env)
    fields = {}
    for line in out.splitlines():
        k, _, v = line.partition(": ")
        fields[k] = v
    return rc, out, err, fields


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class NotifyHttpTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="schemadrift-notify-")
        self.rx = http_receiver.Receiver(secret=SECRET).start()
        self.addCleanup(self.rx.stop)

    def config(self, body, mode=0o600, name="schemadrift.conf"):
        return write_private(os.path.join(self.dir, name), body, mode)

    def send_ok(self, conf, channel, env=None):
        rc, out, err, f = run_test_alert(conf, channel, env=env)
        self.assertEqual(rc, 0, (out, err))
        self.assertRegex(out.splitlines()[0], r"^notifier '%s' \(\w+\): delivered$" % channel)
        self.assertRegex(f["alert id"], r"^[0-9a-f]{32}$")
        reqs = self.rx.wait_for(1)
        self.assertEqual(len(reqs), 1, [r.as_dict() for r in reqs])
        return f, reqs[0]

    # -- generic webhook ------------------------------------------------

    def test_webhook_signed_payload(self):
        conf = self.config("[notifier hook]\ntype = webhook\nurl = %s\nallow_http = true\n"
                           "secret = %s\nheader = X-Team: database ops\n"
                           % (self.rx.url("/in/hook"), SECRET))
        f, req = self.send_ok(conf, "hook")
        self.assertEqual(f["answer"], "HTTP 200: ok")
        self.assertEqual(req.method, "POST")
        self.assertEqual(req.path, "/in/hook")
        self.assertEqual(req.headers["content-type"], "application/json")
        self.assertTrue(req.headers["user-agent"].startswith("schemadrift/"))
        self.assertEqual(req.headers["x-team"], "database ops")
        # The alert id is the message id and the idempotency key.
        self.assertEqual(req.headers["webhook-id"], f["alert id"])
        self.assertEqual(req.headers["idempotency-key"], f["alert id"])
        self.assertRegex(req.headers["webhook-timestamp"], r"^\d{10}$")
        self.assertRegex(req.headers["webhook-signature"], r"^v1,[A-Za-z0-9+/]{43}=$")
        self.assertTrue(req.signature_ok, req.signature_reason)
        # The verification is real: another key, or another body, does not verify.
        other = "whsec_" + base64.b64encode(b"another-key-another-key-32bytes!").decode()
        self.assertFalse(http_receiver.verify_standard_webhook(other, req.headers, req.body)[0])
        self.assertFalse(http_receiver.verify_standard_webhook(
            SECRET, req.headers, req.body + b" ")[0])

        p = req.json
        self.assertEqual(p["schemadrift_alert"], {"version": 1})
        self.assertEqual(p["id"], f["alert id"])
        self.assertEqual(p["kind"], "test")
        self.assertEqual(p["severity"], "info")
        self.assertRegex(p["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIn("test alert", p["message"])
        self.assertIn("'hook'", p["message"])
        self.assertTrue(p["headline"].startswith("Test alert from schemadrift"), p["headline"])
        self.assertEqual(p["changes"], [])
        self.assertEqual(p["changes_omitted"], 0)
        self.assertEqual(p["summary"]["changes"], 0)
        for key in ("target", "environment", "from_hash", "to_hash", "link", "dedup_key"):
            self.assertIn(key, p)

    def test_unsigned_webhook_has_no_signature(self):
        conf = self.config("[notifier hook]\ntype = webhook\nurl = %s\nallow_http = true\n"
                           % self.rx.url())
        f, req = self.send_ok(conf, "hook")
        self.assertNotIn("webhook-signature", req.headers)
        self.assertEqual(req.headers["webhook-id"], f["alert id"])
        self.assertFalse(req.signature_ok)

    def test_secrets_from_file_and_credential(self):
        write_private(os.path.join(self.dir, "hook.secret"), SECRET + "\n")
        creds = os.path.join(self.dir, "creds")
        os.mkdir(creds, 0o700)
        write_private(os.path.join(creds, "hook_url"), self.rx.url("/from/credential") + "\n")
        # The config holds no secret: it may be world-readable.
        conf = self.config("[notifier hook]\ntype = webhook\nurl = credential:hook_url\n"
                           "allow_http = true\nsecret = file:hook.secret\n", mode=0o644)
        f, req = self.send_ok(conf, "hook", env={"CREDENTIALS_DIRECTORY": creds})
        self.assertEqual(req.path, "/from/credential")
        self.assertTrue(req.signature_ok, req.signature_reason)

    def test_secret_file_readable_by_others_is_refused(self):
        write_private(os.path.join(self.dir, "hook.secret"), SECRET + "\n", mode=0o644)
        conf = self.config("[notifier hook]\ntype = webhook\nurl = %s\nallow_http = true\n"
                           "secret = file:hook.secret\n" % self.rx.url())
        rc, out, err, _ = run_test_alert(conf, "hook")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("hook.secret", err)
        self.assertIn("chmod 600", err)
        self.assertNotIn(SECRET[6:], err + out)
        self.assertEqual(self.rx.requests, [])

    def test_inline_secret_in_readable_config_is_refused(self):
        conf = self.config("[notifier ops]\ntype = slack\nurl = %s\nallow_http = true\n"
                           % self.rx.url("/services/T0/B0/SECRETTOKEN"), mode=0o644)
        rc, out, err, _ = run_test_alert(conf, "ops")
        self.assertEqual(rc, 2, (out, err))
        self.assertRegex(err, r"schemadrift\.conf:3: key 'url': holds an inline secret")
        self.assertIn("chmod 600", err)
        self.assertNotIn("SECRETTOKEN", err + out)
        self.assertEqual(self.rx.requests, [])

    def test_plain_http_needs_opt_in(self):
        conf = self.config("[notifier ops]\ntype = discord\nurl = %s\n"
                           % self.rx.url("/api/webhooks/1/SECRETTOKEN"))
        rc, out, err, _ = run_test_alert(conf, "ops")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("webhook for channel 'ops'", err)
        self.assertIn("allow_http", err)
        self.assertNotIn("SECRETTOKEN", err + out)
        self.assertNotIn("127.0.0.1", err)
        self.assertEqual(self.rx.requests, [])

    # -- TLS ----------------------------------------------------------------

    def tls_receiver(self, name="127.0.0.1"):
        cert, key = http_receiver.make_certificate(self.dir, name)
        rx = http_receiver.Receiver(secret=SECRET, tls=(cert, key)).start()
        self.addCleanup(rx.stop)
        return rx, cert

    def test_https_with_trusted_certificate(self):
        rx, cert = self.tls_receiver()
        conf = self.config("[notifier hook]\ntype = webhook\nurl = %s\nsecret = %s\n"
                           "ca_file = %s\n" % (rx.url("/tls"), SECRET, os.path.basename(cert)))
        rc, out, err, f = run_test_alert(conf, "hook")
        self.assertEqual(rc, 0, (out, err))
        req = rx.wait_for(1)[0]
        self.assertEqual(req.path, "/tls")
        self.assertTrue(req.signature_ok, req.signature_reason)

    def test_https_untrusted_certificate_is_not_accepted(self):
        rx, cert = self.tls_receiver()
        conf = self.config("[notifier hook]\ntype = webhook\nurl = %s\n" % rx.url("/tls"))
        rc, out, err, f = run_test_alert(conf, "hook")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("not delivered", out.splitlines()[0])
        self.assertRegex(f["answer"], "(?i)certificate")
        self.assertEqual(rx.requests, [])

    def test_https_name_mismatch_is_not_accepted(self):
        # Trusted, but issued to another name than the one connected to.
        rx, cert = self.tls_receiver("other.example")
        conf = self.config("[notifier hook]\ntype = webhook\nurl = %s\nca_file = %s\n"
                           % (rx.url("/tls"), cert))
        rc, out, err, f = run_test_alert(conf, "hook")
        self.assertEqual(rc, 2, (out, err))
        self.assertRegex(f["answer"], "(?i)(certificate|name|match)")
        self.assertEqual(rx.requests, [])

    # -- retry classification ------------------------------------------------

    def hook_conf(self, extra=""):
        return self.config("[notifier hook]\ntype = webhook\nurl = %s\nallow_http = true\n"
                           "secret = %s\n%s" % (self.rx.url("/hook/SECRETPATH"), SECRET, extra))

    def test_server_error_is_retried(self):
        self.rx.respond(503, body="maintenance")
        rc, out, err, f = run_test_alert(self.hook_conf(), "hook")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("temporary failure", out)
        self.assertEqual(f["answer"], "HTTP 503: maintenance")

    def test_rate_limit_with_retry_after(self):
        self.rx.respond(429, headers={"Retry-After": "7"}, body="slow down")
        rc, out, err, f = run_test_alert(self.hook_conf(), "hook")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("temporary failure", out)
        self.assertEqual(f["retry after"], "7 s")
        self.assertIn("HTTP 429", f["answer"])

    def test_rate_limit_with_http_date(self):
        # An HTTP date in the past means "now": retryable, no wait.
        self.rx.respond(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
        rc, out, err, f = run_test_alert(self.hook_conf(), "hook")
        self.assertIn("temporary failure", out)
        self.assertNotIn("retry after", f)

    def test_client_error_is_permanent_and_secret_free(self):
        # Express-style 404 pages quote the path, which holds the secret.
        self.rx.respond(404, body="Cannot POST /hook/SECRETPATH")
        rc, out, err, f = run_test_alert(self.hook_conf(), "hook")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("permanent failure", out)
        self.assertIn("HTTP 404", f["answer"])
        self.assertIn("[redacted]", f["answer"])
        self.assertNotIn("SECRETPATH", out + err)

    def test_redirect_not_followed_unless_allowed(self):
        self.rx.respond(301, headers={"Location": self.rx.url("/moved")})
        rc, out, err, f = run_test_alert(self.hook_conf(), "hook")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("permanent failure", out)
        self.assertIn("redirect not followed", f["answer"])
        self.assertEqual([r.path for r in self.rx.requests], ["/hook/SECRETPATH"])

    def test_redirect_followed_when_allowed(self):
        self.rx.respond(307, headers={"Location": self.rx.url("/moved")})
        rc, out, err, f = run_test_alert(self.hook_conf("follow_redirects = true\n"), "hook")
        self.assertEqual(rc, 0, (out, err))
        reqs = self.rx.wait_for(2)
        self.assertEqual([r.path for r in reqs], ["/hook/SECRETPATH", "/moved"])
        self.assertEqual(reqs[1].method, "POST")
        self.assertEqual(reqs[1].body, reqs[0].body)
        self.assertTrue(reqs[1].signature_ok, reqs[1].signature_reason)

    def test_connection_refused_is_retried(self):
        conf = self.config("[notifier hook]\ntype = webhook\nurl = http://127.0.0.1:%d/x\n"
                           "allow_http = true\n" % closed_port())
        rc, out, err, f = run_test_alert(conf, "hook")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("temporary failure", out)
        self.assertTrue(f["answer"].startswith("no answer"), f["answer"])

    def test_hung_receiver_times_out_and_is_retried(self):
        self.rx.hang()
        rc, out, err, f = run_test_alert(self.hook_conf("timeout = 1s\n"), "hook")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("temporary failure", out)
        self.assertTrue(f["answer"].startswith("no answer in time"), f["answer"])
        self.assertEqual(len(self.rx.requests), 1)

    # -- every channel's payload ---------------------------------------------

    def channel_conf(self, kind, extra=""):
        return self.config("[notifier ch]\ntype = %s\nurl = %s\nallow_http = true\n%s"
                           % (kind, self.rx.url("/" + kind), extra))

    def test_slack_payload(self):
        f, req = self.send_ok(self.channel_conf("slack"), "ch")
        self.assertEqual(req.headers["content-type"], "application/json")
        p = req.json
        self.assertIs(p["mrkdwn"], False)
        self.assertTrue(p["text"].startswith("Test alert from schemadrift"), p["text"])
        blocks = p["blocks"]
        self.assertLessEqual(len(blocks), 50)
        self.assertEqual(blocks[0]["type"], "header")
        self.assertEqual(blocks[0]["text"]["type"], "plain_text")
        self.assertLessEqual(len(blocks[0]["text"]["text"]), 150)
        sections = [b for b in blocks if b["type"] == "section" and "text" in b]
        self.assertTrue(any(s["text"]["text"].startswith("```") and "test alert" in
                            s["text"]["text"] for s in sections), sections)
        self.assertIn(f["alert id"], blocks[-1]["elements"][0]["text"])

    def test_teams_payload(self):
        f, req = self.send_ok(self.channel_conf("teams"), "ch")
        p = req.json
        self.assertLess(len(req.body), 28 * 1024)
        self.assertEqual(p["type"], "message")
        att = p["attachments"][0]
        self.assertEqual(att["contentType"], "application/vnd.microsoft.card.adaptive")
        card = att["content"]
        self.assertEqual(card["type"], "AdaptiveCard")
        self.assertEqual(card["version"], "1.4")
        runs = [i["text"] for b in card["body"] if b["type"] == "RichTextBlock"
                for i in b["inlines"]]
        self.assertTrue(any(r.startswith("Test alert from schemadrift") for r in runs), runs)
        self.assertTrue(any("test alert" in r for r in runs), runs)
        self.assertTrue(any(f["alert id"] in r for r in runs), runs)

    def test_discord_payload(self):
        f, req = self.send_ok(self.channel_conf("discord"), "ch")
        p = req.json
        self.assertEqual(p["allowed_mentions"], {"parse": []})
        self.assertLessEqual(len(p["content"]), 2000)
        e = p["embeds"][0]
        self.assertTrue(e["title"].startswith("Test alert from schemadrift"), e["title"])
        self.assertIsInstance(e["color"], int)
        self.assertIn(f["alert id"], e["footer"]["text"])
        self.assertRegex(e["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIn("test alert", e["description"])

    def test_pagerduty_event(self):
        conf = self.config("[notifier pd]\ntype = pagerduty\nurl = %s\nallow_http = true\n"
                           "routing_key = R0UT1NGKEY0123456789abcdefabcdef\n"
                           % self.rx.url("/v2/enqueue"))
        self.rx.set_default(202, {"Content-Type": "application/json"},
                            '{"status":"success","message":"Event processed"}')
        f, req = self.send_ok(conf, "pd")
        self.assertIn("HTTP 202", f["answer"])
        p = req.json
        self.assertEqual(p["routing_key"], "R0UT1NGKEY0123456789abcdefabcdef")
        self.assertEqual(p["event_action"], "trigger")
        self.assertEqual(p["payload"]["severity"], "info")
        self.assertEqual(p["payload"]["source"], "schemadrift")
        self.assertTrue(p["payload"]["summary"].startswith("Test alert from schemadrift"))
        self.assertLessEqual(len(p["payload"]["summary"]), 1024)
        self.assertEqual(p["payload"]["custom_details"]["alert_id"], f["alert id"])
        self.assertEqual(p["client"], "schemadrift")
        # The routing key is a secret: render shows a placeholder.
        rc, out, err = pgharness.run_cli("render", "--channel", "pagerduty",
                                         self.empty_diff())
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["routing_key"], "<routing_key>")

    def empty_diff(self):
        path = os.path.join(self.dir, "empty-diff.json")
        with open(path, "w") as fh:
            json.dump({"schemadrift_diff": {"version": 1, "from": {"source": "a", "hash": None},
                                            "to": {"source": "b", "hash": None}},
                       "summary": {"changes": 0, "added": 0, "removed": 0, "modified": 0,
                                   "breaking": 0, "warning": 0, "info": 0},
                       "changes": []}, fh)
        return path


# ---------------------------------------------------------------------------
# Rendering drift of hostile names


HOSTILE = [
    "quote\"s 'single'",
    "<script>alert(1)</script>",
    "*bold* _it_ ~strike~ `code`",
    "@channel @here @everyone",
    "<!channel> <!here> <@U123> <#C1>",
    "[link](http://evil.example)",
    "cr\r\nlf",
    "\u65e5\u672c\u8a9e" * 7,  # 63 bytes of UTF-8
]


def slack_unescape(s):
    return (s.replace(WORD_JOINER, "").replace("\u02cb", "`").replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


def discord_unescape(s):
    # Discord markdown shows a backslash-escaped ASCII punctuation character literally.
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", s)


def strings(j):
    if isinstance(j, str):
        yield j
    elif isinstance(j, list):
        for v in j:
            yield from strings(v)
    elif isinstance(j, dict):
        for v in j.values():
            yield from strings(v)


class HostileNamesTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.create_db("before")
        cls.pg.create_db("after")
        sql = ["CREATE SCHEMA app;"]
        for name in HOSTILE:
            sql.append("DO $$ BEGIN EXECUTE format('CREATE TABLE app.%%I (%%I int)', %s, %s); END $$;"
                       % (cls.literal(name), cls.literal("@here " + name[:20])))
        cls.pg.psql("before", "CREATE SCHEMA app;")
        cls.pg.psql("after", "\n".join(sql))

    @staticmethod
    def literal(s):
        return "E'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\r", "\\r") \
            .replace("\n", "\\n") + "'"

    def setUp(self):
        super().setUp()
        rc, out, err = pgharness.run_cli("diff", self.pg.live_side("before"),
                                         self.pg.live_side("after"), "--format", "json")
        self.assertEqual(rc, 1, err)
        self.diff_path = self.path("diff.json")
        with open(self.diff_path, "w") as f:
            f.write(out)
        self.diff = json.loads(out)
        self.objects = [c["object"] for c in self.diff["changes"] if c["kind"] == "table"]
        self.assertEqual(len(self.objects), len(HOSTILE), self.objects)

    def render(self, kind):
        rc, out, err = pgharness.run_cli("render", "--channel", kind, "--target", "billing",
                                         self.diff_path)
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    def test_names_in_diff_are_one_line(self):
        for o in self.objects:
            self.assertNotIn("\r", o)
            self.assertNotIn("\n", o)
        self.assertTrue(any("\\x0d\\x0a" in o for o in self.objects), self.objects)
        self.assertTrue(any("\u65e5\u672c\u8a9e" * 7 in o for o in self.objects), self.objects)

    def test_webhook_literal(self):
        p = self.render("webhook")
        got = [c["object"] for c in p["changes"] if c["kind"] == "table"]
        self.assertEqual(sorted(got), sorted(self.objects))
        self.assertEqual(p["target"], "billing")
        self.assertEqual(p["summary"]["changes"], len(self.diff["changes"]))

    def test_slack_literal_and_no_mentions(self):
        p = self.render("slack")
        texts = list(strings(p))
        joined = "\n".join(texts)
        spans = []
        for t in texts:
            spans += re.findall(r"`([^`]*)`", t)
        shown = [slack_unescape(s) for s in spans]
        for o in self.objects:
            self.assertIn(o, shown)
        # No live mention or link can form: no raw '<', and every '@' is joined.
        self.assertNotIn("<", joined.replace("&lt;", ""))
        self.assertIsNone(re.search("@(?!" + WORD_JOINER + ")", joined), joined)
        for s in spans:
            self.assertNotIn("\n", s)
        self.assertLessEqual(len(p["blocks"]), 50)

    def test_discord_literal_and_no_mentions(self):
        p = self.render("discord")
        self.assertEqual(p["allowed_mentions"], {"parse": []})
        values = [f["value"] for f in p["embeds"][0]["fields"]]
        for o in self.objects:
            self.assertTrue(any(discord_unescape(v).startswith(o) for v in values),
                            (o, values))
        e = p["embeds"][0]
        for s in [p["content"], e["title"]] + values + [f["name"] for f in e["fields"]]:
            # Every markdown or mention character is escaped.
            self.assertIsNone(re.search(r"(?<!\\)[@<*_~`|\[]", s.replace("\\\\", "")), s)

    def test_teams_literal(self):
        p = self.render("teams")
        body = p["attachments"][0]["content"]["body"]
        runs = [i["text"] for b in body if b["type"] == "RichTextBlock" for i in b["inlines"]]
        for o in self.objects:
            self.assertIn(o, runs)
        blocks = [b.get("text", "") for b in body if b["type"] == "TextBlock"]
        for o in self.objects:
            for t in blocks:
                self.assertNotIn(o, t)

    def test_pagerduty_literal(self):
        p = self.render("pagerduty")
        top = p["payload"]["custom_details"]["top_changes"]
        for o in self.objects:
            self.assertTrue(any(o in t for t in top), (o, top))
        self.assertEqual(p["routing_key"], "<routing_key>")


class ManyChangesTest(pgharness.PgTestCase):
    """More changes than any chat message holds, with long names and values: each
    channel stays within its limits and says how many changes it left out."""

    N_MODIFIED = 100
    N_REMOVED = 60

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for db in ("before", "after", "modified"):
            cls.pg.create_db(db)
        long = "x" * 40 + "_\u00e9\u00e9\u00e9_" + "@here_"
        before, after, modified = [], [], []
        for i in range(cls.N_MODIFIED + cls.N_REMOVED):
            table = '"t%03d_%s"' % (i, long)
            before.append("CREATE TABLE %s (id int, c text DEFAULT '%s');" % (table, "A" * 170))
            changed = "CREATE TABLE %s (id int, c text DEFAULT '%s');" % (table, "B*_<@here>" * 17)
            modified.append(changed)
            if i < cls.N_MODIFIED:
                after.append(changed)
        cls.pg.psql("before", "\n".join(before))
        cls.pg.psql("after", "\n".join(after))
        # Only long modifications: the embed total, not the field count, limits Discord.
        cls.pg.psql("modified", "\n".join(modified))

    def setUp(self):
        super().setUp()
        rc, out, err = pgharness.run_cli("diff", self.pg.live_side("before"),
                                         self.pg.live_side("after"), "--format", "json")
        self.assertEqual(rc, 1, err)
        self.diff_path = self.path("diff.json")
        with open(self.diff_path, "w") as f:
            f.write(out)
        self.total = json.loads(out)["summary"]["changes"]
        self.assertEqual(self.total, self.N_MODIFIED + self.N_REMOVED)
        # Channels configured to list as many changes as an alert holds (100).
        conf = self.path("render.conf")
        write_private(conf, "".join(
            "[notifier %s]\ntype = %s\nurl = https://hooks.invalid/%s\nmax_changes = 100\n"
            % (k, k, k) for k in ("slack", "discord", "teams")))
        self.conf = conf

    def render(self, kind, configured=True, diff_path=None):
        args = ["render", "--channel", kind, diff_path or self.diff_path]
        if configured:
            args += ["--config", self.conf]
        rc, out, err = pgharness.run_cli(*args)
        self.assertEqual(rc, 0, err)
        return out, json.loads(out)

    def test_default_lists_twenty(self):
        for kind in ("slack", "discord", "teams"):
            out, p = self.render(kind, configured=False)
            self.assertIn("... and %d more changes" % (self.total - 20), out, kind)

    def more(self, texts):
        found = [int(m) for t in texts for m in re.findall(r"\.\.\. and (\d+) more changes", t)]
        self.assertEqual(len(found), 1, texts)
        return found[0]

    def test_slack_limits(self):
        _, p = self.render("slack")
        self.assertLessEqual(len(p["blocks"]), 50)
        shown = 0
        for b in p["blocks"]:
            if b["type"] == "section" and "text" in b:
                self.assertLessEqual(len(b["text"]["text"]), 3000)
                shown += b["text"]["text"].count("\u2022 ")
        self.assertEqual(shown, 100)
        self.assertEqual(shown + self.more(list(strings(p))), self.total)
        self.assertGreater(sum(1 for b in p["blocks"] if b["type"] == "section"), 10)

    def test_discord_limits(self):
        _, p = self.render("discord")
        e = p["embeds"][0]
        self.assertLessEqual(len(p["content"]), 2000)
        self.assertLessEqual(len(e["fields"]), 25)
        total = len(e["title"]) + len(e["description"]) + len(e["footer"]["text"])
        for f in e["fields"]:
            self.assertLessEqual(len(f["name"]), 256)
            self.assertLessEqual(len(f["value"]), 1024)
            total += len(f["name"]) + len(f["value"])
        self.assertLessEqual(total, 6000)
        self.assertEqual(len(e["fields"]) + self.more([e["description"]]), self.total)
        # The 60 removed tables come first (breaking): 25 short fields.
        self.assertEqual(len(e["fields"]), 25)

    def test_discord_embed_total(self):
        rc, out, err = pgharness.run_cli("diff", self.pg.live_side("before"),
                                         self.pg.live_side("modified"), "--format", "json")
        self.assertEqual(rc, 1, err)
        path = self.path("modified.json")
        with open(path, "w") as f:
            f.write(out)
        _, p = self.render("discord", diff_path=path)
        e = p["embeds"][0]
        total = len(e["title"]) + len(e["description"]) + len(e["footer"]["text"])
        total += sum(len(f["name"]) + len(f["value"]) for f in e["fields"])
        self.assertLessEqual(total, 6000)
        self.assertGreater(total, 5000)
        self.assertLess(len(e["fields"]), 25)
        self.assertEqual(len(e["fields"]) + self.more([e["description"]]),
                         self.N_MODIFIED + self.N_REMOVED)

    def test_teams_limits(self):
        _, p = self.render("teams")
        compact = json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode()
        self.assertLess(len(compact), 28 * 1024)
        body = p["attachments"][0]["content"]["body"]
        shown = sum(1 for b in body if b["type"] == "RichTextBlock" and
                    b["inlines"][0].get("weight") == "Bolder" and
                    b["inlines"][0]["text"] in ("breaking", "warning", "info"))
        self.assertEqual(shown + self.more([b.get("text", "") for b in body]), self.total)
        self.assertLess(shown, 100)
        self.assertGreater(len(compact), 20 * 1024)

    def test_webhook_counts_what_it_omits(self):
        _, p = self.render("webhook", configured=False)
        self.assertEqual(len(p["changes"]) + p["changes_omitted"], self.total)
        self.assertEqual(len(p["changes"]), 100)


if __name__ == "__main__":
    pgharness.main()
