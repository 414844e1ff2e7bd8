/* INI configuration files: sections of key/value pairs, each remembering file:line. */
#ifndef SCHEMADRIFT_INI_H
#define SCHEMADRIFT_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * Syntax (docs/notifiers.md, "Configuration files"): `[daemon]`,
 * `[target NAME]`, `[notifier NAME]` sections; `key = value` lines; `#` or
 * `;` starts a comment only at the beginning of a line (so a password or URL
 * may hold them); a value may be "double-quoted" (\" and \\ escapes) to keep
 * surrounding blanks; no length limit on lines; `include = PATH` at top level
 * or in any section reads a file, or every *.conf in a directory in name
 * order.  NAME is 1-64 of [A-Za-z0-9_.-], not starting with '.' or '-'.  A
 * section may appear only once.  Errors are "FILE:LINE: message".
 */
struct ini_kv {
	char *key;
	char *value;
	const char *file; /* owned by struct ini (interned) */
	int line;
	/* The file holding this line was private (ini_check_private) when it
	 * was read; always true for text given to ini_parse(). */
	bool file_private;
};

struct ini_section {
	char *kind; /* "daemon", "target", "notifier" */
	char *name; /* NULL for [daemon] */
	const char *file;
	int line;
	struct ini_kv *kv;
	size_t n_kv;
};

struct ini {
	struct ini_section *sections;
	size_t n_sections;
	char **files; /* interned file names */
	size_t n_files;
};

int ini_load(const char *path, struct ini **ret, struct error *err);
/* Same, from memory; `name` is used as the file name in errors, and relative
 * includes are resolved against its directory. */
int ini_parse(const char *text, size_t len, const char *name, struct ini **ret,
	       struct error *err);
void ini_free(struct ini *c);

const struct ini_section *ini_find(const struct ini *c, const char *kind, const char *name);
/* The last value of key in s, or NULL. */
const struct ini_kv *ini_get(const struct ini_section *s, const char *key);

/*
 * A file may hold secrets when only its owner can read it (no group or
 * other permission bits), or when it is owned by root, readable by its group
 * (0640, no group write) and that group is the process's effective group
 * (root:schemadrift 0640 for a service running as group schemadrift).
 * -EACCES with the path and its mode otherwise.
 */
int ini_check_private(const char *path, struct error *err);

/*
 * Secrets: a value of the form `file:PATH` reads the first line of PATH
 * (relative to the directory of the file holding kv; PATH must pass
 * ini_check_private), `credential:NAME` reads $CREDENTIALS_DIRECTORY/NAME
 * (systemd), anything else is the value itself, which is refused (-EACCES)
 * unless kv->file_private.  The error names file:line and the key, never the
 * secret.  *ret is malloc'd; empty secrets are errors.
 */
int ini_secret(const struct ini_kv *kv, char **ret, struct error *err);
/* Wipes a secret (from ini_secret, or any string holding one), then frees it; NULL is fine. */
void ini_secret_free(char *secret);

/* kv's value as a path: relative ones are relative to the directory of the
 * file holding kv.  malloc'd; NULL on ENOMEM. */
char *ini_path(const struct ini_kv *kv);

/* Typed values.  Errors are "FILE:LINE: key 'k': ...". */
/* true/yes/on/1, false/no/off/0. */
int ini_bool(const struct ini_kv *kv, bool *ret, struct error *err);
/* A decimal integer in [min, max]. */
int ini_int(const struct ini_kv *kv, long long min, long long max, long long *ret,
	     struct error *err);
/* A duration: a number with an optional unit ms, s (the default), m, h or d,
 * e.g. "30", "1.5s", "10m"; in [min_ms, max_ms]. */
int ini_duration_ms(const struct ini_kv *kv, long long min_ms, long long max_ms,
		     long long *ret, struct error *err);

/* Fills err with "FILE:LINE: key 'k': <message>" and returns code. */
int ini_error(const struct ini_kv *kv, struct error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Fills err with "FILE:LINE: [kind name]: <message>" and returns code. */
int ini_section_error(const struct ini_section *s, struct error *err, int code,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
