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

# What each added (or, the other way round, removed) object reads as.
DEFINITIONS = {
    ("extension", "hstore"): "CREATE EXTENSION hstore SCHEMA shop VERSION '1.8';",
    ("default_privileges", '"postgres functions"'):
        "ALTER DEFAULT PRIVILEGES FOR ROLE postgres REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
    ("default_privileges", 'shop."postgres tables"'):
        "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA shop GRANT SELECT ON TABLES TO "
        "app_ro;",
    ("schema", "audit"): "CREATE SCHEMA audit AUTHORIZATION app_ro;",
    ("function", "shop.add(a integer, b integer)"):
        "FUNCTION shop.add(a integer, b integer DEFAULT 1) RETURNS integer LANGUAGE sql",
    ("function", "shop.touch()"): "FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql",
    ("procedure", "shop.purge(IN days integer)"):
        "PROCEDURE shop.purge(IN days integer) LANGUAGE sql",
    ("aggregate", "shop.mysum(integer)"): "AGGREGATE shop.mysum(integer) RETURNS integer",
    ("view", "shop.big"): "CREATE VIEW shop.big AS\n SELECT orders.id\n   FROM shop.orders\n"
                          "  WHERE (orders.total > (100)::numeric);",
    ("materialized_view", "shop.daily"):
        "CREATE MATERIALIZED VIEW shop.daily AS\n SELECT orders.placed,\n"
        "    sum(orders.total) AS total\n   FROM shop.orders\n  GROUP BY orders.placed;",
    ("sequence", "shop.inv"): "CREATE SEQUENCE shop.inv AS integer INCREMENT BY 5 MINVALUE 10 "
                              "MAXVALUE 1000 START WITH 20 CACHE 2 CYCLE;",
    ("table", "shop.lines"): "CREATE TABLE shop.lines (\n    id integer,\n    order_id integer,"
                             "\n    qty integer NOT NULL DEFAULT 1\n);",
    ("column", "shop.orders.note"):
        'ALTER TABLE shop.orders ADD COLUMN note text COLLATE pg_catalog."C";',
    ("constraint", "shop.orders.total_pos"):
        "ALTER TABLE shop.orders ADD CONSTRAINT total_pos CHECK ((total >= (0)::numeric));",
    ("index", "shop.orders_placed_idx"):
        "CREATE INDEX orders_placed_idx ON shop.orders USING btree (placed) "
        "WHERE (total > (0)::numeric);",
    ("trigger", "shop.orders.orders_touch"):
        "CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE OF total ON shop.orders FOR EACH ROW "
        "WHEN ((new.total > (0)::numeric)) EXECUTE FUNCTION shop.touch();",
    ("rule", "shop.orders.orders_nodel"):
        "CREATE RULE orders_nodel AS\n    ON DELETE TO shop.orders DO INSTEAD NOTHING;",
    ("policy", "shop.orders.orders_ro"):
        "CREATE POLICY orders_ro ON shop.orders AS PERMISSIVE FOR SELECT TO app_ro "
        "USING ((total < (1000)::numeric));",
    ("statistics", "shop.orders_st"): "CREATE STATISTICS shop.orders_st ON id, placed FROM "
                                      "shop.orders;",
    ("type", "shop.pair"): "CREATE TYPE shop.pair AS (a integer, b text);",
    ("type", "shop.state"): "CREATE TYPE shop.state AS ENUM ('new', 'paid');",
    ("domain", "shop.qty"): "CREATE DOMAIN shop.qty AS integer DEFAULT 1 NOT NULL "
                            "CONSTRAINT qty_check CHECK ((VALUE > 0));",
}

KINDS_BEFORE = 'CREATE SCHEMA shop; CREATE TABLE shop.orders (id int PRIMARY KEY, placed date, total numeric(10,2));\n'
KINDS_AFTER = 'CREATE INDEX orders_placed_idx ON shop.orders (placed) WHERE total > 0;\nALTER TABLE shop.orders ADD CONSTRAINT total_pos CHECK (total >= 0);\nCREATE TABLE shop.lines (id int, order_id int REFERENCES shop.orders, qty int NOT NULL DEFAULT 1);\nALTER TABLE shop.orders ADD COLUMN note text COLLATE "C";\nCREATE VIEW shop.big AS SELECT id FROM shop.orders WHERE total > 100;\nCREATE MATERIALIZED VIEW shop.daily AS SELECT placed, sum(total) AS total FROM shop.orders GROUP BY placed;\nCREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;\nCREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE OF total ON shop.orders FOR EACH ROW WHEN (NEW.total > 0) EXECUTE FUNCTION shop.touch();\nCREATE POLICY orders_ro ON shop.orders FOR SELECT TO app_ro USING (total < 1000);\nCREATE RULE orders_nodel AS ON DELETE TO shop.orders DO INSTEAD NOTHING;\nCREATE STATISTICS shop.orders_st ON id, placed FROM shop.orders;\nCREATE FUNCTION shop.add(a int, b int DEFAULT 1) RETURNS int LANGUAGE sql IMMUTABLE AS \'SELECT a + b\';\nCREATE PROCEDURE shop.purge(days int) LANGUAGE sql AS \'DELETE FROM shop.orders\';\nCREATE AGGREGATE shop.mysum(int) (SFUNC = int4pl, STYPE = int);\nCREATE SEQUENCE shop.inv AS integer INCREMENT 5 MINVALUE 10 MAXVALUE 1000 START 20 CACHE 2 CYCLE;\nALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO app_ro;\nALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;\nCREATE TYPE shop.state AS ENUM (\'new\', \'paid\');\nCREATE TYPE shop.pair AS (a int, b text);\nCREATE DOMAIN shop.qty AS int DEFAULT 1 NOT NULL CHECK (VALUE > 0);\nCREATE SCHEMA audit AUTHORIZATION app_ro;\nCREATE EXTENSION hstore SCHEMA shop;\n'


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
                     "TO app_ro; CREATE INDEX orders_placed_idx ON shop.orders (placed);"
                     "GRANT SELECT ON shop.orders TO app_ro")
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
        # A grant reads as who got what, and reverts as a REVOKE.
        self.assertRegex(text, r"(?m)^~ table shop\.orders: acl .*\n"
                         r"    GRANT SELECT ON TABLE shop\.orders TO app_ro;$")
        self.assertIn("    REVOKE SELECT ON TABLE shop.orders FROM app_ro;\n", text)

        rc, out, err = pgharness.run_cli("diff", before, after, "--format", "json")
        self.assertEqual(rc, 1, err)
        doc = json.loads(out)
        by_kind = {c["kind"]: c for c in doc["changes"]}
        self.assertEqual(by_kind["table"]["definition"],
                         "GRANT SELECT ON TABLE shop.orders TO app_ro;\n")
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
                for needle in ("GRANT SELECT ON TABLES TO app_ro",
                               "GRANT SELECT ON TABLE shop.orders TO app_ro",
                               "orders_placed_idx ON "
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

    def test_definition_of_each_kind_added_and_removed(self):
        self.pg.create_db("kinds")
        self.pg.psql("kinds", KINDS_BEFORE)
        a = self.path("kinds_a.json")
        self.pg.snapshot_file("kinds", a)
        self.pg.psql("kinds", KINDS_AFTER)
        b = self.path("kinds_b.json")
        self.pg.snapshot_file("kinds", b)
        for sides, change, sign in (((a, b), "added", "+"), ((b, a), "removed", "-")):
            rc, out, err = pgharness.run_cli("diff", *sides, "--format", "json")
            self.assertEqual(rc, 1, err)
            got = {(c["kind"], c["object"]): c for c in json.loads(out)["changes"]}
            self.assertEqual(sorted(got), sorted(DEFINITIONS), out)
            rc, text, err = pgharness.run_cli("diff", *sides)
            for key, definition in DEFINITIONS.items():
                with self.subTest(change=change, kind=key[0], object=key[1]):
                    self.assertEqual(got[key]["change"], change)
                    self.assertEqual(got[key]["definition"], definition + "\n")
                    # In the text, right under the change's line, indented.
                    label = key[0].replace("_", " ")
                    if label == "statistics":
                        label = "statistics object"
                    shown = "\n".join("    " + l for l in definition.split("\n"))
                    self.assertRegex(text, r"(?m)^%s %s %s \[\w+\]\n%s$" % (
                        re.escape(sign), re.escape(label), re.escape(key[1]),
                        re.escape(shown)))


if __name__ == "__main__":
    pgharness.main()
