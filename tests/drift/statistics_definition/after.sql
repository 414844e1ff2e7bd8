-- drift case statistics_definition: the change
DROP STATISTICS st;
CREATE STATISTICS st (dependencies, mcv) ON a, c FROM t;
