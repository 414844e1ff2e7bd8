-- drift case domain_add_drop: the change
DROP DOMAIN old_d;
CREATE DOMAIN new_d AS text CHECK (VALUE <> '');
