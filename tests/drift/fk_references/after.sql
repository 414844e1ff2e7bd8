-- drift case fk_references: the change
ALTER TABLE child DROP CONSTRAINT child_pid_fkey;
ALTER TABLE child ADD CONSTRAINT child_pid_fkey FOREIGN KEY (pid) REFERENCES parent2 (id);
