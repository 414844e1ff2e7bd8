"""schemadriftd --check-config and the shipped configuration: every mistake is reported with
FILE:LINE and the key (exit 2), a valid file passes (exit 0), conf/schemadrift.conf is the
generator's output (`--print-sample-config`) plus hand-written examples that are themselves a
valid configuration, and the man page documents every key with its default.  No database.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonharness as dh  # noqa: E402
import pgharness  # noqa: E402

EXAMPLES_MARK = "# ---- Examples"


def run_daemon(*args, env=None):
    p = subprocess.run([dh.daemon_bin()] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=pgharness.clean_env(env), timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def line_of(text, needle):
    """1-based number of the line holding needle."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError("%r not in the configuration" % needle)


def sample_conf_path():
    return os.path.join(pgharness.source_dir(), "conf", "schemadrift.conf")


def split_sample(text):
    """(generated part, examples part) of conf/schemadrift.conf."""
    i = text.find("\n" + EXAMPLES_MARK)
    if i < 0:
        raise AssertionError("conf/schemadrift.conf has no %r line" % EXAMPLES_MARK)
    return text[:i + 1], text[i + 1:]


def normalize(text):
    """Section headers may be commented out in the shipped file ('#[target NAME]'): the
    templates are not sections anyone configured."""
    return [re.sub(r"^#(\[.*\])$", r"\1", line.rstrip()) for line in text.rstrip().splitlines()]


class CheckConfig(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="schemadrift-conf-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir]))
        self.head = "[daemon]\nstate_dir = %s/state\nruntime_dir = %s/run\n" % (self.dir,
                                                                                 self.dir)

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.dir, name)
        dh.write_private(path, text)
        os.chmod(path, mode)
        return path

    def assert_refused(self, text, needle, key, extra_files=(), mode=0o600, path_line=None,
                       start_refused=True):
        """--check-config exits 2 naming FILE:LINE (the line holding needle) and key; so
        does starting the daemon with it, unless start_refused is False."""
        path = self.write("schemadrift.conf", text, mode)
        for name, content in extra_files:
            self.write(name, content)
        rc, out, err = run_daemon("--check-config", "-c", path)
        self.assertEqual(rc, 2, "accepted:\n%s\nstdout: %s" % (text, out))
        where = path_line or "%s:%d:" % (path, line_of(text, needle))
        self.assertIn(where, err)
        self.assertIn(key, err)
        self.assertEqual(len(err.strip().splitlines()), 1, "one line per error: %r" % err)
        if not start_refused:
            return err
        # And the daemon itself refuses to start with it, saying the same.
        rc2, _, err2 = run_daemon("-c", path, "-f")
        self.assertEqual(rc2, 2)
        self.assertIn(where, err2)
        return err

    def test_valid(self):
        text = self.head + ("schedule = */5 * * * *\ntimezone = Europe/Berlin\n"
                            "[target app]\ndsn = host=db1 dbname=app\nnotifiers = hook\n"
                            "schedule = every 90s\nignore = privileges, comments\n"
                            "[notifier hook]\ntype = webhook\nurl = https://example.com/h\n")
        path = self.write("schemadrift.conf", text)
        rc, out, err = run_daemon("--check-config", "-c", path)
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("configuration is valid (1 target)", out)

    def test_unknown_key(self):
        self.assert_refused(self.head + "max_concurent = 4\n", "max_concurent",
                            "'max_concurent'")
        self.assert_refused(self.head + "[target a]\ndsn = dbname=a\nshedule = every 5m\n",
                            "shedule", "'shedule'")

    def test_unknown_section(self):
        self.assert_refused(self.head + "[targets a]\ndsn = dbname=a\n", "[targets a]",
                            "[targets")

    def test_bad_duration(self):
        self.assert_refused(self.head + "settle_delay = 5 parsecs\n", "settle_delay",
                            "'settle_delay'")
        self.assert_refused(self.head + "connect_timeout = 0\n", "connect_timeout",
                            "'connect_timeout'")

    def test_bad_int_and_enum(self):
        self.assert_refused(self.head + "max_concurrent = 0\n", "max_concurrent",
                            "'max_concurrent'")
        self.assert_refused(self.head + "[target a]\ndsn = dbname=a\nbaseline = later\n",
                            "baseline =", "'baseline'")

    def test_bad_schedule(self):
        self.assert_refused(self.head + "[target a]\ndsn = dbname=a\nschedule = 61 * * * *\n",
                            "schedule =", "'schedule'")
        self.assert_refused(self.head + "[target a]\ndsn = dbname=a\nschedule = every banana\n",
                            "schedule =", "'schedule'")
        # A bad default is reported where it is written, in [daemon].
        self.assert_refused(self.head + "schedule = 1 2 3\n[target a]\ndsn = dbname=a\n",
                            "schedule =", "'schedule'")

    def test_bad_timezone(self):
        self.assert_refused(self.head + "[target a]\ndsn = dbname=a\ntimezone = Mars/Olympus\n",
                            "timezone =", "'timezone'")

    def test_missing_dsn(self):
        self.assert_refused(self.head + "[target a]\nschedule = every 5m\n", "[target a]",
                            "dsn")

    def test_password_in_dsn(self):
        err = self.assert_refused(self.head + "[target a]\ndsn = dbname=a password=hunter22\n",
                                  "dsn =", "'dsn'")
        self.assertNotIn("hunter22", err)

    def test_password_file_missing(self):
        # The daemon would start and leave that target out (logged), so the others
        # are monitored; --check-config reports it.
        self.assert_refused(self.head + "[target a]\ndsn = dbname=a\n"
                            "password = file:%s/nope.pass\n" % self.dir, "password =",
                            "'password'", start_refused=False)

    def test_unknown_notifier(self):
        # A target naming a notifier that is not there...
        self.assert_refused(self.head + "[target a]\ndsn = dbname=a\nnotifiers = pager\n",
                            "notifiers =", "'notifiers'")
        # ... a notifier of a type that does not exist ...
        self.assert_refused(self.head + "[notifier n]\ntype = carrier-pigeon\n", "type =",
                            "'type'")
        # ... and a key its type does not have.
        self.assert_refused(self.head + "[notifier n]\ntype = slack\n"
                            "url = https://hooks.example.com/x\nchannel = #ops\n", "channel =",
                            "'channel'")

    def test_inline_secret_in_a_readable_file(self):
        text = self.head + "[notifier n]\ntype = slack\nurl = https://hooks.example.com/T0K3N\n"
        err = self.assert_refused(text, "url =", "'url'", mode=0o644)
        self.assertIn("chmod 600", err)
        self.assertNotIn("T0K3N", err)

    def test_error_in_an_included_file(self):
        os.mkdir(os.path.join(self.dir, "conf.d"))
        inc = "[target b]\ndsn = dbname=b\nschedule = every 1x\n"
        self.write(os.path.join("conf.d", "b.conf"), inc)
        path = os.path.join(self.dir, "conf.d", "b.conf")
        self.assert_refused("include = %s/conf.d\n" % self.dir + self.head, None, "'schedule'",
                            path_line="%s:3:" % path)


class ShippedConfiguration(unittest.TestCase):
    def test_sample_is_the_generators_output(self):
        rc, generated, err = run_daemon("--print-sample-config")
        self.assertEqual((rc, err), (0, ""))
        with open(sample_conf_path()) as f:
            shipped = f.read()
        head, _ = split_sample(shipped)
        self.assertEqual(normalize(head), normalize(generated),
                         "conf/schemadrift.conf is stale: regenerate its first part with "
                         "`schemadriftd --print-sample-config` (commenting out the "
                         "[target NAME] and [notifier NAME] template headers)")

    def test_sample_is_a_valid_configuration(self):
        # Installed as is, it must not stop the daemon from starting.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "schemadrift.conf")
            with open(sample_conf_path()) as f:
                dh.write_private(path, f.read())
            rc, out, err = run_daemon("--check-config", "-c", path)
            self.assertEqual(rc, 0, err)
            self.assertIn("(0 targets)", out)

    def test_examples_are_valid_when_uncommented(self):
        with open(sample_conf_path()) as f:
            _, examples = split_sample(f.read())
        with tempfile.TemporaryDirectory() as d:
            creds = os.path.join(d, "credentials")
            os.mkdir(creds)
            # Files and credentials the examples name, with made-up secrets.
            secrets = {"billing.pass": "pw", "ops-webhook.url": "https://hooks.example.com/x",
                       "ops-webhook.secret": "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"}
            for name, value in secrets.items():
                dh.write_private(os.path.join(d, name), value + "\n")
            for name, value in (("smtp-password", "pw"),
                                ("slack-webhook-url", "https://hooks.slack.com/services/x")):
                dh.write_private(os.path.join(creds, name), value + "\n")
            lines = []
            for line in examples.splitlines():
                if re.match(r"^#(\[|[a-z_]+ = )", line):
                    line = line[1:]
                lines.append(line.replace("/etc/schemadrift/", d + "/"))
            text = "[daemon]\nstate_dir = %s/state\n" % d + "\n".join(lines) + "\n"
            self.assertIn("[target billing]", text)
            path = os.path.join(d, "schemadrift.conf")
            dh.write_private(path, text)
            rc, out, err = run_daemon("--check-config", "-c", path,
                                      env={"CREDENTIALS_DIRECTORY": creds})
            self.assertEqual(rc, 0, "%s\n%s" % (err, text))
            self.assertIn("(1 target)", out)

    def test_man_page_documents_every_key(self):
        """Every key the generator prints (the daemon's and every notifier type's, all from
        their tables) has a `.TP .B key` entry in its section of schemadrift.conf(5), and
        one of those entries names the default."""
        rc, generated, _ = run_daemon("--print-sample-config")
        self.assertEqual(rc, 0)
        man = os.path.join(pgharness.source_dir(), "docs", "man", "schemadrift.conf.5")
        with open(man) as f:
            page = f.read().replace("\\-", "-").replace("\\&", "")
        sections = {}
        for m in re.finditer(r'(?m)^\.SH "\[(\w+)[^"]*\] SECTION"\n', page):
            end = page.find("\n.SH ", m.end())
            sections[m.group(1)] = page[m.end():end if end >= 0 else len(page)]
        section, seen = None, set()
        for line in generated.splitlines():
            m = re.match(r"^#?\[(\w+)", line)
            if m:
                section = m.group(1)
            m = re.match(r"^#([a-z_]+) = (.*)$", line)
            if not m:
                continue
            key, default = m.group(1), m.group(2).strip()
            seen.add((section, key))
            self.assertIn(section, sections, "schemadrift.conf(5) has no [%s] section" % section)
            text = sections[section]
            entries = [e.group(0) for e in re.finditer(
                r"(?ms)^\.TP\n\.B %s\n.*?(?=^\.TP\n|^\.SS |\Z)" % re.escape(key), text)]
            self.assertTrue(entries, "schemadrift.conf(5) lacks [%s] %s" % (section, key))
            if default:
                self.assertTrue(any(default in e for e in entries),
                                "schemadrift.conf(5): [%s] %s without its default %s"
                                % (section, key, default))
        # The notifier types' keys are part of what is checked.
        for key in ("url", "max_changes", "routing_key", "secret_header", "host",
                    "subject_prefix"):
            self.assertIn(("notifier", key), seen)

if __name__ == "__main__":
    pgharness.main()
