/* Crash-safe file writes and whole-file reads. */
#include "fileio.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void atomic_done(struct fileio_atomic *f)
{
	free(f->path);
	free(f->tmp_path);
	f->path = f->tmp_path = NULL;
	f->stream = NULL;
}

int fileio_atomic_open(struct fileio_atomic *f, const char *path, struct error *err)
{
	int fd;

	memset(f, 0, sizeof(*f));
	if (strcmp(path, "-") == 0) {
		f->stream = stdout;
		return 0;
	}
	f->path = strdup(path);
	if (!f->path || asprintf(&f->tmp_path, "%s.tmp.XXXXXX", path) < 0) {
		f->tmp_path = NULL;
		atomic_done(f);
		return error_set(err, -ENOMEM, "%s: out of memory", path);
	}
	fd = mkstemp(f->tmp_path);
	if (fd < 0) {
		int e = errno;
		atomic_done(f);
		return error_set(err, -e, "%s: cannot create temporary file: %s", path, strerror(e));
	}
	/* mkstemp() makes the file 0600; give it the mode a plain fopen() would. */
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0) {
		int e = errno;
		close(fd);
		unlink(f->tmp_path);
		atomic_done(f);
		return error_set(err, -e, "%s: %s", path, strerror(e));
	}
	f->stream = fdopen(fd, "w");
	if (!f->stream) {
		int e = errno;
		close(fd);
		fileio_atomic_abort(f);
		return error_set(err, -e, "%s: %s", path, strerror(e));
	}
	return 0;
}

void fileio_atomic_abort(struct fileio_atomic *f)
{
	if (f->tmp_path) {
		if (f->stream)
			fclose(f->stream);
		unlink(f->tmp_path);
	}
	atomic_done(f);
}

static int fsync_dir_of(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd, r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return r;
}

int fileio_atomic_commit(struct fileio_atomic *f, struct error *err)
{
	int r = 0;

	if (!f->tmp_path) { /* stdout */
		if (fflush(f->stream) == EOF)
			r = error_set(err, -errno, "cannot write to standard output: %s",
				      strerror(errno));
		atomic_done(f);
		return r;
	}
	if (fflush(f->stream) == EOF || fsync(fileno(f->stream)) < 0)
		r = -errno;
	if (fclose(f->stream) == EOF && r == 0)
		r = -errno;
	f->stream = NULL;
	if (r == 0 && rename(f->tmp_path, f->path) < 0)
		r = -errno;
	if (r < 0) {
		error_set(err, r, "%s: %s", f->path, strerror(-r));
		unlink(f->tmp_path);
		atomic_done(f);
		return r;
	}
	r = fsync_dir_of(f->path);
	if (r < 0)
		error_set(err, r, "%s: cannot sync directory: %s", f->path, strerror(-r));
	atomic_done(f);
	return r;
}

int fileio_read_all(const char *path, char **ret, size_t *ret_len, struct error *err)
{
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 1 << 16;
	char *buf;

	if (fd < 0)
		return error_set(err, -errno, "%s: %s", path, strerror(errno));
	buf = malloc(cap);
	while (buf) {
		if (len + 1 == cap) {
			char *p = realloc(buf, cap * 2);
			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			if (!is_stdin)
				close(fd);
			return error_set(err, -e, "%s: %s", path, strerror(e));
		}
		if (n == 0) {
			buf[len] = '\0';
			if (!is_stdin)
				close(fd);
			*ret = buf;
			*ret_len = len;
			return 0;
		}
		len += (size_t)n;
	}
	free(buf);
	if (!is_stdin)
		close(fd);
	return error_set(err, -ENOMEM, "%s: out of memory", path);
}
