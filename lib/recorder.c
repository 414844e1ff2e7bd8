/* The DDL recorder: its install, removal and status, and the attribution of changes to its rows. */
#include "recorder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isotime.h"
#include "strbuf.h"
#include "utf8.h"

/*
 * Two functions, because of who runs them.  The event trigger's function,
 * recorder_capture(), runs as the role that ran the DDL: it is the only place
 * that knows that role's current_user (SET ROLE), and it catches every error
 * of its own, so the user's DDL never fails because of the recorder.  It
 * calls recorder_write(), SECURITY DEFINER (the installer), which alone may
 * insert into the table: PUBLIC has EXECUTE on it but nothing on the table,
 * and pg_event_trigger_ddl_commands() fails outside an event trigger, so a
 * row cannot be written without running the DDL it describes.
 *
 * The writer also keeps the table bounded: it removes the rows older than
 * the retention (tests/bench/recorder-bench.py measures the whole cost).
 *
 * @S@ is the quoted schema, @R@ the retention as a literal, @STMT@ the
 * statement expression, @MARK@ the writer's comment (a literal).  The first
 * two are inside $recorder$ bodies: recorder_install() refuses a '$' in them.
 */
static const char install_sql[] =
	"CREATE SCHEMA IF NOT EXISTS @S@;\n"
	"REVOKE ALL ON SCHEMA @S@ FROM PUBLIC;\n"
	"GRANT USAGE ON SCHEMA @S@ TO PUBLIC;\n"
	"CREATE TABLE IF NOT EXISTS @S@.ddl_log (\n"
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"  at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
	"  session_role text, current_role_name text, application text,\n"
	"  client_addr inet, client_port integer, backend_pid integer, xid bigint,\n"
	"  event text, command_tag text, object_type text, object_identity text,\n"
	"  statement text);\n"
	"CREATE INDEX IF NOT EXISTS ddl_log_at_idx ON @S@.ddl_log (at);\n"
	"REVOKE ALL ON TABLE @S@.ddl_log FROM PUBLIC;\n"
	"CREATE OR REPLACE FUNCTION @S@.recorder_write(event text, tag text, role_name text)\n"
	"RETURNS void LANGUAGE plpgsql SECURITY DEFINER\n"
	"SET search_path = pg_catalog, pg_temp AS $recorder$\n"
	"DECLARE\n"
	"  stmt text := @STMT@;\n"
	"BEGIN\n"
	"  IF event = 'sql_drop' THEN\n"
	"    INSERT INTO @S@.ddl_log (session_role, current_role_name, application, client_addr,\n"
	"      client_port, backend_pid, xid, event, command_tag, object_type, object_identity,\n"
	"      statement)\n"
	"    SELECT session_user, role_name, current_setting('application_name'),\n"
	"      inet_client_addr(), inet_client_port(), pg_backend_pid(), txid_current(), event,\n"
	"      tag, d.object_type, d.object_identity, stmt\n"
	"    FROM pg_event_trigger_dropped_objects() d\n"
	"    WHERE (d.original OR d.normal) AND NOT d.is_temporary;\n"
	"    RETURN;\n"
	"  END IF;\n"
	"  INSERT INTO @S@.ddl_log (session_role, current_role_name, application, client_addr,\n"
	"    client_port, backend_pid, xid, event, command_tag, object_type, object_identity,\n"
	"    statement)\n"
	"  SELECT session_user, role_name, current_setting('application_name'),\n"
	"    inet_client_addr(), inet_client_port(), pg_backend_pid(), txid_current(), event,\n"
	"    c.command_tag, c.object_type, c.object_identity, stmt\n"
	"  FROM pg_event_trigger_ddl_commands() c;\n"
	/* Some commands report no object (ALTER DEFAULT PRIVILEGES on old
	 * servers, for one): the command is still worth a row. */
	"  IF NOT FOUND THEN\n"
	"    INSERT INTO @S@.ddl_log (session_role, current_role_name, application, client_addr,\n"
	"      client_port, backend_pid, xid, event, command_tag, statement)\n"
	"    VALUES (session_user, role_name, current_setting('application_name'),\n"
	"      inet_client_addr(), inet_client_port(), pg_backend_pid(), txid_current(), event,\n"
	"      tag, stmt);\n"
	"  END IF;\n"
	/* The oldest row by id (the primary key's first entry) decides, so the
	 * common case is one index probe whatever the planner thinks of `at`
	 * (a table that was never analyzed gets a sequential scan for a range
	 * on it: DDL went twenty times slower).  Rows are removed when the
	 * oldest is a tenth of the retention past it, so a steady flow of DDL
	 * runs the DELETE now and then, not on every command. */
	"  IF (SELECT at FROM @S@.ddl_log ORDER BY id LIMIT 1) < now() - @R@::interval * 1.1 THEN\n"
	"    DELETE FROM @S@.ddl_log WHERE at < now() - @R@::interval;\n"
	"  END IF;\n"
	"END\n"
	"$recorder$;\n"
	"REVOKE ALL ON FUNCTION @S@.recorder_write(text, text, text) FROM PUBLIC;\n"
	"GRANT EXECUTE ON FUNCTION @S@.recorder_write(text, text, text) TO PUBLIC;\n"
	"COMMENT ON FUNCTION @S@.recorder_write(text, text, text) IS @MARK@;\n"
	"CREATE OR REPLACE FUNCTION @S@.recorder_capture() RETURNS event_trigger\n"
	"LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $recorder$\n"
	"BEGIN\n"
	"  PERFORM @S@.recorder_write(TG_EVENT, TG_TAG, current_user::text);\n"
	"EXCEPTION WHEN OTHERS THEN\n"
	"  RAISE WARNING 'schemadrift recorder: % not recorded: % (SQLSTATE %)',\n"
	"    TG_TAG, SQLERRM, SQLSTATE;\n"
	"END\n"
	"$recorder$;\n"
	"DROP EVENT TRIGGER IF EXISTS " RECORDER_DDL_TRIGGER ";\n"
	"CREATE EVENT TRIGGER " RECORDER_DDL_TRIGGER " ON ddl_command_end\n"
	"  EXECUTE FUNCTION @S@.recorder_capture();\n"
	"DROP EVENT TRIGGER IF EXISTS " RECORDER_DROP_TRIGGER ";\n"
	"CREATE EVENT TRIGGER " RECORDER_DROP_TRIGGER " ON sql_drop\n"
	"  EXECUTE FUNCTION @S@.recorder_capture();\n";

/* template with each @NAME@ replaced by its value. */
static char *expand(const char *template, const char *const *names, const char *const *values,
		    size_t n)
{
	struct strbuf b = { 0 };
	const char *p = template;

	while (*p) {
		size_t i;

		if (*p == '@') {
			for (i = 0; i < n; i++) {
				size_t len = strlen(names[i]);
				if (strncmp(p, names[i], len) == 0) {
					strbuf_puts(&b, values[i]);
					p += len;
					break;
				}
			}
			if (i < n)
				continue;
		}
		strbuf_putc(&b, *p++);
	}
	return strbuf_take(&b);
}

/* Runs sql (one or more statements); the server's message in err on failure. */
static int exec(PGconn *conn, const char *sql, PGresult **ret, struct error *err)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (ret)
			*ret = res;
		else
			PQclear(res);
		return 0;
	}
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int code = state && strcmp(state, "42501") == 0 ? -EACCES : -EIO;

	error_set(err, code, "%s%s%s%s", msg ? msg : PQerrorMessage(conn),
		  state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
	PQclear(res);
	return code;
}

static void rollback(PGconn *conn)
{
	PQclear(PQexec(conn, "ROLLBACK"));
}

/*
 * The install's REVOKE ALL ... FROM PUBLIC and the uninstall's drops are for
 * the recorder's own schema: a schema that exists already is used only when
 * it holds a recorder (a re-install) and belongs to the installing role.
 */
static int schema_is_free(PGconn *conn, const char *schema, struct error *err)
{
	static const char query[] =
		"SELECT n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user),"
		" EXISTS (SELECT FROM pg_class c JOIN pg_proc p ON p.pronamespace = n.oid"
		"   WHERE c.relnamespace = n.oid AND c.relname = 'ddl_log' AND c.relkind = 'r'"
		"   AND p.proname = 'recorder_write'"
		"   AND obj_description(p.oid, 'pg_proc') LIKE '" RECORDER_MARK "%'),"
		" pg_get_userbyid(n.nspowner)"
		" FROM pg_namespace n WHERE n.nspname = $1";
	const char *params[1] = { schema };
	PGresult *res = PQexecParams(conn, query, 1, NULL, params, NULL, NULL, 0);
	int r = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		r = error_set(err, -EIO, "cannot read schema '%s': %s", schema,
			      msg ? msg : PQerrorMessage(conn));
	} else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		r = error_set(err, -EEXIST, "schema '%s' exists and holds no DDL recorder: the "
					    "recorder needs a schema of its own (--recorder-schema "
					    "NAME, a schema that does not exist yet)", schema);
	} else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		r = error_set(err, -EPERM, "schema '%s' holds a DDL recorder owned by role '%s': "
					   "install again as that role", schema,
			      PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return r;
}

int recorder_install(PGconn *conn, const struct recorder_install_options *opts, struct error *err)
{
	const char *schema = opts && opts->schema ? opts->schema : RECORDER_DEFAULT_SCHEMA;
	const char *retention = opts && opts->retention ? opts->retention : "30 days";
	int length = opts ? opts->statement_length : 1024;
	char stmt[64], mark[200];
	char *s_ident = NULL, *r_lit = NULL, *mark_lit = NULL, *sql = NULL, *role = NULL;
	PGresult *res = NULL;
	int r;

	if (length < 0)
		return error_set(err, -EINVAL, "the statement length cannot be negative");
	/* Both are pasted into the $recorder$-quoted function bodies, where
	 * quoting does not help: a "$recorder$" inside would end the body. */
	if (strchr(schema, '$'))
		return error_set(err, -EINVAL, "the recorder's schema name '%s' cannot hold '$'",
				 schema);
	if (strchr(retention, '$'))
		return error_set(err, -EINVAL, "retention '%s' cannot hold '$'", retention);
	s_ident = PQescapeIdentifier(conn, schema, strlen(schema));
	r_lit = PQescapeLiteral(conn, retention, strlen(retention));
	if (length > 0)
		snprintf(stmt, sizeof(stmt), "left(current_query(), %d)", length);
	else
		snprintf(stmt, sizeof(stmt), "NULL::text");
	if (length > 0)
		snprintf(mark, sizeof(mark), RECORDER_MARK ": retention %s, statement cut to %d characters",
			 retention, length);
	else
		snprintf(mark, sizeof(mark), RECORDER_MARK ": retention %s, no statement text",
			 retention);
	mark_lit = PQescapeLiteral(conn, mark, strlen(mark));
	if (!s_ident || !r_lit || !mark_lit) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	const char *names[] = { "@S@", "@R@", "@STMT@", "@MARK@" };
	const char *values[] = { s_ident, r_lit, stmt, mark_lit };
	sql = expand(install_sql, names, values, 4);
	if (!sql) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = exec(conn, "BEGIN", NULL, err)) < 0)
		goto out;
	if ((r = schema_is_free(conn, schema, err)) < 0) {
		rollback(conn);
		goto out;
	}
	/* The retention is checked before anything is created: a bad one would
	 * otherwise only fail in the trigger, where every error is swallowed. */
	char check[300];
	snprintf(check, sizeof(check), "SELECT %s::interval > interval '0'", r_lit);
	if ((r = exec(conn, check, &res, err)) < 0) {
		error_prefix(err, "retention '%s'", retention);
		rollback(conn);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		rollback(conn);
		r = error_set(err, -EINVAL, "retention '%s' must be positive", retention);
		goto out;
	}
	if ((r = exec(conn, sql, NULL, err)) < 0) {
		rollback(conn);
		if (r == -EACCES)
			error_prefix(err, "installing the DDL recorder needs the rights that event "
					  "triggers need (a superuser, or where the provider allows "
					  "it rds_superuser, cloudsqlsuperuser, azure_pg_admin)");
		else
			error_prefix(err, "cannot install the DDL recorder");
		goto out;
	}
	if (opts && opts->grant_role) {
		role = PQescapeIdentifier(conn, opts->grant_role, strlen(opts->grant_role));
		free(sql);
		sql = NULL;
		struct strbuf g = { 0 };
		if (role)
			strbuf_printf(&g, "GRANT USAGE ON SCHEMA %s TO %s; "
					  "GRANT SELECT ON TABLE %s.ddl_log TO %s",
				      s_ident, role, s_ident, role);
		sql = strbuf_take(&g);
		if (!sql) {
			rollback(conn);
			r = error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		if ((r = exec(conn, sql, NULL, err)) < 0) {
			rollback(conn);
			error_prefix(err, "cannot grant the recorder's table to role '%s'",
				     opts->grant_role);
			goto out;
		}
	}
	if ((r = exec(conn, "COMMIT", NULL, err)) < 0)
		error_prefix(err, "cannot install the DDL recorder");
out:
	PQclear(res);
	PQfreemem(s_ident);
	PQfreemem(r_lit);
	PQfreemem(mark_lit);
	PQfreemem(role);
	free(sql);
	return r;
}

int recorder_status(PGconn *conn, const char *schema, struct recorder_status *ret,
		    struct error *err)
{
	struct recorder_status st = { 0 };
	const char *params[1] = { schema ? schema : RECORDER_DEFAULT_SCHEMA };
	/* The state of each trigger, when it calls this schema's capture function. */
	static const char query[] =
		"WITH s AS (SELECT n.oid, n.nspname FROM pg_namespace n WHERE n.nspname = $1),"
		" t AS (SELECT c.oid FROM pg_class c JOIN s ON c.relnamespace = s.oid"
		"       WHERE c.relname = 'ddl_log' AND c.relkind = 'r'),"
		" w AS (SELECT obj_description(p.oid, 'pg_proc') AS mark FROM pg_proc p JOIN s"
		"       ON p.pronamespace = s.oid WHERE p.proname = 'recorder_write'"
		"       AND obj_description(p.oid, 'pg_proc') LIKE '" RECORDER_MARK "%'),"
		" e AS (SELECT et.evtname, CASE et.evtenabled WHEN 'O' THEN 'origin'"
		"       WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica' ELSE 'always' END AS state"
		"       FROM pg_event_trigger et JOIN pg_proc p ON p.oid = et.evtfoid JOIN s"
		"       ON p.pronamespace = s.oid WHERE p.proname = 'recorder_capture')"
		" SELECT EXISTS (SELECT FROM t) AND EXISTS (SELECT FROM w) AS installed,"
		"  (SELECT mark FROM w LIMIT 1) AS mark,"
		"  (SELECT state FROM e WHERE evtname = '" RECORDER_DDL_TRIGGER "') AS ddl,"
		"  (SELECT state FROM e WHERE evtname = '" RECORDER_DROP_TRIGGER "') AS dropt,"
		"  (SELECT string_agg(r.rolname, ', ' ORDER BY r.rolname) FROM pg_roles r, t"
		"   WHERE has_table_privilege(r.oid, t.oid, 'SELECT') AND NOT r.rolsuper"
		"   AND r.rolname !~ '^pg_') AS readers";
	PGresult *res = PQexecParams(conn, query, 1, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		error_set(err, -EIO, "cannot read the recorder's state: %s",
			  msg ? msg : PQerrorMessage(conn));
		PQclear(res);
		return -EIO;
	}
	st.installed = PQgetvalue(res, 0, 0)[0] == 't';
	snprintf(st.settings, sizeof(st.settings), "%s", PQgetvalue(res, 0, 1));
	snprintf(st.ddl_trigger, sizeof(st.ddl_trigger), "%s", PQgetvalue(res, 0, 2));
	snprintf(st.drop_trigger, sizeof(st.drop_trigger), "%s", PQgetvalue(res, 0, 3));
	snprintf(st.readers, sizeof(st.readers), "%s", PQgetvalue(res, 0, 4));
	PQclear(res);
	if (st.installed) {
		char *s_ident = PQescapeIdentifier(conn, params[0], strlen(params[0]));
		struct strbuf q = { 0 };
		char *sql;

		if (s_ident)
			strbuf_printf(&q,
				      "SELECT count(*),"
				      " to_char(min(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
				      " to_char(max(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
				      " FROM %s.ddl_log", s_ident);
		PQfreemem(s_ident);
		if (!(sql = strbuf_take(&q)))
			return error_set(err, -ENOMEM, "out of memory");
		int r = exec(conn, sql, &res, err);
		free(sql);
		if (r < 0)
			return error_prefix(err, "cannot read the recorder's table");
		st.rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(st.oldest, sizeof(st.oldest), "%s", PQgetvalue(res, 0, 1));
		snprintf(st.newest, sizeof(st.newest), "%s", PQgetvalue(res, 0, 2));
		PQclear(res);
	}
	*ret = st;
	return 0;
}

int recorder_uninstall(PGconn *conn, const char *schema, bool *schema_kept, struct error *err)
{
	struct recorder_status st;
	char *s_ident;
	struct strbuf q = { 0 }, d = { 0 };
	char *sql = NULL, *drop_schema = NULL;
	int r;

	if (!schema)
		schema = RECORDER_DEFAULT_SCHEMA;
	*schema_kept = false;
	if ((r = recorder_status(conn, schema, &st, err)) < 0)
		return r;
	/* Never drop a schema that is not the recorder's. */
	if (!st.installed)
		return error_set(err, -ENOENT, "schema '%s' holds no DDL recorder", schema);
	if (!(s_ident = PQescapeIdentifier(conn, schema, strlen(schema))))
		return error_set(err, -ENOMEM, "out of memory");
	/* Only what the install created (the table takes its sequence, key and
	 * index with it); then the schema, when nothing else is left in it. */
	strbuf_printf(&q, "BEGIN; DROP EVENT TRIGGER IF EXISTS " RECORDER_DDL_TRIGGER ";"
			  " DROP EVENT TRIGGER IF EXISTS " RECORDER_DROP_TRIGGER ";"
			  " DROP FUNCTION IF EXISTS %s.recorder_capture();"
			  " DROP FUNCTION IF EXISTS %s.recorder_write(text, text, text);"
			  " DROP TABLE %s.ddl_log; SAVEPOINT recorder_schema",
		      s_ident, s_ident, s_ident);
	strbuf_printf(&d, "DROP SCHEMA %s", s_ident);
	PQfreemem(s_ident);
	sql = strbuf_take(&q);
	drop_schema = strbuf_take(&d);
	if (!sql || !drop_schema) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = exec(conn, sql, NULL, err)) < 0)
		goto failed;
	if (exec(conn, drop_schema, NULL, err) < 0) {
		/* Not empty (2BP01), or any other reason: the schema stays. */
		*schema_kept = true;
		if ((r = exec(conn, "ROLLBACK TO SAVEPOINT recorder_schema", NULL, err)) < 0)
			goto failed;
	}
	if ((r = exec(conn, "COMMIT", NULL, err)) < 0)
		goto failed;
	goto out;
failed:
	rollback(conn);
	error_prefix(err, "cannot remove the DDL recorder");
out:
	free(sql);
	free(drop_schema);
	return r;
}

/* ---- attribution ---- */

/*
 * An identity as pg_event_trigger_ddl_commands() and
 * pg_event_trigger_dropped_objects() spell it, taken apart: "s.t.c",
 * "name on s.t", "s.f(integer)", each part quote_ident()ed by the server.
 * Parts are compared unquoted with the model's raw names, so no client-side
 * guess at PostgreSQL's keyword list (or at escaping) can make them differ.
 */
#define IDENT_MAX 256
struct identity {
	char on[IDENT_MAX];       /* "name" of "name on s.t", "" otherwise */
	char part[3][IDENT_MAX];  /* the dotted parts */
	int n;
	bool args;                /* followed by "(": a routine's arguments */
};

/* One identifier at *p, unquoted into out; false when it does not parse. */
static bool take_ident(const char **p, char *out)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '"') {
		for (s++;; s++) {
			if (!*s)
				return false;
			if (*s == '"') {
				if (s[1] != '"')
					break;
				s++;
			}
			if (n + 1 >= IDENT_MAX)
				return false;
			out[n++] = *s;
		}
		s++;
	} else {
		while (*s && *s != '.' && *s != ' ' && *s != '(') {
			if (n + 1 >= IDENT_MAX)
				return false;
			out[n++] = *s++;
		}
		if (!n)
			return false;
	}
	out[n] = '\0';
	*p = s;
	return true;
}

static bool parse_identity(const char *s, struct identity *id)
{
	memset(id, 0, sizeof(*id));
	if (!s)
		return false;
	for (;;) {
		if (id->n == 3 || !take_ident(&s, id->part[id->n++]))
			return false;
		if (*s == '.') {
			s++;
			continue;
		}
		if (*s == '(') {
			id->args = true;
			return true;
		}
		if (strncmp(s, " on ", 4) == 0 && id->n == 1 && !id->on[0]) {
			memcpy(id->on, id->part[0], IDENT_MAX);
			id->n = 0;
			s += 4;
			continue;
		}
		return *s == '\0';
	}
}

static bool parts_are(const struct identity *id, const char *a, const char *b, const char *c)
{
	const char *want[3] = { a, b, c };
	int n = c ? 3 : b ? 2 : 1;

	if (id->n != n)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(id->part[i], want[i]) != 0)
			return false;
	return true;
}

/* 2: the row names o itself; 1: o's table; 0: neither. */
static int score(const struct model_object *o, const struct identity *id)
{
	bool on = id->on[0] != '\0';

	switch (o->kind) {
	case MODEL_DEFAULT_PRIVILEGES:
	case MODEL_DATABASE_SETTING:
		return 0; /* no identity of their own in the recorder's rows */
	case MODEL_SCHEMA:
	case MODEL_EXTENSION:
	case MODEL_FOREIGN_DATA_WRAPPER:
	case MODEL_FOREIGN_SERVER:
	case MODEL_PUBLICATION:
	case MODEL_EVENT_TRIGGER:
		return !on && !id->args && parts_are(id, o->name, NULL, NULL) ? 2 : 0;
	case MODEL_FUNCTION:
	case MODEL_PROCEDURE:
	case MODEL_AGGREGATE:
		return !on && id->args && parts_are(id, o->schema, o->name, NULL) ? 2 : 0;
	default:
		break;
	}
	if (id->args)
		return 0;
	if (o->parent) {
		bool named_on = o->kind == MODEL_CONSTRAINT || o->kind == MODEL_TRIGGER ||
				o->kind == MODEL_RULE || o->kind == MODEL_POLICY;

		if (named_on && on && strcmp(id->on, o->name) == 0 &&
		    parts_are(id, o->schema, o->parent, NULL))
			return 2;
		if (!on && o->kind == MODEL_COLUMN && parts_are(id, o->schema, o->parent, o->name))
			return 2;
		if (!on && !named_on && o->kind != MODEL_COLUMN &&
		    parts_are(id, o->schema, o->name, NULL))
			return 2; /* indexes, statistics: schema-level names */
		return !on && parts_are(id, o->schema, o->parent, NULL) ? 1 : 0;
	}
	return !on && o->schema && parts_are(id, o->schema, o->name, NULL) ? 2 : 0;
}

/* since less RECORDER_CLOCK_MARGIN_S, in isotime's form; since itself when
 * it is not in that form (the comparison is then as strict as it was). */
static const char *with_margin(const char *since, char out[ISOTIME_SIZE])
{
	struct tm tm = { 0 };
	char z = 0;

	if (!since || sscanf(since, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
			     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z')
		return since;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return since;
	isotime_format(t - RECORDER_CLOCK_MARGIN_S, out);
	return out;
}

const struct model_ddl_event *recorder_match(const struct model_recorder *recorder,
					     const struct model_object *before,
					     const struct model_object *after, const char *since)
{
	const struct model_object *objs[2] = { before, after };
	const struct model_ddl_event *best = NULL;
	int best_score = 0;

	char margin[ISOTIME_SIZE];

	if (!recorder)
		return NULL;
	since = with_margin(since, margin);
	/* Newest first: the first row of the best score is the newest of it. */
	for (size_t i = 0; i < recorder->n_events && best_score < 2; i++) {
		const struct model_ddl_event *e = &recorder->events[i];
		struct identity id;

		if ((since && e->at && strcmp(e->at, since) < 0) ||
		    !parse_identity(e->object_identity, &id))
			continue;
		for (int k = 0; k < 2; k++) {
			int sc = objs[k] ? score(objs[k], &id) : 0;
			if (sc > best_score) {
				best = e;
				best_score = sc;
			}
		}
	}
	return best;
}

/* s with every run of white space as one space, at most max bytes (not
 * splitting a UTF-8 sequence), "…" when cut. */
static void put_collapsed(struct strbuf *b, const char *s, size_t max)
{
	size_t n = 0;
	bool space = false;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			space = true;
			continue;
		}
		if (n >= max && ((unsigned char)*s & 0xC0) != 0x80) {
			strbuf_puts(b, "…");
			return;
		}
		if (space) {
			strbuf_putc(b, ' ');
			n++;
			space = false;
		}
		strbuf_putc(b, *s);
		n++;
	}
}

char *recorder_who_text(const struct model_ddl_event *e, size_t max_statement)
{
	struct strbuf b = { 0 };
	char *raw, *out;

	strbuf_printf(&b, "by %s", e->session_role ? e->session_role : "(unknown role)");
	if (e->current_role && e->session_role && strcmp(e->current_role, e->session_role) != 0)
		strbuf_printf(&b, " as %s", e->current_role);
	if (e->client_addr)
		strbuf_printf(&b, " from %s", e->client_addr);
	else
		strbuf_puts(&b, " from the local socket");
	if (e->application && e->application[0])
		strbuf_printf(&b, " (%s)", e->application);
	strbuf_printf(&b, " at %s: ", e->at ? e->at : "(unknown time)");
	if (e->statement)
		put_collapsed(&b, e->statement, max_statement);
	else
		strbuf_printf(&b, "%s (statement not recorded)",
			      e->command_tag ? e->command_tag : "DDL");
	if (!(raw = strbuf_take(&b)))
		return NULL;
	out = utf8_escape_dup(raw, 0);
	free(raw);
	return out;
}

bool recorder_trigger_records(const char *state)
{
	/* "replica" fires only where session_replication_role = replica. */
	return state && (strcmp(state, "origin") == 0 || strcmp(state, "always") == 0);
}

const char *recorder_problem(const struct model_recorder *recorder)
{
	if (!recorder)
		return NULL;
	if (!recorder->ddl_trigger || !recorder->drop_trigger)
		return "the DDL recorder's event trigger " RECORDER_DDL_TRIGGER " or "
		       RECORDER_DROP_TRIGGER " is missing: changes are not recorded "
		       "(schemadrift audit install puts it back)";
	if (!recorder_trigger_records(recorder->ddl_trigger) ||
	    !recorder_trigger_records(recorder->drop_trigger))
		return "the DDL recorder is disabled: changes are not recorded "
		       "(ALTER EVENT TRIGGER " RECORDER_DDL_TRIGGER " ENABLE, and the same for "
		       RECORDER_DROP_TRIGGER ")";
	if (!recorder->readable)
		return "the DDL recorder's rows cannot be read by this role: changes are "
		       "unattributed (schemadrift audit install --grant ROLE)";
	return NULL;
}
