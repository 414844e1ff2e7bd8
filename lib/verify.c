/* verify: the target and the repository's schema, read by the one catalog reader, compared. */
#include "verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "isotime.h"
#include "live.h"
#include "snapshot.h"

static double now_s(void)
{
	return (double)isotime_mono_ms() / 1000.0;
}

void verify_result_free(struct verify_result *r)
{
	if (!r)
		return;
	diff_free(r->diff);
	model_free(r->live);
	model_free(r->expected);
	migrate_set_free(r->set);
	free(r->database);
	free(r->format);
	free(r->scratch);
	filter_done(&r->filter);
	for (size_t i = 0; i < r->n_warnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r);
}

__attribute__((format(printf, 2, 3))) static void add_warning(struct verify_result *r,
							      const char *fmt, ...)
{
	char buf[1200], **g;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	g = realloc(r->warnings, (r->n_warnings + 1) * sizeof(*g));
	if (!g)
		return;
	r->warnings = g;
	if ((g[r->n_warnings] = strdup(buf)))
		r->n_warnings++;
}

static int read_side(const struct verify_options *o, const char *dsn, const char *password,
		     struct model **ret, struct error *err)
{
	struct live_options lo = {
		.dsn = dsn,
		.connect_timeout_ms = o->connect_timeout_ms,
		.catalog = { .partitions_full = o->partitions_full },
		.password = password,
	};

	return live_snapshot_run(&lo, ret, err);
}

/* The target's history table, read-only, on a connection of its own. */
static int read_history(const struct verify_options *o, struct migrate_set *set,
			struct error *err)
{
	char timeout[16];
	const char *keys[] = { "dbname", "application_name", "connect_timeout", "options",
			       o->password ? "password" : NULL, NULL };
	const char *vals[] = { o->dsn, "schemadrift", timeout, "-c default_transaction_read_only=on",
			       o->password, NULL };
	PGconn *c;
	int r;

	snprintf(timeout, sizeof(timeout), "%d",
		 o->connect_timeout_ms > 0 ? (o->connect_timeout_ms + 999) / 1000 : 10);
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		char where[512], msg[512];
		live_describe_dsn(o->dsn, where, sizeof(where));
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
		msg[strcspn(msg, "\n")] = '\0';
		live_redact(o->dsn, o->password, msg, sizeof(msg));
		PQfinish(c);
		return error_set(err, -ECONNREFUSED, "%s: %s", where, msg);
	}
	r = migrate_read_history(set, c, err);
	PQfinish(c);
	return r;
}

/* The history table and goose's id sequence are the tool's, not the schema's. */
static int escape_glob(char *buf, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s && o + 2 < size; s++) {
		if (strchr("*?[]\\", *s))
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return *s ? -ENAMETOOLONG : 0;
}

static int build_filter(const struct verify_options *o, const struct migrate_set *set,
			struct filter *f)
{
	char schema[512], name[512], pattern[1100];
	int r;

	if (o->filter)
		r = filter_copy(o->filter, f);
	else
		filter_init(f), r = 0;
	if (r < 0 || !set || !set->history_table)
		return r;
	if (escape_glob(schema, sizeof(schema), set->history_schema) < 0 ||
	    escape_glob(name, sizeof(name), migrate_format_history_table(set->format)) < 0)
		return 0;
	snprintf(pattern, sizeof(pattern), "%s.%s", schema, name);
	if ((r = filter_add(&f->exclude, &f->n_exclude, pattern)) < 0)
		return r;
	snprintf(pattern, sizeof(pattern), "%s.%s_id_seq", schema, name);
	return filter_add(&f->exclude, &f->n_exclude, pattern);
}

static int build_expected(const struct verify_options *o, struct verify_result *res,
			  struct error *err)
{
	struct scratch_options so = o->scratch;
	struct scratch *s = NULL;
	double t = now_s();
	int r;

	if (!so.prefer_major) /* binaries of the target's major version, when installed */
		so.prefer_major = res->target_version / 10000;
	so.on_open = o->on_scratch;
	so.arg = o->arg;
	r = scratch_open(&so, &s, err);
	if (r < 0)
		return error_prefix(err, "scratch database");
	res->scratch_version = scratch_server_version(s);
	res->scratch = strdup(scratch_describe(s));
	if (res->target_version / 10000 != res->scratch_version / 10000)
		add_warning(res,
			    "the scratch server is PostgreSQL %d, the target %d: catalog output may "
			    "differ (--pg-bindir or --scratch-dsn can pick a matching server)",
			    res->scratch_version / 10000, res->target_version / 10000);
	res->timing.scratch_start = now_s() - t;
	t = now_s();
	r = scratch_prepare(s, res->live, err);
	if (r == 0 && o->expected_cmd) {
		r = scratch_run_command(s, o->expected_cmd, err);
	} else if (r == 0) {
		for (size_t i = 0; i < res->set->n_files && r == 0; i++) {
			const struct migrate_file *f = &res->set->files[i];
			struct migrate_statement *st = NULL;
			size_t n = 0;

			if (!f->applied)
				continue;
			r = migrate_file_statements(res->set, f, &st, &n, err);
			if (r == 0)
				r = scratch_load(s, f->path, st, n, err);
			migrate_statements_free(st, n);
		}
	}
	const char *const *w;
	size_t nw = scratch_warnings(s, &w);
	for (size_t i = 0; i < nw; i++)
		add_warning(res, "%s", w[i]);
	res->timing.load = now_s() - t;
	t = now_s();
	if (r == 0) {
		r = read_side(o, scratch_conninfo(s), NULL, &res->expected, err);
		if (r < 0)
			error_prefix(err, "reading the scratch database");
	}
	res->timing.scratch_read = now_s() - t;
	if (o->on_scratch)
		o->on_scratch(NULL, o->arg);
	scratch_free(s);
	return r;
}

int verify_run(const struct verify_options *o, struct verify_result **ret, struct error *err)
{
	struct verify_result *res = calloc(1, sizeof(*res));
	char where[512];
	double t;
	int r;

	if (!res)
		return error_set(err, -ENOMEM, "out of memory");
	filter_init(&res->filter);
	live_describe_dsn(o->dsn, where, sizeof(where));
	res->database = strdup(where);
	t = now_s();
	/* Unfiltered first: the roles and extensions the scratch side needs. */
	if ((r = read_side(o, o->dsn, o->password, &res->live, err)) < 0)
		goto out;
	res->timing.live = now_s() - t;
	/* "15.5 (Debian ...)": only the major version is compared */
	if (res->live->server_version)
		res->target_version = atoi(res->live->server_version) * 10000;

	bool snapshot = o->expected &&
			(o->expected_format ? strcmp(o->expected_format, "snapshot") == 0
					    : migrate_is_snapshot(o->expected));
	if (o->expected_cmd) {
		res->format = strdup("command");
	} else if (snapshot) {
		res->format = strdup("snapshot");
		if ((r = snapshot_load(o->expected, &res->expected, err)) < 0)
			goto out;
	} else {
		const struct migrate_format *fmt = NULL;
		if (o->expected_format && !(fmt = migrate_format_find(o->expected_format))) {
			r = error_set(err, -EINVAL, "unknown --expected-format '%s' (%s)",
				      o->expected_format, migrate_format_names());
			goto out;
		}
		if ((r = migrate_open(o->expected, fmt, &res->set, err)) < 0)
			goto out;
		res->format = strdup(migrate_format_name(res->set->format));
		t = now_s();
		if ((r = read_history(o, res->set, err)) < 0)
			goto out;
		res->timing.history = now_s() - t;
	}
	if (!res->expected && (r = build_expected(o, res, err)) < 0)
		goto out;
	t = now_s();
	if ((r = build_filter(o, res->set, &res->filter)) < 0 ||
	    (r = filter_apply(res->live, &res->filter)) < 0 ||
	    (r = filter_apply(res->expected, &res->filter)) < 0 || (r = snapshot_hash(res->live)) < 0 ||
	    (r = snapshot_hash(res->expected)) < 0 ||
	    (r = diff_models(res->expected, res->live, &res->diff)) < 0) {
		r = error_set(err, r, "out of memory while comparing");
		goto out;
	}
	res->timing.compare = now_s() - t;
	if (!res->database || !res->format) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
out:
	if (r < 0) {
		verify_result_free(res);
		return r;
	}
	*ret = res;
	return 0;
}

/* ---- what the report says ---- */

size_t verify_pending(const struct verify_result *r)
{
	size_t n = 0;

	for (size_t i = 0; r->set && i < r->set->n_files; i++)
		n += !r->set->files[i].applied;
	return n;
}

size_t verify_differences(const struct verify_result *r)
{
	return r->diff->n_changes - r->diff->n_acknowledged +
	       (r->set ? r->set->n_problems : 0);
}

int verify_status(const struct verify_result *r)
{
	return verify_differences(r) > 0 ? 1 : 0;
}

static const char *where_text(enum diff_change_type t)
{
	switch (t) {
	case DIFF_ADDED:
		return "only in the database";
	case DIFF_REMOVED:
		return "only in the repository";
	case DIFF_MODIFIED:
		return "different";
	case DIFF_RENAMED:
		return "renamed";
	}
	return "?";
}

static const char *where_key(enum diff_change_type t)
{
	switch (t) {
	case DIFF_ADDED:
		return "only_in_database";
	case DIFF_REMOVED:
		return "only_in_repository";
	case DIFF_MODIFIED:
		return "different";
	case DIFF_RENAMED:
		return "renamed";
	}
	return "?";
}

/* Bytes from a server or a file reach the terminal with control characters as \xHH. */
static void put_safe(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

static void put_object(FILE *out, const struct model_object *o)
{
	char *name = model_object_name_dup(o);

	fprintf(out, "%s ", model_kind_info(o->kind)->label);
	put_safe(out, name ? name : "?");
	free(name);
}

static void put_value(FILE *out, const struct model_value *v)
{
	char *t = model_value_text_dup(v);

	put_safe(out, t ? t : "?");
	free(t);
}

/* A multi-line value (a view's definition, a function's body) on lines of its own. */
static bool put_block(FILE *out, const char *label, const struct model_value *v)
{
	char *t = model_value_text_dup(v), *save = NULL;

	if (!t || !strchr(t, '\n')) {
		free(t);
		return false;
	}
	fprintf(out, "\n    %s:", label);
	for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		fputs("\n      ", out);
		put_safe(out, line);
	}
	free(t);
	return true;
}

static void write_change(FILE *out, const struct diff_change *c)
{
	fprintf(out, "%s: ", where_text(c->type));
	if (c->type == DIFF_RENAMED) {
		put_object(out, c->after);
		fputs(" in the database, ", out);
		put_object(out, c->before);
		fputs(" in the repository", out);
	} else {
		put_object(out, c->after ? c->after : c->before);
	}
	if (c->type == DIFF_MODIFIED) {
		char *a = model_value_text_dup(c->old_value), *b = model_value_text_dup(c->new_value);
		bool multi = (a && strchr(a, '\n')) || (b && strchr(b, '\n'));
		free(a);
		free(b);
		fprintf(out, ": %s", c->attribute);
		if (multi) {
			if (!put_block(out, "repository", c->old_value)) {
				fputs("\n    repository: ", out);
				put_value(out, c->old_value);
			}
			if (!put_block(out, "database", c->new_value)) {
				fputs("\n    database: ", out);
				put_value(out, c->new_value);
			}
		} else {
			fputs(": ", out);
			put_value(out, c->old_value);
			fputs(" (repository), ", out);
			put_value(out, c->new_value);
			fputs(" (database)", out);
		}
	}
	if (c->acknowledged)
		fputs(" [acknowledged]", out);
	fputc('\n', out);
}

int verify_write_text(const struct verify_result *r, const struct verify_baseline *b, FILE *out)
{
	const struct migrate_set *s = r->set;
	size_t pending = verify_pending(r);

	fputs("database:   ", out);
	put_safe(out, r->database);
	fprintf(out, "\nrepository: %s\n", r->format);
	if (r->scratch) {
		fputs("scratch:    ", out);
		put_safe(out, r->scratch);
		fputc('\n', out);
	}
	for (size_t i = 0; i < r->n_warnings; i++) {
		fputs("warning: ", out);
		put_safe(out, r->warnings[i]);
		fputc('\n', out);
	}
	if (s && migrate_format_history_table(s->format)) {
		if (s->history_table) {
			fputs("history:    ", out);
			put_safe(out, s->history_table);
			fprintf(out, ": %zu applied, %zu pending\n", s->n_files - pending, pending);
		} else {
			fprintf(out, "history:    no %s table on the target: every migration is "
				     "expected\n", migrate_format_history_table(s->format));
		}
	}
	for (size_t i = 0; s && i < s->n_files; i++)
		if (!s->files[i].applied) {
			fputs("pending: ", out);
			put_safe(out, s->files[i].name);
			fputc('\n', out);
		}
	for (size_t i = 0; s && i < s->n_problems; i++) {
		fprintf(out, "%s: ", s->problems[i].what);
		put_safe(out, s->problems[i].message);
		if (s->problems[i].file) {
			fputs(" (", out);
			put_safe(out, s->problems[i].file);
			fputc(')', out);
		}
		fputc('\n', out);
	}
	for (size_t i = 0; i < r->diff->n_changes; i++)
		write_change(out, &r->diff->changes[i]);
	if (b) {
		fputs("baseline of ", out);
		put_safe(out, b->target);
		fprintf(out, " (%.12s): %zu change%s to the database, %zu to the repository\n",
			b->hash, b->to_live->n_changes, b->to_live->n_changes == 1 ? "" : "s",
			b->to_expected->n_changes);
		for (size_t i = 0; i < b->to_live->n_changes; i++) {
			const struct diff_change *c = &b->to_live->changes[i];
			fprintf(out, "  baseline -> database: %s ", diff_type_name(c->type));
			put_object(out, c->after ? c->after : c->before);
			fputc('\n', out);
		}
		for (size_t i = 0; i < b->to_expected->n_changes; i++) {
			const struct diff_change *c = &b->to_expected->changes[i];
			fprintf(out, "  baseline -> repository: %s ", diff_type_name(c->type));
			put_object(out, c->after ? c->after : c->before);
			fputc('\n', out);
		}
	}
	size_t diffs = r->diff->n_changes - r->diff->n_acknowledged;
	size_t problems = s ? s->n_problems : 0;
	if (verify_status(r) == 0 && pending)
		fprintf(out, "result: the database matches the repository (%zu pending "
			     "migration%s)\n", pending, pending == 1 ? "" : "s");
	else if (verify_status(r) == 0)
		fputs("result: the database matches the repository\n", out);
	else
		fprintf(out, "result: MISMATCH: %zu difference%s, %zu history problem%s\n", diffs,
			diffs == 1 ? "" : "s", problems, problems == 1 ? "" : "s");
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

/* ---- JSON (docs/verify.md) ---- */

static int set_new(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

static json_t *str_or_null(const char *s)
{
	return s ? snapshot_string_json(s) : json_null();
}

json_t *verify_to_json(const struct verify_result *r, const struct verify_baseline *b)
{
	const struct migrate_set *s = r->set;
	json_t *root = json_object(), *mig = json_object(), *applied = json_array(),
	       *pending = json_array(), *problems = json_array(), *warnings = json_array(),
	       *summary = json_object();
	size_t counts[4] = { 0 };
	int e = 0;

	if (!root || !mig || !applied || !pending || !problems || !warnings || !summary) {
		json_decref(root);
		json_decref(mig);
		json_decref(applied);
		json_decref(pending);
		json_decref(problems);
		json_decref(warnings);
		json_decref(summary);
		return NULL;
	}
	e |= set_new(root, "schemadrift_verify", json_integer(VERIFY_JSON_VERSION));
	e |= set_new(root, "result", json_string(verify_status(r) ? "mismatch" : "match"));
	e |= set_new(root, "database", snapshot_string_json(r->database));
	e |= set_new(root, "expected_format", json_string(r->format));
	e |= set_new(root, "scratch", str_or_null(r->scratch));
	for (size_t i = 0; s && i < s->n_files; i++)
		e |= json_array_append_new(s->files[i].applied ? applied : pending,
					   snapshot_string_json(s->files[i].name));
	for (size_t i = 0; s && i < s->n_problems; i++) {
		const struct migrate_problem *p = &s->problems[i];
		e |= json_array_append_new(problems,
					   json_pack("{s:s, s:o, s:o, s:o}", "problem", p->what,
						     "version", str_or_null(p->version), "file",
						     str_or_null(p->file), "message",
						     snapshot_string_json(p->message)));
	}
	e |= set_new(mig, "history_table", str_or_null(s ? s->history_table : NULL));
	e |= set_new(mig, "applied", applied);
	e |= set_new(mig, "pending", pending);
	e |= set_new(mig, "problems", problems);
	e |= set_new(root, "migrations", mig);
	for (size_t i = 0; i < r->n_warnings; i++)
		e |= json_array_append_new(warnings, snapshot_string_json(r->warnings[i]));
	e |= set_new(root, "warnings", warnings);
	for (size_t i = 0; i < r->diff->n_changes; i++)
		if (!r->diff->changes[i].acknowledged)
			counts[r->diff->changes[i].type]++;
	for (int t = 0; t < 4; t++)
		e |= set_new(summary, where_key((enum diff_change_type)t),
			     json_integer((json_int_t)counts[t]));
	e |= set_new(summary, "pending", json_integer((json_int_t)verify_pending(r)));
	e |= set_new(summary, "problems", json_integer((json_int_t)(s ? s->n_problems : 0)));
	e |= set_new(root, "summary", summary);
	/* The comparison itself, in `schemadrift diff`'s format (docs/diff-format.md). */
	e |= set_new(root, "diff", diff_to_json(r->diff, "repository", "database"));
	if (b) {
		json_t *bj = json_object();
		e |= set_new(root, "baseline", bj);
		if (bj) {
			e |= set_new(bj, "target", snapshot_string_json(b->target));
			e |= set_new(bj, "hash", json_string(b->hash));
			e |= set_new(bj, "to_database", diff_to_json(b->to_live, "baseline", "database"));
			e |= set_new(bj, "to_repository",
				     diff_to_json(b->to_expected, "baseline", "repository"));
		}
	}
	if (e) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* ---- JUnit XML: one testcase per object ---- */

static void put_xml(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\n': fputs("&#10;", out); break;
		case '\t': fputs("&#9;", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\x%02x", *p); /* not allowed in XML 1.0 at all */
			else
				fputc(*p, out);
		}
	}
}

/* The failure text of one object: every change of the diff that names it. */
static char *object_failure(const struct verify_result *r, const struct model_object *o,
			    const char *fallback)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	for (size_t i = 0; i < r->diff->n_changes; i++) {
		const struct diff_change *c = &r->diff->changes[i];
		const struct model_object *x = c->after ? c->after : c->before;
		if (c->acknowledged || !x || model_object_cmp(x, o) != 0)
			continue;
		write_change(m, c);
	}
	if (ftell(m) == 0)
		fputs(fallback, m);
	fclose(m);
	return buf;
}

static void junit_case(FILE *out, const struct verify_result *r, const struct model_object *o,
		       const char *failure)
{
	char *name = model_object_name_dup(o);

	fprintf(out, "    <testcase classname=\"schemadrift.verify.%s\" name=\"",
		model_kind_info(o->kind)->name);
	put_xml(out, name ? name : "?");
	free(name);
	if (!failure) {
		fputs("\"/>\n", out);
		return;
	}
	char *text = object_failure(r, o, failure);
	fputs("\">\n      <failure message=\"", out);
	put_xml(out, failure);
	fputs("\">", out);
	put_xml(out, text ? text : failure);
	fputs("</failure>\n    </testcase>\n", out);
	free(text);
}

int verify_write_junit(const struct verify_result *r, FILE *out)
{
	const struct model *a = r->expected, *b = r->live;
	const struct migrate_set *s = r->set;
	size_t i = 0, j = 0, tests = 0, failures = 0;
	char *body = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&body, &len);

	if (!m)
		return -ENOMEM;
	/* A merge walk over both sorted models: every object once. */
	while (i < a->n_objects || j < b->n_objects) {
		int c = i == a->n_objects ? 1 : j == b->n_objects ? -1
				: model_object_cmp(&a->objects[i], &b->objects[j]);
		const char *failure = NULL;
		const struct model_object *o;
		if (c < 0) {
			o = &a->objects[i++];
			failure = "only in the repository";
		} else if (c > 0) {
			o = &b->objects[j++];
			failure = "only in the database";
		} else {
			o = &b->objects[j];
			if (memcmp(a->objects[i].hash, b->objects[j].hash, 32) != 0)
				failure = "different";
			i++;
			j++;
		}
		tests++;
		failures += failure != NULL;
		junit_case(m, r, o, failure);
	}
	for (size_t k = 0; s && k < s->n_files; k++) {
		tests++;
		fputs("    <testcase classname=\"schemadrift.verify.migration\" name=\"", m);
		put_xml(m, s->files[k].name);
		fputs(s->files[k].applied ? "\"/>\n" : "\">\n      <skipped message=\"pending\"/>\n"
						       "    </testcase>\n", m);
	}
	for (size_t k = 0; s && k < s->n_problems; k++) {
		tests++;
		failures++;
		fputs("    <testcase classname=\"schemadrift.verify.history\" name=\"", m);
		put_xml(m, s->problems[k].file ? s->problems[k].file : s->problems[k].version
				? s->problems[k].version : s->problems[k].what);
		fputs("\">\n      <failure message=\"", m);
		put_xml(m, s->problems[k].what);
		fputs("\">", m);
		put_xml(m, s->problems[k].message);
		fputs("</failure>\n    </testcase>\n", m);
	}
	fclose(m);
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<testsuites name=\"schemadrift verify\" tests=\"%zu\" failures=\"%zu\">\n"
		     "  <testsuite name=\"", tests, failures);
	put_xml(out, r->database);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\">\n", tests, failures);
	fwrite(body, 1, len, out);
	fputs("  </testsuite>\n</testsuites>\n", out);
	free(body);
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

/* ---- GitHub workflow commands ---- */

/* Message data: %, CR and LF are escaped; properties also : and ,. */
static void put_gh(FILE *out, const char *s, bool property)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '%')
			fputs("%25", out);
		else if (*p == '\r')
			fputs("%0D", out);
		else if (*p == '\n')
			fputs("%0A", out);
		else if (property && *p == ':')
			fputs("%3A", out);
		else if (property && *p == ',')
			fputs("%2C", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

void verify_github_error(const char *text, FILE *out)
{
	const char *colon = strchr(text, ':');
	char *end = NULL;
	long line = colon ? strtol(colon + 1, &end, 10) : 0;

	fputs("::error ", out);
	if (colon && end && end != colon + 1 && *end == ':' && line > 0) {
		char file[1024];
		snprintf(file, sizeof(file), "%.*s", (int)(colon - text), text);
		fputs("file=", out);
		put_gh(out, file, true);
		fprintf(out, ",line=%ld,", line);
		text = end + 1;
		while (*text == ' ')
			text++;
	}
	fputs("title=schemadrift verify::", out);
	put_gh(out, text, false);
	fputc('\n', out);
}

int verify_write_github(const struct verify_result *r, FILE *out)
{
	const struct migrate_set *s = r->set;

	for (size_t i = 0; i < r->n_warnings; i++) {
		fputs("::warning title=schemadrift verify::", out);
		put_gh(out, r->warnings[i], false);
		fputc('\n', out);
	}
	for (size_t i = 0; s && i < s->n_files; i++)
		if (!s->files[i].applied) {
			fputs("::notice file=", out);
			put_gh(out, s->files[i].path, true);
			fputs(",title=pending migration::", out);
			put_gh(out, s->files[i].name, false);
			fputs(" is not applied to the database yet\n", out);
		}
	for (size_t i = 0; s && i < s->n_problems; i++) {
		const struct migrate_problem *p = &s->problems[i];
		fputs("::error ", out);
		if (p->file) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", s->path, p->file);
			fputs("file=", out);
			put_gh(out, path, true);
			fputc(',', out);
		}
		fputs("title=migration history (", out);
		put_gh(out, p->what, true);
		fputs(")::", out);
		put_gh(out, p->message, false);
		fputc('\n', out);
	}
	for (size_t i = 0; i < r->diff->n_changes; i++) {
		const struct diff_change *c = &r->diff->changes[i];
		char *line = NULL;
		size_t len = 0;
		FILE *m;

		if (c->acknowledged || !(m = open_memstream(&line, &len)))
			continue;
		write_change(m, c);
		fclose(m);
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		fputs("::error title=schema mismatch::", out);
		put_gh(out, line, false);
		fputc('\n', out);
		free(line);
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}
