-- drift case view_options: the change
ALTER VIEW v SET (check_option = local, security_invoker = true);
