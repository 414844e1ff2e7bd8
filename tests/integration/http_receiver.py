"""A real HTTP receiver on 127.0.0.1 for the notifier tests: records requests, verifies
Standard Webhooks signatures, and answers as told (2xx, 500, 429 with Retry-After, a
redirect, or no answer at all).  Standard library only.

In a test:

    with http_receiver.Receiver(secret="whsec_...") as rx:
        url = rx.url("/hook")
        rx.respond(500, times=2)           # the next two requests get 500
        rx.respond(429, headers={"Retry-After": "7"})
        rx.hang(times=1)                    # the next request gets no answer
        ... send ...
        reqs = rx.wait_for(3)               # blocks until 3 requests arrived
        reqs[0].json, reqs[0].headers["webhook-id"], reqs[0].signature_ok

As a process (for tests that kill senders or restart receivers):

    python3 http_receiver.py --port 0 [--secret whsec_...] [--status 500] [--hang]
    prints "listening http://127.0.0.1:PORT" then one JSON line per request on stdout
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import socketserver
import ssl
import subprocess
import sys
import threading
import time

# Standard Webhooks: receivers reject timestamps further than this from their clock.
TIMESTAMP_TOLERANCE_S = 300


def verify_standard_webhook(secret, headers, body, now=None):
    """True when webhook-signature holds a v1 signature of id.timestamp.body made
    with secret ("whsec_<base64>") and the timestamp is within the tolerance;
    False otherwise (a reason is in the second item of the returned pair)."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sig_header = headers.get("webhook-signature")
    if not msg_id or not ts or not sig_header:
        return False, "missing webhook-id, webhook-timestamp or webhook-signature"
    if not secret.startswith("whsec_"):
        return False, "secret without whsec_ prefix"
    try:
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
        ts_i = int(ts)
    except (ValueError, base64.binascii.Error):
        return False, "bad secret or timestamp"
    now = time.time() if now is None else now
    if abs(now - ts_i) > TIMESTAMP_TOLERANCE_S:
        return False, "timestamp outside the tolerance"
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for part in sig_header.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True, "ok"
    return False, "no matching v1 signature"


def make_certificate(directory, name="127.0.0.1"):
    """A self-signed certificate for name (an IP address or a DNS name), made with
    the openssl command; returns (certfile, keyfile).  The certificate is its own CA."""
    cert = os.path.join(directory, "cert-%s.pem" % name)
    key = os.path.join(directory, "key-%s.pem" % name)
    san = ("IP:" if name.replace(".", "").isdigit() else "DNS:") + name
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=" + name, "-addext", "subjectAltName=" + san,
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Request:
    """One recorded request."""

    def __init__(self, method, path, headers, body, signature_ok, signature_reason, answered):
        self.method = method
        self.path = path
        self.headers = headers          # dict, lower-case names (last value wins)
        self.raw_headers = None         # list of (name, value) as received
        self.body = body                # bytes
        self.signature_ok = signature_ok  # None when the receiver has no secret
        self.signature_reason = signature_reason
        self.answered = answered        # the status we answered, or None (hang)
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            self.json = None

    def as_dict(self):
        return {"method": self.method, "path": self.path, "headers": self.headers,
                "body": self.body.decode("utf-8", "replace"),
                "signature_ok": self.signature_ok, "answered": self.answered}


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Senders open many connections at once (the outbox drains in parallel).
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ssl.SSLError)):
            return  # the sender gave up or refused our certificate: what tests do
        super().handle_error(request, client_address)


class Receiver:
    def __init__(self, secret=None, port=0, on_request=None, tls=None):
        """tls: (certfile, keyfile) to serve https instead of http."""
        self.secret = secret
        self.tls = tls
        self._lock = threading.Condition()
        self._requests = []
        self._script = []               # [(status, headers, body, hang)] consumed in order
        self._default = (200, {}, b"ok", False)
        self._release = threading.Event()
        self._on_request = on_request
        self._port = port
        self.server = None
        self.thread = None

    # -- lifetime --------------------------------------------------------

    def start(self):
        rx = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok, reason = (None, None)
                if rx.secret is not None:
                    ok, reason = verify_standard_webhook(rx.secret, headers, body)
                status, extra, answer, hang = rx._next_answer()
                req = Request(self.command, self.path, headers, body, ok, reason,
                              None if hang else status)
                req.raw_headers = list(self.headers.items())
                with rx._lock:
                    rx._requests.append(req)
                    rx._lock.notify_all()
                if rx._on_request:
                    rx._on_request(req)
                if hang:
                    # Hold the connection open without a word until released.
                    rx._release.wait()
                    self.close_connection = True
                    return
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_POST = _handle
            do_GET = _handle
            do_PUT = _handle

        self.server = _Server(("127.0.0.1", self._port), Handler)
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self._release.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self.server.server_address[1]

    def url(self, path="/hook", host="127.0.0.1"):
        return "%s://%s:%d%s" % ("https" if self.tls else "http", host, self.port, path)

    # -- behaviour -------------------------------------------------------

    def respond(self, status, headers=None, body=b"", times=1):
        """The next `times` requests get this answer (then the default again)."""
        if isinstance(body, str):
            body = body.encode()
        with self._lock:
            for _ in range(times):
                self._script.append((status, dict(headers or {}), body, False))

    def hang(self, times=1):
        """The next `times` requests get no answer until stop() or release()."""
        with self._lock:
            for _ in range(times):
                self._script.append((0, {}, b"", True))

    def set_default(self, status, headers=None, body=b""):
        if isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._default = (status, dict(headers or {}), body, False)

    def release(self):
        """Lets hanging requests go (they are closed without an answer)."""
        self._release.set()

    def _next_answer(self):
        with self._lock:
            if self._script:
                return self._script.pop(0)
            return self._default

    # -- what arrived ----------------------------------------------------

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def wait_for(self, n, timeout=60):
        """Blocks until at least n requests arrived; returns them all.  The
        timeout only stops a broken test from hanging; it is not what is tested."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("expected %d requests, got %d" %
                                         (n, len(self._requests)))
                self._lock.wait(left)
            return list(self._requests)

    def ids(self):
        """webhook-id of every request, in arrival order."""
        return [r.headers.get("webhook-id") for r in self.requests]


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--secret")
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--retry-after")
    ap.add_argument("--hang", action="store_true")
    args = ap.parse_args(argv)

    def show(req):
        sys.stdout.write(json.dumps(req.as_dict()) + "\n")
        sys.stdout.flush()

    rx = Receiver(secret=args.secret, port=args.port, on_request=show)
    headers = {"Retry-After": args.retry_after} if args.retry_after else {}
    rx.set_default(args.status, headers, b"" if args.status < 300 else b"error")
    if args.hang:
        rx._default = (0, {}, b"", True)
    rx.start()
    sys.stdout.write("listening %s\n" % rx.url(""))
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        rx.stop()


if __name__ == "__main__":
    main()
