/* Error reports: a negative errno-style code plus one line of context. */
#ifndef SCHEMADRIFT_ERROR_H
#define SCHEMADRIFT_ERROR_H

#include <stddef.h>

/*
 * Convention (docs/conventions.md): fallible functions return 0 on success or
 * a negative errno-style code on failure.  Functions whose failure needs more
 * than a code to be understood (a libpq reason, a byte offset) also take a
 * `struct error *err` as their last parameter and fill it on failure.  `err`
 * may be NULL.  Library code never logs; the caller reports err->text once.
 */
struct error {
	int code;        /* negative errno-style code, 0 when clear */
	char text[1024]; /* one line, no trailing newline */
};

/* Fills err (if not NULL) and returns code, so `return error_set(...)` works. */
int error_set(struct error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to err->text, keeping the code; returns err->code. */
int error_prefix(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void error_clear(struct error *err);

#endif
