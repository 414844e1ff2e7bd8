-- drift case partition_detach: starting schema
CREATE TABLE measurements (id integer, logdate date NOT NULL) PARTITION BY RANGE (logdate);
CREATE TABLE measurements_2024 PARTITION OF measurements
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
