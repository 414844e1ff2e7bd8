-- drift case event_trigger_add_drop: starting schema
CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN NULL; END$$;
CREATE FUNCTION evt2() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE 'x'; END$$;

CREATE EVENT TRIGGER old_evt ON ddl_command_start EXECUTE FUNCTION evt();
