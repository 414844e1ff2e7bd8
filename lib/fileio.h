/* Crash-safe file writes (temp + fsync + rename + fsync dir) and whole-file reads. */
#ifndef SCHEMADRIFT_FILEIO_H
#define SCHEMADRIFT_FILEIO_H

#include <stdio.h>

#include "error.h"

struct fileio_atomic {
	FILE *stream;
	char *path;
	char *tmp_path;
};

/* Opens a temp file beside path ("-" means stdout, written directly). */
int fileio_atomic_open(struct fileio_atomic *f, const char *path, struct error *err);
/* Flushes, fsyncs, renames over path, fsyncs the directory; frees f's contents. */
int fileio_atomic_commit(struct fileio_atomic *f, struct error *err);
/* Removes the temp file; path is untouched.  Frees f's contents. */
void fileio_atomic_abort(struct fileio_atomic *f);

/* Reads a whole file ("-" is stdin) into a NUL-terminated malloc'd buffer. */
int fileio_read_all(const char *path, char **ret, size_t *ret_len, struct error *err);

#endif
