-- drift case comment_table_children: starting schema
CREATE TABLE t (a integer CONSTRAINT t_a_check CHECK (a > 0), b integer);
CREATE INDEX t_a_idx ON t (a);
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg();
CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING;
CREATE POLICY p ON t USING (true);
CREATE STATISTICS st ON a, b FROM t;
