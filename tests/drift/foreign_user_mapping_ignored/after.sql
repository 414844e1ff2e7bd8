-- drift case foreign_user_mapping_ignored: the change
ALTER USER MAPPING FOR postgres SERVER srv OPTIONS (SET password 'secret2');
CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (password 'secret3');
COMMENT ON SERVER srv IS 'mappings changed';
