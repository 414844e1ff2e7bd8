/* The DDL recorder in a snapshot (lib/recorder.h): found by the setup statement, its rows read by one more statement, its objects kept out. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "catalog_internal.h"
#include "recorder.h"
#include "strbuf.h"

/*
 * Newest rows first, at most this many: the table is bounded by its
 * retention, this bounds a snapshot when the retention is long and a
 * migration ran thousands of commands.
 */
#define RECORDER_MAX_ROWS 5000

/*
 * The setup statement's extra columns: the recorder's schema (NULL when
 * the database has none) and whether this role may read its rows.  Any
 * role with CREATE on a database can forge the table and the comment, so
 * a schema whose capture function the recorder's event triggers call
 * (which only a superuser-like role can create) comes first; only the
 * recorder's own objects are left out of the model in any case.
 */
#define RECORDER_CANDIDATES \
	" FROM pg_namespace n" \
	"   JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'ddl_log' AND c.relkind = 'r'" \
	"   JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = 'recorder_write'" \
	"   WHERE obj_description(p.oid, 'pg_proc') LIKE '" RECORDER_MARK "%'" \
	"   ORDER BY EXISTS (SELECT FROM pg_event_trigger et JOIN pg_proc f ON f.oid = et.evtfoid" \
	"     WHERE f.pronamespace = n.oid AND f.proname = 'recorder_capture'" \
	"     AND et.evtname IN ('" RECORDER_DDL_TRIGGER "', '" RECORDER_DROP_TRIGGER "')) DESC," \
	"   n.nspname LIMIT 1"
const char catalog_recorder_detect[] =
	", (SELECT n.nspname" RECORDER_CANDIDATES ") AS recorder_schema,"
	" (SELECT has_table_privilege(c.oid, 'SELECT')" RECORDER_CANDIDATES ") AS recorder_readable";

/* An ISO 8601 time as isotime writes it: only these characters reach the SQL. */
static bool iso_time(const char *s)
{
	size_t n = strlen(s);

	if (n < 10 || n > 40)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789-:T.Z+", s[i]))
			return false;
	return true;
}

int catalog_recorder_sql(PGconn *conn, const char *schema, const char *since, char **ret)
{
	struct strbuf b = { 0 };
	char *ident = PQescapeIdentifier(conn, schema, strlen(schema));

	if (!ident)
		return -ENOMEM;
	strbuf_printf(&b,
		      "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS at,"
		      " session_role, current_role_name, application, host(client_addr) AS client_addr,"
		      " client_port, backend_pid, xid, event, command_tag, object_type,"
		      " object_identity, statement FROM %s.ddl_log", ident);
	if (since && iso_time(since))
		strbuf_printf(&b, " WHERE at >= '%s'::timestamptz - interval '%d seconds'", since,
			      RECORDER_CLOCK_MARGIN_S);
	strbuf_printf(&b, " ORDER BY id DESC LIMIT %d", RECORDER_MAX_ROWS);
	PQfreemem(ident);
	*ret = strbuf_take(&b);
	return *ret ? 0 : -ENOMEM;
}

int catalog_recorder_found(struct model *m, const char *schema, bool readable)
{
	struct model_recorder *rec = model_alloc(m, sizeof(*rec));

	if (!rec)
		return -ENOMEM;
	memset(rec, 0, sizeof(*rec));
	rec->schema = model_strdup(m, schema);
	rec->readable = readable;
	if (!rec->schema)
		return -ENOMEM;
	m->recorder = rec;
	return 0;
}

#define RECORDER_COLUMNS(X, T) \
	X(T, id) X(T, at) X(T, session_role) X(T, current_role_name) X(T, application) \
	X(T, client_addr) X(T, client_port) X(T, backend_pid) X(T, xid) X(T, event) \
	X(T, command_tag) X(T, object_type) X(T, object_identity) X(T, statement)
CATALOG_COLUMNS(recorder_cols, RECORDER_COLUMNS);

static const char *dup_val(struct model *m, PGresult *res, int row, int col, bool *failed)
{
	const char *v = catalog_val(res, row, col);
	const char *s = v ? model_strdup(m, v) : NULL;

	if (v && !s)
		*failed = true;
	return s;
}

int catalog_recorder_read(struct model *m, PGresult *res)
{
	struct model_recorder *rec = m->recorder;
	struct recorder_cols c;
	int n = PQntuples(res), r;
	bool failed = false;

	if (!rec)
		return -EINVAL;
	if ((r = CATALOG_FIND(res, recorder_cols, &c)) < 0)
		return r;
	if (n == 0)
		return 0;
	rec->events = model_alloc(m, (size_t)n * sizeof(*rec->events));
	if (!rec->events)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct model_ddl_event *e = &rec->events[i];

		e->id = catalog_val_int(res, i, c.id);
		e->at = dup_val(m, res, i, c.at, &failed);
		e->session_role = dup_val(m, res, i, c.session_role, &failed);
		e->current_role = dup_val(m, res, i, c.current_role_name, &failed);
		e->application = dup_val(m, res, i, c.application, &failed);
		e->client_addr = dup_val(m, res, i, c.client_addr, &failed);
		e->client_port = catalog_val_int(res, i, c.client_port);
		e->backend_pid = catalog_val_int(res, i, c.backend_pid);
		e->xid = catalog_val_int(res, i, c.xid);
		e->event = dup_val(m, res, i, c.event, &failed);
		e->command_tag = dup_val(m, res, i, c.command_tag, &failed);
		e->object_type = dup_val(m, res, i, c.object_type, &failed);
		e->object_identity = dup_val(m, res, i, c.object_identity, &failed);
		e->statement = dup_val(m, res, i, c.statement, &failed);
	}
	rec->n_events = (size_t)n;
	return failed ? -ENOMEM : 0;
}

/* The objects the install creates in the recorder's schema (lib/recorder.c). */
static bool recorder_object(const struct model_object *o)
{
	static const char *const table_parts[] = { "ddl_log_pkey", "ddl_log_at_idx" };

	switch (o->kind) {
	case MODEL_TABLE:
		return strcmp(o->name, "ddl_log") == 0;
	case MODEL_SEQUENCE:
		return strcmp(o->name, "ddl_log_id_seq") == 0;
	case MODEL_FUNCTION:
		return (strcmp(o->name, "recorder_write") == 0 && o->signature &&
			strcmp(o->signature, "event text, tag text, role_name text") == 0) ||
		       (strcmp(o->name, "recorder_capture") == 0 &&
			(!o->signature || !o->signature[0]));
	case MODEL_COLUMN:
		return o->parent && strcmp(o->parent, "ddl_log") == 0;
	case MODEL_CONSTRAINT:
	case MODEL_INDEX: {
		size_t n = strlen(o->name);

		if (!o->parent || strcmp(o->parent, "ddl_log") != 0)
			return false;
		/* NOT NULL constraints have names of their own from PostgreSQL 18. */
		if (o->kind == MODEL_CONSTRAINT && strncmp(o->name, "ddl_log_", 8) == 0 &&
		    n > 17 && strcmp(o->name + n - 9, "_not_null") == 0)
			return true;
		for (size_t i = 0; i < sizeof(table_parts) / sizeof(table_parts[0]); i++)
			if (strcmp(o->name, table_parts[i]) == 0)
				return true;
		return false;
	}
	default:
		return false;
	}
}

/*
 * The recorder's objects are not the schema being watched: its schema, the
 * objects the install created in it, and the two event triggers that call
 * its capture function, whose enabled states are kept on the recorder
 * instead (a disabled recorder is reported as such, not as drift).  Any
 * other object in that schema is watched like the rest: the recognition can
 * be forged, so it must hide nothing but the recorder itself.
 */
int catalog_recorder_exclude(struct model *m)
{
	struct model_recorder *rec = m->recorder;
	char qs[512], fn[600];
	size_t keep = 0;

	if (!rec)
		return 0;
	model_quote_ident(rec->schema, qs, sizeof(qs));
	snprintf(fn, sizeof(fn), "%s.recorder_capture", qs);
	for (size_t i = 0; i < m->n_objects; i++) {
		struct model_object *o = &m->objects[i];
		bool ours = (o->schema && strcmp(o->schema, rec->schema) == 0 && recorder_object(o)) ||
			    (o->kind == MODEL_SCHEMA && strcmp(o->name, rec->schema) == 0);

		if (o->kind == MODEL_EVENT_TRIGGER &&
		    (strcmp(o->name, RECORDER_DDL_TRIGGER) == 0 ||
		     strcmp(o->name, RECORDER_DROP_TRIGGER) == 0)) {
			const struct model_attr *f = model_object_attr(o, "function");
			const struct model_attr *en = model_object_attr(o, "enabled");

			if (f && f->value.type == MODEL_STR && strcmp(f->value.u.str, fn) == 0) {
				const char *state = en && en->value.type == MODEL_STR
							    ? en->value.u.str : "origin";
				ours = true;
				if (strcmp(o->name, RECORDER_DDL_TRIGGER) == 0)
					rec->ddl_trigger = state;
				else
					rec->drop_trigger = state;
			}
		}
		if (!ours)
			m->objects[keep++] = *o;
	}
	m->n_objects = keep;
	return 0;
}
