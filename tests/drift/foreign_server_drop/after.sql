-- drift case foreign_server_drop: the change
DROP SERVER old_srv;
