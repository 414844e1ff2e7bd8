-- drift case rename_column: the change
ALTER TABLE t RENAME COLUMN nme TO name;
-- On 18 its NOT NULL constraint keeps the name t_qty_not_null.
ALTER TABLE t RENAME COLUMN qty TO quantity;
