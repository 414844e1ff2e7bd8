-- drift case matview_options_acl: starting schema
DO $$BEGIN CREATE ROLE mv_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE TABLE t (a integer);
CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
