-- drift case view_check_option: the change (options every major from 13 on has)
ALTER VIEW v SET (check_option = cascaded, security_barrier = true);
ALTER VIEW w RESET (check_option);
