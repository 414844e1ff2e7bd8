-- drift case partition_attach: starting schema
CREATE TABLE measurements (id integer, logdate date NOT NULL) PARTITION BY RANGE (logdate);
CREATE TABLE measurements_2024 (id integer, logdate date NOT NULL);
