-- drift case fk_match_full: the change
ALTER TABLE child DROP CONSTRAINT child_fk;
ALTER TABLE child ADD CONSTRAINT child_fk FOREIGN KEY (pid, pcode)
    REFERENCES parent (id, code) MATCH FULL;
