/* Checks: the table of checks, plans, the read-only run with per-statement savepoints, custom SQL checks, reports. */
#include "dbcheck_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "isotime.h"
#include "live.h"

/* Every check there is; custom SQL checks are one member.  Adding a check: one file, one row. */
static const struct dbcheck_type *const dbcheck_types[] = {
	&dbcheck_fk_index,
	&dbcheck_orphans,
	&dbcheck_violations,
	&dbcheck_null_violations,
	&dbcheck_custom_type,
	NULL,
};

static const struct dbcheck_type *type_by_name(const char *name)
{
	for (size_t i = 0; dbcheck_types[i]; i++)
		if (strcmp(dbcheck_types[i]->name, name) == 0)
			return dbcheck_types[i];
	return NULL;
}

/* ------------------------------------------------------------ custom checks */

static void custom_done(struct dbcheck_custom *c)
{
	free(c->name);
	free(c->sql);
	free(c->description);
	ini_list_free(c->targets, c->n_targets);
}

void dbcheck_custom_set_free(struct dbcheck_custom_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		custom_done(&s->items[i]);
	free(s->items);
	free(s);
}

static int dup_str(const char *s, char **ret)
{
	*ret = s ? strdup(s) : NULL;
	return s && !*ret ? -ENOMEM : 0;
}

int dbcheck_custom_set_dup(const struct dbcheck_custom_set *s, struct dbcheck_custom_set **ret)
{
	struct dbcheck_custom_set *c = calloc(1, sizeof(*c));
	int r = 0;

	if (!c || (s && s->n && !(c->items = calloc(s->n, sizeof(*c->items))))) {
		free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; s && i < s->n && r == 0; i++) {
		const struct dbcheck_custom *from = &s->items[i];
		struct dbcheck_custom *to = &c->items[c->n++];

		*to = *from;
		to->name = to->sql = to->description = NULL;
		to->targets = NULL;
		to->n_targets = 0;
		if (dup_str(from->name, &to->name) < 0 || dup_str(from->sql, &to->sql) < 0 ||
		    dup_str(from->description, &to->description) < 0 ||
		    (from->n_targets && !(to->targets = calloc(from->n_targets, sizeof(char *)))))
			r = -ENOMEM;
		for (size_t k = 0; r == 0 && k < from->n_targets; k++)
			if (dup_str(from->targets[k], &to->targets[to->n_targets++]) < 0)
				r = -ENOMEM;
	}
	if (r < 0) {
		dbcheck_custom_set_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

bool dbcheck_custom_applies(const struct dbcheck_custom *c, const char *target)
{
	if (!c->n_targets || !target)
		return true;
	for (size_t i = 0; i < c->n_targets; i++)
		if (strcmp(c->targets[i], target) == 0)
			return true;
	return false;
}

static int parse_severity(const struct ini_kv *kv, enum diff_severity *ret, struct error *err)
{
	static const char *const names[] = { "info", "warning", "breaking" };

	for (int i = 0; i < 3; i++)
		if (strcmp(kv->value, names[i]) == 0) {
			*ret = (enum diff_severity)i;
			return 0;
		}
	return ini_error(kv, err, -EINVAL, "'%s' is not info, warning or breaking", kv->value);
}

static int custom_from_section(const struct ini_section *s, struct dbcheck_custom *c,
			       struct error *err)
{
	const struct ini_kv *sql = NULL, *file = NULL;
	int r;

	c->name = strdup(s->name);
	c->severity = dbcheck_custom_type.severity;
	c->file = s->file;
	c->line = s->line;
	if (!c->name)
		return error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n_kv; i++) {
		const struct ini_kv *kv = &s->kv[i];
		long long v;

		if (strcmp(kv->key, "sql") == 0) {
			sql = kv;
		} else if (strcmp(kv->key, "file") == 0) {
			file = kv;
		} else if (strcmp(kv->key, "severity") == 0) {
			if ((r = parse_severity(kv, &c->severity, err)) < 0)
				return r;
		} else if (strcmp(kv->key, "max_rows") == 0) {
			if ((r = ini_int(kv, 1, 100000, &v, err)) < 0)
				return r;
			c->max_rows = v;
		} else if (strcmp(kv->key, "statement_timeout") == 0 ||
			   strcmp(kv->key, "lock_timeout") == 0) {
			if ((r = ini_duration_ms(kv, 10, 24LL * 3600 * 1000, &v, err)) < 0)
				return r;
			if (kv->key[0] == 's')
				c->statement_timeout_ms = (int)v;
			else
				c->lock_timeout_ms = (int)v;
		} else if (strcmp(kv->key, "targets") == 0) {
			ini_list_free(c->targets, c->n_targets);
			c->targets = NULL;
			c->n_targets = 0;
			if ((r = ini_list(kv, &c->targets, &c->n_targets, err)) < 0)
				return r;
		} else if (strcmp(kv->key, "description") == 0) {
			free(c->description);
			if (!(c->description = strdup(kv->value)))
				return error_set(err, -ENOMEM, "out of memory");
		} else {
			return ini_error(kv, err, -EINVAL,
					  "unknown key in [check %s] (sql, file, severity, max_rows, "
					  "statement_timeout, lock_timeout, targets, description)",
					  s->name);
		}
	}
	if (!sql == !file)
		return ini_section_error(s, err, -EINVAL, "needs exactly one of sql = or file =");
	if (sql) {
		c->sql = strdup(sql->value);
		return c->sql ? 0 : error_set(err, -ENOMEM, "out of memory");
	}
	char *path = ini_path(file);
	size_t len;

	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	r = fileio_read_all(path, &c->sql, &len, err);
	free(path);
	if (r < 0)
		return error_prefix(err, "%s:%d: key 'file'", file->file, file->line);
	if (strlen(c->sql) != len)
		return ini_error(file, err, -EINVAL, "the file holds a NUL byte");
	return 0;
}

int dbcheck_customs_from_ini(const struct ini *raw, struct dbcheck_custom_set **ret,
			   struct error *err)
{
	struct dbcheck_custom_set *set = calloc(1, sizeof(*set));

	if (!set)
		return error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; raw && i < raw->n_sections; i++) {
		const struct ini_section *s = &raw->sections[i];
		struct dbcheck_custom *grown;
		int r;

		if (strcmp(s->kind, "check") != 0)
			continue;
		grown = realloc(set->items, (set->n + 1) * sizeof(*grown));
		if (!grown) {
			dbcheck_custom_set_free(set);
			return error_set(err, -ENOMEM, "out of memory");
		}
		set->items = grown;
		memset(&set->items[set->n], 0, sizeof(set->items[0]));
		r = custom_from_section(s, &set->items[set->n++], err);
		if (r < 0) {
			dbcheck_custom_set_free(set);
			return r;
		}
	}
	*ret = set;
	return 0;
}

/* -------------------------------------------------------------------- plans */

struct plan_item {
	const struct dbcheck_type *type;
	const struct dbcheck_custom *custom;
};

struct dbcheck_plan {
	struct plan_item *items;
	size_t n;
};

static const char *const builtin_names[] = { "fk-index", "orphans", "check-violations",
					     "null-violations" };

bool dbcheck_name_valid(const char *name)
{
	if (strcmp(name, "all") == 0 || strcmp(name, "custom") == 0)
		return true;
	if (strncmp(name, "custom:", 7) == 0)
		return name[7] != '\0';
	for (size_t i = 0; i < 4; i++)
		if (strcmp(name, builtin_names[i]) == 0)
			return true;
	return false;
}

static int plan_add(struct dbcheck_plan *p, const struct dbcheck_type *t, const struct dbcheck_custom *c)
{
	struct plan_item *grown;

	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].type == t && p->items[i].custom == c)
			return 0; /* named twice: run once */
	grown = realloc(p->items, (p->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	p->items = grown;
	p->items[p->n].type = t;
	p->items[p->n].custom = c;
	p->n++;
	return 0;
}

static int plan_customs(struct dbcheck_plan *p, const struct dbcheck_custom_set *customs,
			const char *target)
{
	for (size_t i = 0; customs && i < customs->n; i++)
		if (dbcheck_custom_applies(&customs->items[i], target) &&
		    plan_add(p, &dbcheck_custom_type, &customs->items[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int plan_name(struct dbcheck_plan *p, const char *name,
		     const struct dbcheck_custom_set *customs, const char *target, struct error *err)
{
	if (strcmp(name, "all") == 0) {
		for (size_t i = 0; i < 4; i++)
			if (plan_add(p, type_by_name(builtin_names[i]), NULL) < 0)
				return error_set(err, -ENOMEM, "out of memory");
		return plan_customs(p, customs, target) < 0 ? error_set(err, -ENOMEM, "out of memory")
							    : 0;
	}
	if (strcmp(name, "custom") == 0)
		return plan_customs(p, customs, target) < 0 ? error_set(err, -ENOMEM, "out of memory")
							    : 0;
	if (strncmp(name, "custom:", 7) == 0) {
		for (size_t i = 0; customs && i < customs->n; i++)
			if (strcmp(customs->items[i].name, name + 7) == 0)
				return plan_add(p, &dbcheck_custom_type, &customs->items[i]) < 0
					       ? error_set(err, -ENOMEM, "out of memory")
					       : 0;
		return error_set(err, -EINVAL, "no [check %s] section for check '%s'", name + 7, name);
	}
	for (size_t i = 0; i < 4; i++)
		if (strcmp(name, builtin_names[i]) == 0)
			return plan_add(p, type_by_name(name), NULL) < 0
				       ? error_set(err, -ENOMEM, "out of memory")
				       : 0;
	return error_set(err, -EINVAL,
			 "unknown check '%s' (fk-index, orphans, check-violations, null-violations, "
			 "custom:NAME, custom or all)", name);
}

int dbcheck_plan_new(char *const *names, size_t n_names, const struct dbcheck_custom_set *customs,
		   const char *target, struct dbcheck_plan **ret, struct error *err)
{
	struct dbcheck_plan *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n_names; i++)
		if ((r = plan_name(p, names[i], customs, target, err)) < 0) {
			dbcheck_plan_free(p);
			return r;
		}
	*ret = p;
	return 0;
}

void dbcheck_plan_free(struct dbcheck_plan *p)
{
	if (!p)
		return;
	free(p->items);
	free(p);
}

size_t dbcheck_plan_size(const struct dbcheck_plan *p)
{
	return p->n;
}

/* ------------------------------------------------------------------ running */

static json_t *text_json(const char *s);

static void result_done(struct dbcheck_result *r)
{
	free(r->name);
	free(r->error);
	json_decref(r->notes);
}

static void finding_done(struct dbcheck_finding *f)
{
	free(f->check);
	free(f->object);
	free(f->key);
	free(f->message);
	free(f->fix);
	json_decref(f->details);
}

void dbcheck_report_free(struct dbcheck_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_results; i++)
		result_done(&r->results[i]);
	for (size_t i = 0; i < r->n_findings; i++)
		finding_done(&r->findings[i]);
	free(r->results);
	free(r->findings);
	free(r);
}

int dbcheck_report_worst(const struct dbcheck_report *r)
{
	int worst = -1;

	for (size_t i = 0; i < r->n_findings; i++)
		if ((int)r->findings[i].severity > worst)
			worst = (int)r->findings[i].severity;
	return worst;
}

bool dbcheck_report_incomplete(const struct dbcheck_report *r)
{
	for (size_t i = 0; i < r->n_results; i++)
		if (r->results[i].status == DBCHECK_TIMEOUT || r->results[i].status == DBCHECK_FAILED)
			return true;
	return false;
}

/* One line of a server message: newlines and tabs become spaces. */
static void one_line(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
}

/* Runs a statement without parameters that must succeed. */
static int exec_ok(PGconn *conn, const char *sql, struct error *err)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int r = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		one_line(msg);
		r = error_set(err, PQstatus(conn) == CONNECTION_BAD ? -ECONNRESET : -EIO,
			      "%s: %s", sql, msg);
	}
	PQclear(res);
	return r;
}

int dbcheck_query(struct dbcheck_ctx *c, const char *sql, int n_params, const char *const *params,
		PGresult **ret, struct error *err)
{
	PGresult *res;
	ExecStatusType st;
	int r;

	if ((r = exec_ok(c->conn, "SAVEPOINT schemadrift_check", err)) < 0)
		return r;
	c->result->statements++;
	res = PQexecParams(c->conn, sql, n_params, NULL, params, NULL, NULL, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if ((r = exec_ok(c->conn, "RELEASE SAVEPOINT schemadrift_check", err)) < 0) {
			PQclear(res);
			return r == -ECONNRESET ? r : -ECONNRESET; /* the transaction is unusable */
		}
		*ret = res;
		return 0;
	}
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[700];

	snprintf(msg, sizeof(msg), "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(c->conn));
	one_line(msg);
	if (PQstatus(c->conn) == CONNECTION_BAD)
		r = -ECONNRESET;
	else if (state && (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0))
		r = -ETIMEDOUT; /* query_canceled (statement_timeout), lock_not_available */
	else if (state && strcmp(state, "42501") == 0)
		r = -EACCES;
	else
		r = -EIO;
	error_set(err, r, "%s%s%s%s", msg, state ? " (SQLSTATE " : "", state ? state : "",
		  state ? ")" : "");
	PQclear(res);
	if (r != -ECONNRESET) {
		struct error e2;
		int r2 = exec_ok(c->conn, "ROLLBACK TO SAVEPOINT schemadrift_check", &e2);
		if (r2 < 0) {
			if (err)
				*err = e2;
			return r2 == -ECONNRESET ? r2 : -ECONNRESET;
		}
	}
	return r;
}

int dbcheck_data_failed(struct dbcheck_ctx *c, int code, const struct error *err, const char *object)
{
	struct dbcheck_result *res = c->result;
	const char *text = err ? err->text : "unknown error";

	if (code == -ECONNRESET) {
		c->lost = err ? *err : c->lost;
		return code;
	}
	if (code == -EACCES) {
		dbcheck_note(c, "cannot read %s: %s", object, text);
		if (res->status == DBCHECK_OK)
			res->status = DBCHECK_PARTIAL;
		return 0;
	}
	if (code == -ETIMEDOUT) {
		res->status = DBCHECK_TIMEOUT;
		dbcheck_note(c, "timed out on %s: %s", object, text);
	} else {
		if (res->status != DBCHECK_TIMEOUT)
			res->status = DBCHECK_FAILED;
		dbcheck_note(c, "failed on %s: %s", object, text);
	}
	if (!res->error) {
		char *e = NULL;
		if (asprintf(&e, "%s: %s", object, text) >= 0)
			res->error = e;
	}
	return 0;
}

int dbcheck_each_row(struct dbcheck_ctx *c, const char *sql, int n_params,
		     const char *const *params, dbcheck_row_fn fn)
{
	PGresult *res = NULL;
	struct error e;
	int r = dbcheck_query(c, sql, n_params, params, &res, &e);

	if (r < 0)
		return dbcheck_data_failed(c, r, &e, "the catalog");
	for (int i = 0; i < PQntuples(res) && r == 0; i++)
		r = fn(c, res, i);
	PQclear(res);
	return r;
}

void dbcheck_note(struct dbcheck_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	json_array_append_new(c->result->notes, text_json(s));
	free(s);
}

int dbcheck_add_finding(struct dbcheck_ctx *c, enum diff_severity severity, const char *object,
		      const char *message, const char *fix, json_t *details)
{
	struct dbcheck_report *rep = c->report;
	struct dbcheck_finding *grown, *f;
	char *name = NULL;

	if (c->custom) {
		if (asprintf(&name, "custom:%s", c->custom->name) < 0)
			name = NULL;
	} else {
		name = strdup(c->result->name);
	}
	grown = realloc(rep->findings, (rep->n_findings + 1) * sizeof(*grown));
	if (!grown || !name) {
		free(name);
		json_decref(details);
		return -ENOMEM;
	}
	rep->findings = grown;
	f = &rep->findings[rep->n_findings];
	memset(f, 0, sizeof(*f));
	f->check = name;
	f->severity = severity;
	f->object = strdup(object ? object : "");
	f->message = strdup(message);
	f->fix = fix ? strdup(fix) : NULL;
	f->details = details ? details : json_object();
	if (f->object && f->object[0]) {
		if (asprintf(&f->key, "%s:%s", name, f->object) < 0)
			f->key = NULL;
	} else {
		f->key = strdup(name);
	}
	rep->n_findings++;
	c->result->n_findings++;
	if (!f->object || !f->message || !f->key || (fix && !f->fix) || !f->details)
		return -ENOMEM;
	return 0;
}

char *dbcheck_quote_ident(const char *name)
{
	size_t n = strlen(name), o = 0;
	char *out = malloc(2 * n + 3);

	if (!out)
		return NULL;
	out[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '"')
			out[o++] = '"';
		out[o++] = name[i];
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

char *dbcheck_scan_from(struct dbcheck_ctx *c, const char *table, bool only, double reltuples,
		      const char *alias, double *ret_percent)
{
	char *out = NULL;
	double p = 0;

	if (c->o->sample_above >= 0 && reltuples > (double)c->o->sample_above) {
		/* SYSTEM samples whole pages: about sample_above rows, cheap to read, and
		 * REPEATABLE so the same rows are looked at on every run. */
		p = 100.0 * (double)c->o->sample_above / reltuples;
		if (p < 0.0001)
			p = 0.0001;
		dbcheck_note(c, "%s: sampled, about %.4g%% of %.0f rows (TABLESAMPLE SYSTEM (%.4f) "
			   "REPEATABLE (0)); counts are of the sample", table, p, reltuples, p);
	}
	if (p > 0) {
		if (asprintf(&out, "%s%s %s TABLESAMPLE SYSTEM (%.4f) REPEATABLE (0)",
			     only ? "ONLY " : "", table, alias, p) < 0)
			out = NULL;
	} else if (asprintf(&out, "%s%s %s", only ? "ONLY " : "", table, alias) < 0) {
		out = NULL;
	}
	*ret_percent = p;
	return out;
}

/* Every row of res as an array of text values (NULL as null), at most max rows. */
static json_t *rows_json(const PGresult *res, int max)
{
	json_t *rows = json_array();

	for (int i = 0; rows && i < PQntuples(res) && i < max; i++) {
		json_t *row = json_array();

		for (int k = 0; row && k < PQnfields(res); k++)
			json_array_append_new(row, PQgetisnull(res, i, k)
						   ? json_null()
						   : text_json(PQgetvalue(res, i, k)));
		json_array_append_new(rows, row);
	}
	return rows;
}

static json_t *columns_json(const PGresult *res)
{
	json_t *cols = json_array();

	for (int k = 0; cols && k < PQnfields(res); k++)
		json_array_append_new(cols, json_string(PQfname(res, k)));
	return cols;
}

int dbcheck_violations_finding(struct dbcheck_ctx *c, const char *object, const char *select_sql,
			     const char *count_sql, double sample_percent,
			     enum diff_severity severity, const char *what, json_t *details)
{
	PGresult *res = NULL, *cres = NULL;
	struct error e;
	long long shown, count = -1;
	bool more;
	char *msg = NULL;
	int r;

	r = dbcheck_query(c, select_sql, 0, NULL, &res, &e);
	if (r < 0) {
		json_decref(details);
		return dbcheck_data_failed(c, r, &e, object);
	}
	shown = PQntuples(res);
	more = shown > c->o->sample_rows;
	if (shown == 0) {
		PQclear(res);
		json_decref(details);
		return 0;
	}
	if (c->o->exact_counts && count_sql) {
		r = dbcheck_query(c, count_sql, 0, NULL, &cres, &e);
		if (r < 0) {
			r = dbcheck_data_failed(c, r, &e, object);
			if (r < 0) {
				PQclear(res);
				json_decref(details);
				return r;
			}
		} else {
			count = strtoll(PQgetvalue(cres, 0, 0), NULL, 10);
			PQclear(cres);
		}
	}
	if (shown > c->o->sample_rows)
		shown = c->o->sample_rows;
	json_object_set_new(details, "columns", columns_json(res));
	json_object_set_new(details, "rows", rows_json(res, (int)shown));
	json_object_set_new(details, "more_rows", json_boolean(more));
	json_object_set_new(details, "count", count >= 0 ? json_integer(count) : json_null());
	json_object_set_new(details, "sampled", json_boolean(sample_percent > 0));
	if (sample_percent > 0)
		json_object_set_new(details, "sample_percent", json_real(sample_percent));
	PQclear(res);
	if (count >= 0)
		r = asprintf(&msg, "%lld row%s %s", count, count == 1 ? "" : "s", what);
	else
		r = asprintf(&msg, "%s%lld row%s %s%s", more ? "more than " : "", shown,
			     shown == 1 && !more ? "" : "s", what,
			     sample_percent > 0 ? " (in a sample)" : "");
	if (r < 0) {
		json_decref(details);
		return -ENOMEM;
	}
	r = dbcheck_add_finding(c, severity, object, msg, NULL, details);
	free(msg);
	return r;
}

/* ------------------------------------------------------------ custom checks */

/* The custom SQL as a cursor's query: trailing blanks and semicolons dropped. */
static char *cursor_sql(const char *sql)
{
	size_t n = strlen(sql);
	char *out = NULL;

	while (n && (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\n' ||
		     sql[n - 1] == '\t' || sql[n - 1] == '\r'))
		n--;
	if (asprintf(&out, "DECLARE schemadrift_custom NO SCROLL CURSOR FOR %.*s", (int)n, sql) < 0)
		return NULL;
	return out;
}

/* Runs the SQL as written, through a cursor, so only max_rows + 1 rows are
 * ever produced unless an exact count is asked for (MOVE ALL). */
static int custom_run(struct dbcheck_ctx *c)
{
	const struct dbcheck_custom *cc = c->custom;
	long long max = cc->max_rows ? cc->max_rows : c->o->sample_rows;
	char *decl = cursor_sql(cc->sql), fetch[64], object[80];
	PGresult *res = NULL, *mres = NULL;
	long long count = -1, shown;
	struct error e;
	json_t *details;
	char *msg = NULL;
	int r;

	snprintf(object, sizeof(object), "[check %s]", cc->name);
	if (!decl)
		return -ENOMEM;
	r = dbcheck_query(c, decl, 0, NULL, &res, &e);
	free(decl);
	if (r < 0)
		return dbcheck_data_failed(c, r, &e, object);
	PQclear(res);
	snprintf(fetch, sizeof(fetch), "FETCH %lld FROM schemadrift_custom", max + 1);
	r = dbcheck_query(c, fetch, 0, NULL, &res, &e);
	if (r < 0) {
		r = dbcheck_data_failed(c, r, &e, object);
		goto close;
	}
	shown = PQntuples(res);
	if (c->o->exact_counts) {
		r = dbcheck_query(c, "MOVE FORWARD ALL IN schemadrift_custom", 0, NULL, &mres, &e);
		if (r < 0) {
			r = dbcheck_data_failed(c, r, &e, object);
			PQclear(res);
			goto close;
		}
		count = shown + strtoll(PQcmdTuples(mres), NULL, 10);
		PQclear(mres);
	}
	if (shown == 0) {
		PQclear(res);
		r = 0;
		goto close;
	}
	details = json_object();
	json_object_set_new(details, "columns", columns_json(res));
	json_object_set_new(details, "rows", rows_json(res, (int)(shown > max ? max : shown)));
	json_object_set_new(details, "more_rows", json_boolean(shown > max));
	json_object_set_new(details, "count", count >= 0 ? json_integer(count) : json_null());
	if (cc->description)
		json_object_set_new(details, "description", json_string(cc->description));
	PQclear(res);
	if (count >= 0)
		r = asprintf(&msg, "%lld violating row%s%s%s", count, count == 1 ? "" : "s",
			     cc->description ? ": " : "", cc->description ? cc->description : "");
	else
		r = asprintf(&msg, "%s%lld violating row%s%s%s", shown > max ? "more than " : "",
			     shown > max ? max : shown, shown == 1 ? "" : "s",
			     cc->description ? ": " : "", cc->description ? cc->description : "");
	if (r < 0) {
		json_decref(details);
		r = -ENOMEM;
		goto close;
	}
	r = dbcheck_add_finding(c, cc->severity, "", msg, NULL, details);
	free(msg);
close:;
	PGresult *cl = NULL;
	struct error ce;
	if (dbcheck_query(c, "CLOSE schemadrift_custom", 0, NULL, &cl, &ce) == 0)
		PQclear(cl);
	return r;
}

const struct dbcheck_type dbcheck_custom_type = {
	.name = "custom",
	.severity = DIFF_WARNING,
	.reads_data = true,
	.run = custom_run,
};

/* ------------------------------------------------------------------- a run */

/* The check's own limits (a [check] section may set them), else the run's. */
static int set_timeouts(PGconn *conn, const struct dbcheck_options *o,
			const struct dbcheck_custom *custom, struct error *err)
{
	char sql[200];

	snprintf(sql, sizeof(sql),
		 "SELECT set_config('statement_timeout', '%d', true), "
		 "set_config('lock_timeout', '%d', true)",
		 custom && custom->statement_timeout_ms ? custom->statement_timeout_ms
							: o->statement_timeout_ms,
		 custom && custom->lock_timeout_ms ? custom->lock_timeout_ms : o->lock_timeout_ms);
	return exec_ok(conn, sql, err);
}

int dbcheck_run(PGconn *conn, const struct dbcheck_plan *p, const struct dbcheck_options *opts,
	      struct dbcheck_report **ret, struct error *err)
{
	struct dbcheck_options o = *opts;
	struct dbcheck_report *rep;
	int r;

	if (o.statement_timeout_ms <= 0)
		o.statement_timeout_ms = DBCHECK_DEFAULT_STATEMENT_TIMEOUT_MS;
	if (o.lock_timeout_ms <= 0)
		o.lock_timeout_ms = DBCHECK_DEFAULT_LOCK_TIMEOUT_MS;
	if (o.sample_rows <= 0)
		o.sample_rows = DBCHECK_DEFAULT_SAMPLE_ROWS;
	if (o.sample_above == 0)
		o.sample_above = DBCHECK_DEFAULT_SAMPLE_ABOVE;
	rep = calloc(1, sizeof(*rep));
	if (!rep || !(rep->results = calloc(p->n ? p->n : 1, sizeof(*rep->results)))) {
		free(rep);
		return error_set(err, -ENOMEM, "out of memory");
	}
	rep->server_version = PQserverVersion(conn);
	/* READ COMMITTED: each statement takes its own snapshot, so a long run
	 * holds back no vacuum horizon between statements.  search_path '' keeps
	 * every name we build and every definition we read schema-qualified. */
	if ((r = exec_ok(conn, "BEGIN READ ONLY", err)) < 0 ||
	    (r = exec_ok(conn, "SELECT set_config('search_path', '', true), "
			       "set_config('jit', 'off', true)", err)) < 0)
		goto fail;
	for (size_t i = 0; i < p->n; i++) {
		struct dbcheck_result *res = &rep->results[rep->n_results++];
		struct dbcheck_ctx c = { .type = p->items[i].type, .conn = conn, .o = &o,
				       .report = rep, .result = res,
				       .custom = p->items[i].custom,
				       .server_version = rep->server_version };
		long long t0 = (long long)isotime_mono_ms();

		if (p->items[i].custom) {
			if (asprintf(&res->name, "custom:%s", p->items[i].custom->name) < 0)
				res->name = NULL;
		} else {
			res->name = strdup(p->items[i].type->name);
		}
		res->notes = json_array();
		res->reads_data = p->items[i].type->reads_data;
		if (!res->name || !res->notes) {
			r = error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		if ((r = set_timeouts(conn, &o, p->items[i].custom, err)) < 0)
			goto fail;
		r = p->items[i].type->run(&c);
		res->duration_ms = (long long)isotime_mono_ms() - t0;
		if (r == -ENOMEM) {
			r = error_set(err, r, "out of memory");
			goto fail;
		}
		if (r < 0) {
			r = error_set(err, r, "check %s: connection lost: %s", res->name,
				      c.lost.text[0] ? c.lost.text : "no reason given");
			goto fail;
		}
	}
	/* Nothing to keep: read only. */
	if ((r = exec_ok(conn, "ROLLBACK", err)) < 0)
		goto fail;
	*ret = rep;
	return 0;
fail:
	if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
		PGresult *x = PQexec(conn, "ROLLBACK");
		PQclear(x);
	}
	dbcheck_report_free(rep);
	return r;
}

/* ------------------------------------------------------------- saved runs */

int dbcheck_saved_keys(const char *dir, char ***ret, size_t *ret_n, struct error *err)
{
	char *path = NULL, *text = NULL, **keys = NULL;
	json_t *j = NULL, *arr, *f;
	json_error_t je;
	size_t len, i, n = 0;
	int r;

	if (asprintf(&path, "%s/%s", dir, DBCHECK_SAVED_FILE) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	r = fileio_read_all(path, &text, &len, err);
	if (r < 0)
		goto out;
	j = json_loadb(text, len, 0, &je);
	arr = json_object_get(j, "findings");
	if (!json_is_array(arr)) {
		r = error_set(err, -EBADMSG, "%s: line %d: not a saved check run", path, je.line);
		goto out;
	}
	keys = calloc(json_array_size(arr) + 1, sizeof(*keys));
	if (!keys) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, f) {
		const char *k = json_string_value(json_object_get(f, "key"));
		if (k && !(keys[n++] = strdup(k))) {
			r = error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	*ret = keys;
	*ret_n = n;
	keys = NULL;
out:
	if (keys) {
		for (i = 0; i < n; i++)
			free(keys[i]);
		free(keys);
	}
	json_decref(j);
	free(text);
	free(path);
	return r;
}

/* ---------------------------------------------------------------- connecting */

int dbcheck_connect(const char *dsn, const char *password, int connect_timeout_ms, PGconn **ret,
		  struct error *err)
{
	char timeout[32], where[512], msg[600];
	const char *const keys[] = { "dbname", "application_name", "client_encoding", "keepalives",
				     "keepalives_idle", "connect_timeout",
				     password ? "password" : NULL, NULL };
	const char *vals[] = { dsn, "schemadrift", "UTF8", "1", "60", timeout, password, NULL };
	PGconn *conn;

	/* libpq's connect_timeout is whole seconds, at least 2. */
	snprintf(timeout, sizeof(timeout), "%d",
		 connect_timeout_ms > 0 ? (connect_timeout_ms + 999) / 1000 : 10);
	conn = PQconnectdbParams(keys, vals, 1);
	if (!conn)
		return error_set(err, -ENOMEM, "out of memory");
	if (PQstatus(conn) != CONNECTION_OK) {
		live_describe_dsn(dsn, where, sizeof(where));
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		one_line(msg);
		live_redact(dsn, password, msg, sizeof(msg));
		PQfinish(conn);
		return error_set(err, -ECONNREFUSED, "%s: %s", where, msg);
	}
	*ret = conn;
	return 0;
}

/* -------------------------------------------------------------------- JSON */

static const char *status_name(enum dbcheck_status s)
{
	switch (s) {
	case DBCHECK_OK:
		return "ok";
	case DBCHECK_PARTIAL:
		return "partial";
	case DBCHECK_TIMEOUT:
		return "timeout";
	case DBCHECK_FAILED:
		return "failed";
	}
	return "failed";
}

/* A server string as JSON: a string when it is UTF-8, else with bad bytes as \xHH. */
static json_t *text_json(const char *s)
{
	json_t *j;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	size_t n = strlen(s), o = 0;
	char *b = malloc(4 * n + 1);
	if (!b)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x80)
			b[o++] = (char)ch;
		else
			o += (size_t)snprintf(b + o, 5, "\\x%02X", ch);
	}
	b[o] = '\0';
	j = json_string(b);
	free(b);
	return j;
}

json_t *dbcheck_report_to_json(const struct dbcheck_report *r)
{
	json_t *j, *checks = json_array(), *findings = json_array();
	int worst = dbcheck_report_worst(r);

	if (!checks || !findings) {
		json_decref(checks);
		json_decref(findings);
		return NULL;
	}
	for (size_t i = 0; i < r->n_results; i++) {
		const struct dbcheck_result *c = &r->results[i];
		json_array_append_new(checks,
				      json_pack("{s:s, s:s, s:b, s:o, s:O, s:I, s:I, s:I}", "name",
						c->name, "status", status_name(c->status), "reads_data",
						c->reads_data, "error",
						text_json(c->error), "notes", c->notes, "findings",
						(json_int_t)c->n_findings, "statements",
						(json_int_t)c->statements, "duration_ms",
						(json_int_t)c->duration_ms));
	}
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct dbcheck_finding *f = &r->findings[i];
		json_array_append_new(findings,
				      json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:O}", "check", f->check,
						"object", text_json(f->object), "key", text_json(f->key),
						"severity", diff_severity_name(f->severity), "message",
						text_json(f->message), "fix", text_json(f->fix),
						"details", f->details));
	}
	j = json_pack("{s:i, s:i, s:s?, s:b, s:o, s:o}", "schemadrift_check", 1, "server_version",
		      r->server_version, "worst",
		      worst < 0 ? NULL : diff_severity_name((enum diff_severity)worst), "complete",
		      !dbcheck_report_incomplete(r), "checks", checks, "findings", findings);
	return j;
}
