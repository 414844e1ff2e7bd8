-- drift case index_invalid: the change
UPDATE pg_catalog.pg_index SET indisvalid = false
    WHERE indexrelid = 'public.t_a_idx'::regclass;
