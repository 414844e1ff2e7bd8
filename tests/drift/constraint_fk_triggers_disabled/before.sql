-- drift case constraint_fk_triggers_disabled: starting schema
CREATE TABLE p (id integer PRIMARY KEY);
CREATE TABLE c (id integer PRIMARY KEY, pid integer REFERENCES p);
CREATE TABLE d (id integer PRIMARY KEY, pid integer REFERENCES p);
ALTER TABLE d DISABLE TRIGGER ALL;
