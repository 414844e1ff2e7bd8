-- drift case inheritance: starting schema
CREATE TABLE base (id integer, created date);
CREATE TABLE other (id integer);
CREATE TABLE child (id integer, created date, extra text);
CREATE TABLE orphan (id integer) INHERITS (base);
