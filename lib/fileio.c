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
	/* Not a regular file (/dev/null, a FIFO, a terminal): renaming over it
	 * would replace the device, so write to it directly. */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			return error_set(err, -EISDIR, "%s: is a directory", path);
		f->stream = fopen(path, "w");
		if (!f->stream)
			return error_set(err, -errno, "%s: %s", path, strerror(errno));
		f->path = strdup(path);
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
	if (f->stream && f->stream != stdout)
		fclose(f->stream);
	if (f->tmp_path)
		unlink(f->tmp_path);
	atomic_done(f);
}

/* fsync()s the directory that holds path: what makes a rename or a new file durable. */
static int fsync_dir_of(const char *path)
{
	char *dir = strdup(path), *slash;
	int r;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	r = fileio_sync_dir(dir, NULL);
	free(dir);
	return r;
}

int fileio_atomic_commit(struct fileio_atomic *f, struct error *err)
{
	int r = 0;

	if (!f->tmp_path) { /* stdout, or a device written in place */
		bool is_stdout = f->stream == stdout;
		if (fflush(f->stream) == EOF)
			r = error_set(err, -errno, "%s: %s", is_stdout ? "standard output" : f->path,
				      strerror(errno));
		if (!is_stdout && fclose(f->stream) == EOF && r == 0)
			r = error_set(err, -errno, "%s: %s", f->path, strerror(errno));
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

int fileio_write_atomic(const char *path, const void *buf, size_t len, struct error *err)
{
	struct fileio_atomic f;
	int r;

	r = fileio_atomic_open(&f, path, err);
	if (r < 0)
		return r;
	/* fwrite() keeps the errno of the failing write(2); ENOSPC must survive. */
	errno = 0;
	if (len && fwrite(buf, 1, len, f.stream) != len) {
		int e = errno ? errno : EIO;

		fileio_atomic_abort(&f);
		return error_set(err, -e, "%s: %s", path, strerror(e));
	}
	return fileio_atomic_commit(&f, err);
}

int fileio_sync_dir(const char *dir, struct error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return error_set(err, r, "%s: cannot sync directory: %s", dir, strerror(-r));
	return 0;
}

/* Cuts a final record that lacks its '\n'; returns the new size or a negative errno. */
static off_t cut_partial_record(int fd, off_t size)
{
	char buf[4096];
	off_t end = size;

	while (end > 0) {
		size_t n = end < (off_t)sizeof(buf) ? (size_t)end : sizeof(buf);
		ssize_t got = pread(fd, buf, n, end - (off_t)n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)n)
			return got < 0 ? -errno : -EIO;
		if (end == size && buf[n - 1] == '\n')
			return size; /* the common case: nothing to cut */
		for (size_t i = n; i-- > 0;)
			if (buf[i] == '\n') {
				end = end - (off_t)n + (off_t)i + 1;
				goto cut;
			}
		end -= (off_t)n;
	}
cut:
	if (ftruncate(fd, end) < 0)
		return -errno;
	return end;
}

static int append_line(const char *path, const char *line, size_t len, bool sync,
		       struct error *err);

int fileio_append_line(const char *path, const char *line, size_t len, struct error *err)
{
	return append_line(path, line, len, true, err);
}

int fileio_append_line_unsynced(const char *path, const char *line, size_t len,
				struct error *err)
{
	return append_line(path, line, len, false, err);
}

static int append_line(const char *path, const char *line, size_t len, bool sync,
		       struct error *err)
{
	struct stat st;
	bool created;
	off_t size;
	size_t done = 0;
	int fd, r = 0;

	if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		return error_set(err, -EINVAL, "%s: a record must be one line", path);
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	created = fd < 0 && errno == ENOENT;
	if (created)
		fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	size = cut_partial_record(fd, st.st_size);
	if (size < 0) {
		r = (int)size;
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, line + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (r == 0 && sync && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0) {
		/* Take back whatever part of the record did get in (ENOSPC mid-record). */
		if (ftruncate(fd, size) == 0)
			(void)fdatasync(fd);
		goto out;
	}
	if (created)
		r = fsync_dir_of(path);
out:
	close(fd);
	if (r < 0)
		return error_set(err, r, "%s: %s", path, strerror(-r));
	return 0;
}
