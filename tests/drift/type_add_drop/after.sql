-- drift case type_add_drop: the change
DROP TYPE old_e;
DROP TYPE old_c;
CREATE TYPE new_e AS ENUM ('b');
CREATE TYPE new_r AS RANGE (subtype = date);
