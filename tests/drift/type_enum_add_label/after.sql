-- drift case type_enum_add_label: the change
ALTER TYPE mood ADD VALUE 'happy';
ALTER TYPE mood ADD VALUE 'awful' BEFORE 'sad';
