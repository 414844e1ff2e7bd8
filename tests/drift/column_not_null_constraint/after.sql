-- drift case column_not_null_constraint: the change
ALTER TABLE t ADD CONSTRAINT a_required NOT NULL a;
-- b has a NULL row: NOT VALID leaves it unchecked
ALTER TABLE t ADD CONSTRAINT b_required NOT NULL b NOT VALID;
ALTER TABLE t ADD CONSTRAINT c_required NOT NULL c NO INHERIT;
ALTER TABLE t RENAME CONSTRAINT t_d_not_null TO d_required;
