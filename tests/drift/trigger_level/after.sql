-- drift case trigger_level: the change
DROP TRIGGER tr ON t;
CREATE TRIGGER tr AFTER INSERT ON t FOR EACH STATEMENT EXECUTE FUNCTION trg();
