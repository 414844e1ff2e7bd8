-- drift case fk_columns_and_action: the change
ALTER TABLE c DROP CONSTRAINT fk,
	ADD CONSTRAINT fk FOREIGN KEY (b) REFERENCES p (id2) ON DELETE SET NULL;
