-- drift case function_window: starting schema
CREATE FUNCTION rn() RETURNS bigint LANGUAGE internal IMMUTABLE AS 'window_row_number';
