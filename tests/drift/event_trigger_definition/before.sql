-- drift case event_trigger_definition: starting schema
CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN NULL; END$$;
CREATE FUNCTION evt2() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE 'x'; END$$;

CREATE EVENT TRIGGER e ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION evt();
