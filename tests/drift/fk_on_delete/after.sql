-- drift case fk_on_delete: the change
ALTER TABLE child DROP CONSTRAINT child_pid_fkey;
ALTER TABLE child ADD CONSTRAINT child_pid_fkey FOREIGN KEY (pid) REFERENCES parent (id)
    ON DELETE CASCADE ON UPDATE RESTRICT;
