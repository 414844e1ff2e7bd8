"""A real SMTP server for the tests (Debian's python3-aiosmtpd): STARTTLS, AUTH, refusals.

Used in-process:

    with SmtpServer(tmpdir, mode="starttls") as srv:
        ... srv.port, srv.ca_file, srv.messages() ...

or on its own (prints the port, serves until killed):

    /usr/bin/python3 smtp_server.py --dir DIR --mode starttls

Modes:
  starttls     STARTTLS offered and required before MAIL; AUTH only after TLS
               and required (user/password below)
  plain        no STARTTLS offered at all; AUTH allowed in clear text
  open         no STARTTLS, no AUTH offered: accepts mail from anyone
  reject-rcpt  like starttls, but recipients whose local part starts with
               "bad" are refused with 550 5.1.1
  reject-5xx   like starttls, but every message is refused after DATA with 554
  tempfail     like starttls, but every message is refused after DATA with 451

Each accepted message is written to DIR/messages/NNNN.eml exactly as received
(after dot-unstuffing), beside NNNN.json with the envelope and whether the
session used TLS and was authenticated.  The certificate is self-signed for
localhost and 127.0.0.1 (or only for --cert-name NAME), made with `openssl req
-x509` in DIR.
"""

import argparse
import json
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "alerts@example.test"
PASSWORD = "correct horse battery staple"

MODES = ("starttls", "plain", "open", "reject-rcpt", "reject-5xx", "tempfail")


def make_certificate(directory, cn="localhost"):
    """A self-signed certificate for cn (and 127.0.0.1 when cn is localhost); returns
    (cert, key) paths."""
    cert = os.path.join(directory, "server-cert.pem")
    key = os.path.join(directory, "server-key.pem")
    san = "DNS:%s,IP:127.0.0.1" % cn if cn == "localhost" else "DNS:%s" % cn
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn,
         "-addext", "subjectAltName=" + san],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.server.mode == "reject-rcpt" and address.split("@")[0].startswith("bad"):
            return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        mode = self.server.mode
        if mode == "reject-5xx":
            self.server.refused += 1
            return "554 5.6.0 Message refused by policy"
        if mode == "tempfail":
            self.server.refused += 1
            return "451 4.3.0 Temporary failure, try again later"
        self.server.record(session, envelope)
        return "250 2.0.0 OK: queued as %04d" % len(self.server.messages())


class SmtpServer:
    def __init__(self, directory, mode="starttls", port=0, cert_name="localhost"):
        if mode not in MODES:
            raise ValueError("unknown mode %r" % mode)
        self.dir = directory
        self.mode = mode
        self.msg_dir = os.path.join(directory, "messages")
        os.makedirs(self.msg_dir, exist_ok=True)
        self.ca_file, self.key_file = make_certificate(directory, cert_name)
        self.port = port or _free_port()
        self.auth_attempts = []  # (mechanism, login, success)
        self.refused = 0
        self._lock = threading.Lock()
        self._count = 0
        self.controller = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
              and auth_data.password == PASSWORD.encode())
        login = auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else None
        self.auth_attempts.append((mechanism, login, ok))
        # handled=False: aiosmtpd answers the failure itself (535 5.7.8).
        return AuthResult(success=ok, handled=False)

    def record(self, session, envelope):
        with self._lock:
            self._count += 1
            n = self._count
        base = os.path.join(self.msg_dir, "%04d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "tls": session.ssl is not None,
                       "authenticated": bool(session.authenticated)}, f)
        os.rename(base + ".eml.tmp", base + ".eml")

    def messages(self):
        """[(raw bytes, envelope dict)] in arrival order."""
        out = []
        for name in sorted(os.listdir(self.msg_dir)):
            if name.endswith(".eml"):
                base = os.path.join(self.msg_dir, name[:-4])
                with open(base + ".eml", "rb") as f:
                    raw = f.read()
                with open(base + ".json") as f:
                    out.append((raw, json.load(f)))
        return out

    def start(self):
        kwargs = dict(authenticator=self._authenticate, auth_required=True)
        if self.mode == "plain":
            kwargs.update(auth_require_tls=False)
        elif self.mode == "open":
            # without TLS, auth_require_tls keeps AUTH out of the EHLO reply
            kwargs.update(auth_required=False, auth_require_tls=True)
        else:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.ca_file, self.key_file)
            kwargs.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
        with warnings.catch_warnings():
            # "Requiring AUTH while not requiring TLS": the plain mode does so on purpose.
            warnings.simplefilter("ignore")
            self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                         ready_timeout=10, **kwargs)
            self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    # Refused handshakes are expected here; aiosmtpd would log each with a traceback.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mode", default="starttls", choices=MODES)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert-name", default="localhost",
                    help="the certificate's only name (default localhost, plus 127.0.0.1)")
    args = ap.parse_args()
    srv = SmtpServer(args.dir, args.mode, args.port, args.cert_name).start()
    print(srv.port, flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main())
