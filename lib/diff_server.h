/* What two PostgreSQL majors say differently about one schema (diff.c's cross-version rules). */
#ifndef SCHEMADRIFT_DIFF_SERVER_H
#define SCHEMADRIFT_DIFF_SERVER_H

#include <stdbool.h>

#include "diff.h"
#include "model.h"

/* The major version in a server_version string ("15.4 (Debian 15.4-1)" -> 15); 0 when unknown. */
int diff_server_major(const char *server_version);

/*
 * model_value_equal(a, b), but for a relation's privileges when one side
 * is 17 or later and the other is not (a on a from_major server, b on a
 * to_major one): then every item must be equal once ALL on a relation
 * (arwdDxt up to 16, arwdDxtm with MAINTAIN from 17 on) reads as ALL on
 * both sides.
 */
bool diff_server_equal(const struct model_object *o, const char *attr, int from_major,
		       int to_major, const struct model_value *a, const struct model_value *b);

/*
 * True when c changes text the server writes itself (a view's definition,
 * a default or check expression, a partition bound, a SQL-standard body)
 * and both texts say the same but for whitespace and name qualifiers, an
 * extension's version, or a NOT NULL's name between a major that names them
 * (18) and one that does not: what two majors render differently for one
 * definition (c's sides on a from_major and a to_major server).
 */
bool diff_server_rendered(const struct diff_change *c, int from_major, int to_major);

#endif
