-- drift case foreign_table_partition: the change
ALTER TABLE m ATTACH PARTITION ft FOR VALUES IN ('eu');
ALTER FOREIGN TABLE ft2 INHERIT base;
