-- drift case type_enum_order: the change
DROP TYPE mood;
CREATE TYPE mood AS ENUM ('happy', 'ok', 'sad');
