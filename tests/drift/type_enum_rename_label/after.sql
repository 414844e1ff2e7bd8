-- drift case type_enum_rename_label: the change
ALTER TYPE mood RENAME VALUE 'ok' TO 'fine';
