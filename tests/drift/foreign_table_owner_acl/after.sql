-- drift case foreign_table_owner_acl: the change
ALTER FOREIGN TABLE ft OWNER TO ft_owner;
GRANT SELECT ON ft2 TO ft_reader;
