-- drift case event_trigger_add_drop: the change
DROP EVENT TRIGGER old_evt;
CREATE EVENT TRIGGER new_evt ON sql_drop EXECUTE FUNCTION evt();
