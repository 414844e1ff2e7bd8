-- drift case function_body: the change
CREATE OR REPLACE FUNCTION f(a integer) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
	RETURN a + 2;
END
$$;
