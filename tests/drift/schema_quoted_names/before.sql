-- drift case schema_quoted_names: starting schema
CREATE SCHEMA "My S";
CREATE TABLE "My S"."T" ("Col" integer, id integer PRIMARY KEY);
