-- drift case column_type_widen: the change
ALTER TABLE t ALTER COLUMN a TYPE bigint, ALTER COLUMN b TYPE varchar(50),
    ALTER COLUMN c TYPE numeric(12,2), ALTER COLUMN d TYPE integer,
    ALTER COLUMN e TYPE double precision, ALTER COLUMN f TYPE timestamp(6),
    ALTER COLUMN g TYPE text;
