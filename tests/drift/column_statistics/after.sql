-- drift case column_statistics: the change
ALTER TABLE t ALTER COLUMN a SET STATISTICS 1000;
-- -1: back to default_statistics_target (every major; 17 also spells it DEFAULT)
ALTER TABLE t ALTER COLUMN b SET STATISTICS -1;
