-- drift case publication_add_drop: the change
DROP PUBLICATION old_pub;
CREATE PUBLICATION new_pub FOR ALL TABLES;
