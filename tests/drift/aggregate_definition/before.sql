-- drift case aggregate_definition: starting schema
CREATE FUNCTION s_add(s numeric, v numeric) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS 'SELECT s + v';
CREATE FUNCTION s_fin(s numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT round(s, 2)';
CREATE FUNCTION s_fin2(s numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT round(s, 0)';

CREATE AGGREGATE agg(numeric) (SFUNC = s_add, STYPE = numeric, INITCOND = '0', FINALFUNC = s_fin);
