-- drift case schema_quoted_names: the change
ALTER TABLE "My S"."T" ALTER COLUMN "Col" TYPE bigint;
CREATE SEQUENCE "My S".s OWNED BY "My S"."T"."Col";
