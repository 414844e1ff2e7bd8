-- drift case trigger_columns: starting schema
CREATE TABLE t (a integer, b integer, c integer);
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE FUNCTION trg2() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;

CREATE TRIGGER tr AFTER UPDATE OF a ON t FOR EACH ROW EXECUTE FUNCTION trg();
