-- drift case fk_deferrable: the change
ALTER TABLE child ALTER CONSTRAINT child_pid_fkey DEFERRABLE INITIALLY DEFERRED;
