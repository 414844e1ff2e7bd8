/* The file backend of the store: the target's directory, flock, temp + fsync + rename. */
#include "store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "isotime.h"

static int file_read(struct store *s, const char *name, char **ret, size_t *ret_len,
		     struct error *err)
{
	char *path = store_local_path(s, name);
	int r = path ? fileio_read_state(path, ret, ret_len, err)
		     : error_set(err, -ENOMEM, "out of memory");

	free(path);
	return r;
}

static int file_write(struct store *s, const char *name, const void *buf, size_t len,
		      struct error *err)
{
	char *path = store_local_path(s, name);
	int r = path ? fileio_write_atomic(path, buf, len, err)
		     : error_set(err, -ENOMEM, "out of memory");

	if (r < 0)
		store_errno_named(err, r);
	free(path);
	return r;
}

static int file_append(struct store *s, const char *name, const char *line, size_t len, bool sync,
		       struct error *err);

static int file_write_audited(struct store *s, const char *name, const void *buf, size_t len,
			      const char *line, size_t line_len, struct error *err)
{
	int r = file_write(s, name, buf, len, err);

	return r < 0 ? r : file_append(s, AUDIT_FILE, line, line_len, true, err);
}

static int file_append(struct store *s, const char *name, const char *line, size_t len, bool sync,
		       struct error *err)
{
	char *path = store_local_path(s, name);
	int r;

	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	r = sync ? fileio_append_line(path, line, len, err)
		 : fileio_append_line_unsynced(path, line, len, err);
	if (r < 0)
		store_errno_named(err, r);
	free(path);
	return r;
}

static int file_exists(struct store *s, const char *name)
{
	char *path = store_local_path(s, name);
	int r = !path ? -ENOMEM : access(path, F_OK) == 0 ? 1 : errno == ENOENT ? 0 : -errno;

	free(path);
	return r;
}

static int file_remove(struct store *s, const char *name, struct error *err)
{
	char *path = store_local_path(s, name), *slash;
	int r = 0;

	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	if (unlink(path) < 0) {
		if (errno != ENOENT)
			r = error_set(err, -errno, "%s: cannot remove: %s", path, strerror(errno));
	} else if ((slash = strrchr(path, '/'))) {
		*slash = '\0';
		r = fileio_sync_dir(path, err);
	}
	free(path);
	return r;
}

static long long file_log_mark(struct store *s, const char *name)
{
	char *path = store_local_path(s, name);
	struct stat st;
	long long n = !path ? -1 : stat(path, &st) == 0 ? (long long)st.st_size : errno == ENOENT ? 0 : -1;

	free(path);
	return n;
}

static time_t file_mtime(struct store *s, const char *name)
{
	char *path = store_local_path(s, name);
	struct stat st;
	time_t t = path && stat(path, &st) == 0 ? st.st_mtime : -1;

	free(path);
	return t;
}

static int file_list(struct store *s, const char *dir, char ***ret, size_t *ret_n,
		     struct error *err)
{
	char *path = store_local_path(s, dir), **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	d = opendir(path);
	if (!d && errno != ENOENT)
		r = error_set(err, -errno, "%s: %s", path, strerror(errno));
	while (r == 0 && d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n + 2 > cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!nv) {
				r = error_set(err, -ENOMEM, "out of memory");
				break;
			}
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name))) {
			r = error_set(err, -ENOMEM, "out of memory");
			break;
		}
		v[++n] = NULL;
	}
	if (d)
		closedir(d);
	free(path);
	if (r == 0 && !v && !(v = calloc(1, sizeof(*v))))
		r = error_set(err, -ENOMEM, "out of memory");
	if (r < 0) {
		store_strv_free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/*
 * Moves (keep: hard-links) <dir>/name into <dir>/corrupt/ under its own name
 * plus the time (and a counter if that is taken).
 */
static int file_aside(struct store *s, const char *name, bool keep, char *ret_path, size_t size,
		      struct error *err)
{
	char *path = store_local_path(s, name), *cdir = store_local_path(s, CORRUPT_DIR);
	char *dst = NULL, stamp[21];
	const char *base = strrchr(name, '/');
	int r;

	base = base ? base + 1 : name;
	if (!path || !cdir) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = store_mkdir_one(cdir, err);
	if (r == 0) {
		isotime_format(store_now(s), stamp);
		for (int i = 0; i < 1000; i++) {
			struct stat st;

			free(dst);
			if ((i ? asprintf(&dst, "%s/%s.%s.%d", cdir, base, stamp, i)
			       : asprintf(&dst, "%s/%s.%s", cdir, base, stamp)) < 0) {
				dst = NULL;
				r = error_set(err, -ENOMEM, "out of memory");
				break;
			}
			if (lstat(dst, &st) < 0 && errno == ENOENT)
				break;
		}
	}
	if (r == 0 && (keep ? link(path, dst) : rename(path, dst)) < 0)
		r = error_set(err, -errno, "%s: cannot %s %s: %s", path,
			      keep ? "keep a copy in" : "move aside to", dst, strerror(errno));
	if (r == 0) {
		char *slash = strrchr(path, '/');

		fileio_sync_dir(cdir, NULL);
		*slash = '\0';
		fileio_sync_dir(path, NULL);
		if (strcmp(path, s->dir) != 0)
			fileio_sync_dir(s->dir, NULL); /* corrupt/ may be new */
		snprintf(ret_path, size, "%s", dst);
	}
out:
	free(dst);
	free(cdir);
	free(path);
	return r;
}

/* Removes temp files a dead writer left in dir (only called under the lock). */
static void remove_temp_files(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	bool any = false;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *p;

		if (!strstr(e->d_name, ".tmp."))
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) >= 0) {
			any |= unlink(p) == 0;
			free(p);
		}
	}
	closedir(d);
	if (any)
		fileio_sync_dir(dir, NULL);
}

static int file_lock(struct store *s, struct error *err)
{
	int timeout = s->opts.lock_timeout_ms > 0 ? s->opts.lock_timeout_ms
						   : STORE_DEFAULT_LOCK_TIMEOUT_MS;
	struct timespec nap = { 0, 1000000 };
	int64_t start = isotime_mono_ms();
	char *path = store_local_path(s, LOCK_FILE), *snaps = store_local_path(s, SNAPSHOT_DIR);
	int r = 0;

	if (!path || !snaps) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	s->lock_fd = fileio_open_nofollow(path, O_RDWR | O_CREAT, 0640, err);
	if (s->lock_fd < 0) {
		r = s->lock_fd;
		s->lock_fd = -1;
		goto out;
	}
	while (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			r = error_set(err, -errno, "%s: cannot lock: %s", path, strerror(errno));
			break;
		}
		if (isotime_mono_ms() - start >= timeout) {
			r = error_set(err, -ETIMEDOUT,
				      "%s: another writer held the lock for %d ms; giving up", path,
				      timeout);
			break;
		}
		nanosleep(&nap, NULL);
		/* Back off up to 20 ms: short waits are the rule (a write takes milliseconds). */
		if (nap.tv_nsec < 20000000)
			nap.tv_nsec *= 2;
	}
	if (r < 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
	} else {
		/* What a writer that died left behind. */
		remove_temp_files(s->dir);
		remove_temp_files(snaps);
	}
out:
	free(snaps);
	free(path);
	return r;
}

static void file_unlock(struct store *s)
{
	/* Closing the only descriptor of the open file description releases the flock. */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

const struct store_ops store_file_ops = {
	.read = file_read,
	.write = file_write,
	.write_audited = file_write_audited,
	.append = file_append,
	.exists = file_exists,
	.remove = file_remove,
	.log_mark = file_log_mark,
	.mtime = file_mtime,
	.list = file_list,
	.aside = file_aside,
	.lock = file_lock,
	.unlock = file_unlock,
	.needs_recovery = true,
};
