-- drift case table_tablespace: the change
ALTER TABLE t SET TABLESPACE drift_ts;
ALTER INDEX t_a SET TABLESPACE drift_ts;
ALTER MATERIALIZED VIEW mv SET TABLESPACE drift_ts;
