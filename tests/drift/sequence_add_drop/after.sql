-- drift case sequence_add_drop: the change
DROP SEQUENCE old_seq;
CREATE SEQUENCE new_seq INCREMENT BY 2;
