/* Fault injection for the tests: an LD_PRELOAD shim that fails open, write, fsync or rename with EIO or ENOSPC at the Nth call. */
/*
 * SCHEMADRIFT_FAULT="CALL:N:ERRNO[:SUBSTRING]"
 *   CALL       open (open, openat), write, fsync (fsync, fdatasync) or rename
 *              (rename, renameat)
 *   N          fail the Nth matching call (1-based); 0 fails every one
 *   ERRNO      EIO or ENOSPC
 *   SUBSTRING  only calls on paths containing it count (for write and fsync
 *              the path of the descriptor, from /proc/self/fd)
 * SCHEMADRIFT_FAULT_SWITCH=PATH: calls count and fail only while PATH exists
 *   (a test turns a full disk on and off under a running daemon).
 * Each injected failure is reported on stderr as "faultinject: CALL PATH: ERRNO",
 * so a test can tell that it happened.
 *
 * Only direct calls are seen: glibc's stdio writes from inside libc.  That is
 * enough for our writers: fileio.c syncs and renames with direct calls, and
 * appends with write().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*sync_fn)(int);
typedef int (*rename_fn)(const char *, const char *);

static struct {
	int parsed;
	char call[16];
	long nth;
	int err;
	char sub[256];
	const char *sw;
	atomic_long seen;
} cfg;

static void parse(void)
{
	const char *spec = getenv("SCHEMADRIFT_FAULT");
	char errname[16] = "";

	cfg.parsed = 1;
	cfg.sw = getenv("SCHEMADRIFT_FAULT_SWITCH");
	if (!spec || sscanf(spec, "%15[^:]:%ld:%15[^:]:%255s", cfg.call, &cfg.nth, errname,
			    cfg.sub) < 3) {
		cfg.call[0] = '\0';
		return;
	}
	cfg.err = strcmp(errname, "ENOSPC") == 0 ? ENOSPC : EIO;
}

static int fd_path(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Whether this call (of kind call, on path) is to fail. */
static int should_fail(const char *call, const char *path)
{
	struct stat st;

	if (!cfg.parsed)
		parse();
	if (!cfg.call[0] || strcmp(cfg.call, call) != 0 || !path)
		return 0;
	if (cfg.sub[0] && !strstr(path, cfg.sub))
		return 0;
	if (cfg.sw && stat(cfg.sw, &st) < 0)
		return 0;
	long n = atomic_fetch_add(&cfg.seen, 1) + 1;
	if (cfg.nth != 0 && n != cfg.nth)
		return 0;
	char msg[600];
	int len = snprintf(msg, sizeof(msg), "faultinject: %s %s: %s\n", call, path,
			   cfg.err == ENOSPC ? "ENOSPC" : "EIO");
	if (len > 0) {
		write_fn real_write = (write_fn)dlsym(RTLD_NEXT, "write");
		(void)!real_write(2, msg, (size_t)len);
	}
	return 1;
}

static int fd_should_fail(const char *call, int fd)
{
	char path[4096];

	if (!cfg.parsed)
		parse();
	if (!cfg.call[0] || strcmp(cfg.call, call) != 0 || fd_path(fd, path, sizeof(path)) < 0)
		return 0;
	return should_fail(call, path);
}

#define REAL(name, type) static type real_##name; if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

int open(const char *path, int flags, ...)
{
	REAL(open, open_fn);
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (should_fail("open", path)) {
		errno = cfg.err;
		return -1;
	}
	return real_open(path, flags, mode);
}

int openat(int dfd, const char *path, int flags, ...)
{
	REAL(openat, openat_fn);
	mode_t mode = 0;
	char full[4096];
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (dfd != AT_FDCWD && path[0] != '/' && fd_path(dfd, full, sizeof(full) - 256) == 0) {
		size_t n = strlen(full);
		snprintf(full + n, sizeof(full) - n, "/%s", path);
	} else {
		snprintf(full, sizeof(full), "%s", path);
	}
	if (should_fail("open", full)) {
		errno = cfg.err;
		return -1;
	}
	return real_openat(dfd, path, flags, mode);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write, write_fn);
	if (fd > 2 && fd_should_fail("write", fd)) {
		errno = cfg.err;
		return -1;
	}
	return real_write(fd, buf, n);
}

int fsync(int fd)
{
	REAL(fsync, sync_fn);
	if (fd_should_fail("fsync", fd)) {
		errno = cfg.err;
		return -1;
	}
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync, sync_fn);
	if (fd_should_fail("fsync", fd)) {
		errno = cfg.err;
		return -1;
	}
	return real_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
	REAL(rename, rename_fn);
	if (should_fail("rename", to)) {
		errno = cfg.err;
		return -1;
	}
	return real_rename(from, to);
}
