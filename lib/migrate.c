/* Migration formats: file naming and order, "up" sections, and the history tables they keep. */
#include "migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fileio.h"
#include "sqllex.h"

struct history_ctx;

struct migrate_format {
	const char *name;
	/* Whether a file name belongs to the format; fills its version. */
	bool (*match)(const char *name, char **ret_version, bool *ret_repeatable);
	/* Orders two files (apply order). */
	int (*cmp)(const struct migrate_file *a, const struct migrate_file *b);
	/* Cuts the "up" part out of a file: markers or the whole text. */
	const char *up_marker, *down_marker;
	bool goose_blocks; /* -- +goose StatementBegin / StatementEnd */
	const char *history_table;
	int (*history)(struct migrate_set *s, PGconn *conn, const char *table, struct error *err);
};

/* ---- names and order ---- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* NNN_anything<suffix>: the digits are the version. */
static bool digits_then(const char *name, const char *suffix, char **ret_version)
{
	size_t d = 0;

	while (isdigit((unsigned char)name[d]))
		d++;
	if (d == 0 || name[d] != '_' || !ends_with(name, suffix))
		return false;
	*ret_version = strndup(name, d);
	return true;
}

static bool match_sql(const char *name, char **ret_version, bool *ret_repeatable)
{
	(void)ret_repeatable;
	*ret_version = NULL;
	return ends_with(name, ".sql");
}

static bool match_golang(const char *name, char **ret_version, bool *ret_repeatable)
{
	(void)ret_repeatable;
	return digits_then(name, ".up.sql", ret_version);
}

static bool match_numbered(const char *name, char **ret_version, bool *ret_repeatable)
{
	(void)ret_repeatable;
	return digits_then(name, ".sql", ret_version);
}

/* V<version>__<description>.sql (version parts split by . or _), R__<description>.sql. */
static bool match_flyway(const char *name, char **ret_version, bool *ret_repeatable)
{
	const char *sep = strstr(name, "__");

	if (!ends_with(name, ".sql") || !sep)
		return false;
	if (name[0] == 'R' && sep == name + 1) {
		*ret_repeatable = true;
		*ret_version = NULL;
		return true;
	}
	if (name[0] != 'V' || sep == name + 1)
		return false;
	for (const char *p = name + 1; p < sep; p++)
		if (!isdigit((unsigned char)*p) && *p != '.' && *p != '_')
			return false;
	*ret_version = strndup(name + 1, (size_t)(sep - name - 1));
	for (char *p = *ret_version; p && *p; p++)
		if (*p == '_')
			*p = '.';
	return true;
}

static int cmp_natural(const struct migrate_file *a, const struct migrate_file *b)
{
	return strverscmp(a->name, b->name);
}

/* Integer versions of any length: fewer digits (after leading zeros) is smaller. */
static int cmp_number(const char *a, const char *b)
{
	size_t la, lb;

	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

static int cmp_numbered(const struct migrate_file *a, const struct migrate_file *b)
{
	int r = cmp_number(a->version, b->version);
	return r ? r : strcmp(a->name, b->name);
}

/* Flyway: versioned by their dotted version, then repeatables by description. */
static int cmp_dotted(const char *a, const char *b)
{
	while (*a || *b) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		char pa[64], pb[64];
		int r;

		snprintf(pa, sizeof(pa), "%.*s", (int)la, a);
		snprintf(pb, sizeof(pb), "%.*s", (int)lb, b);
		r = cmp_number(pa[0] ? pa : "0", pb[0] ? pb : "0");
		if (r)
			return r;
		a += la + (a[la] == '.');
		b += lb + (b[lb] == '.');
	}
	return 0;
}

static int cmp_flyway(const struct migrate_file *a, const struct migrate_file *b)
{
	if (a->repeatable != b->repeatable)
		return a->repeatable ? 1 : -1;
	if (a->repeatable)
		return strcmp(a->name, b->name);
	int r = cmp_dotted(a->version, b->version);
	return r ? r : strcmp(a->name, b->name);
}

/* ---- history tables (read-only queries on the target) ---- */

static int query(PGconn *conn, const char *sql, const char *table, PGresult **ret,
		 struct error *err)
{
	PGresult *res = PQexec(conn, sql);

	*ret = NULL;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
		msg[strcspn(msg, "\n")] = '\0';
		PQclear(res);
		return error_set(err, -EIO, "reading the history table %s: %s", table, msg);
	}
	*ret = res;
	return 0;
}

static int add_problem(struct migrate_set *s, const char *what, const char *version,
		       const char *file, const char *message)
{
	struct migrate_problem *p = realloc(s->problems, (s->n_problems + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	s->problems = p;
	p = &p[s->n_problems++];
	p->what = strdup(what);
	p->version = version ? strdup(version) : NULL;
	p->file = file ? strdup(file) : NULL;
	p->message = strdup(message);
	return p->what && p->message ? 0 : -ENOMEM;
}

static struct migrate_file *by_version(struct migrate_set *s, const char *version, bool dotted)
{
	for (size_t i = 0; i < s->n_files; i++)
		if (s->files[i].version && (dotted ? cmp_dotted(s->files[i].version, version)
						   : cmp_number(s->files[i].version, version)) == 0)
			return &s->files[i];
	return NULL;
}

static void mark_all(struct migrate_set *s, bool applied)
{
	for (size_t i = 0; i < s->n_files; i++)
		s->files[i].applied = applied;
}

static int missing(struct migrate_set *s, const char *version, const char *pattern)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "version %s is applied, but the repository has no %s file",
		 version, pattern);
	return add_problem(s, "missing", version, NULL, msg);
}

/* golang-migrate: one row, the current version and whether it is dirty. */
static int history_golang(struct migrate_set *s, PGconn *conn, const char *table,
			  struct error *err)
{
	char sql[512], msg[512];
	PGresult *res;
	int r;

	snprintf(sql, sizeof(sql), "SELECT version::text, dirty FROM %s LIMIT 1", table);
	if ((r = query(conn, sql, table, &res, err)) < 0)
		return r;
	mark_all(s, false);
	if (PQntuples(res) == 1) {
		const char *v = PQgetvalue(res, 0, 0);
		bool dirty = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		for (size_t i = 0; i < s->n_files; i++)
			s->files[i].applied = cmp_number(s->files[i].version, v) <= 0;
		struct migrate_file *f = by_version(s, v, false);
		r = 0;
		if (!f)
			r = missing(s, v, "NNN_*.up.sql");
		if (r == 0 && dirty) {
			snprintf(msg, sizeof(msg),
				 "version %s is dirty: it failed part-way; repair the schema, then "
				 "`migrate force`", v);
			r = add_problem(s, "dirty", v, f ? f->name : NULL, msg);
		}
		if (r < 0) {
			PQclear(res);
			return error_set(err, r, "out of memory");
		}
	}
	PQclear(res);
	return 0;
}

/* One row per applied version (the query's first column): those files are applied. */
static int applied_versions(struct migrate_set *s, PGconn *conn, const char *sql,
			    const char *table, struct error *err)
{
	PGresult *res;
	int r;

	if ((r = query(conn, sql, table, &res, err)) < 0)
		return r;
	mark_all(s, false);
	for (int i = 0; i < PQntuples(res) && r == 0; i++) {
		struct migrate_file *f = by_version(s, PQgetvalue(res, i, 0), false);
		if (f)
			f->applied = true;
		else
			r = missing(s, PQgetvalue(res, i, 0), "NNN_*.sql");
	}
	PQclear(res);
	return r < 0 ? error_set(err, r, "out of memory") : 0;
}

/* dbmate: one row per applied version. */
static int history_dbmate(struct migrate_set *s, PGconn *conn, const char *table,
			  struct error *err)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT version::text FROM %s ORDER BY 1", table);
	return applied_versions(s, conn, sql, table, err);
}

/* goose: a log of applied (and rolled back) versions; the latest row per version counts. */
static int history_goose(struct migrate_set *s, PGconn *conn, const char *table,
			 struct error *err)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "SELECT version_id::text FROM (SELECT DISTINCT ON (version_id) version_id,"
		 " is_applied FROM %s WHERE version_id <> 0 ORDER BY version_id, id DESC) AS latest"
		 " WHERE is_applied ORDER BY version_id", table);
	return applied_versions(s, conn, sql, table, err);
}

/*
 * Flyway: one row per run of a script.  A failed row is a finding; a
 * versioned row's checksum must still match its file; a repeatable counts
 * as applied when its latest run has the file's checksum (else it is
 * pending: Flyway would run it again).  A BASELINE row stands for every
 * version up to its own.
 */
static int history_flyway(struct migrate_set *s, PGconn *conn, const char *table,
			  struct error *err)
{
	char sql[512], msg[512];
	PGresult *res;
	int r = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT version, script, checksum::text, success, type FROM %s"
		 " ORDER BY installed_rank", table);
	if ((r = query(conn, sql, table, &res, err)) < 0)
		return r;
	mark_all(s, false);
	for (int i = 0; i < PQntuples(res) && r == 0; i++) {
		const char *version = PQgetisnull(res, i, 0) ? NULL : PQgetvalue(res, i, 0);
		const char *script = PQgetvalue(res, i, 1), *type = PQgetvalue(res, i, 4);
		bool ok = strcmp(PQgetvalue(res, i, 3), "t") == 0, has_sum = !PQgetisnull(res, i, 2);
		long sum = has_sum ? strtol(PQgetvalue(res, i, 2), NULL, 10) : 0;

		if (strcmp(type, "SCHEMA") == 0 || strcmp(type, "DELETE") == 0)
			continue;
		if (!ok) {
			snprintf(msg, sizeof(msg), "%s%s failed: repair it, then `flyway repair`",
				 version ? "version " : "", version ? version : script);
			r = add_problem(s, "failed", version, script, msg);
			continue;
		}
		if (strcmp(type, "BASELINE") == 0 && version) {
			for (size_t k = 0; k < s->n_files; k++)
				if (!s->files[k].repeatable && cmp_dotted(s->files[k].version, version) <= 0)
					s->files[k].applied = true;
			continue;
		}
		if (!version) { /* a repeatable: its latest run decides */
			for (size_t k = 0; k < s->n_files; k++)
				if (s->files[k].repeatable && strcmp(s->files[k].name, script) == 0)
					s->files[k].applied = has_sum && sum == s->files[k].checksum;
			continue;
		}
		struct migrate_file *f = by_version(s, version, true);
		if (!f) {
			r = missing(s, version, "V<version>__*.sql");
			continue;
		}
		f->applied = true;
		if (has_sum && sum != f->checksum) {
			snprintf(msg, sizeof(msg),
				 "version %s was applied with checksum %ld, the file's is %ld "
				 "(the file changed after it was applied)",
				 version, sum, (long)f->checksum);
			r = add_problem(s, "checksum", version, f->name, msg);
		}
	}
	PQclear(res);
	return r < 0 ? error_set(err, r, "out of memory") : 0;
}

/* ---- the table ---- */

static const struct migrate_format formats[] = {
	{ "sql", match_sql, cmp_natural, NULL, NULL, false, NULL, NULL },
	{ "sql-dir", match_sql, cmp_natural, NULL, NULL, false, NULL, NULL },
	{ "golang-migrate", match_golang, cmp_numbered, NULL, NULL, false, "schema_migrations",
	  history_golang },
	{ "flyway", match_flyway, cmp_flyway, NULL, NULL, false, "flyway_schema_history",
	  history_flyway },
	{ "goose", match_numbered, cmp_numbered, "-- +goose Up", "-- +goose Down", true,
	  "goose_db_version", history_goose },
	{ "dbmate", match_numbered, cmp_numbered, "-- migrate:up", "-- migrate:down", false,
	  "schema_migrations", history_dbmate },
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

const struct migrate_format *migrate_format_find(const char *name)
{
	for (size_t i = 0; i < N_FORMATS; i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

const char *migrate_format_name(const struct migrate_format *f)
{
	return f->name;
}

const char *migrate_format_history_table(const struct migrate_format *f)
{
	return f->history_table;
}

const char *migrate_format_names(void)
{
	return "sql, sql-dir, golang-migrate, flyway, goose, dbmate, snapshot";
}

bool migrate_is_snapshot(const char *path)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = buf;
	while (sqllex_is_space(*p))
		p++;
	return *p == '{';
}

/* ---- opening a repository ---- */

void migrate_set_free(struct migrate_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_files; i++) {
		free(s->files[i].path);
		free(s->files[i].name);
		free(s->files[i].version);
	}
	for (size_t i = 0; i < s->n_problems; i++) {
		free(s->problems[i].what);
		free(s->problems[i].version);
		free(s->problems[i].file);
		free(s->problems[i].message);
	}
	free(s->problems);
	free(s->files);
	free(s->path);
	free(s->history_table);
	free(s->history_schema);
	free(s);
}

static bool file_contains(const char *path, const char *needle)
{
	char *text = NULL;
	size_t len;
	bool found;

	if (fileio_read_all(path, &text, &len, NULL) < 0)
		return false;
	found = strstr(text, needle) != NULL;
	free(text);
	return found;
}

/* The format of a directory, from its file names, then from the files' markers. */
static const struct migrate_format *detect(const char *dir, char **names, size_t n)
{
	char path[4096];
	char *v = NULL;
	bool rep = false;

	for (size_t i = 0; i < n; i++)
		if (match_golang(names[i], &v, &rep)) {
			free(v);
			return migrate_format_find("golang-migrate");
		}
	for (size_t i = 0; i < n; i++)
		if (match_flyway(names[i], &v, &rep)) {
			free(v);
			return migrate_format_find("flyway");
		}
	for (size_t i = 0; i < n; i++) {
		if (!ends_with(names[i], ".sql"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (file_contains(path, "-- +goose Up"))
			return migrate_format_find("goose");
		if (file_contains(path, "-- migrate:up"))
			return migrate_format_find("dbmate");
	}
	return migrate_format_find("sql-dir");
}

static int read_checksum(struct migrate_file *f, struct error *err)
{
	char *text = NULL;
	size_t len;
	int r = fileio_read_all(f->path, &text, &len, err);

	if (r < 0)
		return r;
	f->checksum = migrate_flyway_checksum(text, len);
	free(text);
	return 0;
}

static int add_file(struct migrate_set *s, const char *dir, const char *name, char *version,
		    bool repeatable)
{
	struct migrate_file *grown = realloc(s->files, (s->n_files + 1) * sizeof(*grown)), *f;

	if (!grown) {
		free(version);
		return -ENOMEM;
	}
	s->files = grown;
	f = &s->files[s->n_files++];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->version = version;
	f->repeatable = repeatable;
	f->applied = true;
	if (dir && asprintf(&f->path, "%s/%s", dir, name) < 0)
		f->path = NULL;
	else if (!dir)
		f->path = strdup(name);
	return f->name && f->path ? 0 : -ENOMEM;
}

static const struct migrate_format *sort_format;

static int cmp_files(const void *a, const void *b)
{
	return sort_format->cmp(a, b);
}

static int open_dir(struct migrate_set *s, const char *path, const struct migrate_format *format,
		    struct error *err)
{
	DIR *d = opendir(path);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	int r = 0;

	if (!d)
		return error_set(err, -errno, "%s: %s", path, strerror(errno));
	while ((e = readdir(d))) {
		char **grown;
		if (e->d_name[0] == '.')
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(e->d_name))) {
			names = grown ? grown : names;
			r = -ENOMEM;
			break;
		}
		names = grown;
		n++;
	}
	closedir(d);
	if (r == 0 && !format)
		format = detect(path, names, n);
	if (r == 0 && strcmp(format->name, "sql") == 0)
		format = migrate_format_find("sql-dir");
	s->format = format;
	for (size_t i = 0; i < n && r == 0; i++) {
		char *version = NULL;
		bool repeatable = false;
		if (format->match(names[i], &version, &repeatable))
			r = add_file(s, path, names[i], version, repeatable);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r < 0)
		return error_set(err, r, "out of memory");
	if (s->n_files == 0)
		return error_set(err, -ENOENT, "%s: no %s migration files", path, format->name);
	sort_format = format; /* qsort has no context argument; the CLI is single-threaded here */
	qsort(s->files, s->n_files, sizeof(*s->files), cmp_files);
	for (size_t i = 0; i < s->n_files; i++) {
		if (strcmp(format->name, "flyway") == 0 && (r = read_checksum(&s->files[i], err)) < 0)
			return r;
		if (i > 0 && s->files[i].version && s->files[i - 1].version &&
		    (strcmp(format->name, "flyway") == 0
			     ? cmp_dotted(s->files[i].version, s->files[i - 1].version)
			     : cmp_number(s->files[i].version, s->files[i - 1].version)) == 0)
			return error_set(err, -EINVAL, "%s and %s: two migrations of version %s",
					 s->files[i - 1].path, s->files[i].path, s->files[i].version);
	}
	return 0;
}

int migrate_open(const char *path, const struct migrate_format *format, struct migrate_set **ret,
		 struct error *err)
{
	struct migrate_set *s = calloc(1, sizeof(*s));
	struct stat st;
	int r;

	if (!s || !(s->path = strdup(path))) {
		free(s);
		return error_set(err, -ENOMEM, "out of memory");
	}
	if (stat(path, &st) < 0) {
		r = error_set(err, -errno, "%s: %s", path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		r = open_dir(s, path, format, err);
	} else if (format && strcmp(format->name, "sql") != 0) {
		r = error_set(err, -EINVAL, "%s: a file, but --expected-format %s needs a directory",
			      path, format->name);
	} else {
		s->format = migrate_format_find("sql");
		r = add_file(s, NULL, path, NULL, false);
		if (r < 0)
			error_set(err, r, "out of memory");
	}
	if (r < 0) {
		migrate_set_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* Finds the history table on the target: in the search path first, else in any schema. */
int migrate_read_history(struct migrate_set *s, PGconn *conn, struct error *err)
{
	const char *name = s->format->history_table;
	const char *params[1] = { name };
	PGresult *res;

	if (!name)
		return 0;
	res = PQexecParams(conn,
			   "SELECT format('%I.%I', n.nspname, c.relname), n.nspname"
			   " FROM pg_catalog.pg_class c"
			   " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
			   " WHERE c.relname = $1 AND c.relkind IN ('r', 'p')"
			   " ORDER BY n.nspname = ANY (current_schemas(false)) DESC, n.nspname"
			   " LIMIT 1", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
		msg[strcspn(msg, "\n")] = '\0';
		PQclear(res);
		return error_set(err, -EIO, "looking for the history table %s: %s", name, msg);
	}
	if (PQntuples(res) == 0) { /* never migrated by the tool: the whole repository counts */
		PQclear(res);
		return 0;
	}
	s->history_table = strdup(PQgetvalue(res, 0, 0));
	s->history_schema = strdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (!s->history_table || !s->history_schema)
		return error_set(err, -ENOMEM, "out of memory");
	return s->format->history(s, conn, s->history_table, err);
}

/* ---- statements of a file ---- */

void migrate_statements_free(struct migrate_statement *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(st[i].text);
	free(st);
}

struct stmts {
	struct migrate_statement *v;
	size_t n, cap;
};

static int push_stmt(struct stmts *o, const char *text, size_t len, int line)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 32;
		struct migrate_statement *g = realloc(o->v, cap * sizeof(*g));
		if (!g)
			return -ENOMEM;
		o->v = g;
		o->cap = cap;
	}
	o->v[o->n].text = strndup(text, len);
	o->v[o->n].line = line;
	if (!o->v[o->n].text)
		return -ENOMEM;
	o->n++;
	return 0;
}

/* Splits text[0..len) (starting at line) into statements. */
static int split_into(struct stmts *o, const char *text, size_t len, int line)
{
	struct sqllex_statement *st = NULL;
	size_t n = 0;
	char *copy = strndup(text, len);
	int r;

	if (!copy)
		return -ENOMEM;
	r = sqllex_split(copy, line, &st, &n);
	for (size_t i = 0; i < n && r == 0; i++)
		r = push_stmt(o, st[i].text, st[i].len, st[i].line);
	free(st);
	free(copy);
	return r;
}

/* Whether the line at p starts with marker (after blanks), case-insensitively. */
static bool line_is(const char *p, const char *marker)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return strncasecmp(p, marker, strlen(marker)) == 0;
}

int migrate_file_statements(const struct migrate_set *s, const struct migrate_file *f,
			    struct migrate_statement **ret, size_t *ret_n, struct error *err)
{
	char *text = NULL;
	size_t len;
	int r = fileio_read_all(f->path, &text, &len, err);

	if (r < 0)
		return r;
	r = migrate_text_statements(s->format, f->path, text, len, ret, ret_n, err);
	free(text);
	return r;
}

int migrate_text_statements(const struct migrate_format *fmt, const char *path, const char *text,
			    size_t len, struct migrate_statement **ret, size_t *ret_n,
			    struct error *err)
{
	struct stmts o = { 0 };
	int r = 0;

	if (strlen(text) != len)
		return error_set(err, -EINVAL, "%s: holds a NUL byte: not SQL text", path);
	if (!fmt->up_marker) {
		r = split_into(&o, text, len, 1);
	} else {
		/* Walk line by line: the up section, goose's statement blocks. */
		const char *p = text, *chunk = NULL, *block = NULL;
		int line = 1, chunk_line = 0, block_line = 0;
		bool up = false, seen_up = false;

		while (*p && r == 0) {
			const char *eol = strchr(p, '\n');
			const char *next = eol ? eol + 1 : p + strlen(p);

			if (line_is(p, fmt->up_marker)) {
				up = seen_up = true;
				chunk = next;
				chunk_line = line + 1;
			} else if (line_is(p, fmt->down_marker)) {
				if (up && chunk)
					r = split_into(&o, chunk, (size_t)(p - chunk), chunk_line);
				up = false;
				chunk = NULL;
			} else if (up && fmt->goose_blocks && line_is(p, "-- +goose StatementBegin")) {
				if (chunk)
					r = split_into(&o, chunk, (size_t)(p - chunk), chunk_line);
				chunk = NULL;
				block = next;
				block_line = line + 1;
			} else if (up && fmt->goose_blocks && line_is(p, "-- +goose StatementEnd")) {
				if (!block) {
					r = error_set(err, -EINVAL,
						      "%s:%d: StatementEnd without StatementBegin",
						      path, line);
					break;
				}
				r = push_stmt(&o, block, (size_t)(p - block), block_line);
				block = NULL;
				chunk = next;
				chunk_line = line + 1;
			}
			line++;
			p = next;
		}
		if (r == 0 && block)
			r = error_set(err, -EINVAL, "%s:%d: StatementBegin without StatementEnd",
				      path, block_line - 1);
		else if (r == 0 && up && chunk)
			r = split_into(&o, chunk, (size_t)(p - chunk), chunk_line);
		if (r == 0 && !seen_up)
			r = error_set(err, -EINVAL, "%s: no \"%s\" line", path, fmt->up_marker);
	}
	if (r < 0) {
		migrate_statements_free(o.v, o.n);
		return err && err->code ? r : error_set(err, r, "out of memory");
	}
	*ret = o.v;
	*ret_n = o.n;
	return 0;
}

/* ---- Flyway's checksum ---- */

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

int32_t migrate_flyway_checksum(const char *text, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;
	size_t i = 0;

	if (!crc_table[1])
		crc_init();
	if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
	    (unsigned char)text[2] == 0xBF)
		i = 3;
	/* Java's readLine(): \n, \r and \r\n end a line and are not part of it. */
	for (; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n' || c == '\r')
			continue;
		crc = crc_table[(crc ^ c) & 0xFF] ^ (crc >> 8);
	}
	return (int32_t)(crc ^ 0xFFFFFFFFu);
}
