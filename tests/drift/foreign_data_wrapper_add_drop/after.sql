-- drift case foreign_data_wrapper_add_drop: the change
DROP FOREIGN DATA WRAPPER old_w;
CREATE FOREIGN DATA WRAPPER new_w VALIDATOR postgresql_fdw_validator;
