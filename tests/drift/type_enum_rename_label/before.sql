-- drift case type_enum_rename_label: starting schema
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
