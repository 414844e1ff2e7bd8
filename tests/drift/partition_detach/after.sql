-- drift case partition_detach: the change
ALTER TABLE measurements DETACH PARTITION measurements_2024;
