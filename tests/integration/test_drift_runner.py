"""The drift-case runner itself (run_drift_case.py): a case whose expected.json holds a key
the runner does not know, at the top or in a change, fails with the key named, instead of
passing with that field unchecked.  No database: expected.json is checked first.  A case
bounded by min_major/max_major is skipped (exit 77, never passed) on a server outside its
range, and tests/CMakeLists.txt registers it only for the majors in range, with the full
checks on the default major and --catalog-only on the others."""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CASE = os.path.join(pgharness.source_dir(), "tests", "drift", "column_default")


class CaseRunner(unittest.TestCase):
    """Runs a copy of a drift case with its expected.json edited."""

    def run_case_with(self, edit):
        with tempfile.TemporaryDirectory() as d:
            case = os.path.join(d, "typo_case")
            shutil.copytree(CASE, case)
            path = os.path.join(case, "expected.json")
            with open(path) as f:
                expected = json.load(f)
            edit(expected)
            with open(path, "w") as f:
                json.dump(expected, f)
            p = subprocess.run([sys.executable, os.path.join(HERE, "run_drift_case.py"), case],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                               env=pgharness.clean_env())
            return p.returncode, p.stdout.decode() + p.stderr.decode()


class UnknownKeys(CaseRunner):
    def test_misspelt_change_field_fails(self):
        def edit(e):
            e["changes"][0]["atribute"] = e["changes"][0].pop("attribute")
        rc, out = self.run_case_with(edit)
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL drift/typo_case", out)
        self.assertIn("changes[0]: unknown field 'atribute'", out)

    def test_unknown_top_level_key_fails(self):
        def edit(e):
            e["exactly"] = True
        rc, out = self.run_case_with(edit)
        self.assertEqual(rc, 1, out)
        self.assertIn("unknown key 'exactly'", out)

    def test_bad_major_bound_fails(self):
        def edit(e):
            e["max_major"] = "17"
        rc, out = self.run_case_with(edit)
        self.assertEqual(rc, 1, out)
        self.assertIn('"max_major" must be a major version number', out)


def server_major():
    out = subprocess.run([os.path.join(pgharness.PG_BINDIR, "postgres"), "--version"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    return int(re.search(r" (\d+)[.a-z]", out).group(1))


class MajorBounds(CaseRunner):
    def test_min_major_above_the_server_skips(self):
        def edit(e):
            e["min_major"] = 99
        rc, out = self.run_case_with(edit)
        self.assertEqual(rc, pgharness.EXIT_SKIPPED, out)
        self.assertIn("skip drift/typo_case: needs PostgreSQL 99 or later", out)
        self.assertNotIn("ok   drift/typo_case", out)

    def test_max_major_below_the_server_skips(self):
        major = server_major()
        if major == 13:
            self.skipTest("no major below 13 to bound the case with")

        def edit(e):
            e["max_major"] = major - 1
        rc, out = self.run_case_with(edit)
        self.assertEqual(rc, pgharness.EXIT_SKIPPED, out)
        self.assertIn("needs PostgreSQL %d or earlier" % (major - 1), out)

    def test_bounded_cases_registered_only_in_range(self):
        # ctest runs this file in the build's tests/ directory.  A test may run several
        # cases (SCHEMADRIFT_DRIFT_BATCH): the cases are the directories its command names.
        p = subprocess.run(["ctest", "--show-only=json-v1"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        try:
            tests = json.loads(p.stdout.decode()).get("tests", [])
        except ValueError:
            tests = []
        registered = set()  # "drift/CASE" on the default major, "pgNN/drift/CASE" on others
        for t in tests:
            m = re.match(r"^((?:pg\d+/)?drift/)", t.get("name", ""))
            cmd = t.get("command") or []
            if not m or not any(c.endswith("run_drift_case.py") for c in cmd):
                continue
            args = cmd[[c.endswith("run_drift_case.py") for c in cmd].index(True) + 1:]
            dirs = [a for a in args if not a.startswith("-")]
            self.assertTrue(dirs, "%s runs no case" % t["name"])
            # Every case gets the full checks on the default major; the others run
            # only the server-dependent ones.
            self.assertEqual("--catalog-only" in args, m.group(1) != "drift/",
                             "%s: %s" % (t["name"], args[:1]))
            registered.update(m.group(1) + os.path.basename(os.path.normpath(d)) for d in dirs)
        if not any(t.startswith("drift/") for t in registered):
            self.skipTest("not run from a build directory's tests/ (ctest lists no drift case)")
        majors = {int(m) for t in registered for m in re.findall(r"^pg(\d+)/drift/", t)}
        majors.add(server_major())
        bounded = 0
        for path in glob.glob(os.path.join(pgharness.source_dir(), "tests", "drift", "*",
                                           "expected.json")):
            with open(path) as f:
                e = json.load(f)
            case = os.path.basename(os.path.dirname(path))
            for major in majors:
                name = ("drift/%s" if major == server_major() else "pg%d/drift/%%s" % major) % case
                in_range = e.get("min_major", major) <= major <= e.get("max_major", major)
                self.assertEqual(name in registered, in_range,
                                 "%s: registered %s, min_major %s, max_major %s" %
                                 (name, name in registered, e.get("min_major"),
                                  e.get("max_major")))
            if "min_major" in e or "max_major" in e:
                bounded += 1
        self.assertGreater(bounded, 5, "no drift case has a min_major")


if __name__ == "__main__":
    pgharness.main()
