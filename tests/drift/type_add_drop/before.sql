-- drift case type_add_drop: starting schema
CREATE TYPE old_e AS ENUM ('a');
CREATE TYPE old_c AS (x integer);
