/* Per-target history store: snapshots by hash, history lines, baseline, state files, locking. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "isotime.h"
#include "snapshot.h"
#include "store_internal.h"

/* ---------------------------------------------------------------- basics */

bool store_target_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_TARGET_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

const char *store_target(const struct store *s)
{
	return s->target;
}

const char *store_dir(const struct store *s)
{
	return s->dir;
}

const char *store_where(const struct store *s)
{
	return s->where;
}

bool store_is_central(const struct store *s)
{
	return s->ops == &store_pg_ops;
}

time_t store_now(const struct store *s)
{
	return s->opts.now ? s->opts.now(s->opts.now_data) : time(NULL);
}

void store_warn(const struct store *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!s->opts.warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->opts.warn(msg, s->opts.warn_data);
}

char *store_path(const struct store *s, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", s->where, name) < 0)
		return NULL;
	return p;
}

char *store_local_path(const struct store *s, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", s->dir, name) < 0)
		return NULL;
	return p;
}

/* Adds the errno's name to a write error: "...: No space left on device (ENOSPC)". */
int store_errno_named(struct error *err, int code)
{
	const char *name = strerrorname_np(-code);
	char text[sizeof(err->text)];

	if (!err || !name || strstr(err->text, name))
		return code;
	snprintf(text, sizeof(text), "%s", err->text);
	return error_set(err, code, "%s (%s)", text, name);
}

/* Copies an error filled into a local struct error to the caller's (which may be NULL). */
static int pass_error(struct error *err, const struct error *from)
{
	if (err)
		*err = *from;
	return from->code;
}

int store_mkdir_one(const char *path, struct error *err)
{
	if (mkdir(path, 0750) == 0 || errno == EEXIST)
		return 0;
	return error_set(err, -errno, "%s: cannot create directory: %s", path, strerror(errno));
}

/* mkdir -p, syncing each parent a directory was created in.  Components
 * after the first beneath bytes (the state dir's own path, the operator's
 * choice) must be directories, never symlinks: lstat, not stat. */
int store_mkdir_parents(const char *path, size_t beneath, struct error *err)
{
	char *p = strdup(path);
	int r = 0;

	if (!p)
		return error_set(err, -ENOMEM, "out of memory");
	for (char *q = p + 1; r == 0; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char saved = *q;
		struct stat st;

		*q = '\0';
		if (((size_t)(q - p) > beneath ? lstat(p, &st) : stat(p, &st)) < 0) {
			r = store_mkdir_one(p, err);
			if (r == 0) {
				char *slash = strrchr(p, '/');

				if (slash && slash != p) {
					*slash = '\0';
					fileio_sync_dir(p, NULL);
					*slash = '/';
				}
			}
		} else if (S_ISLNK(st.st_mode)) {
			r = error_set(err, -ELOOP, "%s: is a symbolic link: refused, not followed", p);
		} else if (!S_ISDIR(st.st_mode)) {
			r = error_set(err, -ENOTDIR, "%s: not a directory", p);
		}
		*q = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	return r;
}

int store_open(const struct store_options *opts, const char *target, bool create,
	       struct store **ret, struct error *err)
{
	struct store *s;
	struct stat st;
	char *snaps = NULL;
	int r = 0;

	if (!store_target_valid(target))
		return error_set(err, -EINVAL,
				 "invalid target name '%s' (letters, digits, '_', '.', '-'; "
				 "at most %d bytes, starting with a letter or digit)",
				 target, STORE_TARGET_MAX);
	s = calloc(1, sizeof(*s));
	if (!s)
		return error_set(err, -ENOMEM, "out of memory");
	if (opts)
		s->opts = *opts;
	s->lock_fd = -1;
	s->state_dir = strdup(s->opts.state_dir ? s->opts.state_dir : STORE_DEFAULT_STATE_DIR);
	s->target = strdup(target);
	if (!s->state_dir || !s->target ||
	    asprintf(&s->dir, "%s/targets/%s", s->state_dir, target) < 0) {
		s->dir = NULL;
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	s->opts.state_dir = s->state_dir;
	s->ops = s->opts.central ? &store_pg_ops : &store_file_ops;
	if (s->opts.central) {
		r = store_pg_open(s, create, err);
		goto out;
	}
	if (!(s->where = strdup(s->dir))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (create) {
		snaps = store_path(s, SNAPSHOT_DIR);
		if (!snaps)
			r = error_set(err, -ENOMEM, "out of memory");
		else if ((r = store_mkdir_parents(s->state_dir, strlen(s->state_dir), err)) == 0 &&
			 (r = fileio_check_dir(s->state_dir, false, err)) == 0)
			r = store_mkdir_parents(snaps, strlen(s->state_dir), err);
	} else if ((r = fileio_check_dir(s->state_dir, false, err)) < 0) {
		if (r == -ENOENT)
			r = error_set(err, -ENOENT, "no store for target '%s' in %s", target,
				      s->state_dir);
	} else {
		/* targets/ and targets/NAME/: real directories, never symlinks. */
		char *slash = strrchr(s->dir, '/');

		for (int i = 0; i < 2 && r == 0; i++) {
			if (i == 0)
				*slash = '\0';
			if (lstat(s->dir, &st) < 0)
				r = errno == ENOENT
					    ? error_set(err, -ENOENT, "no store for target '%s' in %s",
							target, s->state_dir)
					    : error_set(err, -errno, "%s: %s", s->dir, strerror(errno));
			else if (!S_ISDIR(st.st_mode))
				r = error_set(err, S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR,
					      "%s: %s: refused", s->dir,
					      S_ISLNK(st.st_mode) ? "is a symbolic link"
								  : "not a directory");
			*slash = '/';
		}
	}
out:
	free(snaps);
	if (r < 0) {
		store_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	while (s->lock_depth > 0)
		store_unlock(s);
	if (s->ops && s->ops->close)
		s->ops->close(s);
	free(s->state_dir);
	free(s->target);
	free(s->dir);
	free(s->where);
	free(s);
}

static int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void store_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int store_list_targets(const struct store_options *opts, char ***ret, size_t *ret_n,
		       struct error *err)
{
	const char *state = opts && opts->state_dir ? opts->state_dir : STORE_DEFAULT_STATE_DIR;
	char *dir = NULL, **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (opts && opts->central)
		return store_pg_list_targets(opts->central, ret, ret_n, err);

	if (asprintf(&dir, "%s/targets", state) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT) {
			r = error_set(err, -errno, "%s: %s", dir, strerror(errno));
			free(dir);
			return r;
		}
	}
	while (d && (e = readdir(d))) {
		if (!store_target_valid(e->d_name))
			continue;
		if (n + 2 > cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name))) {
			r = -ENOMEM;
			break;
		}
		v[++n] = NULL;
	}
	if (d)
		closedir(d);
	free(dir);
	if (r == 0 && !v && !(v = calloc(1, sizeof(*v))))
		r = -ENOMEM;
	if (r < 0) {
		store_strv_free(v);
		return error_set(err, r, "out of memory");
	}
	qsort(v, n, sizeof(*v), strv_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------------ time */

static bool take_digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

int store_parse_time(const char *s, time_t *ret, bool *ret_date_only)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	bool date_only = true;
	const char *p = s;
	time_t t;

	if (!take_digits(&p, 4, &y) || *p++ != '-' || !take_digits(&p, 2, &mo) || *p++ != '-' ||
	    !take_digits(&p, 2, &d))
		return -EINVAL;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		date_only = false;
		if (!take_digits(&p, 2, &h) || *p++ != ':' || !take_digits(&p, 2, &mi))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (!take_digits(&p, 2, &sec))
				return -EINVAL;
			if (*p == '.' || *p == ',') { /* fractions of a second: ignored */
				p++;
				if (*p < '0' || *p > '9')
					return -EINVAL;
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;

			if (!take_digits(&p, 2, &oh))
				return -EINVAL;
			if (*p == ':')
				p++;
			if (*p && !take_digits(&p, 2, &om))
				return -EINVAL;
			if (oh > 23 || om > 59)
				return -EINVAL;
			off = sign * (oh * 3600 + om * 60);
		}
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d) /* timegm normalises 02-30 to March */
		return -EINVAL;
	*ret = t - off;
	if (ret_date_only)
		*ret_date_only = date_only;
	return 0;
}

/* ------------------------------------------------------------------ JSON */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *store_json_string_dup(const json_t *j)
{
	const char *hex;
	size_t n;
	char *s;

	if (json_is_string(j))
		return strdup(json_string_value(j));
	if (!json_is_object(j) || json_object_size(j) != 1 ||
	    !(hex = json_string_value(json_object_get(j, "hex"))))
		return NULL;
	n = strlen(hex);
	if (n % 2)
		return NULL;
	s = malloc(n / 2 + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		int a = hexval(hex[2 * i]), b = hexval(hex[2 * i + 1]);

		if (a < 0 || b < 0 || (a == 0 && b == 0)) {
			free(s);
			return NULL;
		}
		s[i] = (char)(a * 16 + b);
	}
	s[n / 2] = '\0';
	return s;
}

bool store_is_hex_hash(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (hexval(s[i]) < 0)
			return false;
	return true;
}

/* The time in a JSON field, or -1. */
time_t store_json_time(const json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	time_t t;

	if (!v || store_parse_time(v, &t, NULL) < 0)
		return -1;
	return t;
}

static int json_set_time(json_t *obj, const char *key, time_t t)
{
	char buf[21];

	isotime_format(t, buf);
	return json_object_set_new(obj, key, json_string(buf));
}

/* ------------------------------------------------------- corrupt files */

/* Whether a snapshot was moved to corrupt/ (damaged): its name there, in buf. */
static bool moved_aside(struct store *s, const char *hash, char *buf, size_t size)
{
	char prefix[80], **names = NULL;
	size_t n = 0;
	bool found = false;

	snprintf(prefix, sizeof(prefix), "%s.json.", hash);
	if (s->ops->list(s, CORRUPT_DIR, &names, &n, NULL) < 0)
		return false;
	for (size_t i = 0; !found && i < n; i++)
		if (strncmp(names[i], prefix, strlen(prefix)) == 0) {
			snprintf(buf, size, "%s/%s", CORRUPT_DIR, names[i]);
			found = true;
		}
	store_strv_free(names);
	return found;
}

/* ----------------------------------------------------------------- audit */

static int random_id(char *out, size_t hexlen)
{
	unsigned char b[16];

	if (hexlen / 2 > sizeof(b) || getrandom(b, hexlen / 2, 0) != (ssize_t)(hexlen / 2))
		return -EIO;
	for (size_t i = 0; i < hexlen / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int append_json_line_sync(struct store *s, const char *name, json_t *j, bool sync,
				 struct error *err)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER), *line = NULL;
	int r;

	if (text && asprintf(&line, "%s\n", text) >= 0)
		r = s->ops->append(s, name, line, strlen(line), sync, err);
	else
		line = NULL, r = error_set(err, -ENOMEM, "out of memory");
	free(line);
	free(text);
	return r;
}

static int append_json_line(struct store *s, const char *name, json_t *j, struct error *err)
{
	return append_json_line_sync(s, name, j, true, err);
}

/* Reads a file of JSON lines; calls fn for each complete line that parses. */
int store_read_json_lines(struct store *s, const char *name,
			  int (*fn)(json_t *j, size_t line_no, void *data), void *data,
			  size_t *ret_bad, size_t *ret_lines, struct error *err)
{
	char *path = store_path(s, name), *buf = NULL;
	size_t len = 0, bad = 0, line_no = 0;
	int r;

	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	r = s->ops->read(s, name, &buf, &len, err);
	if (r == -ENOENT) {
		error_clear(err);
		if (ret_bad)
			*ret_bad = 0;
		if (ret_lines)
			*ret_lines = 0;
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	for (size_t pos = 0; pos < len;) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		json_error_t jerr;
		json_t *j;

		/* A last line without '\n' is an append in progress (or one that died). */
		if (!nl)
			break;
		line_no++;
		j = json_loadb(buf + pos, (size_t)(nl - buf - pos), 0, &jerr);
		if (!json_is_object(j)) {
			bad++;
			store_warn(s, "%s:%zu: not a valid record (%s); ignored", path, line_no,
				   j ? "not an object" : jerr.text);
		} else {
			r = fn(j, line_no, data);
		}
		json_decref(j);
		if (r < 0)
			break;
		pos = (size_t)(nl - buf) + 1;
	}
	if (ret_bad)
		*ret_bad = bad;
	if (ret_lines)
		*ret_lines = line_no;
out:
	free(buf);
	free(path);
	return r;
}

/* Parses a state file; -ENOENT, -EBADMSG (with the reason in err) or 0. */
static int read_state_raw(struct store *s, const char *name, json_t **ret, struct error *err)
{
	char *buf = NULL, *path;
	size_t len = 0;
	json_error_t jerr;
	json_t *j;
	int r = s->ops->read(s, name, &buf, &len, err);

	if (r == -ENOENT)
		error_clear(err);
	if (r < 0)
		return r;
	j = json_loadb(buf, len, 0, &jerr);
	free(buf);
	path = store_path(s, name);
	if (!path) {
		json_decref(j);
		return error_set(err, -ENOMEM, "out of memory");
	}
	if (!j)
		r = error_set(err, -EBADMSG, "%s: line %d: %s", path, jerr.line, jerr.text);
	else if (!json_is_object(j) || !json_is_integer(json_object_get(j, "version")))
		r = error_set(err, -EBADMSG, "%s: not a schemadrift state file", path);
	free(path);
	if (r < 0) {
		json_decref(j);
		return r;
	}
	*ret = j;
	return 0;
}

/* A baseline state file is usable when it names a hash and a time. */
static bool baseline_json_valid(const json_t *j)
{
	return store_is_hex_hash(json_string_value(json_object_get(j, "hash"))) &&
	       store_json_time(j, "accepted_at") >= 0;
}

int store_quarantine(struct store *s, const char *name, char *ret_path, size_t size,
		     struct error *err)
{
	int r = store_lock(s, err);

	if (r == 0) {
		r = s->ops->aside(s, name, false, ret_path, size, err);
		store_unlock(s);
	}
	return r;
}

static int quarantine_and_warn(struct store *s, const char *name, const char *why,
			       struct error *err)
{
	char moved[PATH_MAX + 64];
	int r = s->ops->aside(s, name, false, moved, sizeof(moved), err);

	if (r == 0)
		store_warn(s, "%s; moved to %s", why, moved);
	return r;
}

/*
 * Runs when the lock is first taken: whatever a writer that died left
 * half-done is finished before anyone writes again (the file backend: a
 * state file written whose audit line never made it).
 */
static int recover_locked(struct store *s, struct error *err)
{
	static const char *const states[] = { BASELINE_FILE, "acks.json" };
	json_t *audit = NULL;
	bool have_baseline = false;
	int r;

	r = store_audit_load(s, &audit, err);
	for (size_t i = 0; r == 0 && i < sizeof(states) / sizeof(states[0]); i++) {
		struct error perr = { 0 };
		json_t *st = NULL, *entry;
		const char *id;

		r = read_state_raw(s, states[i], &st, &perr);
		if (r == 0 && i == 0 && !baseline_json_valid(st)) {
			char *path = store_path(s, states[i]);

			json_decref(st);
			st = NULL;
			r = error_set(&perr, -EBADMSG, "%s: no valid hash and time",
				      path ? path : states[i]);
			free(path);
		}
		if (r == -EBADMSG)
			r = quarantine_and_warn(s, states[i], perr.text, err);
		else if (r == -ENOENT)
			r = 0;
		else if (r < 0)
			pass_error(err, &perr);
		entry = st ? json_object_get(st, "audit") : NULL;
		id = json_string_value(json_object_get(entry, "id"));
		if (r == 0 && id && !store_audit_has_id(audit, id)) {
			/* The state changed but its audit line never made it: add it now. */
			json_t *copy = json_deep_copy(entry);

			if (!copy || json_object_set_new(copy, "recovered", json_true()) < 0)
				r = error_set(err, -ENOMEM, "out of memory");
			else
				r = append_json_line(s, AUDIT_FILE, copy, err);
			if (r == 0 && json_array_append(audit, copy) < 0)
				r = error_set(err, -ENOMEM, "out of memory");
			json_decref(copy);
		}
		if (i == 0 && st)
			have_baseline = true;
		json_decref(st);
	}
	if (r == 0 && !have_baseline)
		r = store_audit_restore_baseline(s, audit, err);
	json_decref(audit);
	return r;
}

int store_lock(struct store *s, struct error *err)
{
	int r;

	if (s->lock_depth > 0) {
		s->lock_depth++;
		return 0;
	}
	if ((r = s->ops->lock(s, err)) < 0)
		return r;
	s->lock_depth = 1;
	if (s->ops->needs_recovery && (r = recover_locked(s, err)) < 0) {
		store_unlock(s);
		return r;
	}
	return 0;
}

void store_unlock(struct store *s)
{
	if (s->lock_depth == 0 || --s->lock_depth > 0)
		return;
	s->ops->unlock(s);
}

int store_read_state(struct store *s, const char *name, json_t **ret, struct error *err)
{
	json_t *j = NULL;
	int r;

	r = read_state_raw(s, name, &j, err);
	if (r == -EBADMSG) {
		/* Under the lock: a writer may have replaced it, or recovery restores it. */
		struct error why;

		r = store_lock(s, err);
		if (r == 0) {
			r = read_state_raw(s, name, &j, &why);
			if (r == -EBADMSG) {
				int q = quarantine_and_warn(s, name, why.text, err);

				r = q < 0 ? q : error_set(err, -EBADMSG, "%s", why.text);
			} else if (r < 0 && r != -ENOENT) {
				pass_error(err, &why);
			}
			store_unlock(s);
		}
	}
	if (r < 0)
		return r;
	*ret = j;
	return 0;
}

int store_write_state(struct store *s, const char *name, json_t *state, json_t *audit,
		      struct error *err)
{
	char *text = NULL, *line = NULL, *nl = NULL, id[17];
	json_t *st = NULL, *au = NULL;
	int r = -ENOMEM;

	if (random_id(id, 16) < 0)
		goto oom;
	au = json_object();
	if (!au || json_object_set_new(au, "id", json_string(id)) < 0 ||
	    json_set_time(au, "time", store_now(s)) < 0 ||
	    json_object_set_new(au, "target", json_string(s->target)) < 0 ||
	    json_object_update(au, audit) < 0)
		goto oom;
	st = json_deep_copy(state);
	if (!st || json_object_set(st, "audit", au) < 0)
		goto oom;
	text = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		goto oom;
	line = json_dumps(au, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!line || !(nl = malloc(strlen(line) + 2)))
		goto oom;
	memcpy(nl, line, strlen(line));
	memcpy(nl + strlen(line), "\n", 2);
	r = s->ops->write_audited(s, name, text, strlen(text), nl, strlen(nl), err);
	goto out;
oom:
	r = error_set(err, -ENOMEM, "out of memory");
out:
	free(nl);
	free(line);
	free(text);
	json_decref(st);
	json_decref(au);
	return r;
}

int store_file_get(struct store *s, const char *name, char **ret, size_t *ret_len,
		   struct error *err)
{
	int r = s->ops->read(s, name, ret, ret_len, err);

	if (r == -ENOENT)
		error_clear(err);
	return r;
}

int store_file_put(struct store *s, const char *name, const char *buf, size_t len,
		   struct error *err)
{
	return s->ops->write(s, name, buf, len, err);
}

/* --------------------------------------------------------------- history */

#define N_TYPES (sizeof(((struct store_summary *)0)->by_type) / sizeof(size_t))
_Static_assert(sizeof(((struct store_summary *)0)->by_type) ==
		       sizeof(((struct diff *)0)->by_type),
	       "store_summary.by_type must match diff.by_type");
static const char *const severity_keys[] = { "info", "warning", "breaking" };

static int run_from_json(json_t *j, struct store_run *r)
{
	const char *outcome = json_string_value(json_object_get(j, "outcome"));
	const char *hash = json_string_value(json_object_get(j, "hash"));
	json_t *v;

	memset(r, 0, sizeof(*r));
	r->time = store_json_time(j, "time");
	if (r->time < 0 || !outcome)
		return -EBADMSG;
	if (strcmp(outcome, "ok") == 0) {
		r->outcome = STORE_RUN_OK;
		if (!store_is_hex_hash(hash))
			return -EBADMSG;
		memcpy(r->hash, hash, 65);
	} else if (strcmp(outcome, "error") == 0) {
		r->outcome = STORE_RUN_ERROR;
	} else {
		return -EBADMSG;
	}
	r->duration_ms = json_integer_value(json_object_get(j, "duration_ms"));
	r->objects = (size_t)json_integer_value(json_object_get(j, "objects"));
	r->new_snapshot = json_is_true(json_object_get(j, "new"));
	hash = json_string_value(json_object_get(j, "from"));
	if (store_is_hex_hash(hash))
		memcpy(r->from, hash, 65);
	v = json_object_get(j, "changes");
	if (json_is_object(v)) {
		r->summary.known = true;
		r->summary.changes = (size_t)json_integer_value(json_object_get(v, "total"));
		for (size_t i = 0; i < N_TYPES; i++)
			r->summary.by_type[i] = (size_t)json_integer_value(
				json_object_get(v, diff_type_name((enum diff_change_type)i)));
		for (int i = 0; i < 3; i++)
			r->summary.by_severity[i] =
				(size_t)json_integer_value(json_object_get(v, severity_keys[i]));
	}
	v = json_object_get(j, "error");
	if (v && !json_is_null(v)) {
		r->error = store_json_string_dup(v);
		if (!r->error)
			return -ENOMEM;
	}
	return 0;
}

static json_t *run_to_json(const struct store_run *r)
{
	json_t *j = json_object(), *c;
	int e = 0;

	if (!j)
		return NULL;
	e |= json_set_time(j, "time", r->time);
	e |= json_object_set_new(j, "outcome",
				 json_string(r->outcome == STORE_RUN_OK ? "ok" : "error"));
	if (r->outcome == STORE_RUN_OK)
		e |= json_object_set_new(j, "hash", json_string(r->hash));
	e |= json_object_set_new(j, "duration_ms", json_integer(r->duration_ms));
	if (r->outcome == STORE_RUN_OK) {
		e |= json_object_set_new(j, "objects", json_integer((json_int_t)r->objects));
		e |= json_object_set_new(j, "new", json_boolean(r->new_snapshot));
	}
	if (r->from[0])
		e |= json_object_set_new(j, "from", json_string(r->from));
	if (r->from[0] && r->summary.known) {
		c = json_object();
		e |= json_object_set_new(j, "changes", c);
		e |= json_object_set_new(c, "total", json_integer((json_int_t)r->summary.changes));
		for (size_t i = 0; i < N_TYPES; i++)
			e |= json_object_set_new(c, diff_type_name((enum diff_change_type)i),
						 json_integer((json_int_t)r->summary.by_type[i]));
		for (int i = 2; i >= 0; i--)
			e |= json_object_set_new(c, severity_keys[i],
						 json_integer((json_int_t)r->summary.by_severity[i]));
	}
	if (r->error)
		e |= json_object_set_new(j, "error", snapshot_string_json(r->error));
	if (e) {
		json_decref(j);
		return NULL;
	}
	return j;
}

void store_run_done(struct store_run *r)
{
	if (!r)
		return;
	free(r->error);
	r->error = NULL;
}

void store_history_free(struct store_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		store_run_done(&h->runs[i]);
	free(h->runs);
	free(h);
}

struct history_load {
	struct store *s;
	struct store_history *h;
	size_t cap;
	size_t *lines; /* the file line of each run, for trimming */
};

static int history_push(struct history_load *l, const struct store_run *run, size_t line_no)
{
	struct store_history *h = l->h;

	if (h->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct store_run *nr = realloc(h->runs, ncap * sizeof(*nr));
		size_t *nl;

		if (!nr)
			return -ENOMEM;
		h->runs = nr;
		nl = realloc(l->lines, ncap * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		l->lines = nl;
		l->cap = ncap;
	}
	h->runs[h->n] = *run;
	l->lines[h->n++] = line_no;
	return 0;
}

static int collect_run(json_t *j, size_t line_no, void *data)
{
	struct history_load *l = data;
	struct store_run run;
	int r = run_from_json(j, &run);

	if (r == -EBADMSG) {
		store_run_done(&run);
		l->h->bad_lines++;
		store_warn(l->s, "%s/%s:%zu: not a history record; ignored", l->s->dir, HISTORY_FILE,
			   line_no);
		return 0;
	}
	if (r == 0)
		r = history_push(l, &run, line_no);
	if (r < 0)
		store_run_done(&run);
	return r;
}

/* Also returns each run's line number in the file and how many complete lines it has. */
int store_history_load_lines(struct store *s, struct store_history **ret, size_t **ret_lines,
			     size_t *ret_total, struct error *err)
{
	struct history_load l = { s, calloc(1, sizeof(struct store_history)), 0, NULL };
	size_t bad = 0, total = 0;
	int r;

	if (!l.h)
		return error_set(err, -ENOMEM, "out of memory");
	r = store_read_json_lines(s, HISTORY_FILE, collect_run, &l, &bad, &total, err);
	if (r < 0) {
		store_history_free(l.h);
		free(l.lines);
		return r == -ENOMEM ? error_set(err, r, "out of memory") : r;
	}
	l.h->bad_lines += bad; /* not JSON; collect_run counted JSON that is not a run */
	if (ret_total)
		*ret_total = total;
	*ret = l.h;
	if (ret_lines)
		*ret_lines = l.lines;
	else
		free(l.lines);
	return 0;
}

int store_history_load(struct store *s, struct store_history **ret, struct error *err)
{
	return store_history_load_lines(s, ret, NULL, NULL, err);
}

const struct store_run *store_history_latest(const struct store_history *h)
{
	for (size_t i = h->n; i-- > 0;)
		if (h->runs[i].outcome == STORE_RUN_OK)
			return &h->runs[i];
	return NULL;
}

/* ------------------------------------------------------------- snapshots */

char *store_snapshot_path(const struct store *s, const char *hash)
{
	char *p;

	if (asprintf(&p, "%s/%s/%s.json", s->where, SNAPSHOT_DIR, hash) < 0)
		return NULL;
	return p;
}

/* "snapshots/<hash>.json": the snapshot's name for the backend. */
static void snapshot_name(const char *hash, char buf[128])
{
	snprintf(buf, 128, "%s/%.64s.json", SNAPSHOT_DIR, hash);
}

bool store_snapshot_exists(const struct store *s, const char *hash)
{
	char name[128];

	snapshot_name(hash, name);
	return s->ops->exists((struct store *)s, name) == 1;
}

int store_load_snapshot(struct store *s, const char *hash, struct model **ret, struct error *err)
{
	char *path = store_snapshot_path(s, hash), hex[65], name[128];
	struct model *m = NULL;
	struct error why = { 0 };
	int r;

	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	snapshot_name(hash, name);
	if (s->ops == &store_file_ops) {
		r = snapshot_load(path, &m, &why); /* streamed from the file */
	} else {
		char *buf = NULL;
		size_t len = 0;

		r = s->ops->read(s, name, &buf, &len, &why);
		if (r == 0)
			r = snapshot_parse(buf, len, path, &m, &why);
		free(buf);
	}
	if (r == 0) {
		snapshot_hash_hex(m->hash, hex);
		if (strcmp(hex, hash) != 0) {
			model_free(m);
			m = NULL;
			r = error_set(&why, -EBADMSG, "%s: holds snapshot %s, not the one its name says",
				      path, hex);
		}
	}
	if (r == -EBADMSG) {
		int q = store_lock(s, err);

		if (q == 0) {
			/* Someone may have moved it already; only move what is still there. */
			if (s->ops->exists(s, name) == 1)
				q = quarantine_and_warn(s, name, why.text, err);
			store_unlock(s);
		}
		r = q < 0 ? q : error_set(err, -EBADMSG, "%s", why.text);
	} else if (r == -ENOENT) {
		r = error_set(err, r, "snapshot %.12s of target %s is not stored (%s)", hash,
			      s->target, path);
	} else if (r < 0) {
		pass_error(err, &why);
	}
	free(path);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

/* Writes the snapshot file for a model whose hash is new. */
static int save_snapshot(struct store *s, struct model *m, const char *hash, struct error *err)
{
	char *buf = NULL, name[128];
	size_t len = 0;
	FILE *f;
	int r;

	snapshot_name(hash, name);
	/* In memory first: snapshot_write() reports stdio failures as EIO, and a full
	 * disk must be reported as ENOSPC with the file's path. */
	f = open_memstream(&buf, &len);
	if (!f)
		return error_set(err, -ENOMEM, "out of memory");
	r = snapshot_write(m, f, err);
	if (fclose(f) != 0 && r == 0)
		r = error_set(err, -ENOMEM, "out of memory");
	if (r == 0)
		r = s->ops->write(s, name, buf, len, err);
	free(buf);
	return r;
}

/* Names of stored snapshots (64 hex digits), malloc'd array. */
int store_list_snapshots(struct store *s, char (**ret)[65], size_t *ret_n, struct error *err)
{
	char **names = NULL, (*v)[65] = NULL;
	size_t n = 0, k = 0;
	int r = s->ops->list(s, SNAPSHOT_DIR, &names, &n, err);

	if (r < 0)
		return r;
	if (n && !(v = malloc(n * sizeof(*v)))) {
		store_strv_free(names);
		return error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (strlen(names[i]) != 69 || strcmp(names[i] + 64, ".json") != 0)
			continue;
		memcpy(v[k], names[i], 64);
		v[k][64] = '\0';
		if (store_is_hex_hash(v[k]))
			k++;
	}
	store_strv_free(names);
	if (k == 0) {
		free(v);
		v = NULL;
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

int store_resolve(struct store *s, const char *ref, char ret_hash[65], struct error *err)
{
	struct store_history *h = NULL;
	time_t t;
	int r;

	if (strcmp(ref, "baseline") == 0) {
		struct store_baseline b;

		r = store_baseline_get(s, &b, err);
		if (r == -ENOENT)
			return error_set(err, r, "target %s has no baseline", s->target);
		if (r < 0)
			return r;
		memcpy(ret_hash, b.hash, 65);
		store_baseline_done(&b);
		return 0;
	}
	if (strcmp(ref, "latest") == 0 || store_parse_time(ref, &t, NULL) == 0) {
		const struct store_run *found = NULL;
		bool latest = ref[0] == 'l';

		r = store_history_load(s, &h, err);
		if (r < 0)
			return r;
		if (latest) {
			found = store_history_latest(h);
		} else {
			for (size_t i = 0; i < h->n; i++)
				if (h->runs[i].outcome == STORE_RUN_OK && h->runs[i].time <= t)
					found = &h->runs[i];
		}
		if (!found) {
			const struct store_run *first = NULL;
			char when[21];

			for (size_t i = 0; !first && i < h->n; i++)
				if (h->runs[i].outcome == STORE_RUN_OK)
					first = &h->runs[i];
			if (first)
				isotime_format(first->time, when);
			r = latest ? error_set(err, -ENOENT, "target %s has no successful run yet",
					       s->target)
			    : first ? error_set(err, -ENOENT,
						"target %s has no snapshot at or before %s (its "
						"history starts at %s)",
						s->target, ref, when)
				    : error_set(err, -ENOENT, "target %s has no successful run yet",
						s->target);
		} else if (!store_snapshot_exists(s, found->hash)) {
			char when[21], aside[256];

			isotime_format(found->time, when);
			if (moved_aside(s, found->hash, aside, sizeof(aside)))
				r = error_set(err, -ENOENT,
					      "snapshot %.12s of target %s (seen at %s) was damaged "
					      "and moved aside to %s",
					      found->hash, s->target, when, aside);
			else
				r = error_set(err, -ENOENT,
					      "snapshot %.12s of target %s (seen at %s) is no longer "
					      "stored; retention removed it",
					      found->hash, s->target, when);
		} else {
			memcpy(ret_hash, found->hash, 65);
			r = 0;
		}
		store_history_free(h);
		return r;
	}
	size_t len = strlen(ref), n = 0, matches = 0;
	char (*names)[65] = NULL;
	const char *match = NULL;

	if (len < 4 || len > 64 || strspn(ref, "0123456789abcdef") != len)
		return error_set(err, -EINVAL,
				 "'%s': not a reference (baseline, latest, an ISO 8601 time such as "
				 "2026-11-20T06:00, or at least 4 hex digits of a hash)",
				 ref);
	r = store_list_snapshots(s, &names, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (strncmp(names[i], ref, len) == 0) {
			matches++;
			match = names[i];
		}
	if (matches == 1) {
		memcpy(ret_hash, match, 65);
	} else if (matches == 0) {
		r = error_set(err, -ENOENT, "target %s has no stored snapshot whose hash starts with %s",
			      s->target, ref);
	} else {
		r = error_set(err, -EINVAL, "hash prefix %s is ambiguous in target %s (%zu snapshots)",
			      ref, s->target, matches);
	}
	free(names);
	return r;
}

/* ---------------------------------------------------------------- record */

static void summarize(const struct diff *d, struct store_summary *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->known = true;
	ret->changes = d->n_changes;
	memcpy(ret->by_type, d->by_type, sizeof(ret->by_type));
	memcpy(ret->by_severity, d->by_severity, sizeof(ret->by_severity));
}

/* The summary of prev -> m, if prev is still stored and loads. */
static void summary_since(struct store *s, const char *prev, const struct model *m,
			  struct store_summary *ret)
{
	struct model *old = NULL;
	struct diff *d = NULL;
	struct error e;

	memset(ret, 0, sizeof(*ret));
	if (!store_snapshot_exists(s, prev))
		return;
	if (store_load_snapshot(s, prev, &old, &e) < 0) {
		store_warn(s, "%s", e.text);
		return;
	}
	if (diff_models(old, m, &d) == 0)
		summarize(d, ret);
	diff_free(d);
	model_free(old);
}

static int append_run(struct store *s, const struct store_run *run, struct error *err)
{
	json_t *j = run_to_json(run);
	int r;

	if (!j)
		return error_set(err, -ENOMEM, "out of memory");
	r = append_json_line(s, HISTORY_FILE, j, err);
	json_decref(j);
	return r;
}

int store_record_run(struct store *s, const struct store_record *rec, struct store_run *ret,
		     struct error *err)
{
	struct store_run run = { 0 };
	struct store_history *h = NULL;
	size_t *lines = NULL, total = 0;
	const struct store_run *prev;
	struct error werr;
	int r;

	if (!rec->model && !rec->error && !(rec->unchanged && strlen(rec->unchanged) == 64))
		return error_set(err, -EINVAL, "a run needs a snapshot, an error or an unchanged hash");
	r = store_lock(s, err);
	if (r < 0)
		return r;
	if (!rec->model && !rec->error) {
		/* The common case, kept cheap: one unsynced line, no history read. */
		json_t *j;

		run.time = rec->started ? rec->started : store_now(s);
		run.duration_ms = rec->duration_ms;
		run.outcome = STORE_RUN_OK;
		memcpy(run.hash, rec->unchanged, 65);
		run.objects = rec->unchanged_objects;
		j = run_to_json(&run);
		r = j ? append_json_line_sync(s, HISTORY_FILE, j, false, err)
		      : error_set(err, -ENOMEM, "out of memory");
		json_decref(j);
		store_unlock(s);
		if (r == 0 && ret) {
			*ret = run;
			ret->error = NULL;
		}
		return r;
	}
	r = store_history_load_lines(s, &h, &lines, &total, err);
	if (r < 0)
		goto out;
	prev = store_history_latest(h);
	run.time = rec->started ? rec->started : store_now(s);
	run.duration_ms = rec->duration_ms;
	if (rec->model) {
		struct model *m = rec->model;

		if (!m->hashed && (r = snapshot_hash(m)) < 0) {
			r = error_set(err, r, "cannot hash the snapshot: %s", strerror(-r));
			goto out;
		}
		run.outcome = STORE_RUN_OK;
		snapshot_hash_hex(m->hash, run.hash);
		run.objects = m->n_objects;
		if (!store_snapshot_exists(s, run.hash)) {
			r = save_snapshot(s, m, run.hash, &werr);
			if (r < 0) {
				/* Record that this run failed, if the disk still takes a line. */
				struct store_run failed = { .time = run.time, .outcome = STORE_RUN_ERROR,
							    .duration_ms = run.duration_ms,
							    .error = werr.text };

				append_run(s, &failed, NULL);
				pass_error(err, &werr);
				goto out;
			}
			run.new_snapshot = true;
		}
		if (prev && strcmp(prev->hash, run.hash) != 0) {
			memcpy(run.from, prev->hash, 65);
			summary_since(s, prev->hash, m, &run.summary);
		}
	} else {
		run.outcome = STORE_RUN_ERROR;
		run.error = (char *)rec->error;
	}
	r = append_run(s, &run, err);
	if (r < 0)
		goto out;

	/* Retention sees the history as it now is, the new line included (the
	 * append cut any unfinished line, so it is line total + 1). */
	{
		struct history_load l = { s, h, h->n, lines };
		struct store_run copy = run;

		copy.error = run.error ? strdup(run.error) : NULL;
		if ((run.error && !copy.error) || history_push(&l, &copy, total + 1) < 0) {
			store_run_done(&copy);
			store_warn(s, "retention skipped: out of memory");
		} else if (store_prune_locked(s, h, l.lines, false, NULL, &werr) < 0) {
			store_warn(s, "retention: %s", werr.text);
		}
		lines = l.lines;
	}
	if (ret) {
		*ret = run;
		ret->error = run.error ? strdup(run.error) : NULL;
	}
out:
	store_history_free(h);
	free(lines);
	store_unlock(s);
	return r;
}

/* -------------------------------------------------------------- baseline */

void store_baseline_done(struct store_baseline *b)
{
	if (!b)
		return;
	free(b->accepted_by);
	free(b->reason);
	free(b->action);
	memset(b, 0, sizeof(*b));
}

int store_baseline_get(struct store *s, struct store_baseline *ret, struct error *err)
{
	struct store_baseline b = { 0 };
	json_t *j = NULL;
	int r;

	r = store_read_state(s, BASELINE_FILE, &j, err);
	if (r == -EBADMSG) {
		/* Moved aside; the lock's recovery restored it from the audit log if it could. */
		r = store_read_state(s, BASELINE_FILE, &j, err);
	}
	if (r < 0)
		return r;
	if (!baseline_json_valid(j)) {
		char *path = store_path(s, BASELINE_FILE);

		json_decref(j);
		/* Taking the lock moves it aside and restores it from the audit log. */
		r = store_lock(s, err);
		if (r == 0) {
			store_unlock(s);
			r = read_state_raw(s, BASELINE_FILE, &j, err);
			if (r == 0 && !baseline_json_valid(j)) {
				json_decref(j);
				r = error_set(err, -EBADMSG, "%s: no valid hash and time", path);
			}
		}
		free(path);
		if (r < 0)
			return r;
	}
	memcpy(b.hash, json_string_value(json_object_get(j, "hash")), 65);
	b.accepted_at = store_json_time(j, "accepted_at");
	b.accepted_by = store_json_string_dup(json_object_get(j, "accepted_by"));
	b.reason = store_json_string_dup(json_object_get(j, "reason"));
	b.action = store_json_string_dup(json_object_get(j, "action"));
	json_decref(j);
	*ret = b;
	return 0;
}

int store_baseline_set(struct store *s, const char *hash, const char *action, const char *who,
		       const char *reason, struct error *err)
{
	struct store_baseline old = { 0 };
	struct model *m = NULL;
	json_t *state = NULL, *audit = NULL;
	bool had_old;
	int r;

	if (!store_is_hex_hash(hash))
		return error_set(err, -EINVAL, "'%s' is not a full snapshot hash", hash);
	r = store_lock(s, err);
	if (r < 0)
		return r;
	/* Under the lock, so retention cannot remove it between this check and the write. */
	r = store_load_snapshot(s, hash, &m, err);
	if (r < 0)
		goto out;
	r = store_baseline_get(s, &old, err);
	had_old = r == 0;
	if (r == -ENOENT)
		error_clear(err);
	else if (r < 0)
		goto out;
	r = -ENOMEM;
	state = json_object();
	audit = json_object();
	if (!state || !audit)
		goto oom;
	if (json_object_set_new(state, "version", json_integer(1)) < 0 ||
	    json_object_set_new(state, "hash", json_string(hash)) < 0 ||
	    json_set_time(state, "accepted_at", store_now(s)) < 0 ||
	    json_object_set_new(state, "accepted_by", snapshot_string_json(who ? who : "unknown")) < 0 ||
	    json_object_set_new(state, "reason", reason ? snapshot_string_json(reason) : json_null()) < 0 ||
	    json_object_set_new(state, "action", json_string(action)) < 0)
		goto oom;
	if (json_object_set_new(audit, "action", json_string(action)) < 0 ||
	    json_object_set_new(audit, "who", snapshot_string_json(who ? who : "unknown")) < 0 ||
	    json_object_set_new(audit, "hash", json_string(hash)) < 0 ||
	    json_object_set_new(audit, "previous", had_old ? json_string(old.hash) : json_null()) < 0 ||
	    json_object_set_new(audit, "reason", reason ? snapshot_string_json(reason) : json_null()) < 0)
		goto oom;
	r = store_write_state(s, BASELINE_FILE, state, audit, err);
	goto out;
oom:
	r = error_set(err, -ENOMEM, "out of memory");
out:
	json_decref(state);
	json_decref(audit);
	model_free(m);
	store_baseline_done(&old);
	store_unlock(s);
	return r;
}
