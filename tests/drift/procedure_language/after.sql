-- drift case procedure_language: the change
CREATE OR REPLACE PROCEDURE p(v integer) LANGUAGE plpgsql AS $$BEGIN INSERT INTO t VALUES (v); END$$;
