-- drift case function_body: starting schema
CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
	RETURN a + 1;
END
$$;
