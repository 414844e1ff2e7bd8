-- drift case database_setting: the change
DO $$ BEGIN
	EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '16MB');
	EXECUTE format('ALTER DATABASE %I RESET lock_timeout', current_database());
	EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '5s');
END $$;
