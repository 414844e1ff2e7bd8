-- drift case inheritance: the change
ALTER TABLE child INHERIT base;
ALTER TABLE child INHERIT other;
ALTER TABLE orphan NO INHERIT base;
