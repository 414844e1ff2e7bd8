-- drift case database_setting: starting schema
DO $$ BEGIN
	EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '8MB');
	EXECUTE format('ALTER DATABASE %I SET lock_timeout = %L', current_database(), '2s');
END $$;
