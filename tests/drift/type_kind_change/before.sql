-- drift case type_kind_change: starting schema
CREATE TYPE thing AS ENUM ('a', 'b');
