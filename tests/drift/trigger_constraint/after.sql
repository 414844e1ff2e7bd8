-- drift case trigger_constraint: the change
DROP TRIGGER tr ON t;
CREATE CONSTRAINT TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg();
