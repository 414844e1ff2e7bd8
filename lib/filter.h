/* Noise control: which objects and attributes count, applied to a model before hashing. */
#ifndef SCHEMADRIFT_FILTER_H
#define SCHEMADRIFT_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "model.h"

/*
 * Patterns are fnmatch(3) globs on unquoted names: objects as "schema.name"
 * (a table's columns, constraints, indexes... also match through their
 * table, so excluding a table excludes them); schemas by name; objects
 * outside schemas (extensions, publications...) by name alone.
 */
struct filter {
	char **include;
	size_t n_include;
	char **exclude;
	size_t n_exclude;
	char **include_schema;
	size_t n_include_schema;
	char **exclude_schema;
	size_t n_exclude_schema;
	bool ignore_kind[MODEL_KIND_COUNT];
	char **ignore_attr; /* "acl" (every kind) or "column.position" */
	size_t n_ignore_attr;
	bool body_whitespace; /* compare bodies and definitions token by token */
};

void filter_init(struct filter *f);
/* Frees the contents (f itself is the caller's). */
void filter_done(struct filter *f);
bool filter_is_empty(const struct filter *f);

/* A deep copy of src into *ret (initialised here; free with filter_done). */
int filter_copy(const struct filter *src, struct filter *ret);

/* Adds one pattern to a list (copied). */
int filter_add(char ***list, size_t *n, const char *pattern);

/*
 * Parses a comma-separated --ignore list: groups (privileges, ownership,
 * comments, column-order, body-whitespace), kind names (trigger), attribute
 * names (tablespace) or kind.attribute (column.collation).  Unknown names are
 * errors that say what is known.
 */
int filter_parse_ignore(struct filter *f, const char *list, struct error *err);

/* Drops what the filter excludes, in place; the model's hashes become stale
 * (call snapshot_hash() afterwards). */
int filter_apply(struct model *m, const struct filter *f);

/* The text with whitespace normalised outside quotes, dollar quotes and
 * comments; tokens joined by one space.  malloc'd, NULL on ENOMEM. */
char *filter_normalize_sql(const char *text);

/* The --ignore groups, for `schemadrift kinds`: NULL-terminated. */
extern const char *const filter_groups[];

#endif
