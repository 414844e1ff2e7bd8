/* The history report: one static, self-contained HTML page per target and one for the fleet. */
#ifndef SCHEMADRIFT_REPORT_H
#define SCHEMADRIFT_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "error.h"
#include "store.h"

/*
 * What a page may hold at most, so a long history stays a small file
 * (unchanged runs are aggregated into spans and bins anyway): timeline
 * rows, changes shown attribute by attribute, and rows of those.
 */
#define REPORT_MAX_ROWS 1000
#define REPORT_MAX_DETAILED 50
#define REPORT_MAX_CHANGE_ROWS 200
#define REPORT_MAX_ROWS_TOTAL 3000

struct report_options {
	const char *state_dir;  /* NULL: STORE_DEFAULT_STATE_DIR */
	struct store_central *central; /* the central store, or NULL: files under state_dir */
	const char *outbox_dir; /* dead letters; NULL: <state_dir>/outbox */
	time_t since;           /* 0: the whole history */
	time_t now;             /* 0: time(NULL); tests pass a fixed time */
	/* The fleet page links each target to TARGET.html beside it. */
	bool link_targets;
	store_warn_fn warn;     /* problems that did not stop the report */
	void *warn_data;
};

/* One target's page: timeline, changes attribute by attribute, acknowledgements, alerts. */
int report_write_target(const struct report_options *o, const char *target, FILE *out,
			struct error *err);

/* The fleet page: every target with its state, last change and how long it has drifted. */
int report_write_fleet(const struct report_options *o, FILE *out, struct error *err);

/*
 * Writes dir/TARGET.html (target NULL: dir/index.html, the fleet page,
 * linking the targets' pages) atomically (temp + fsync + rename), mode 0644.
 * Creates dir if needed.
 */
int report_write_page(const struct report_options *o, const char *dir, const char *target,
		      struct error *err);
/* Every target's page and index.html, as report_write_page(). */
int report_write_dir(const struct report_options *o, const char *dir, struct error *err);

/*
 * Writes s as HTML text: & < > " ' as entities; control characters, bytes
 * that are not UTF-8, and invisible or bidirectional formatting characters
 * (U+202E...) as visible \xHH or \uHHHH, so a hostile name is shown as
 * what it is and can neither add markup nor reorder the text around it.
 * multiline keeps newlines and tabs (for <pre>).
 */
void report_escape(FILE *out, const char *s, size_t n, bool multiline);

#endif
