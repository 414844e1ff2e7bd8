-- drift case view_definition: the change
CREATE OR REPLACE VIEW v AS SELECT a FROM t WHERE a > 1;
