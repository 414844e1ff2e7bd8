-- drift case event_trigger_definition: the change
DROP EVENT TRIGGER e;
CREATE EVENT TRIGGER e ON ddl_command_start WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
	EXECUTE FUNCTION evt2();
