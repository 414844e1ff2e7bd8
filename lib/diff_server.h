/* What two PostgreSQL majors say differently about one schema (diff.c's cross-version rules). */
#ifndef SCHEMADRIFT_DIFF_SERVER_H
#define SCHEMADRIFT_DIFF_SERVER_H

#include <stdbool.h>

#include "diff.h"
#include "model.h"

/* The major version in a server_version string ("15.4 (Debian 15.4-1)" -> 15); 0 when unknown. */
int diff_server_major(const char *server_version);

/*
 * True when attr of o, a on a from_major server and b on a to_major one,
 * are the same privileges: one side 17 or later, the other not, and every
 * item equal once ALL on a relation (with MAINTAIN from 17 on) reads alike.
 */
bool diff_server_acl_equal(const struct model_object *o, const char *attr, int from_major,
			   int to_major, const struct model_value *a, const struct model_value *b);

/*
 * True when c changes text the server writes itself (a view's definition,
 * a default or check expression, a partition bound, a SQL-standard body, an
 * extension's version): two majors may render the same thing differently.
 */
bool diff_server_rendered(const struct diff_change *c);

#endif
