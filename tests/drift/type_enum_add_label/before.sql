-- drift case type_enum_add_label: starting schema
CREATE TYPE mood AS ENUM ('sad', 'ok');
