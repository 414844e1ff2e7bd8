-- drift case sequence_unlogged: the change
ALTER SEQUENCE s SET UNLOGGED;
