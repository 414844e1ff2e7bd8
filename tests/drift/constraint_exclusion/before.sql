-- drift case constraint_exclusion: starting schema
CREATE TABLE booking (id integer, room integer, during int4range,
    CONSTRAINT booking_during_excl EXCLUDE USING gist (during WITH &&));
CREATE TABLE slot (r int4range);
