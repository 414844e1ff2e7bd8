-- drift case procedure_body: the change
CREATE OR REPLACE PROCEDURE p(v integer) LANGUAGE sql AS $$INSERT INTO t VALUES (v + 1)$$;
