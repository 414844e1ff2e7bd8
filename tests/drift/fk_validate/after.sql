-- drift case fk_validate: the change
ALTER TABLE child VALIDATE CONSTRAINT child_pid_fkey;
