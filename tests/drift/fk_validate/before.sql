-- drift case fk_validate: starting schema
CREATE TABLE parent (id integer PRIMARY KEY);
CREATE TABLE child (pid integer);
ALTER TABLE child ADD CONSTRAINT child_pid_fkey FOREIGN KEY (pid) REFERENCES parent (id) NOT VALID;
