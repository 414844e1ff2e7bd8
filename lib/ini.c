/* INI configuration parser: our own tokenizer (no line limit), includes, secrets, typed values. */
#include "ini.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Includes nest at most this deep (a loop is caught earlier, by inode). */
#define CONF_MAX_DEPTH 16
/* Secret files are one line; anything bigger is a mistake (a wrong path). */
#define CONF_SECRET_MAX (64 * 1024)
#define CONF_NAME_MAX 64

/* Section kinds we know; a typo in a header is an error, not a silently ignored section. */
static const struct {
	const char *kind;
	bool named;
} ini_kinds[] = {
	{ "daemon", false },
	{ "target", true },
	{ "notifier", true },
};

struct ini_file_id {
	dev_t dev;
	ino_t ino;
};

struct ini_parser {
	struct ini *c;
	size_t cap_sections;
	struct ini_file_id stack[CONF_MAX_DEPTH];
	int depth;
	struct error *err;
};

/* ------------------------------------------------------------ helpers */

static int ini_errorv(struct error *err, int code, const char *file, int line,
		       const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return error_set(err, code, "%s:%d: %s", file, line, msg);
}

static int ini_fail(struct error *err, int code, const char *file, int line, const char *fmt,
		     ...) __attribute__((format(printf, 5, 6)));
static int ini_fail(struct error *err, int code, const char *file, int line, const char *fmt,
		     ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ini_errorv(err, code, file, line, fmt, ap);
	va_end(ap);
	return r;
}

int ini_error(const struct ini_kv *kv, struct error *err, int code, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(err, code, "%s:%d: key '%s': %s", kv->file, kv->line, kv->key, msg);
}

int ini_section_error(const struct ini_section *s, struct error *err, int code,
		       const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(err, code, "%s:%d: [%s%s%s]: %s", s->file, s->line, s->kind,
			 s->name ? " " : "", s->name ? s->name : "", msg);
}

static const char *ini_intern(struct ini *c, const char *name)
{
	char **files;
	char *copy;

	for (size_t i = 0; i < c->n_files; i++)
		if (strcmp(c->files[i], name) == 0)
			return c->files[i];
	copy = strdup(name);
	if (!copy)
		return NULL;
	files = realloc(c->files, (c->n_files + 1) * sizeof(*files));
	if (!files) {
		free(copy);
		return NULL;
	}
	c->files = files;
	c->files[c->n_files++] = copy;
	return copy;
}

/* Owner-only, or root:<our group> 0640. */
static bool ini_stat_private(const struct stat *st)
{
	if ((st->st_mode & 077) == 0)
		return true;
	return st->st_uid == 0 && (st->st_mode & 037) == 0 && st->st_gid == getegid();
}

static int ini_not_private(struct error *err, const char *path, const struct stat *st)
{
	return error_set(err, -EACCES,
			 "%s can be read by group or others (mode %04o); it may hold secrets: "
			 "chmod 600 it (or 640 root:<service group>)",
			 path, (unsigned)(st->st_mode & 07777));
}

int ini_check_private(const char *path, struct error *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!ini_stat_private(&st))
		return ini_not_private(err, path, &st);
	return 0;
}

/* Reads a whole open file into a NUL-terminated buffer; closes fd. */
static int ini_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t n;

		if (len + 1 == cap) {
			char *p;

			if (cap > max) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			p = realloc(buf, cap * 2);
			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			free(buf);
			close(fd);
			return e;
		}
		if (n == 0) {
			buf[len] = '\0';
			close(fd);
			*ret = buf;
			*ret_len = len;
			return 0;
		}
		len += (size_t)n;
	}
	free(buf);
	close(fd);
	return -ENOMEM;
}

/* dirname() of file into buf, "." when it has none. */
static void ini_dirname(const char *file, char *buf, size_t size)
{
	const char *slash = strrchr(file, '/');

	if (!slash)
		snprintf(buf, size, ".");
	else if (slash == file)
		snprintf(buf, size, "/");
	else
		snprintf(buf, size, "%.*s", (int)(slash - file), file);
}

/* path resolved against the directory of `relative_to`; malloc'd. */
static char *ini_resolve(const char *relative_to, const char *path)
{
	char dir[PATH_MAX];
	char *out;

	if (path[0] == '/' || !relative_to)
		return strdup(path);
	ini_dirname(relative_to, dir, sizeof(dir));
	if (strcmp(dir, ".") == 0)
		return strdup(path);
	if (asprintf(&out, "%s/%s", dir, path) < 0)
		return NULL;
	return out;
}

/* ------------------------------------------------------------ building */

static int ini_add_section(struct ini_parser *p, const char *kind, const char *name,
			    const char *file, int line, size_t *ret_index)
{
	struct ini *c = p->c;
	struct ini_section *s;

	for (size_t i = 0; i < c->n_sections; i++) {
		s = &c->sections[i];
		if (strcmp(s->kind, kind) == 0 &&
		    ((!s->name && !name) || (s->name && name && strcmp(s->name, name) == 0)))
			return ini_fail(p->err, -EEXIST, file, line,
					 "duplicate section [%s%s%s] (first at %s:%d)", kind,
					 name ? " " : "", name ? name : "", s->file, s->line);
	}
	if (c->n_sections == p->cap_sections) {
		size_t cap = p->cap_sections ? p->cap_sections * 2 : 8;
		struct ini_section *ns = realloc(c->sections, cap * sizeof(*ns));

		if (!ns)
			return error_set(p->err, -ENOMEM, "%s:%d: out of memory", file, line);
		c->sections = ns;
		p->cap_sections = cap;
	}
	s = &c->sections[c->n_sections];
	memset(s, 0, sizeof(*s));
	s->kind = strdup(kind);
	s->name = name ? strdup(name) : NULL;
	s->file = file;
	s->line = line;
	if (!s->kind || (name && !s->name)) {
		free(s->kind);
		free(s->name);
		return error_set(p->err, -ENOMEM, "%s:%d: out of memory", file, line);
	}
	*ret_index = c->n_sections++;
	return 0;
}

static int ini_add_kv(struct ini_parser *p, size_t section, char *key, char *value,
		       const char *file, int line, bool file_private)
{
	struct ini_section *s = &p->c->sections[section];
	struct ini_kv *kv;

	/* Capacity is the next power of two: grow when n_kv is one. */
	if ((s->n_kv & (s->n_kv - 1)) == 0) {
		size_t cap = s->n_kv ? s->n_kv * 2 : 1;
		struct ini_kv *nkv = realloc(s->kv, cap * sizeof(*nkv));

		if (!nkv)
			return -ENOMEM;
		s->kv = nkv;
	}
	kv = &s->kv[s->n_kv++];
	kv->key = key;
	kv->value = value;
	kv->file = file;
	kv->line = line;
	kv->file_private = file_private;
	return 0;
}

/* ------------------------------------------------------------ tokenizer */

static bool ini_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool ini_is_word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '.' || ch == '-';
}

static bool ini_valid_name(const char *s, size_t n)
{
	if (n == 0 || n > CONF_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!ini_is_word_char(s[i]))
			return false;
	return true;
}

/* A value after '=': bare (trimmed) or "quoted"; malloc'd into *ret. */
static int ini_parse_value(struct ini_parser *p, const char *s, const char *end,
			    const char *file, int line, const char *key, char **ret)
{
	char *out, *o;

	while (s < end && ini_is_blank(*s))
		s++;
	while (end > s && ini_is_blank(end[-1]))
		end--;
	out = malloc((size_t)(end - s) + 1);
	if (!out)
		return error_set(p->err, -ENOMEM, "%s:%d: out of memory", file, line);
	if (s == end || *s != '"') {
		memcpy(out, s, (size_t)(end - s));
		out[end - s] = '\0';
		*ret = out;
		return 0;
	}
	o = out;
	for (s++; s < end && *s != '"'; s++) {
		if (*s == '\\') {
			if (s + 1 == end || (s[1] != '"' && s[1] != '\\')) {
				free(out);
				return ini_fail(p->err, -EINVAL, file, line,
						 "key '%s': only \\\" and \\\\ may be escaped in a "
						 "quoted value",
						 key);
			}
			s++;
		}
		*o++ = *s;
	}
	if (s == end || s + 1 != end) {
		free(out);
		return ini_fail(p->err, -EINVAL, file, line,
				 "key '%s': a quoted value must end with its closing quote", key);
	}
	*o = '\0';
	*ret = out;
	return 0;
}

static int ini_parse_text(struct ini_parser *p, const char *text, size_t len,
			   const char *file, bool file_private, ssize_t *section);

static int ini_include_path(struct ini_parser *p, const char *path, const char *from_file,
			     int from_line, ssize_t *section);

/* Parses one opened file (fd is consumed). */
static int ini_parse_fd(struct ini_parser *p, int fd, const char *path,
			 const char *from_file, int from_line, ssize_t *section)
{
	struct stat st;
	const char *file;
	char *text = NULL;
	size_t len;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		goto fail_errno;
	}
	for (int i = 0; i < p->depth; i++) {
		if (p->stack[i].dev == st.st_dev && p->stack[i].ino == st.st_ino) {
			close(fd);
			if (from_file)
				return ini_fail(p->err, -ELOOP, from_file, from_line,
						 "include loop: %s is already being read", path);
			return error_set(p->err, -ELOOP, "%s: include loop", path);
		}
	}
	if (p->depth == CONF_MAX_DEPTH) {
		close(fd);
		return ini_fail(p->err, -ELOOP, from_file ? from_file : path, from_line,
				 "includes nested more than %d deep", CONF_MAX_DEPTH);
	}
	r = ini_read_fd(fd, SIZE_MAX / 2, &text, &len);
	if (r < 0)
		goto fail_errno;
	file = ini_intern(p->c, path);
	if (!file) {
		free(text);
		return error_set(p->err, -ENOMEM, "%s: out of memory", path);
	}
	p->stack[p->depth++] = (struct ini_file_id){ st.st_dev, st.st_ino };
	r = ini_parse_text(p, text, len, file, ini_stat_private(&st), section);
	p->depth--;
	free(text);
	return r;

fail_errno:
	if (from_file)
		return ini_fail(p->err, r, from_file, from_line, "include '%s': %s", path,
				 strerror(-r));
	return error_set(p->err, r, "%s: %s", path, strerror(-r));
}

static int ini_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.conf in dir, in strcmp order (locale-independent). */
static int ini_include_dir(struct ini_parser *p, const char *dir, const char *from_file,
			    int from_line, ssize_t *section)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (!d)
		return ini_fail(p->err, -errno, from_file, from_line, "include '%s': %s", dir,
				 strerror(errno));
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));

			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return error_set(p->err, r, "%s:%d: out of memory", from_file, from_line);
	}
	if (n)
		qsort(names, n, sizeof(*names), ini_name_cmp);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct stat st;

		/* Only regular files (or links to them): a "x.conf" directory is skipped. */
		if (stat(names[i], &st) == 0 && !S_ISREG(st.st_mode))
			continue;
		r = ini_include_path(p, names[i], from_file, from_line, section);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int ini_include_path(struct ini_parser *p, const char *path, const char *from_file,
			     int from_line, ssize_t *section)
{
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return ini_include_dir(p, path, from_file, from_line, section);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ini_fail(p->err, -errno, from_file, from_line, "include '%s': %s", path,
				 strerror(errno));
	return ini_parse_fd(p, fd, path, from_file, from_line, section);
}

static int ini_parse_header(struct ini_parser *p, const char *s, const char *end,
			     const char *file, int line, ssize_t *section)
{
	const char *close = memchr(s, ']', (size_t)(end - s));
	const char *k, *kend, *n, *nend;
	char kind[32], name[CONF_NAME_MAX + 1];
	const void *kinfo = NULL;
	bool named = false;
	size_t idx = 0;
	int r;

	if (!close)
		return ini_fail(p->err, -EINVAL, file, line, "section header without ']'");
	for (const char *t = close + 1; t < end; t++)
		if (!ini_is_blank(*t))
			return ini_fail(p->err, -EINVAL, file, line,
					 "text after the section header's ']'");
	k = s + 1;
	while (k < close && ini_is_blank(*k))
		k++;
	kend = k;
	while (kend < close && !ini_is_blank(*kend))
		kend++;
	n = kend;
	while (n < close && ini_is_blank(*n))
		n++;
	nend = close;
	while (nend > n && ini_is_blank(nend[-1]))
		nend--;
	for (const char *t = n; t < nend; t++)
		if (ini_is_blank(*t))
			return ini_fail(p->err, -EINVAL, file, line,
					 "a section name cannot contain blanks");

	for (size_t i = 0; i < sizeof(ini_kinds) / sizeof(ini_kinds[0]); i++) {
		if (strlen(ini_kinds[i].kind) == (size_t)(kend - k) &&
		    memcmp(ini_kinds[i].kind, k, (size_t)(kend - k)) == 0) {
			kinfo = &ini_kinds[i];
			named = ini_kinds[i].named;
		}
	}
	if (!kinfo)
		return ini_fail(p->err, -EINVAL, file, line,
				 "unknown section [%.*s] (daemon, target NAME or notifier NAME)",
				 (int)(kend - k) > 40 ? 40 : (int)(kend - k), k);
	snprintf(kind, sizeof(kind), "%.*s", (int)(kend - k), k);
	if (named && n == nend)
		return ini_fail(p->err, -EINVAL, file, line, "[%s] needs a name: [%s NAME]",
				 kind, kind);
	if (!named && n != nend)
		return ini_fail(p->err, -EINVAL, file, line, "[%s] takes no name", kind);
	if (named && !ini_valid_name(n, (size_t)(nend - n)))
		return ini_fail(p->err, -EINVAL, file, line,
				 "invalid %s name: use 1-%d of A-Z a-z 0-9 _ . - (not starting "
				 "with . or -)",
				 kind, CONF_NAME_MAX);
	if (named)
		snprintf(name, sizeof(name), "%.*s", (int)(nend - n), n);
	r = ini_add_section(p, kind, named ? name : NULL, file, line, &idx);
	if (r < 0)
		return r;
	*section = (ssize_t)idx;
	return 0;
}

static int ini_parse_line(struct ini_parser *p, const char *s, const char *end,
			   const char *file, int line, bool file_private, ssize_t *section)
{
	const char *k = s, *kend, *eq;
	char *key = NULL, *value = NULL;
	int r;

	if (*s == '[')
		return ini_parse_header(p, s, end, file, line, section);
	kend = k;
	while (kend < end && ini_is_word_char(*kend))
		kend++;
	eq = kend;
	while (eq < end && ini_is_blank(*eq))
		eq++;
	if (kend == k || eq == end || *eq != '=')
		return ini_fail(p->err, -EINVAL, file, line,
				 "expected 'key = value', a [section] or a comment");
	key = strndup(k, (size_t)(kend - k));
	if (!key)
		return error_set(p->err, -ENOMEM, "%s:%d: out of memory", file, line);
	r = ini_parse_value(p, eq + 1, end, file, line, key, &value);
	if (r < 0)
		goto out;
	if (strcmp(key, "include") == 0) {
		char *path;

		if (!value[0]) {
			r = ini_fail(p->err, -EINVAL, file, line, "include needs a path");
			goto out;
		}
		path = ini_resolve(file, value);
		if (!path) {
			r = error_set(p->err, -ENOMEM, "%s:%d: out of memory", file, line);
			goto out;
		}
		/* Keys of the included file before its first header belong to the
		 * current section; afterwards this file continues in its own. */
		ssize_t inner = *section;
		r = ini_include_path(p, path, file, line, &inner);
		free(path);
		goto out;
	}
	if (*section < 0) {
		r = ini_fail(p->err, -EINVAL, file, line,
			      "key '%s' outside a section (only include may be)", key);
		goto out;
	}
	r = ini_add_kv(p, (size_t)*section, key, value, file, line, file_private);
	if (r < 0) {
		r = error_set(p->err, r, "%s:%d: out of memory", file, line);
		goto out;
	}
	return 0;
out:
	free(key);
	free(value);
	return r;
}

static int ini_parse_text(struct ini_parser *p, const char *text, size_t len,
			   const char *file, bool file_private, ssize_t *section)
{
	const char *s = text, *end = text + len;
	int line = 0;

	if (memchr(text, '\0', len))
		return error_set(p->err, -EINVAL, "%s: contains a NUL byte (not a text file)", file);
	/* A UTF-8 byte order mark is tolerated (some editors on other systems write one). */
	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *lend = nl ? nl : end, *t = s;
		int r;

		line++;
		if (lend > s && lend[-1] == '\r')
			lend--;
		while (t < lend && ini_is_blank(*t))
			t++;
		if (t < lend && *t != '#' && *t != ';') {
			r = ini_parse_line(p, t, lend, file, line, file_private, section);
			if (r < 0)
				return r;
		}
		s = nl ? nl + 1 : end;
	}
	return 0;
}

/* ------------------------------------------------------------ public */

static int ini_new(struct ini **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

int ini_load(const char *path, struct ini **ret, struct error *err)
{
	struct ini_parser p = { .err = err };
	ssize_t section = -1;
	int fd, r;

	if (ini_new(&p.c) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = error_set(err, -errno, "%s: %s", path, strerror(errno));
		ini_free(p.c);
		return r;
	}
	r = ini_parse_fd(&p, fd, path, NULL, 0, &section);
	if (r < 0) {
		ini_free(p.c);
		return r;
	}
	*ret = p.c;
	return 0;
}

int ini_parse(const char *text, size_t len, const char *name, struct ini **ret,
	       struct error *err)
{
	struct ini_parser p = { .err = err };
	ssize_t section = -1;
	const char *file;
	char *copy;
	int r;

	if (ini_new(&p.c) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	file = ini_intern(p.c, name);
	/* ini_parse_text wants a NUL after the text (utf8 and strchr safety). */
	copy = malloc(len + 1);
	if (!file || !copy) {
		free(copy);
		ini_free(p.c);
		return error_set(err, -ENOMEM, "out of memory");
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	r = ini_parse_text(&p, copy, len, file, true, &section);
	free(copy);
	if (r < 0) {
		ini_free(p.c);
		return r;
	}
	*ret = p.c;
	return 0;
}

void ini_free(struct ini *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_sections; i++) {
		struct ini_section *s = &c->sections[i];

		for (size_t j = 0; j < s->n_kv; j++) {
			free(s->kv[j].key);
			if (s->kv[j].value) {
				/* Values may be secrets: do not leave them in freed heap. */
				explicit_bzero(s->kv[j].value, strlen(s->kv[j].value));
				free(s->kv[j].value);
			}
		}
		free(s->kv);
		free(s->kind);
		free(s->name);
	}
	free(c->sections);
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	free(c);
}

const struct ini_section *ini_find(const struct ini *c, const char *kind, const char *name)
{
	for (size_t i = 0; i < c->n_sections; i++) {
		const struct ini_section *s = &c->sections[i];

		if (strcmp(s->kind, kind) != 0)
			continue;
		if ((!name && !s->name) || (name && s->name && strcmp(name, s->name) == 0))
			return s;
	}
	return NULL;
}

const struct ini_kv *ini_get(const struct ini_section *s, const char *key)
{
	for (size_t i = s->n_kv; i-- > 0;)
		if (strcmp(s->kv[i].key, key) == 0)
			return &s->kv[i];
	return NULL;
}

/* The first line of an open secret file (fd consumed), without its line end. */
static int ini_read_secret_fd(const struct ini_kv *kv, int fd, const char *what,
			       char **ret, struct error *err)
{
	char *buf;
	size_t len;
	int r = ini_read_fd(fd, CONF_SECRET_MAX, &buf, &len);

	if (r == -EFBIG)
		return ini_error(kv, err, r, "%s is larger than %d bytes, not a secret", what,
				  CONF_SECRET_MAX);
	if (r < 0)
		return ini_error(kv, err, r, "%s: %s", what, strerror(-r));
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		free(buf);
		return ini_error(kv, err, -EINVAL, "%s: the first line is empty", what);
	}
	*ret = buf;
	return 0;
}

int ini_secret(const struct ini_kv *kv, char **ret, struct error *err)
{
	const char *v = kv->value;

	if (strncmp(v, "file:", 5) == 0) {
		char *path = ini_resolve(kv->file, v + 5);
		struct stat st;
		int fd, r;

		if (!path)
			return ini_error(kv, err, -ENOMEM, "out of memory");
		if (!v[5]) {
			free(path);
			return ini_error(kv, err, -EINVAL, "file: needs a path");
		}
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			r = ini_error(kv, err, -errno, "secret file %s: %s", path, strerror(errno));
			free(path);
			return r;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			r = ini_error(kv, err, -EINVAL, "secret file %s is not a regular file",
				       path);
			free(path);
			return r;
		}
		if (!ini_stat_private(&st)) {
			struct error inner;

			close(fd);
			ini_not_private(&inner, path, &st);
			r = ini_error(kv, err, -EACCES, "secret file %s", inner.text);
			free(path);
			return r;
		}
		char what[PATH_MAX + 16];
		snprintf(what, sizeof(what), "secret file %s", path);
		free(path);
		return ini_read_secret_fd(kv, fd, what, ret, err);
	}
	if (strncmp(v, "credential:", 11) == 0) {
		const char *name = v + 11, *dir = getenv("CREDENTIALS_DIRECTORY");
		char what[PATH_MAX + 64], *path;
		int fd, r;

		if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0)
			return ini_error(kv, err, -EINVAL,
					  "credential: needs a credential name without '/'");
		if (!dir || !dir[0])
			return ini_error(kv, err, -ENOENT,
					  "credential '%s': $CREDENTIALS_DIRECTORY is not set "
					  "(run under systemd with LoadCredential= or "
					  "SetCredentialEncrypted=)",
					  name);
		if (asprintf(&path, "%s/%s", dir, name) < 0)
			return ini_error(kv, err, -ENOMEM, "out of memory");
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		free(path);
		if (fd < 0)
			return ini_error(kv, err, -errno, "credential '%s': %s", name,
					  strerror(errno));
		snprintf(what, sizeof(what), "credential '%s'", name);
		r = ini_read_secret_fd(kv, fd, what, ret, err);
		return r;
	}
	if (!v[0])
		return ini_error(kv, err, -EINVAL, "empty");
	if (!kv->file_private)
		return ini_error(kv, err, -EACCES,
				  "holds an inline secret, but %s can be read by group or "
				  "others: chmod 600 it, or use file:PATH or credential:NAME",
				  kv->file);
	*ret = strdup(v);
	if (!*ret)
		return ini_error(kv, err, -ENOMEM, "out of memory");
	return 0;
}

char *ini_path(const struct ini_kv *kv)
{
	return ini_resolve(kv->file, kv->value);
}

int ini_bool(const struct ini_kv *kv, bool *ret, struct error *err)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(kv->value, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(kv->value, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return ini_error(kv, err, -EINVAL, "expected true or false, not '%s'", kv->value);
}

int ini_int(const struct ini_kv *kv, long long min, long long max, long long *ret,
	     struct error *err)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(kv->value, &end, 10);
	if (!kv->value[0] || *end || errno || v < min || v > max)
		return ini_error(kv, err, -EINVAL, "expected an integer from %lld to %lld", min,
				  max);
	*ret = v;
	return 0;
}

int ini_duration_ms(const struct ini_kv *kv, long long min_ms, long long max_ms,
		     long long *ret, struct error *err)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
		{ "", 1000 }, { "ms", 1 },	{ "s", 1000 },	     { "m", 60000 },
		{ "min", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	const char *s = kv->value;
	char *end;
	double v;

	if (!(isdigit((unsigned char)s[0]) || (s[0] == '.' && isdigit((unsigned char)s[1]))))
		goto bad;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !isfinite(v))
		goto bad;
	while (ini_is_blank(*end))
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			double ms = v * units[i].ms;

			if (ms < (double)min_ms || ms > (double)max_ms)
				break;
			*ret = (long long)(ms + 0.5);
			return 0;
		}
	}
bad:
	return ini_error(kv, err, -EINVAL,
			  "expected a duration from %lld ms to %lld s, like 30s, 5m or 2h",
			  min_ms, max_ms / 1000);
}

void ini_secret_free(char *secret)
{
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
}
