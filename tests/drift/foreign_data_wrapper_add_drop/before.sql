-- drift case foreign_data_wrapper_add_drop: starting schema
CREATE FOREIGN DATA WRAPPER old_w;
