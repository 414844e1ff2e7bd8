-- drift case function_window: the change
DROP FUNCTION rn();
CREATE FUNCTION rn() RETURNS bigint LANGUAGE internal WINDOW IMMUTABLE AS 'window_row_number';
