-- drift case constraint_exclusion: the change
ALTER TABLE booking DROP CONSTRAINT booking_during_excl;
ALTER TABLE booking ADD CONSTRAINT booking_during_excl EXCLUDE USING gist (during WITH &&)
    WHERE (id > 0);
ALTER TABLE slot ADD CONSTRAINT slot_r_excl EXCLUDE USING gist (r WITH &&);
