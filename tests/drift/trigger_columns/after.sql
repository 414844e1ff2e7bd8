-- drift case trigger_columns: the change
DROP TRIGGER tr ON t;
CREATE TRIGGER tr AFTER UPDATE OF a, c ON t FOR EACH ROW EXECUTE FUNCTION trg();
