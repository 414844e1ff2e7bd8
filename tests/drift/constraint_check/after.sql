-- drift case constraint_check: the change
ALTER TABLE t DROP CONSTRAINT t_qty_check;
ALTER TABLE t ADD CONSTRAINT t_qty_check CHECK (qty >= 0);
ALTER TABLE t DROP CONSTRAINT t_old_check;
ALTER TABLE t ADD CONSTRAINT t_price_check CHECK (price > 0);
