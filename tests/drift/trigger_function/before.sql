-- drift case trigger_function: starting schema
CREATE TABLE t (a integer, b integer, c integer);
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE FUNCTION trg2() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;

CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg();
CREATE TRIGGER tr_args AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg('x', 1);
