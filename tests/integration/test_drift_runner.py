"""The drift-case runner itself (run_drift_case.py): a case whose expected.json holds a key
the runner does not know, at the top or in a change, fails with the key named, instead of
passing with that field unchecked.  No database: expected.json is checked first."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CASE = os.path.join(pgharness.source_dir(), "tests", "drift", "column_default")


class UnknownKeys(unittest.TestCase):
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


if __name__ == "__main__":
    pgharness.main()
