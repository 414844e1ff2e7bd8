-- drift case foreign_table_owner_acl: starting schema
DO $$BEGIN CREATE ROLE ft_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE ft_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w;
CREATE FOREIGN TABLE ft (a integer) SERVER srv;
CREATE FOREIGN TABLE ft2 (a integer) SERVER srv;
