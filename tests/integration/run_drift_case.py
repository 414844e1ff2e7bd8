"""Runs one drift case: tests/drift/<case>/{before.sql,after.sql,expected.json}.

  before.sql -> snapshot A (file), after.sql -> snapshot B (file),
  `diff A B --format json` must exit 1 and contain every expected change
  (subset match on the fields given), and no others when "exact" is true;
  the change-probe fingerprint snapshot B recorded must differ from snapshot
  A's (the daemon snapshots only when the probe moves; that a snapshot records
  what `schemadrift probe` prints: test_daemon_probe, on every major);
  `diff A dsn:<live db>` must report the same changes as `diff A B`, and
  the live side the same hash as B; the text form must name every changed
  object; `diff B A` must list as many changes.

  With --catalog-only (ctest passes it on every major but the default one)
  only the checks whose outcome depends on the server run: the snapshots,
  the changes in `diff A B` and the probe.  The live side, the text form and
  the reverse direction are properties of the diff code, not of the server,
  and are checked on the default major.

expected.json:
  {"description": "...",            (optional, for humans)
   "args": ["--partitions", "full"], (optional: passed to every snapshot and diff)
   "exact": true,                   (optional: no changes beyond those listed)
   "changes": [{"change": "modified", "kind": "column", "object": "public.t.c",
                "attribute": "type", "severity": "warning",
                "before": "integer", "after": "bigint"}, ...],
   "absent": [{...}, ...],          (optional: patterns no change may match)
   "min_major": 15,                 (optional: the case needs PostgreSQL 15 or later,
   "max_major": 17}                 or 17 at most; CMake registers it only for the
                                     majors in range, and run by hand against another
                                     server it is skipped: exit 77, which ctest shows
                                     as skipped, never as passed)
A listed field must equal the actual one; "before"/"after": null also match
an absent field.  Fields not listed are not checked.  A key expected.json does
not know (at the top or in a change) fails the case, so a misspelt field can
never pass as "not checked".  In expected strings, {ALL} stands for all of a
relation's privileges on the server under test: arwdDxt, and arwdDxtm from 17
on (MAINTAIN).  before.sql and after.sql may hold `-- @if N` blocks
(pgharness.fixture_text).

Usage: run_drift_case.py [--catalog-only] CASE_DIR [CASE_DIR...]
Several cases share one server, one after the other, each in a fresh database
(ctest runs SCHEMADRIFT_DRIFT_BATCH of them per test: tests/CMakeLists.txt);
cluster-wide objects (roles) a case makes stay for the next ones, so a case
makes them with CREATE ROLE inside DO ... EXCEPTION WHEN duplicate_object.
Prints "ok   drift/CASE on PostgreSQL N" (scripts/test.sh counts those),
"skip drift/CASE: ..." or "FAIL drift/CASE on PostgreSQL N: ...".
Exit status 0 when every case passes.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

MATCH_FIELDS = ("change", "kind", "schema", "parent", "name", "object", "attribute",
                "severity", "before", "after", "renamed_from", "renamed_from_object")
TOP_FIELDS = ("description", "args", "exact", "changes", "absent", "min_major", "max_major")
DB = "drift_case"


class CaseFailure(Exception):
    pass


class CaseSkipped(Exception):
    pass


def relation_all(major):
    return "arwdDxtm" if major >= 17 else "arwdDxt"


def for_server(value, major):
    """An expected value with {ALL} spelled as this server does."""
    if isinstance(value, str):
        return value.replace("{ALL}", relation_all(major))
    if isinstance(value, list):
        return [for_server(v, major) for v in value]
    if isinstance(value, dict):
        return {k: for_server(v, major) for k, v in value.items()}
    return value


def load_expected(case_dir):
    """expected.json, checked for keys and types before anything runs."""
    path = os.path.join(case_dir, "expected.json")
    with open(path) as f:
        expected = json.load(f)
    problems = []
    if not isinstance(expected, dict):
        raise CaseFailure("%s: not a JSON object" % path)
    problems += ["unknown key %r (known: %s)" % (k, ", ".join(TOP_FIELDS))
                 for k in expected if k not in TOP_FIELDS]
    if not isinstance(expected.get("changes"), list) or not expected["changes"]:
        problems.append("\"changes\" must be a non-empty list")
    for bound in ("min_major", "max_major"):
        if bound in expected and not (isinstance(expected[bound], int) and
                                      13 <= expected[bound] <= 99):
            problems.append("\"%s\" must be a major version number (13 or later)" % bound)
    if "exact" in expected and not isinstance(expected["exact"], bool):
        problems.append("\"exact\" must be true or false")
    if "args" in expected and not (isinstance(expected["args"], list) and
                                   all(isinstance(a, str) for a in expected["args"])):
        problems.append("\"args\" must be a list of strings")
    for list_key in ("changes", "absent"):
        items = expected.get(list_key, [])
        if not isinstance(items, list):
            problems.append("%r must be a list" % list_key)
            continue
        for i, c in enumerate(items):
            if not isinstance(c, dict):
                problems.append("%s[%d] is not an object" % (list_key, i))
                continue
            problems += ["%s[%d]: unknown field %r (known: %s)" %
                         (list_key, i, k, ", ".join(MATCH_FIELDS))
                         for k in c if k not in MATCH_FIELDS]
    if problems:
        raise CaseFailure("%s: %s" % (path, "; ".join(problems)))
    return expected


def change_matches(expected, actual):
    for k, v in expected.items():
        if v is None and k in ("before", "after"):
            if actual.get(k) is not None:
                return False
        elif k not in actual or actual[k] != v:
            return False
    return True


def fmt(c):
    return json.dumps(c, sort_keys=True)


def check_diff_json(doc, label):
    """Structural checks on a diff document; returns its changes."""
    problems = []
    if not isinstance(doc, dict) or "schemadrift_diff" not in doc:
        raise CaseFailure("%s: no schemadrift_diff header: %s" % (label, fmt(doc)[:500]))
    hdr = doc["schemadrift_diff"]
    if hdr.get("version") != 1:
        problems.append("version is %r, expected 1" % hdr.get("version"))
    changes = doc.get("changes")
    if not isinstance(changes, list):
        raise CaseFailure("%s: \"changes\" is not a list" % label)
    summary = doc.get("summary", {})
    want = {"changes": len(changes)}
    for key in ("added", "removed", "modified", "renamed"):
        want[key] = sum(1 for c in changes if c.get("change") == key)
    for key in ("breaking", "warning", "info"):
        want[key] = sum(1 for c in changes if c.get("severity") == key)
    for k, v in want.items():
        if k == "renamed" and v == 0 and k not in summary:
            continue
        if summary.get(k) != v:
            problems.append("summary.%s is %r but the changes array says %d" %
                            (k, summary.get(k), v))
    for c in changes:
        for k in ("change", "severity", "kind", "object"):
            if k not in c:
                problems.append("change without %r: %s" % (k, fmt(c)))
        if c.get("change") == "modified" and "attribute" not in c:
            problems.append("modified change without attribute: %s" % fmt(c))
    if problems:
        raise CaseFailure("%s: %s" % (label, "; ".join(problems)))
    return changes


def fingerprint(path, label):
    with open(path) as f:
        value = json.load(f)["schemadrift_snapshot"]["meta"].get("fingerprint")
    if not value:
        raise CaseFailure("snapshot %s records no change-probe fingerprint" % label)
    return value


def run_case(pg, case_dir, expected, catalog_only=False):
    name = os.path.basename(os.path.normpath(case_dir))
    if pg.major < expected.get("min_major", 0):
        raise CaseSkipped("needs PostgreSQL %d or later, the server is %d" %
                          (expected["min_major"], pg.major))
    if pg.major > expected.get("max_major", pg.major):
        raise CaseSkipped("needs PostgreSQL %d or earlier, the server is %d" %
                          (expected["max_major"], pg.major))
    expected = for_server(expected, pg.major)
    exp_changes = expected["changes"]
    args = [str(a) for a in expected.get("args", [])]

    # One psql for both: a process less per case.
    pg.psql("postgres", 'DROP DATABASE IF EXISTS "%s" WITH (FORCE);\n'
            'CREATE DATABASE "%s" TEMPLATE template0;\n' % (DB, DB))
    work = os.path.join(pg.tmpdir, "case-" + name)
    os.makedirs(work, exist_ok=True)
    a = os.path.join(work, "a.json")
    b = os.path.join(work, "b.json")

    pg.psql_file(DB, os.path.join(case_dir, "before.sql"))
    pgharness.cli_ok("snapshot", "--dsn", pg.dsn(DB), "-o", a, *args)
    pg.psql_file(DB, os.path.join(case_dir, "after.sql"))
    pgharness.cli_ok("snapshot", "--dsn", pg.dsn(DB), "-o", b, *args)
    # The daemon keeps the fingerprint its last snapshot recorded and snapshots
    # again only when `schemadrift probe` prints another: the case's DDL must
    # move it, or the daemon would never see this drift.  A snapshot records
    # what the probe prints at that moment (test_daemon_probe), so B's
    # fingerprint is the probe's after after.sql.
    fingerprint_a = fingerprint(a, "A")
    if fingerprint(b, "B") == fingerprint_a:
        raise CaseFailure("after.sql did not move the change probe (%s): the daemon "
                          "would not snapshot this drift" % fingerprint_a)

    def diff(x, y, fmt):
        return pgharness.diff(x, y, fmt, args=args)

    rc, doc, err = diff(a, b, "json")
    if rc != 1:
        raise CaseFailure("diff A B --format json: exit %d, expected 1\nstderr: %s\nstdout: %s"
                          % (rc, err, doc if isinstance(doc, str) else fmt(doc)))
    if err.strip():
        raise CaseFailure("diff A B wrote to stderr: %s" % err)
    changes = check_diff_json(doc, "diff A B")
    report = "\n".join("  " + fmt(c) for c in changes)

    missing = [e for e in exp_changes if not any(change_matches(e, c) for c in changes)]
    if missing:
        raise CaseFailure("expected changes not found:\n%s\nactual changes:\n%s" %
                          ("\n".join("  " + fmt(e) for e in missing), report))
    forbidden = [c for c in changes
                 if any(change_matches(e, c) for e in expected.get("absent", []))]
    if forbidden:
        raise CaseFailure("changes that should not be there (\"absent\"):\n%s\n"
                          "actual changes:\n%s" % ("\n".join("  " + fmt(c) for c in forbidden),
                                                   report))
    if expected.get("exact"):
        extra = [c for c in changes if not any(change_matches(e, c) for e in exp_changes)]
        if extra:
            raise CaseFailure("\"exact\": unexpected changes:\n%s\nactual changes:\n%s" %
                              ("\n".join("  " + fmt(c) for c in extra), report))

    # Same hashes as the files' own headers.
    with open(a) as f:
        ha = json.load(f)["schemadrift_snapshot"]["hash"]
    with open(b) as f:
        hb = json.load(f)["schemadrift_snapshot"]["hash"]
    if doc["schemadrift_diff"].get("from", {}).get("hash") != ha or \
            doc["schemadrift_diff"].get("to", {}).get("hash") != hb:
        raise CaseFailure("diff header hashes %s do not match the snapshots' (%s, %s)" %
                          (fmt(doc["schemadrift_diff"]), ha, hb))

    if catalog_only:
        return report

    # The live form: B read from the database itself gives the same changes.
    live = pg.live_side(DB)
    rc, ldoc, err = diff(a, live, "json")
    if rc != 1:
        raise CaseFailure("diff A '%s' --format json: exit %d, expected 1\nstderr: %s" %
                          (live, rc, err))
    lchanges = check_diff_json(ldoc, "diff A live")
    if lchanges != changes:
        raise CaseFailure("diff A live differs from diff A B:\nlive:\n%s\nfiles:\n%s" %
                          ("\n".join("  " + fmt(c) for c in lchanges), report))
    if ldoc["schemadrift_diff"].get("to", {}).get("hash") != hb:
        raise CaseFailure("live side hash %r != snapshot B hash %s" %
                          (ldoc["schemadrift_diff"].get("to"), hb))

    # Text form agrees on exit status and names every changed object.
    rc, text, err = diff(a, b, "text")
    if rc != 1:
        raise CaseFailure("diff A B --format text: exit %d, expected 1\nstderr: %s" % (rc, err))
    for c in changes:
        if c["object"] not in text:
            raise CaseFailure("text diff does not mention %s:\n%s" % (c["object"], text))

    # The reverse direction is a difference too, of the same size.
    rc, rdoc, err = diff(b, a, "json")
    if rc != 1:
        raise CaseFailure("diff B A: exit %d, expected 1\nstderr: %s" % (rc, err))
    rchanges = check_diff_json(rdoc, "diff B A")
    if len(rchanges) != len(changes):
        raise CaseFailure("diff B A lists %d changes, diff A B %d:\nB A:\n%s\nA B:\n%s" % (
            len(rchanges), len(changes), "\n".join("  " + fmt(c) for c in rchanges), report))
    return report


def main(argv):
    args = argv[1:]
    catalog_only = bool(args) and args[0] == "--catalog-only"
    if catalog_only:
        args = args[1:]
    if not args or args[0].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    failed = skipped = 0
    cases = []
    for case_dir in args:
        name = os.path.basename(os.path.normpath(case_dir))
        try:
            cases.append((case_dir, load_expected(case_dir)))
        except (CaseFailure, OSError, ValueError) as e:
            failed += 1
            print("FAIL drift/%s: %s" % (name, e))
    if not cases:
        return 1
    with pgharness.PgCluster(name="drift") as pg:
        for case_dir, expected in cases:
            name = os.path.basename(os.path.normpath(case_dir))
            try:
                report = run_case(pg, case_dir, expected, catalog_only)
                print("ok   drift/%s on PostgreSQL %d\n%s" % (name, pg.major, report))
            except CaseSkipped as e:
                skipped += 1
                print("skip drift/%s: %s" % (name, e))
            except (CaseFailure, pgharness.HarnessError) as e:
                failed += 1
                print("FAIL drift/%s on PostgreSQL %s: %s" % (name, pg.major, e))
                sys.stdout.flush()
                pg.print_log_tail("drift/%s failed" % name, lines=20)
    if failed:
        return 1
    return pgharness.EXIT_SKIPPED if skipped == len(cases) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
