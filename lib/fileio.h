/* Crash-safe file writes (temp + fsync + rename + fsync dir) and whole-file reads. */
#ifndef SCHEMADRIFT_FILEIO_H
#define SCHEMADRIFT_FILEIO_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

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

/* What fileio_read_all reads at most: a larger input is refused, never read whole. */
#define FILEIO_READ_MAX ((size_t)1 << 30)

/*
 * Reads a whole file ("-" is stdin) into a NUL-terminated malloc'd buffer.
 * Every reader here takes text: a NUL byte is refused as it arrives (with
 * its byte offset), and so is an input larger than FILEIO_READ_MAX, so
 * /dev/zero or an endless pipe fails at once instead of filling memory.
 */
int fileio_read_all(const char *path, char **ret, size_t *ret_len, struct error *err);
/* The same for a file of our own state: a symlink or anything but a regular
 * file is refused (ELOOP, EINVAL), never followed or waited on. */
int fileio_read_state(const char *path, char **ret, size_t *ret_len, struct error *err);

/*
 * The one open for files under the state, runtime and outbox directories:
 * path's directory is opened first and the file relative to it with
 * O_NOFOLLOW, so a symlink planted in place of a file is refused (ELOOP),
 * never followed.  Returns the fd or a negative errno, err filled.
 */
int fileio_open_nofollow(const char *path, int flags, mode_t mode, struct error *err);

/*
 * Opens a file that must be regular and at most max bytes (includes,
 * secrets): opened with O_NONBLOCK, so a FIFO never blocks, then refused.
 * Returns the fd (blocking again) or a negative errno, err filled.
 */
int fileio_open_regular(const char *path, size_t max, struct error *err);

/*
 * A directory that holds state must not be writable by group or others
 * (a planted symlink would redirect everything beneath it); with must_own,
 * it must belong to the effective user too (the daemon's state_dir).
 */
int fileio_check_dir(const char *path, bool must_own, struct error *err);

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
