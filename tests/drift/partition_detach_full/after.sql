-- drift case partition_detach_full: the change
ALTER TABLE measurements DETACH PARTITION measurements_2024;
