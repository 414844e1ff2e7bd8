"""The real schemadriftd in the integration tests: configuration files, the process, its
stderr log, the control socket (through the `schemadrift status` CLI) and an sd_notify socket
the test binds itself.  Standard library only.

    with daemonharness.NotifySocket(workdir) as ns:
        d = daemonharness.Daemon(workdir, config_text, notify=ns)
        d.start()
        ns.wait_for(lambda m: m == "READY=1")
        d.wait_until(lambda: d.target_status("app")["runs"] >= 1)
        rc = d.stop()

Environment:
  SCHEMADRIFTD_BIN   the daemon under test (ctest sets it)
  SCHEMADRIFT_BIN    the CLI (status, baseline accept)
"""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pgharness

# Generous bounds that only stop a broken test from hanging; tests that assert
# a lag say so with their own numbers.
WAIT_TIMEOUT = float(os.environ.get("SCHEMADRIFT_DAEMON_WAIT", "60"))


def daemon_bin():
    b = os.environ.get("SCHEMADRIFTD_BIN")
    if not b:
        raise pgharness.HarnessError("SCHEMADRIFTD_BIN is not set (run the tests through ctest)")
    return b


def wait_until(cond, timeout=WAIT_TIMEOUT, interval=0.1, what="condition"):
    """Polls cond() until it returns something true; returns that value."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except (pgharness.HarnessError, OSError, ValueError, KeyError) as e:
            last_exc = e
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s%s" % (
                timeout, what, " (last error: %s)" % last_exc if last_exc else ""))
        time.sleep(interval)


def write_private(path, text):
    """Writes a file only its owner can read (the daemon refuses secrets in others)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def quiet_schedule():
    """A schedule that does not fire while a test runs: once a day, twelve hours from now
    (UTC, the schedules' default zone).  `every 1h` and `@daily` fire on the hour and at
    midnight, so a test that counts runs fails when it happens to cross one."""
    t = time.gmtime()
    return "%d %d * * *" % (t.tm_min, (t.tm_hour + 12) % 24)


def daemon_section(state_dir, runtime_dir, schedule="every 2s", settle_delay="2s", **extra):
    lines = ["[daemon]", "state_dir = %s" % state_dir, "runtime_dir = %s" % runtime_dir,
             "schedule = %s" % schedule, "settle_delay = %s" % settle_delay, "jitter = 0"]
    lines += ["%s = %s" % (k, v) for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def target_section(name, dsn, **keys):
    lines = ["", "[target %s]" % name, "dsn = %s" % dsn]
    lines += ["%s = %s" % (k, v) for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def webhook_section(name, url, **keys):
    lines = ["", "[notifier %s]" % name, "type = webhook", "url = %s" % url, "allow_http = true"]
    lines += ["%s = %s" % (k, v) for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def smtp_section(name, port, **keys):
    """An SMTP notifier for smtp_server.SmtpServer in "open" mode (no TLS, no AUTH)."""
    lines = ["", "[notifier %s]" % name, "type = smtp", "host = 127.0.0.1", "port = %d" % port,
             "starttls = none", "from = Schemadrift <schemadrift@example.test>",
             "to = dba@example.test", "timeout = 10s"]
    lines += ["%s = %s" % (k, v) for k, v in keys.items()]
    return "\n".join(lines) + "\n"


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET; every
    datagram is kept, in order, as (monotonic arrival time, text)."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self._cond = threading.Condition()
        self._messages = []
        self._sock = None
        self._thread = None
        self._closed = False

    def __enter__(self):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._closed = True
        self._thread.join(5)
        self._sock.close()

    def _loop(self):
        while not self._closed:
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._cond:
                self._messages.append((time.monotonic(), data.decode("utf-8", "replace")))
                self._cond.notify_all()

    @property
    def messages(self):
        with self._cond:
            return [m for _, m in self._messages]

    def count(self):
        with self._cond:
            return len(self._messages)

    def wait_for(self, pred, start=0, timeout=WAIT_TIMEOUT):
        """The first message at index >= start for which pred(text) is true: (index, text)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(start, len(self._messages)):
                    if pred(self._messages[i][1]):
                        return i, self._messages[i][1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no matching sd_notify message after %.0f s; got: %r"
                                         % (timeout, [m for _, m in self._messages[start:]]))
                self._cond.wait(left)


def fields(message):
    """sd_notify's "A=1\\nB=2" as a dict."""
    out = {}
    for line in message.split("\n"):
        k, sep, v = line.partition("=")
        if sep:
            out[k] = v
    return out


class Daemon:
    """One schemadriftd process with its configuration file in directory."""

    def __init__(self, directory, config_text, notify=None, env=None, wrapper=None,
                 verbose=True):
        self.dir = directory
        self.config = os.path.join(directory, "schemadrift.conf")
        self.state_dir = os.path.join(directory, "state")
        self.runtime_dir = os.path.join(directory, "run")
        self.log_path = os.path.join(directory, "daemon.stderr")
        self.notify = notify
        self.env = dict(env or {})
        self.wrapper = list(wrapper or [])
        self.verbose = verbose
        self.proc = None
        self.write_config(config_text)

    def write_config(self, text):
        write_private(self.config, text)

    def start(self):
        env = pgharness.clean_env(self.env)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM",
                  "LISTEN_FDS", "CREDENTIALS_DIRECTORY"):
            if k not in self.env:
                env.pop(k, None)
        if self.notify:
            env["NOTIFY_SOCKET"] = self.notify.path
        argv = self.wrapper + [daemon_bin(), "-c", self.config, "-f"] + \
            (["-v"] if self.verbose else [])
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self, pattern):
        return [l for l in self.log().splitlines() if re.search(pattern, l)]

    def wait_log(self, pattern, count=1, timeout=WAIT_TIMEOUT):
        return wait_until(lambda: len(self.log_lines(pattern)) >= count and
                          self.log_lines(pattern), timeout=timeout,
                          what="%d log line(s) matching %r; log:\n%s" % (
                              count, pattern, "(see below)"))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM; returns (exit status, seconds it took)."""
        if not self.alive():
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError("schemadriftd did not exit within %d s of SIGTERM" % timeout)
        finally:
            self._log.close()
        return rc, time.monotonic() - t0

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None and not self._log.closed:
            self._log.close()

    # -- the control socket, through the CLI ----------------------------

    def cli(self, *args, **kw):
        return pgharness.run_cli(*args, **kw)

    def status(self):
        out = pgharness.cli_ok("status", "--runtime-dir", self.runtime_dir, "--format", "json")
        return json.loads(out)

    def target_status(self, name):
        for t in self.status()["targets"]:
            if t["target"] == name:
                return t
        return None

    def wait_runs(self, name, runs, timeout=WAIT_TIMEOUT):
        """Waits until target name has finished at least `runs` runs; returns its status."""
        def done():
            t = self.target_status(name)
            return t if t is not None and t["runs"] >= runs and not t["running"] else None
        return wait_until(done, timeout=timeout, what="%s to finish %d runs" % (name, runs))

    def store_cli(self, *args):
        return pgharness.cli_ok(*(list(args) + ["--state-dir", self.state_dir]))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.kill()
        if exc_type is None:
            # In the ASan+UBSan build a report aborts the daemon; a test that did not
            # notice must not pass.
            try:
                found = re.search(r"ERROR: (Address|Leak)Sanitizer|runtime error: ", self.log())
            except OSError:
                found = None
            if found:
                raise AssertionError("schemadriftd's log holds a sanitizer report:\n%s"
                                     % self.log()[found.start():][:4000])
        if exc_type is not None:
            try:
                tail = "\n".join(self.log().splitlines()[-60:])
            except OSError:
                tail = "(no log)"
            import sys
            sys.stderr.write("----- schemadriftd stderr (last 60 lines) -----\n%s\n"
                             "----- end -----\n" % tail)
        return False


# -- several daemons (test_daemon_fleet, test_daemon_central_store) -----------

def received_alerts(rx, kind=None, target=None):
    """(node, target, kind, dedup_key) of every alert the receiver rx got, in order; each
    daemon posts to its own path, /hook/NODE."""
    out = []
    for r in rx.requests:
        if not r.json:
            continue
        a = (r.path.rsplit("/", 1)[-1], r.json.get("target"), r.json.get("kind"),
             r.json.get("dedup_key"))
        if (kind is None or a[2] == kind) and (target is None or a[1] == target):
            out.append(a)
    return out


def lease_holders(daemons, nodes, targets):
    """{target: [nodes that say they hold it]} from each daemon's status."""
    held = {t: [] for t in targets}
    for n in nodes:
        for t in daemons[n].status()["targets"]:
            if t.get("leased"):
                held[t["target"]].append(n)
    return held


def pg_pause(pg):
    """Stops the cluster's server but keeps its data directory (pgharness's stop() removes it)."""
    pg._run_pg([os.path.join(pg.bindir, "pg_ctl"), "-D", pg.datadir, "-m", "fast",
                "-w", "-t", "60", "stop"])


def pg_resume(pg):
    pg._run_pg([os.path.join(pg.bindir, "pg_ctl"), "-w", "-t", "60", "-D",
                pg.datadir, "-l", pg.logfile, "start"])
