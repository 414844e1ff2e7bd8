-- drift case constraint_check: starting schema
CREATE TABLE t (qty integer, price numeric,
    CONSTRAINT t_qty_check CHECK (qty > 0), CONSTRAINT t_old_check CHECK (price IS NOT NULL));
