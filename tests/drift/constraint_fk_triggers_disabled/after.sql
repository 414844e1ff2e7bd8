-- drift case constraint_fk_triggers_disabled: the change
-- What a data load script may leave behind: the foreign key is no longer enforced.
ALTER TABLE c DISABLE TRIGGER ALL;
ALTER TABLE d ENABLE TRIGGER ALL;
