-- drift case statistics_add_drop: the change
DROP STATISTICS old_st;
CREATE STATISTICS new_st (mcv) ON a, b FROM t;
