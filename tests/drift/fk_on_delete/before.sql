-- drift case fk_on_delete: starting schema
CREATE TABLE parent (id integer PRIMARY KEY, code integer, UNIQUE (id, code));
CREATE TABLE child (id integer, pid integer, pcode integer,
    CONSTRAINT child_pid_fkey FOREIGN KEY (pid) REFERENCES parent (id));
