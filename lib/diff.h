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

/* Human text; colour only when asked (the CLI asks when stdout is a TTY). */
int diff_write_text(const struct diff *d, FILE *out, bool color);
/* Documented JSON (docs/diff-format.md). New reference. */
json_t *diff_to_json(const struct diff *d, const char *from_label, const char *to_label);

#endif
