-- drift case trigger_on_view: starting schema
CREATE TABLE t (a integer, b integer, c integer);
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE FUNCTION trg2() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;

CREATE VIEW v AS SELECT a, b FROM t;
