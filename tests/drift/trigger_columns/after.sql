-- drift case trigger_columns: the change
CREATE OR REPLACE TRIGGER tr AFTER UPDATE OF a, c ON t FOR EACH ROW EXECUTE FUNCTION trg();
