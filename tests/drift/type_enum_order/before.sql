-- drift case type_enum_order: starting schema
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
