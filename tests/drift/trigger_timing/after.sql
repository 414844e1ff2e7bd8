-- drift case trigger_timing: the change
DROP TRIGGER tr ON t;
CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg();
