-- drift case foreign_data_wrapper_options: the change
ALTER FOREIGN DATA WRAPPER w OPTIONS (ADD debug 'true');
ALTER FOREIGN DATA WRAPPER w2 OPTIONS (SET mode 'b');
