-- drift case type_kind_change: the change
DROP TYPE thing;
CREATE TYPE thing AS (a integer, b text);
