-- drift case fk_references: starting schema
CREATE TABLE parent (id integer PRIMARY KEY, code integer, UNIQUE (id, code));
CREATE TABLE child (id integer, pid integer, pcode integer,
    CONSTRAINT child_pid_fkey FOREIGN KEY (pid) REFERENCES parent (id));
CREATE TABLE parent2 (id integer PRIMARY KEY);
