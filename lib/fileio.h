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

/* Writes len bytes to path atomically (fileio_atomic_*); errors keep the errno (ENOSPC). */
int fileio_write_atomic(const char *path, const void *buf, size_t len, struct error *err);

/*
 * Appends one record (len bytes ending in '\n') to a file of '\n'-terminated
 * records, creating it if needed, and fdatasyncs it (and its directory when it
 * was created).  A final record without its '\n' is an append that never
 * completed (its writer died inside write()) and is cut off first.  On
 * failure nothing of this record stays in the file.  The caller must keep
 * other appenders out (a lock); concurrent readers see whole records or a
 * partial last one, never a rewritten middle.
 */
int fileio_append_line(const char *path, const char *line, size_t len, struct error *err);
/* The same without the fdatasync: for records whose loss in a crash costs
 * nothing (the record can be told again), written often. */
int fileio_append_line_unsynced(const char *path, const char *line, size_t len,
				struct error *err);

/* fsyncs a directory, so renames and unlinks in it survive a crash. */
int fileio_sync_dir(const char *dir, struct error *err);

#endif
