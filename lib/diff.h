/* Two models -> attribute-level changes with severities; text and JSON output. */
#ifndef SCHEMADRIFT_DIFF_H
#define SCHEMADRIFT_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "model.h"

enum diff_change_type { DIFF_ADDED, DIFF_REMOVED, DIFF_MODIFIED, DIFF_RENAMED };
enum diff_severity { DIFF_INFO, DIFF_WARNING, DIFF_BREAKING };

struct diff_change {
	enum diff_change_type type;
	enum diff_severity severity;
	const struct model_object *before; /* NULL when added; the old name when renamed */
	const struct model_object *after;  /* NULL when removed; the new name when renamed */
	const char *attribute;             /* DIFF_MODIFIED only */
	const struct model_value *old_value, *new_value; /* NULL when absent */
	bool acknowledged;                 /* set by diff_acknowledge() */
	bool server_rendering;             /* in diff.rendering: two majors' renderings */
	const char *ack_reason;            /* borrowed from the caller */
	/* The DDL recorder's newest row about this change (lib/recorder.h), in
	 * the `to` model; NULL when none matched or there is no recorder. */
	const struct model_ddl_event *who;
};

/* Borrows from both models: they must outlive the diff. */
struct diff {
	struct diff_change *changes;
	size_t n_changes;
	size_t by_type[4];
	size_t by_severity[3]; /* acknowledged changes not included */
	size_t n_acknowledged;
	const struct model *from, *to;
	/*
	 * When the sides come from different PostgreSQL majors (from_major !=
	 * to_major, both known): the changes of objects whose every change is
	 * to text the server renders itself (diff_server_rendered: a view's
	 * definition, an expression), and nothing else.  Listed apart from
	 * `changes` and counted nowhere else: not drift.
	 */
	struct diff_change *rendering;
	size_t n_rendering;
	int from_major, to_major; /* from the models' server_version; 0 unknown */
	/* The `to` side's DDL recorder, NULL without one: then no change is
	 * attributed and none is reported as unattributed. */
	const struct model_recorder *recorder;
};

int diff_models(const struct model *from, const struct model *to, struct diff **ret);
void diff_free(struct diff *d);

/*
 * Marks change i as acknowledged (an accepted exception, lib/ack.h): it stays
 * listed, marked with the reason (borrowed: must outlive d), and leaves the
 * severity counts, so it neither raises the summary nor an alert.
 */
void diff_acknowledge(struct diff *d, size_t i, const char *reason);

const char *diff_type_name(enum diff_change_type t);
const char *diff_severity_name(enum diff_severity s);

/* Bytes of a statement shown in an attribution line (text, JSON's "text"). */
#define DIFF_WHO_STATEMENT_MAX 300

enum diff_text_flags {
	DIFF_TEXT_COLOR = 1 << 0,   /* the CLI asks when stdout is a TTY */
	/* Added and removed objects show their definition, and the text ends
	 * with what to do (diff_write_resolve) for target (NULL: "TARGET"). */
	DIFF_TEXT_EXPLAIN = 1 << 1,
};

/* Human text, one line per change (values that span lines as a block). */
int diff_write_text(const struct diff *d, FILE *out, unsigned flags, const char *target);

/* What resolves the drift: `schemadrift baseline accept`, `schemadrift ack`
 * per object, and the suggested SQL that reverts it.  Nothing when every
 * change is acknowledged. */
int diff_write_resolve(const struct diff *d, FILE *out, const char *target);

/* The definition of an added or removed object (lib/sql.h), or for changed
 * privileges the GRANTs and REVOKEs that made the change; *ret NULL when
 * there is none. */
int diff_change_definition(const struct diff *d, const struct diff_change *c, char **ret);

/* SQL that turns the `from` side of c into its `to` side, or back when
 * reverse (the revert of drift); *ret NULL when nothing exact is known.
 * A suggestion to review: never run by schemadrift. */
int diff_change_sql(const struct diff *d, const struct diff_change *c, bool reverse, char **ret);

/* `--format sql`: every change's statements in an order they can run (A
 * into B, or B into A when reverse), a comment line where none is known. */
int diff_write_sql(const struct diff *d, FILE *out, bool reverse);

/* "index:public.t_a_idx": the `schemadrift ack` pattern matching exactly o
 * (glob characters of its name escaped).  malloc'd. */
int diff_ack_pattern(const struct model_object *o, char **ret);
/* The same from a kind's name and an object's name (model_object_name). */
int diff_ack_pattern_of(const char *kind, const char *name, char **ret);

/* s as one shell word: as it is when plain, else in single quotes (control
 * characters as \xHH, so a command never moves a terminal's cursor). */
void diff_put_shell_word(FILE *out, const char *s);

/*
 * The lines that differ between two multi-line values (NULL: no lines), in
 * order: fn gets '-' for a line only in before, '+' for one only in after
 * (LCS-based when small, else all of before then all of after).  A negative
 * return from fn stops the walk and is returned.
 */
typedef int (*diff_line_fn)(char sign, const char *line, size_t n, void *arg);
int diff_value_lines(const char *before, const char *after, diff_line_fn fn, void *arg);

/* Documented JSON (docs/diff-format.md). New reference. */
json_t *diff_to_json(const struct diff *d, const char *from_label, const char *to_label);

#endif
