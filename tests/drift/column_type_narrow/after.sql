-- drift case column_type_narrow: the change
ALTER TABLE t ALTER COLUMN a TYPE integer, ALTER COLUMN b TYPE varchar(20),
    ALTER COLUMN c TYPE numeric(12,3), ALTER COLUMN d TYPE smallint,
    ALTER COLUMN e TYPE timestamp(0) with time zone, ALTER COLUMN f TYPE text,
    ALTER COLUMN g TYPE numeric(10,2);
