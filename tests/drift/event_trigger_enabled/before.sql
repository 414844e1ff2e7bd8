-- drift case event_trigger_enabled: starting schema
CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN NULL; END$$;
CREATE FUNCTION evt2() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE 'x'; END$$;

CREATE EVENT TRIGGER e1 ON ddl_command_end EXECUTE FUNCTION evt();
CREATE EVENT TRIGGER e2 ON ddl_command_end EXECUTE FUNCTION evt();
CREATE EVENT TRIGGER e3 ON ddl_command_end EXECUTE FUNCTION evt();
