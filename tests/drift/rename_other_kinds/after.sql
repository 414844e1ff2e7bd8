-- drift case rename_other_kinds: the change
ALTER VIEW v RENAME TO v2;
ALTER FUNCTION f(integer) RENAME TO f2;
ALTER SEQUENCE seq RENAME TO seq2;
ALTER TYPE e RENAME TO e2;
ALTER TRIGGER tr ON t RENAME TO tr2;
ALTER POLICY pol ON t RENAME TO pol2;
ALTER TABLE t RENAME CONSTRAINT t_a_check TO t_a_positive;
