"""What an added or removed object is, and what to do about it (issue 16).

Tried as a new user would: ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT
SELECT ON TABLES TO app_ro must read as that GRANT in the text diff, in the
JSON diff and in what every alert channel sends; an added index shows its
definition; and the diff ends with the commands that resolve it.
"""

import email
import email.policy
import html
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgharness  # noqa: E402

CHANNELS = ("webhook", "slack", "teams", "discord", "pagerduty", "smtp")
ADP = "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA shop GRANT SELECT ON TABLES TO app_ro"
INDEX = "CREATE INDEX orders_placed_idx ON shop.orders USING btree (placed)"


def json_strings(value):
    """Every string in a JSON document, in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from json_strings(v)


def decoded_text(channel, body):
    """What a reader of the channel sees: the payload's strings, unescaped."""
    if channel == "smtp":
        msg = email.message_from_string(body, policy=email.policy.default)
        text = "\n".join(part.get_content() for part in msg.walk()
                         if part.get_content_type() in ("text/plain", "text/html"))
        return html.unescape(text)
    text = "\n".join(json_strings(json.loads(body)))
    if channel == "slack":
        text = html.unescape(text)
    if channel == "discord":
        text = re.sub(r"\\(.)", r"\1", text)
    return text


class ExplainTest(pgharness.PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.psql("postgres", "CREATE ROLE app_ro NOLOGIN")
        cls.pg.create_db("app")
        cls.pg.psql("app", "CREATE SCHEMA shop; CREATE TABLE shop.orders (id int, placed date)")

    def snap(self, name):
        path = self.path(name)
        self.pg.snapshot_file("app", path)
        return path

    def test_default_privileges_and_index_read_as_sql(self):
        before = self.snap("before.json")
        self.pg.psql("app", "ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES "
                     "TO app_ro; CREATE INDEX orders_placed_idx ON shop.orders (placed)")
        after = self.snap("after.json")

        rc, text, err = pgharness.run_cli("diff", before, after)
        self.assertEqual(rc, 1, err)
        self.assertIn(ADP, text)
        self.assertIn(INDEX, text)
        # What to do: the commands that resolve it, and the SQL that reverts it.
        self.assertIn("schemadrift baseline accept TARGET --reason", text)
        self.assertIn("schemadrift ack TARGET index:shop.orders_placed_idx --reason", text)
        self.assertIn("DROP INDEX CONCURRENTLY shop.orders_placed_idx;", text)
        self.assertIn("ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA shop REVOKE SELECT "
                      "ON TABLES FROM app_ro;", text)
        self.assertIn("never runs", text)

        rc, out, err = pgharness.run_cli("diff", before, after, "--format", "json")
        self.assertEqual(rc, 1, err)
        doc = json.loads(out)
        by_kind = {c["kind"]: c for c in doc["changes"]}
        self.assertEqual(by_kind["default_privileges"]["definition"], ADP + ";\n")
        self.assertEqual(by_kind["index"]["definition"], INDEX + ";\n")
        self.assertEqual(by_kind["index"]["revert_sql"],
                         "DROP INDEX CONCURRENTLY shop.orders_placed_idx;\n")
        diff_path = self.path("diff.json")
        with open(diff_path, "w") as f:
            f.write(out)

        for channel in CHANNELS:
            with self.subTest(channel=channel):
                rc, body, err = pgharness.run_cli("render", "--channel", channel, "--target",
                                                  "shop-db", diff_path)
                self.assertEqual(rc, 0, err)
                # JSON payloads escape quotes and slashes their own way: compare
                # the decoded text where the payload is JSON.
                plain = decoded_text(channel, body)
                for needle in ("GRANT SELECT ON TABLES TO app_ro", "orders_placed_idx ON "
                               "shop.orders USING btree (placed)",
                               "schemadrift baseline accept shop-db --reason"):
                    self.assertIn(needle, plain, "%s: %s" % (channel, body[:3000]))

    def test_removed_objects_show_their_definition(self):
        self.pg.create_db("gone")
        self.pg.psql("gone", "CREATE SCHEMA shop; CREATE TABLE shop.t (a int);"
                     "CREATE INDEX t_a ON shop.t (a);"
                     "ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO app_ro")
        a = self.path("gone_a.json")
        self.pg.snapshot_file("gone", a)
        self.pg.psql("gone", "DROP INDEX shop.t_a; ALTER DEFAULT PRIVILEGES IN SCHEMA shop "
                     "REVOKE SELECT ON TABLES FROM app_ro")
        b = self.path("gone_b.json")
        self.pg.snapshot_file("gone", b)
        rc, text, err = pgharness.run_cli("diff", a, b)
        self.assertEqual(rc, 1, err)
        self.assertIn("- index shop.t_a", text)
        self.assertIn("CREATE INDEX t_a ON shop.t USING btree (a)", text)
        self.assertIn("CREATE INDEX CONCURRENTLY t_a ON shop.t USING btree (a);", text)
        self.assertIn("GRANT SELECT ON TABLES TO app_ro", text)


if __name__ == "__main__":
    pgharness.main()
