-- drift case fk_match_full: starting schema
CREATE TABLE parent (id integer, code integer, UNIQUE (id, code));
CREATE TABLE child (pid integer, pcode integer,
    CONSTRAINT child_fk FOREIGN KEY (pid, pcode) REFERENCES parent (id, code));
