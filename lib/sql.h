/* SQL text for model objects: what an object is, and the statements that create, drop or alter it. */
#ifndef SCHEMADRIFT_SQL_H
#define SCHEMADRIFT_SQL_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"

/*
 * Everything here is a suggestion for a human to review: schemadrift never
 * runs it.  Names are quoted like PostgreSQL's quote_ident() (control
 * characters as U&"" escapes, so no statement can break a line or a
 * terminal); string values are literals (E'' with escapes when needed).
 * Server-deparsed text (index, view, rule definitions) is used as it is.
 *
 * Every function sets *ret to a malloc'd text or to NULL when nothing exact
 * is known (a name that is not UTF-8 included), and returns 0 or -ENOMEM.
 * m is the model o belongs to: it gives context (the owning table, its
 * owner, whether it is partitioned, the constraint behind an index).
 */

/* What o is: the statement that creates it where it has one, GRANT lines for
 * default privileges, "FUNCTION s.f(args) RETURNS t LANGUAGE l" for
 * routines (a signature, not a statement). */
int sql_definition(const struct model *m, const struct model_object *o, char **ret);

/* Statements that create o exactly as it is (absent from the database). */
int sql_create(const struct model *m, const struct model_object *o, char **ret);

/* Statements that drop o (present in the database, as in m). */
int sql_drop(const struct model *m, const struct model_object *o, char **ret);

/*
 * Statements that change attribute attr of o from from_v to to_v (either may
 * be NULL: absent).  o is the object as it is after the change, in m (for a
 * view or function: its whole definition, for CREATE OR REPLACE).
 */
int sql_alter(const struct model *m, const struct model_object *o, const char *attr,
	      const struct model_value *from_v, const struct model_value *to_v, char **ret);

/* Statements that rename o (as in m) to new_name. */
int sql_rename(const struct model *m, const struct model_object *o, const char *new_name,
	       char **ret);

/* True when the privileges to_v are from_v with old_owner replaced by
 * new_owner, which is what ALTER ... OWNER TO does to them. */
bool sql_acl_follows_owner(const struct model_value *from_v, const struct model_value *to_v,
			   const char *old_owner, const char *new_owner);

/* ident as SQL into out: bare when it can be, else "quoted" (U&"..." for
 * control characters).  Returns -EILSEQ (nothing written) when it is not UTF-8. */
int sql_put_ident(FILE *out, const char *ident);

#endif
