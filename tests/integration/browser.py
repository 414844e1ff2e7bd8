"""Headless Chromium (Debian's chromium package) for the report tests and the report benchmark:
the DOM a real browser built from a file (--dump-dom), a screenshot, and a small DOM tree parsed
from the dumped HTML with the standard library.  Standard library only.

    dom = browser.dump_dom("/path/report.html")      # a Node tree
    rows = dom.find_all(cls="r-baseline")
    rows[0].text()
    browser.screenshot("/path/report.html", "/build/report-screenshots/app.png")
"""

import html.parser
import os
import shutil
import subprocess
import tempfile

CHROMIUM = os.environ.get("SCHEMADRIFT_CHROMIUM", "/usr/bin/chromium")
# Nothing fetched, nothing phoned home: the page must stand alone.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


def available():
    return os.access(CHROMIUM, os.X_OK)


def run(args, timeout=120):
    """Runs chromium with FLAGS, a throwaway profile and args; returns stdout (bytes)."""
    profile = tempfile.mkdtemp(prefix="schemadrift-chromium-")
    try:
        p = subprocess.run([CHROMIUM] + FLAGS + ["--user-data-dir=" + profile] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           stdin=subprocess.DEVNULL, env=dict(os.environ, HOME=profile))
    finally:
        shutil.rmtree(profile, True)
    if p.returncode != 0:
        raise AssertionError("chromium exited %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
    return p.stdout


def url(path):
    return "file://" + os.path.abspath(path)


def dump_dom_text(path):
    return run(["--dump-dom", url(path)]).decode("utf-8")


def dump_dom(path):
    return parse(dump_dom_text(path))


def screenshot(path, png, width=1200, height=1600):
    os.makedirs(os.path.dirname(png), exist_ok=True)
    run(["--screenshot=" + png, "--window-size=%d,%d" % (width, height),
         "--hide-scrollbars", url(path)])
    with open(png, "rb") as f:
        head = f.read(8)
    if head != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("%s is not a PNG" % png)
    return png


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []  # Node or str

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag=None, cls=None, id=None, **attrs):
        out = []
        for n in self.iter():
            if tag and n.tag != tag:
                continue
            if cls and cls not in n.classes():
                continue
            if id and n.attrs.get("id") != id:
                continue
            if any(n.attrs.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(n)
        return out

    def find(self, **kw):
        found = self.find_all(**kw)
        if not found:
            raise AssertionError("no element matching %r" % kw)
        return found[0]

    def text(self):
        parts = []
        for c in self.children:
            parts.append(c.text() if isinstance(c, Node) else c)
        return "".join(parts)

    def __repr__(self):
        return "<%s %r>" % (self.tag, self.attrs)


class _Builder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(text):
    b = _Builder()
    b.feed(text)
    b.close()
    return b.root
