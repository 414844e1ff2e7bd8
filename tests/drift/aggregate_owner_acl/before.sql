-- drift case aggregate_owner_acl: starting schema
DO $$BEGIN CREATE ROLE agg_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE AGGREGATE agg(integer) (SFUNC = int4larger, STYPE = integer);
CREATE AGGREGATE agg2(integer) (SFUNC = int4larger, STYPE = integer);
