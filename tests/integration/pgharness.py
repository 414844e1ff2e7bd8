"""Throwaway PostgreSQL clusters (15 unless told) and schemadrift CLI helpers for the integration tests.

Standard library only.  Typical use:

    with pgharness.PgCluster() as pg:
        pg.create_db("app")
        pg.psql("app", "CREATE TABLE t (id int)")
        print(pg.hash("app"))

or, in a unittest module, subclass PgTestCase (one cluster per test class)
and end the module with `pgharness.main()`.

Environment:
  SCHEMADRIFT_BIN         the CLI under test (required by run_cli and friends)
  SCHEMADRIFT_SOURCE_DIR  the source tree (for tests/drift)
  SCHEMADRIFT_PG_BINDIR   PostgreSQL server binaries (default /usr/lib/postgresql/15/bin)
  SCHEMADRIFT_PG<N>_BINDIR  major N's server binaries, for tests that start two majors
                          (ctest sets them for the majors of SCHEMADRIFT_PG_VERSIONS)
  SCHEMADRIFT_KEEP_CLUSTER=1  leave the temp dir and server running (debugging)
  SCHEMADRIFT_PG_TMPDIR   where cluster temp dirs go (default /dev/shm when writable:
                          a tmpfs makes initdb and CREATE DATABASE several times faster)
  SCHEMADRIFT_PG_CACHE    directory for a cached initdb result, copied for each
                          cluster (ctest sets it to the build tree); unset: initdb each time
"""

import atexit
import errno
import fcntl
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

PG_BINDIR = os.environ.get("SCHEMADRIFT_PG_BINDIR", "/usr/lib/postgresql/15/bin")
# The client tools are always Debian's 15 (the other majors come without them).
CLIENT_BINDIR = "/usr/lib/postgresql/15/bin"
CLIENT_MAJOR = 15
# The server's own psql, else Debian's psql binary itself: /usr/bin/psql is
# postgresql-common's Perl wrapper, which picks that same binary but costs a
# Perl start per call (the embedded servers of the other majors have no psql).
PSQL = next((p for p in (os.path.join(PG_BINDIR, "psql"), os.path.join(CLIENT_BINDIR, "psql"))
             if os.path.exists(p)), "/usr/bin/psql")
SUPERUSER = "postgres"
# Roles in this group must authenticate with scram-sha-256 over TCP.
SCRAM_GROUP = "scram_required"
TEMP_PREFIX = "schemadrift-pg-"
CLI_TIMEOUT = float(os.environ.get("SCHEMADRIFT_CLI_TIMEOUT", "120"))

# libpq reads these; a developer's environment must not leak into the tests.
_PG_ENV_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD",
                "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE", "PGOPTIONS", "PGAPPNAME",
                "PGSSLMODE", "PGREQUIRESSL", "PGCONNECT_TIMEOUT", "PGCLIENTENCODING",
                "PGTARGETSESSIONATTRS", "PGCHANNELBINDING", "PGGSSENCMODE", "PGTZ",
                "PGDATESTYLE", "PGSYSCONFDIR", "PGLOCALEDIR")

INITDB_ARGS = ["--nosync", "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--no-locale"]

_live_clusters = []


class HarnessError(Exception):
    """A helper command failed; the message carries its stderr."""


def server_bindir(major):
    """Major's server binaries from SCHEMADRIFT_PG<major>_BINDIR, or None when not given."""
    d = os.environ.get("SCHEMADRIFT_PG%d_BINDIR" % int(major))
    if d and os.path.exists(os.path.join(d, "postgres")):
        return d
    return None


def client_tool(name, server_major):
    """Debian's pg_dump or pg_restore; unittest.SkipTest for a server newer than they are."""
    if server_major > CLIENT_MAJOR:
        raise unittest.SkipTest("%s %d cannot dump a PostgreSQL %d server" %
                                (name, CLIENT_MAJOR, server_major))
    return os.path.join(CLIENT_BINDIR, name)


def require_majors(*majors):
    """Exits 77 (skipped, in ctest) unless every major's server is given; returns their bin dirs."""
    dirs = [server_bindir(m) for m in majors]
    missing = [str(m) for m, d in zip(majors, dirs) if d is None]
    if missing:
        sys.stderr.write("skipped: no PostgreSQL %s server (configure with "
                         "-DSCHEMADRIFT_PG_VERSIONS, or scripts/test.sh --pg-versions)\n"
                         % ", ".join(missing))
        sys.exit(EXIT_SKIPPED)
    return dirs


_IF = re.compile(r"^-- @if (\d+)\n(.*?)(?:^-- @else\n(.*?))?^-- @end\n", re.M | re.S)


def fixture_text(text, major):
    """SQL for a server of this major: `-- @if N` (major >= N) / `-- @else` / `-- @end` blocks."""
    return _IF.sub(lambda m: m.group(2) if major >= int(m.group(1)) else (m.group(3) or ""),
                   text)


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in _PG_ENV_VARS}
    # No ~/.pgpass or service file from the developer's home.
    # (nonexistent paths: libpq warns about /dev/null "not a plain file")
    env["PGPASSFILE"] = "/nonexistent/schemadrift-test/pgpass"
    env["PGSERVICEFILE"] = "/nonexistent/schemadrift-test/pg_service.conf"
    env["LC_ALL"] = "C.UTF-8"
    env.pop("LANG", None)
    env.pop("LANGUAGE", None)
    if extra:
        env.update(extra)
    return env


def cli_bin():
    b = os.environ.get("SCHEMADRIFT_BIN")
    if not b:
        raise HarnessError("SCHEMADRIFT_BIN is not set (run the tests through ctest)")
    return b


def source_dir():
    d = os.environ.get("SCHEMADRIFT_SOURCE_DIR")
    if d:
        return d
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# Where scripts/deps.sh installs promtool (kept in step with its promtool_dest).
PROMTOOL_DEST = "/opt/schemadrift-deps/bin/promtool"


def promtool_path():
    """promtool: $SCHEMADRIFT_PROMTOOL, else where scripts/deps.sh puts it, else PATH's; None when
    there is none (the caller fails: a missing promtool is never a skipped check)."""
    env = os.environ.get("SCHEMADRIFT_PROMTOOL")
    if env:
        return env
    if os.access(PROMTOOL_DEST, os.X_OK):
        return PROMTOOL_DEST
    return shutil.which("promtool")


def run_cli(*args, input=None, env=None, timeout=None, binary=False):
    """Runs the CLI; returns (rc, stdout, stderr) as str (bytes if binary=True)."""
    cmd = [cli_bin()] + [str(a) for a in args]
    if isinstance(input, str):
        input = input.encode()
    p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=clean_env(env), timeout=timeout or CLI_TIMEOUT)
    if binary:
        return p.returncode, p.stdout, p.stderr
    return (p.returncode, p.stdout.decode("utf-8", "surrogateescape"),
            p.stderr.decode("utf-8", "surrogateescape"))


def cli_ok(*args, **kw):
    """run_cli that insists on exit 0 and returns stdout."""
    rc, out, err = run_cli(*args, **kw)
    if rc != 0:
        raise HarnessError("schemadrift %s: exit %d\nstderr: %s" %
                           (" ".join(str(a) for a in args), rc, err))
    return out


def hash_file(path):
    return cli_ok("hash", path).strip()


def diff(a, b, fmt="json", expect=None, args=()):
    """Runs `diff a b --format fmt [args]`; returns (rc, parsed JSON or text, stderr)."""
    rc, out, err = run_cli("diff", a, b, "--format", fmt, *args)
    if expect is not None and rc not in (expect if isinstance(expect, (tuple, list)) else (expect,)):
        raise HarnessError("schemadrift diff %s %s: exit %d, expected %s\nstdout: %s\nstderr: %s"
                           % (a, b, rc, expect, out[:4000], err))
    if fmt == "json" and rc in (0, 1):
        try:
            return rc, json.loads(out), err
        except ValueError as e:
            raise HarnessError("diff output is not JSON (%s): %r" % (e, out[:2000]))
    return rc, out, err


def load_json_bytes(data):
    return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)


def quote_conninfo(value):
    """Quotes a conninfo value when needed (spaces, quotes, backslashes, empty)."""
    value = str(value)
    if value and not any(c in value for c in " '\\\t\n"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _is_root():
    return os.geteuid() == 0


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM
    return True


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_base_dir():
    d = os.environ.get("SCHEMADRIFT_PG_TMPDIR")
    if d:
        return d
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK):
        return "/dev/shm"
    return tempfile.gettempdir()


def reap_stale_clusters():
    """Stops clusters whose test process died (e.g. killed by a ctest timeout)."""
    tmp = cluster_base_dir()
    try:
        names = os.listdir(tmp)
    except OSError:
        return
    for n in names:
        if not n.startswith(TEMP_PREFIX):
            continue
        d = os.path.join(tmp, n)
        try:
            with open(os.path.join(d, "owner.pid")) as f:
                owner = int(f.read().strip())
            # Only reap clusters older than a minute whose owner is gone.
            if _pid_alive(owner) or time.time() - os.path.getmtime(d) < 60:
                continue
            if os.path.exists(os.path.join(d, "keep")):
                continue
        except (OSError, ValueError):
            continue
        data = os.path.join(d, "data")
        pidfile = os.path.join(data, "postmaster.pid")
        try:
            with open(pidfile) as f:
                pm = int(f.readline().strip())
            os.kill(pm, signal.SIGQUIT)
        except (OSError, ValueError):
            pass
        shutil.rmtree(d, ignore_errors=True)


class PgCluster:
    """A throwaway PostgreSQL cluster in a fresh temp dir.

    Listens on a unix socket in its temp dir and on 127.0.0.1:<free port>.
    Local socket and TCP connections are trusted, except roles in the group
    `scram_required` (see create_password_role), which must use
    scram-sha-256 over TCP.

    log_statement=True turns on log_statement=all with a log_line_prefix
    that contains the application name (see logged_statements()).
    settings: extra postgresql.conf settings {name: value}.
    """

    def __init__(self, log_statement=False, settings=None, name="pg", bindir=None, port=None):
        self.bindir = bindir or PG_BINDIR
        self.fixed_port = port  # a port of our own choosing (a server replacing another)
        self.major = None  # the server's major version, once started
        self.log_statement = log_statement
        self.settings = dict(settings or {})
        self.name = name
        self.tmpdir = None
        self.datadir = None
        self.sockdir = None
        self.logfile = None
        self.port = None
        self.started = False
        self.last_log_tail = ""
        self._runas = None
        if _is_root():
            self._runas = pwd.getpwnam("postgres")

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.print_log_tail("cluster %s: server log after failure (%s)" %
                                (self.name, exc_type.__name__))
        self.stop()
        return False

    def _pg_cmd(self, argv):
        """Prefixes argv to run as the postgres OS user when we are root."""
        if self._runas is not None:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def _run_pg(self, argv, timeout=120, check=True):
        p = subprocess.run(self._pg_cmd(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=clean_env(), cwd=self.tmpdir, timeout=timeout)
        if check and p.returncode != 0:
            raise HarnessError("%s failed (exit %d):\n%s" % (
                os.path.basename(argv[0]), p.returncode,
                p.stdout.decode("utf-8", "replace")))
        return p

    def start(self):
        reap_stale_clusters()
        self.tmpdir = tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=cluster_base_dir())
        with open(os.path.join(self.tmpdir, "owner.pid"), "w") as f:
            f.write("%d\n" % os.getpid())
        if self._runas is not None:
            os.chown(self.tmpdir, self._runas.pw_uid, self._runas.pw_gid)
        os.chmod(self.tmpdir, 0o755)
        self.datadir = os.path.join(self.tmpdir, "data")
        self.sockdir = self.tmpdir
        self.logfile = os.path.join(self.tmpdir, "server.log")
        _live_clusters.append(self)
        try:
            self._init_datadir()
            self._write_hba()
            last = None
            for _attempt in range(5):
                self.port = self.fixed_port or free_port()
                self._write_conf()
                p = self._run_pg([os.path.join(self.bindir, "pg_ctl"), "-w", "-t", "60",
                                  "-D", self.datadir, "-l", self.logfile, "start"],
                                 check=False)
                if p.returncode == 0:
                    break
                last = p.stdout.decode("utf-8", "replace")
                # Another process may have grabbed the port in between: retry.
                if "could not bind" not in self.log_text() and \
                        "Address already in use" not in self.log_text():
                    raise HarnessError("pg_ctl start failed:\n%s\n%s" % (last, self.log_tail()))
            else:
                raise HarnessError("pg_ctl start failed 5 times:\n%s\n%s" % (last, self.log_tail()))
            self.started = True
            self.major = int(self.scalar("postgres", "SHOW server_version_num")) // 10000
            self.psql("postgres", "CREATE ROLE %s NOLOGIN" % SCRAM_GROUP)
            # libpq's default user is the OS user: let a DSN without user= work too.
            me = pwd.getpwuid(os.geteuid()).pw_name
            if me != SUPERUSER:
                self.psql("postgres", 'CREATE ROLE "%s" SUPERUSER LOGIN' % me.replace('"', '""'))
        except BaseException:
            self.print_log_tail("cluster %s failed to start" % self.name)
            self.stop()
            raise
        return self

    def _initdb(self, datadir):
        self._run_pg([os.path.join(self.bindir, "initdb")] + INITDB_ARGS + ["-D", datadir])

    def _init_datadir(self):
        """initdb, or a copy of a cached initdb result (same binaries and options)."""
        cache = os.environ.get("SCHEMADRIFT_PG_CACHE")
        if not cache:
            self._initdb(self.datadir)
            return
        version = subprocess.run([os.path.join(self.bindir, "initdb"), "--version"],
                                 stdout=subprocess.PIPE, check=True).stdout
        key = hashlib.sha256(version + " ".join(INITDB_ARGS).encode()).hexdigest()[:16]
        os.makedirs(cache, exist_ok=True)
        template = os.path.join(cache, "initdb-" + key)
        with open(os.path.join(cache, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.isdir(template):
                building = template + ".building"
                shutil.rmtree(building, ignore_errors=True)
                os.mkdir(building, 0o700)
                if self._runas is not None:
                    os.chown(building, self._runas.pw_uid, self._runas.pw_gid)
                self._initdb(building)
                os.rename(building, template)
            p = subprocess.run(["cp", "-a", template, self.datadir], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            if p.returncode != 0:
                raise HarnessError("copying %s failed: %s" % (template, p.stdout.decode()))

    def _write_hba(self):
        hba = os.path.join(self.datadir, "pg_hba.conf")
        with open(hba, "w") as f:
            f.write("# written by pgharness.py\n"
                    "local all all trust\n"
                    "host all +%s 127.0.0.1/32 scram-sha-256\n"
                    "host all all 127.0.0.1/32 trust\n" % SCRAM_GROUP)

    def _write_conf(self):
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "'%s'" % self.sockdir,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
            "max_connections": "30",
            "password_encryption": "'scram-sha-256'",
            "logging_collector": "off",
            "log_line_prefix": "'%m [%p] app=%a db=%d user=%u: '",
            "lc_messages": "'C'",
            "TimeZone": "'UTC'",
            "log_min_messages": "warning",
        }
        if self.log_statement:
            conf["log_statement"] = "'all'"
        for k, v in self.settings.items():
            conf[k] = v if isinstance(v, str) and v.startswith("'") else "'%s'" % v
        # postgresql.auto.conf is read last and is owned by the server user.
        path = os.path.join(self.datadir, "postgresql.auto.conf")
        with open(path, "w") as f:
            f.write("# written by pgharness.py\n")
            for k, v in conf.items():
                f.write("%s = %s\n" % (k, v))
        if self._runas is not None:
            os.chown(path, self._runas.pw_uid, self._runas.pw_gid)
            os.chown(os.path.join(self.datadir, "pg_hba.conf"),
                     self._runas.pw_uid, self._runas.pw_gid)

    def stop(self):
        if self.tmpdir is None:
            return
        if os.environ.get("SCHEMADRIFT_KEEP_CLUSTER") == "1":
            sys.stderr.write("pgharness: keeping cluster %s in %s (port %s)\n" %
                             (self.name, self.tmpdir, self.port))
            open(os.path.join(self.tmpdir, "keep"), "w").close()
            self.tmpdir = None
            return
        self.last_log_tail = self.log_tail()
        if self.started or os.path.exists(os.path.join(self.datadir or "", "postmaster.pid")):
            # Fast first: an immediate shutdown leaves the server's dynamic
            # shared memory segments (/dev/shm/PostgreSQL.*) behind for good,
            # since the data dir they would be cleaned up from is deleted.
            # With fsync=off the shutdown checkpoint costs next to nothing.
            for mode, secs in (("fast", "10"), ("immediate", "30")):
                try:
                    p = self._run_pg([os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir,
                                      "-m", mode, "-w", "-t", secs, "stop"], check=False,
                                     timeout=60)
                    if p.returncode == 0:
                        break
                except (OSError, subprocess.SubprocessError):
                    pass
        self.started = False
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.tmpdir = None
        if self in _live_clusters:
            _live_clusters.remove(self)

    # -- logs --------------------------------------------------------------

    def log_text(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def print_log_tail(self, title, lines=40):
        tail = self.log_tail(lines) if self.tmpdir else self.last_log_tail
        sys.stderr.write("----- %s: %s -----\n%s\n----- end of server log -----\n" %
                         (title, self.logfile, tail))
        sys.stderr.flush()

    def log_offset(self):
        """Current size of the server log, to read only what follows."""
        try:
            return os.path.getsize(self.logfile)
        except OSError:
            return 0

    def logged_statements(self, application_name="schemadrift", since=0):
        """Statements logged (log_statement=all) by sessions with that application_name.

        Returns the list of statement texts (first line only) logged after byte
        offset `since`.  Multi-line statements count once.
        """
        with open(self.logfile, "rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        out = []
        tag = " app=%s " % application_name
        for line in text.splitlines():
            if tag not in line:
                continue
            # "LOG:  statement: ...", "LOG:  execute <unnamed>: ..." (extended protocol)
            i = line.find("LOG:  statement: ")
            if i >= 0:
                out.append(line[i + len("LOG:  statement: "):])
                continue
            i = line.find("LOG:  execute ")
            if i >= 0:
                rest = line[i + len("LOG:  execute "):]
                # "execute <unnamed>: SQL" or "execute S_1: SQL"
                j = rest.find(": ")
                out.append(rest[j + 2:] if j >= 0 else rest)
        return out

    # -- connections -------------------------------------------------------

    def dsn(self, dbname="postgres", user=SUPERUSER, password=None, tcp=False, **extra):
        """A libpq keyword/value conninfo string."""
        parts = [("host", "127.0.0.1" if tcp else self.sockdir), ("port", self.port),
                 ("dbname", dbname), ("user", user)]
        if password is not None:
            parts.append(("password", password))
        parts += list(extra.items())
        return " ".join("%s=%s" % (k, quote_conninfo(v)) for k, v in parts)

    def uri(self, dbname="postgres", user=SUPERUSER):
        """A postgresql:// URI over TCP."""
        from urllib.parse import quote
        return "postgresql://%s@127.0.0.1:%d/%s" % (quote(user, safe=""), self.port,
                                                     quote(dbname, safe=""))

    def create_db(self, name, template="template0", encoding=None, lc_collate=None,
                  lc_ctype=None, owner=None):
        sql = 'CREATE DATABASE "%s" TEMPLATE %s' % (name.replace('"', '""'), template)
        if encoding:
            sql += " ENCODING '%s'" % encoding
        if lc_collate:
            sql += " LC_COLLATE '%s'" % lc_collate
        if lc_ctype:
            sql += " LC_CTYPE '%s'" % lc_ctype
        if owner:
            sql += ' OWNER "%s"' % owner
        self.psql("postgres", sql)
        return name

    def copy_db_settings(self, src, dst):
        """ALTER DATABASE dst SET what src has (neither a template nor pg_restore copies them)."""
        for (setting,) in self.query("postgres", "SELECT unnest(setconfig) FROM pg_db_role_setting"
                                     " WHERE setrole = 0 AND setdatabase = (SELECT oid FROM"
                                     " pg_database WHERE datname = '%s')" % src.replace("'", "''")):
            name, value = setting.split("=", 1)
            self.psql("postgres", 'ALTER DATABASE "%s" SET %s = \'%s\'' % (
                dst.replace('"', '""'), name, value.replace("'", "''")))

    def drop_db(self, name):
        self.psql("postgres", 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name.replace('"', '""'))

    def create_password_role(self, name, password, login=True):
        """A role that must use scram-sha-256 over TCP (member of scram_required)."""
        self.psql("postgres", "CREATE ROLE %s %s PASSWORD '%s' IN ROLE %s" % (
            name, "LOGIN" if login else "NOLOGIN", password.replace("'", "''"), SCRAM_GROUP))

    def psql(self, db, sql, user=SUPERUSER, client_encoding=None, tcp=False, password=None,
             tuples=False, check=True, timeout=300, extra_args=()):
        """Runs SQL (str or bytes) through psql -v ON_ERROR_STOP=1 -X -q; returns stdout (str).

        tuples=True adds -At (unaligned, tuples only, '|' separated).
        """
        args = [PSQL, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-w",
                "-d", self.dsn(db, user=user, tcp=tcp, password=password)]
        if tuples:
            args += ["-A", "-t"]
        args += list(extra_args)
        env = {}
        if client_encoding:
            env["PGCLIENTENCODING"] = client_encoding
        data = sql.encode("utf-8") if isinstance(sql, str) else sql
        p = subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=clean_env(env), timeout=timeout)
        out = p.stdout.decode("utf-8", "surrogateescape")
        if check and p.returncode != 0:
            raise HarnessError("psql on %s failed (exit %d): %s\nSQL: %s" % (
                db, p.returncode, p.stderr.decode("utf-8", "replace").strip(),
                data[:2000].decode("utf-8", "replace")))
        return out

    def psql_file(self, db, path, **kw):
        """Runs a SQL file; its `-- @if N` blocks as for this server (fixture_text)."""
        with open(path, "rb") as f:
            data = f.read()
        if b"-- @if " in data:
            data = fixture_text(data.decode("utf-8"), self.major)
        return self.psql(db, data, **kw)

    def query(self, db, sql, **kw):
        """Rows of a query as lists of strings (psql -At, '|' separated)."""
        out = self.psql(db, sql, tuples=True, **kw)
        return [line.split("|") for line in out.splitlines() if line != ""]

    def scalar(self, db, sql, **kw):
        rows = self.query(db, sql, **kw)
        return rows[0][0] if rows else None

    # -- schemadrift -------------------------------------------------------

    def run_cli(self, *args, **kw):
        return run_cli(*args, **kw)

    def snapshot_raw(self, db, user=SUPERUSER, **dsn_kw):
        """Runs `snapshot --dsn`; returns stdout bytes (insists on exit 0)."""
        rc, out, err = run_cli("snapshot", "--dsn", self.dsn(db, user=user, **dsn_kw),
                               binary=True)
        if rc != 0:
            raise HarnessError("snapshot of %s: exit %d: %s" % (db, rc, err.decode("utf-8", "replace")))
        return out

    def snapshot(self, db, user=SUPERUSER, **dsn_kw):
        """`snapshot --dsn` parsed as JSON."""
        return load_json_bytes(self.snapshot_raw(db, user=user, **dsn_kw))

    def snapshot_file(self, db, path, user=SUPERUSER, **dsn_kw):
        """`snapshot --dsn ... -o path`; returns path."""
        cli_ok("snapshot", "--dsn", self.dsn(db, user=user, **dsn_kw), "-o", path)
        return path

    def hash(self, db, user=SUPERUSER, **dsn_kw):
        h = cli_ok("hash", "--dsn", self.dsn(db, user=user, **dsn_kw)).strip()
        if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise HarnessError("hash --dsn printed %r, not 64 hex digits" % h)
        return h

    def live_side(self, db, user=SUPERUSER, **dsn_kw):
        """A diff side naming the live database."""
        return "dsn:" + self.dsn(db, user=user, **dsn_kw)

    def diff(self, a, b, fmt="json", expect=None):
        return diff(a, b, fmt=fmt, expect=expect)


def snapshot_objects(snap):
    return snap["objects"]


def object_key(o):
    return (o.get("kind"), o.get("schema"), o.get("parent"), o.get("name"))


def diff_objects(a, b):
    """Describes how two snapshots' objects arrays differ (for assertion messages)."""
    ka = {json.dumps(object_key(o)): o for o in a["objects"]}
    kb = {json.dumps(object_key(o)): o for o in b["objects"]}
    lines = []
    for k in sorted(set(ka) - set(kb)):
        lines.append("- only in first: %s" % json.dumps(ka[k], sort_keys=True))
    for k in sorted(set(kb) - set(ka)):
        lines.append("+ only in second: %s" % json.dumps(kb[k], sort_keys=True))
    for k in sorted(set(ka) & set(kb)):
        if ka[k] != kb[k]:
            lines.append("~ %s\n    %s\n    %s" % (k, json.dumps(ka[k], sort_keys=True),
                                                   json.dumps(kb[k], sort_keys=True)))
    return "\n".join(lines[:60]) or "(objects arrays are equal)"


class PgTestCase(unittest.TestCase):
    """One cluster per test class, in cls.pg.  Prints the server log tail when a test fails."""

    log_statement = False
    settings = None
    pg = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = PgCluster(log_statement=cls.log_statement, settings=cls.settings,
                           name=cls.__name__)
        cls.pg.start()

    @classmethod
    def tearDownClass(cls):
        if cls.pg is not None:
            cls.pg.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.workdir = tempfile.mkdtemp(prefix="schemadrift-test-")
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def path(self, name):
        return os.path.join(self.workdir, name)

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result is not None else 0
        r = super().run(result)
        res = result if result is not None else r
        if res is not None and len(res.failures) + len(res.errors) > before and \
                self.pg is not None and self.pg.tmpdir is not None:
            self.pg.print_log_tail("%s failed" % self.id())
        return r


def _cleanup_all():
    for c in list(_live_clusters):
        try:
            c.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def _on_signal(signum, frame):
    _cleanup_all()
    sys.stderr.write("pgharness: killed by signal %d\n" % signum)
    os._exit(128 + signum)


atexit.register(_cleanup_all)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):
        pass


# ctest's SKIP_RETURN_CODE (tests/CMakeLists.txt): a file whose every test was skipped.
EXIT_SKIPPED = 77


def main():
    """unittest.main() with verbose output, for the test_*.py modules.  Exits 1 when a test
    failed, EXIT_SKIPPED when every test was skipped (ctest then reports the file as
    skipped, not as passed: the reason is in the output), 0 otherwise."""
    prog = unittest.main(module="__main__", verbosity=2, exit=False)
    result = prog.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        print("every test was skipped: exit %d (ctest: skipped)" % EXIT_SKIPPED)
        sys.exit(EXIT_SKIPPED)
    sys.exit(0)


if __name__ == "__main__":
    # Self-check: start a cluster, run a query, stop it.
    t0 = time.time()
    with PgCluster(log_statement=True) as pg:
        print("started in %.2fs: socket dir %s, port %d" % (time.time() - t0, pg.sockdir, pg.port))
        print(pg.psql("postgres", "SELECT version()", tuples=True).strip())
        pg.create_db("x", encoding="SQL_ASCII", lc_collate="C", lc_ctype="C")
        pg.create_password_role("pwuser", "s3cret")
        print("tcp scram:", pg.scalar("postgres", "SELECT current_user", user="pwuser",
                                      tcp=True, password="s3cret"))
        r = pg.psql("postgres", "SELECT 1", user="pwuser", tcp=True, password="wrong", check=False)
        print("tcp trust superuser:", pg.scalar("x", "SELECT current_user", tcp=True))
        d = pg.tmpdir
    print("stopped; temp dir removed:", not os.path.exists(d), "total %.2fs" % (time.time() - t0))
