-- drift case type_base: the change
DROP TYPE myint CASCADE;
CREATE TYPE myint;
CREATE FUNCTION myint_in2(cstring) RETURNS myint LANGUAGE internal IMMUTABLE STRICT AS 'int4in';
CREATE FUNCTION myint_out2(myint) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'int4out';
CREATE TYPE myint (INPUT = myint_in2, OUTPUT = myint_out2, LIKE = integer);
