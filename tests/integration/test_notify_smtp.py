"""The smtp notifier against a real SMTP server (python3-aiosmtpd with STARTTLS and AUTH):
what arrives, what is refused and how each refusal is classified, the outbox keeping an
alert the server would not take, and hostile database names in the rendered email."""

import email
import email.policy
import email.utils
import logging
import os
import re
import select
import signal
import subprocess
import tempfile
import time
import unittest
import datetime

import pgharness
from smtp_server import PASSWORD, USER, SmtpServer

logging.getLogger("mail.log").setLevel(logging.CRITICAL)

NAME63 = "\u00fc" * 31 + "x"  # 63 bytes in UTF-8, PostgreSQL's longest name
assert len(NAME63.encode()) == 63

# What `schemadrift test-alert` prints for each classification.
DELIVERED = "delivered"
RETRY = "temporary failure, would be retried"
FAILED = "permanent failure"


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_parts(msg):
    """{'text/plain': str, 'text/html': str} of a multipart/alternative message."""
    assert msg.get_content_type() == "multipart/alternative", msg.get_content_type()
    out = {}
    for part in msg.iter_parts():
        assert part.get_content_charset() == "utf-8", part.get_content_charset()
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        out[part.get_content_type()] = part.get_content()
    return out


class SmtpCase(unittest.TestCase):
    mode = "starttls"

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="schemadrift-smtp-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.dir])
        self.srv = SmtpServer(os.path.join(self.dir, "server"), self.mode).start()
        self.addCleanup(self.srv.stop)
        self.secret = os.path.join(self.dir, "smtp-password")
        with open(self.secret, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(self.secret, 0o600)

    def write_conf(self, extra="", **keys):
        """[notifier mail]: the server, AUTH (password from a private file), the test CA;
        keys override (None drops a key)."""
        base = {
            "type": "smtp", "host": "localhost", "port": str(self.srv.port),
            "from": "Schemadrift <alerts@example.test>",
            "to": "oncall@example.test, dba@example.test", "cc": "audit@example.test",
            "username": USER, "password": "file:" + self.secret,
            "ca_file": os.path.relpath(self.srv.ca_file, self.dir), "timeout": "10",
        }
        base.update(keys)
        path = os.path.join(self.dir, "schemadrift.conf")
        with open(path, "w") as f:
            f.write("[notifier mail]\n")
            for k, v in base.items():
                if v is not None:
                    f.write("%s = %s\n" % (k, v))
            f.write(extra)
        os.chmod(path, 0o600)
        return path

    def send_test_alert(self, conf):
        rc, out, err = pgharness.run_cli("test-alert", "--config", conf, "--channel", "mail",
                                         timeout=60)
        self.assertNotIn(PASSWORD, out + err)
        return rc, out, err


class DeliveryTest(SmtpCase):
    def test_starttls_auth_headers_and_parts(self):
        conf = self.write_conf(subject_prefix="[DB-\u00c4nderung]")
        before = datetime.datetime.now(datetime.timezone.utc)
        rc, out, err = self.send_test_alert(conf)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("(smtp): " + DELIVERED, out)
        self.assertRegex(out, r"answer: localhost:\d+: accepted: 250 ")
        alert_id = re.search(r"alert id: (\S+)", out).group(1)

        msgs = self.srv.messages()
        self.assertEqual(len(msgs), 1)
        raw, envelope = msgs[0]
        # the session was encrypted and authenticated; Cc is in the envelope too
        self.assertTrue(envelope["tls"])
        self.assertTrue(envelope["authenticated"])
        self.assertEqual(envelope["mail_from"], "alerts@example.test")
        self.assertEqual(envelope["rcpt_tos"],
                         ["oncall@example.test", "dba@example.test", "audit@example.test"])
        # CRLF everywhere, 7-bit only
        self.assertNotRegex(raw, rb"[^\r]\n")
        self.assertTrue(all(b < 0x80 for b in raw))

        msg = parse(raw)
        self.assertEqual(str(msg["From"]), "Schemadrift <alerts@example.test>")
        self.assertEqual([a.addr_spec for a in msg["To"].addresses],
                         ["oncall@example.test", "dba@example.test"])
        self.assertEqual([a.addr_spec for a in msg["Cc"].addresses], ["audit@example.test"])
        self.assertIsNone(msg["Bcc"])
        date = email.utils.parsedate_to_datetime(msg["Date"])
        self.assertLess(abs((date - before).total_seconds()), 120)
        self.assertEqual(msg["Message-ID"].split("@")[0], "<" + alert_id)
        self.assertTrue(msg["Message-ID"].endswith(">"))
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg["Auto-Submitted"], "auto-generated")
        for name in ("Date", "From", "To", "Cc", "Subject", "Message-ID"):
            self.assertEqual(len(msg.get_all(name)), 1, name)

        parts = text_parts(msg)
        plain, html = parts["text/plain"], parts["text/html"]
        headline = plain.splitlines()[0]
        self.assertIn("Test alert", headline)
        # the Subject is the prefix and the headline, RFC 2047-decoded
        self.assertEqual(str(msg["Subject"]), "[DB-\u00c4nderung] " + headline)
        self.assertIn("=?UTF-8?B?", raw.split(b"\r\n\r\n")[0].decode())
        self.assertIn("sent by `schemadrift test-alert` through the notifier 'mail'", plain)
        self.assertIn("sent by `schemadrift test-alert` through the notifier &#39;mail&#39;",
                      html)
        self.assertIn("<!DOCTYPE html>", html)
        self.assertIn(alert_id, plain)

    def test_wrong_password_is_a_retry(self):
        with open(self.secret, "w") as f:
            f.write("not the password\n")
        rc, out, err = self.send_test_alert(self.write_conf())
        self.assertEqual(rc, 2, out + err)
        self.assertIn(RETRY, out)
        self.assertIn("authentication as '%s' failed: 535" % USER, out)
        self.assertNotIn("not the password", out + err)
        self.assertEqual(self.srv.messages(), [])
        self.assertTrue(self.srv.auth_attempts)
        self.assertFalse(any(ok for _, _, ok in self.srv.auth_attempts))

    def test_self_signed_certificate_without_ca_file_is_refused(self):
        rc, out, err = self.send_test_alert(self.write_conf(ca_file=None))
        self.assertEqual(rc, 2, out + err)
        self.assertIn(FAILED, out)
        self.assertIn("TLS certificate rejected, nothing sent", out)
        self.assertIn("self-signed certificate", out)
        self.assertIn("set ca_file", out)
        self.assertEqual(self.srv.messages(), [])
        self.assertEqual(self.srv.auth_attempts, [])  # the password never left

    def test_connection_refused_is_a_retry(self):
        port = pgharness.free_port()
        rc, out, err = self.send_test_alert(self.write_conf(port=str(port)))
        self.assertEqual(rc, 2, out + err)
        self.assertIn(RETRY, out)
        self.assertIn("localhost:%d: cannot talk to the server: Connection refused" % port, out)

    def test_config_errors_name_the_line(self):
        conf = self.write_conf(tls="implicit")
        rc, out, err = self.send_test_alert(conf)
        self.assertEqual(rc, 2)
        self.assertRegex(err, r"schemadrift\.conf:\d+: key 'tls': .*465")
        conf = self.write_conf(to="oncall@example.test; Bcc: evil@example.test")
        rc, out, err = self.send_test_alert(conf)
        self.assertEqual(rc, 2)
        self.assertRegex(err, r"schemadrift\.conf:\d+: key 'to': ")
        self.assertEqual(self.srv.messages(), [])


class NoStartTlsTest(SmtpCase):
    mode = "plain"

    def test_refused_unless_opted_out(self):
        rc, out, err = self.send_test_alert(self.write_conf(ca_file=None))
        self.assertEqual(rc, 2, out + err)
        self.assertIn(FAILED, out)
        self.assertIn("does not offer STARTTLS; refusing to send in clear text "
                      "(set starttls = none to allow it)", out)
        self.assertEqual(self.srv.messages(), [])
        self.assertEqual(self.srv.auth_attempts, [])

        rc, out, err = self.send_test_alert(self.write_conf(ca_file=None, starttls="none"))
        self.assertEqual(rc, 0, out + err)
        (raw, envelope), = self.srv.messages()
        self.assertFalse(envelope["tls"])
        self.assertTrue(envelope["authenticated"])


class OpenServerTest(SmtpCase):
    mode = "open"

    def test_never_sends_unauthenticated_when_credentials_are_set(self):
        # The server would take the message without AUTH; with a username configured
        # the channel refuses to hand it over (and keeps it for a retry).
        rc, out, err = self.send_test_alert(self.write_conf(ca_file=None, starttls="none"))
        self.assertEqual(rc, 2, out + err)
        self.assertIn(RETRY, out)
        self.assertIn("the server offered no usable AUTH mechanism (no AUTH); "
                      "not sending unauthenticated", out)
        self.assertEqual(self.srv.messages(), [])

        rc, out, err = self.send_test_alert(self.write_conf(ca_file=None, starttls="none",
                                                            username=None, password=None))
        self.assertEqual(rc, 0, out + err)
        (raw, envelope), = self.srv.messages()
        self.assertFalse(envelope["authenticated"])


class RefusalTest(SmtpCase):
    mode = "reject-rcpt"

    def test_some_recipients_refused(self):
        rc, out, err = self.send_test_alert(self.write_conf(to="oncall@example.test, bad1@example.test"))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("accepted for 2 of 3 recipients", out)
        self.assertIn("refused: bad1@example.test (550 5.1.1", out)
        (raw, envelope), = self.srv.messages()
        self.assertEqual(envelope["rcpt_tos"], ["oncall@example.test", "audit@example.test"])

    def test_all_recipients_refused(self):
        rc, out, err = self.send_test_alert(self.write_conf(to="bad1@example.test", cc="bad2@example.test"))
        self.assertEqual(rc, 2, out + err)
        self.assertIn(FAILED, out)
        self.assertIn("no recipient accepted: bad1@example.test (550 5.1.1", out)
        self.assertIn("bad2@example.test (550 5.1.1", out)
        self.assertEqual(self.srv.messages(), [])


class Refused5xxTest(SmtpCase):
    mode = "reject-5xx"

    def test_message_refused_permanently(self):
        rc, out, err = self.send_test_alert(self.write_conf())
        self.assertEqual(rc, 2, out + err)
        self.assertIn(FAILED, out)
        self.assertIn("message refused: 554 5.6.0 Message refused by policy", out)
        self.assertEqual(self.srv.refused, 1)


class TempFailTest(SmtpCase):
    mode = "tempfail"

    def test_message_refused_for_now(self):
        rc, out, err = self.send_test_alert(self.write_conf())
        self.assertEqual(rc, 2, out + err)
        self.assertIn(RETRY, out)
        self.assertIn("message refused: 451 4.3.0", out)
        self.assertEqual(self.srv.refused, 1)


class OutboxTest(SmtpCase):
    def drain(self, conf, spool, *extra, until=None):
        """Runs outbox-drain; with until, stops it (SIGTERM) once a line matches."""
        cmd = [pgharness.cli_bin(), "outbox-drain", "--config", conf, "--spool", spool,
               "--channel", "mail"] + list(extra)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=pgharness.clean_env(), text=True)
        lines = []
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                r, _, _ = select.select([p.stdout], [], [], max(0.1, deadline - time.monotonic()))
                if not r:
                    continue
                line = p.stdout.readline()
                if not line:
                    break
                lines.append(line)
                if until and re.search(until, line):
                    p.send_signal(signal.SIGTERM)
                    until = None
            rest, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        out = "".join(lines) + rest
        self.assertNotIn(PASSWORD, out + err)
        return p.returncode, out, err

    def test_bad_password_keeps_the_alert(self):
        spool = os.path.join(self.dir, "spool")
        with open(self.secret, "w") as f:
            f.write("not the password\n")
        conf = self.write_conf()
        rc, out, err = self.drain(conf, spool, "--enqueue-test", "1", until=r"^retrying ")
        self.assertRegex(out, r"retrying \S+ mail drain-test-0 attempts=1 next_in_ms=\d+: "
                              r"localhost:\d+: authentication as '%s' failed: 535" % re.escape(USER))
        self.assertEqual(len(os.listdir(os.path.join(spool, "queue"))), 1, out + err)
        self.assertEqual(self.srv.messages(), [])

        # The operator fixes the password: the same alert goes out, once.
        with open(self.secret, "w") as f:
            f.write(PASSWORD + "\n")
        rc, out, err = self.drain(conf, spool)
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"delivered \S+ mail drain-test-0 attempts=1")
        self.assertEqual(os.listdir(os.path.join(spool, "queue")), [])
        self.assertEqual(len(self.srv.messages()), 1)


class HostileNamesTest(pgharness.PgTestCase):
    """Names a database may hold, rendered into the email by `schemadrift render`."""

    HOSTILE = {
        "script": "<script>alert(1)</script>",
        "crlf": "a\r\nBcc: injected@example.test\r\nX-Injected: 1",
        "markdown": "*bold* @channel @here",
        "quotes": "it's \"quoted\"",
        "name63": NAME63,
        "dots": "." * 40,
    }

    def test_names_render_literally_and_inject_no_header(self):
        self.pg.create_db("app")
        before = self.path("before.json")
        after = self.path("after.json")
        self.pg.snapshot_file("app", before)
        sql = "".join('CREATE TABLE "%s" (id int, "%s" text);\n' % (n.replace('"', '""'),
                                                                 n.replace('"', '""'))
                      for n in self.HOSTILE.values())
        sql += "CREATE VIEW v AS SELECT 1 AS one;\n"
        self.pg.psql("app", sql)
        self.pg.snapshot_file("app", after)
        rc, diff_out, err = pgharness.run_cli("diff", before, after, "--format", "json")
        self.assertEqual(rc, 1, err)
        diff = self.path("diff.json")
        with open(diff, "w") as f:
            f.write(diff_out)

        conf = self.path("render.conf")
        with open(conf, "w") as f:
            f.write("[notifier mail]\ntype = smtp\nhost = localhost\n"
                    "from = alerts@example.test\nto = oncall@example.test\n")
        hostile_target = "billing\r\nBcc: target@example.test"
        rc, out, err = pgharness.run_cli("render", "--config", conf, "--channel", "mail",
                                         "--target", hostile_target, diff, binary=True)
        self.assertEqual(rc, 0, err)
        self.assertNotRegex(out, rb"[^\r]\n")
        self.assertTrue(all(b < 0x80 for b in out))
        head = out.split(b"\r\n\r\n")[0]
        for line in head.split(b"\r\n"):
            if not line[:1].isspace():
                self.assertIn(line.split(b":")[0], (
                    b"Date", b"From", b"To", b"Subject", b"Message-ID", b"Auto-Submitted",
                    b"X-Schemadrift-Alert", b"MIME-Version", b"Content-Type"), line)
            self.assertLessEqual(len(line), 78, line)

        msg = parse(out)
        self.assertIsNone(msg["Bcc"])
        self.assertIsNone(msg["X-Injected"])
        subject = str(msg["Subject"])
        self.assertNotIn("\r", subject)
        self.assertNotIn("\n", subject)
        self.assertTrue(subject.startswith("[schemadrift] Schema drift on billing"), subject)

        parts = text_parts(msg)
        plain, html = parts["text/plain"], parts["text/html"]
        for text in (plain, html):
            for line in text.splitlines():
                self.assertFalse(line.startswith("Bcc:"), line)
                self.assertFalse(line.startswith("X-Injected:"), line)
        # the change lines, in both parts
        for key, name in self.HOSTILE.items():
            shown = name.replace("\r", "\\x0d").replace("\n", "\\x0a")
            quoted = shown.replace('"', '""')
            self.assertIn("added table public.\"%s\"" % quoted, plain, key)
            esc = (quoted.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                   .replace('"', "&quot;").replace("'", "&#39;"))
            self.assertIn("<code>public.&quot;%s&quot;</code>" % esc, html, key)
        self.assertIn("added view public.v", plain)
        self.assertNotIn("<script>", html)
        self.assertIn(NAME63, plain)
        self.assertIn(NAME63, html)


if __name__ == "__main__":
    pgharness.main()
