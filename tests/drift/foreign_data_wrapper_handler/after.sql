-- drift case foreign_data_wrapper_handler: the change
ALTER FOREIGN DATA WRAPPER w HANDLER postgres_fdw_handler VALIDATOR postgres_fdw_validator;
