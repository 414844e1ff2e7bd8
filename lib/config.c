/* The daemon's configuration: parsing, defaults and validation from one descriptor table. */
#include "config.h"
#include "dbcheck.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

#include <libpq-fe.h>

#include "alert.h"
#include "schedule.h"

/* Each type says how a value is checked, so that --check-config, startup and
 * a reload refuse the same values, each with its FILE:LINE. */
enum config_type {
	CONFIG_STRING,   /* free text, not empty */
	CONFIG_BOOL,
	CONFIG_INT,
	CONFIG_DURATION,
	CONFIG_LIST,     /* comma-separated */
	CONFIG_ENUM,
	CONFIG_SECRET,   /* file:PATH or credential:NAME only: never inline */
	CONFIG_PATH,     /* an absolute path */
	CONFIG_LISTEN,   /* HOST:PORT, or empty for off */
	CONFIG_DSN,      /* a libpq connection string without a password */
	CONFIG_SCHEDULE, /* schedule_parse() */
	CONFIG_ZONE,     /* an IANA time zone */
	CONFIG_LINK,     /* an http(s) URL template (alert_set_link()) */
	CONFIG_N_TYPES
};

static const char *const type_names[] = {
	[CONFIG_STRING] = "string",	[CONFIG_BOOL] = "bool",	      [CONFIG_INT] = "int",
	[CONFIG_DURATION] = "duration", [CONFIG_LIST] = "list",	      [CONFIG_ENUM] = "enum",
	[CONFIG_SECRET] = "secret",	[CONFIG_PATH] = "path",	      [CONFIG_LISTEN] = "listen",
	[CONFIG_DSN] = "dsn",		[CONFIG_SCHEDULE] = "schedule", [CONFIG_ZONE] = "zone",
	[CONFIG_LINK] = "link",
};
/* --print-keys names every type (the tests pick a bad value by that name). */
_Static_assert(sizeof(type_names) / sizeof(type_names[0]) == CONFIG_N_TYPES,
	       "a config type without a name in type_names");

struct config_key {
	const char *section; /* "daemon" or "target" */
	const char *key;
	enum config_type type;
	size_t offset;       /* into struct config_daemon or struct config_target */
	size_t count_offset; /* lists: where the count goes */
	const char *def;     /* default, as it would be written; NULL: none */
	long long min, max;  /* ints; durations in ms */
	const char *const *choices;
	bool reloadable;
	const char *doc;
};

#define D(field) offsetof(struct config_daemon, field), 0
#define T(field) offsetof(struct config_target, field), 0
#define TL(field) offsetof(struct config_target, field), offsetof(struct config_target, n_##field)
#define CHOICES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define DAY (24LL * 3600 * 1000)

/*
 * Every key there is.  Parsing, defaults, bounds, --check-config, the
 * reload rules and the commented sample configuration all come from here.
 * A target key with no default of its own takes the [daemon] key of the
 * same name where one exists (schedule, timezone).
 */
static const struct config_key keys[] = {
	{ "daemon", "state_dir", CONFIG_PATH, D(state_dir), "/var/lib/schemadrift", 0, 0, NULL, false,
	  "Snapshot history, baselines, alert state and the outbox live here." },
	{ "daemon", "runtime_dir", CONFIG_PATH, D(runtime_dir), "/run/schemadrift", 0, 0, NULL, false,
	  "The control socket (schemadrift status, run-now) lives here." },
	{ "daemon", "log_level", CONFIG_ENUM, D(log_level), "info", 0, 0,
	  CHOICES("error", "warning", "notice", "info", "debug"), true,
	  "Least severe level logged." },
	{ "daemon", "max_concurrent", CONFIG_INT, D(max_concurrent), "8", 1, 1000, NULL, true,
	  "At most this many targets are checked at once." },
	{ "daemon", "schedule", CONFIG_SCHEDULE, D(schedule), "every 5m", 0, 0, NULL, true,
	  "Default schedule: a 5-field cron expression or 'every 15m'." },
	{ "daemon", "timezone", CONFIG_ZONE, D(timezone), "UTC", 0, 0, NULL, true,
	  "Default time zone for cron schedules (an IANA name)." },
	{ "daemon", "jitter", CONFIG_DURATION, D(jitter_ms), "30s", 0, DAY, NULL, true,
	  "Each target's runs are shifted by a stable offset up to this, so a fleet does not stampede." },
	{ "daemon", "connect_timeout", CONFIG_DURATION, D(connect_timeout_ms), "10s", 100, 600000, NULL, true,
	  "Give up connecting after this long." },
	{ "daemon", "statement_timeout", CONFIG_DURATION, D(statement_timeout_ms), "60s", 100, DAY, NULL, true,
	  "Server-side limit for each catalog query; a stuck query is also cancelled at this deadline." },
	{ "daemon", "lock_timeout", CONFIG_DURATION, D(lock_timeout_ms), "1s", 10, 600000, NULL, true,
	  "How long a catalog query may wait for a lock before giving up (it never takes one for long)." },
	{ "daemon", "idle_timeout", CONFIG_DURATION, D(idle_timeout_ms), "5m", 0, DAY, NULL, true,
	  "A connection unused for this long is closed (kept open between frequent runs)." },
	{ "daemon", "full_every", CONFIG_DURATION, D(full_every_ms), "1h", 0, 7 * DAY, NULL, true,
	  "A full snapshot at least this often even when the change probe saw nothing." },
	{ "daemon", "settle_delay", CONFIG_DURATION, D(settle_delay_ms), "30s", 0, DAY, NULL, true,
	  "A change must be seen again this much later before it alerts (0: alert at once)." },
	{ "daemon", "repeat_interval", CONFIG_DURATION, D(repeat_interval_ms), "24h", 0, 30 * DAY, NULL, true,
	  "Remind while drift lasts, this often (0: never)." },
	{ "daemon", "error_threshold", CONFIG_INT, D(error_threshold), "3", 1, 1000, NULL, true,
	  "Alert an outage after this many failed runs in a row." },
	{ "daemon", "keep_snapshots", CONFIG_INT, D(keep_snapshots), "100", 1, 1000000, NULL, true,
	  "Keep at least the last N distinct snapshots per target." },
	{ "daemon", "keep_days", CONFIG_INT, D(keep_days), "30", 0, 36500, NULL, true,
	  "Also keep every snapshot and history line from the last D days." },
	{ "daemon", "outbox_max_age", CONFIG_DURATION, D(outbox_max_age_ms), "24h", 60000, 30 * DAY, NULL, true,
	  "An alert not delivered after this long is given up (logged, kept in dead letters)." },
	{ "daemon", "outbox_max_entries", CONFIG_INT, D(outbox_max_entries), "10000", 1, 10000000, NULL, true,
	  "The outbox holds at most this many alerts; past it the oldest are dropped, and logged." },
	{ "daemon", "outbox_max_bytes", CONFIG_INT, D(outbox_max_bytes), "67108864", 4096, 1LL << 40, NULL, true,
	  "The outbox holds at most this many bytes of alerts (same drop policy)." },
	{ "daemon", "outbox_concurrency", CONFIG_INT, D(outbox_concurrency), "4", 1, 1000, NULL, true,
	  "Deliveries in flight per notifier." },
	{ "daemon", "outbox_backoff_base", CONFIG_DURATION, D(outbox_backoff_base_ms), "5s", 10, DAY, NULL, true,
	  "The first retry of a failed delivery waits about this long, doubling each time." },
	{ "daemon", "outbox_backoff_cap", CONFIG_DURATION, D(outbox_backoff_cap_ms), "10m", 10, 7 * DAY, NULL, true,
	  "Retries wait at most this long." },
	{ "daemon", "metrics_listen", CONFIG_LISTEN, D(metrics_listen), "", 0, 0, NULL, false,
	  "Prometheus /metrics and /healthz on this address, e.g. 127.0.0.1:9187 (empty: off)." },
	{ "daemon", "report_dir", CONFIG_PATH, D(report_dir), "", 0, 0, NULL, true,
	  "The HTML history report (index.html, TARGET.html), rewritten after a change (empty: off)." },
	{ "daemon", "coordination", CONFIG_DSN, D(coordination), NULL, 0, 0, NULL, false,
	  "A PostgreSQL database that several daemons share their targets through, each target "
	  "checked by one of them (docs/operations.md); no password here: use "
	  "coordination_password." },
	{ "daemon", "coordination_password", CONFIG_SECRET, D(coordination_password), NULL, 0, 0,
	  NULL, false, "file:/etc/schemadrift/coord.pass or credential:NAME, for coordination." },
	{ "daemon", "store", CONFIG_ENUM, D(store), "file", 0, 0, CHOICES("file", "postgresql"), false,
	  "Where history, snapshots, baselines, acknowledgements, the audit log and alert state "
	  "live: files under state_dir, or tables in PostgreSQL (store_dsn) that every daemon "
	  "and every schemadrift command pointed there shares (docs/store.md)." },
	{ "daemon", "store_dsn", CONFIG_DSN, D(store_dsn), NULL, 0, 0, NULL, false,
	  "With store = postgresql: its database (default: coordination's); no password here: "
	  "use store_password." },
	{ "daemon", "store_password", CONFIG_SECRET, D(store_password), NULL, 0, 0, NULL, false,
	  "file:/etc/schemadrift/store.pass or credential:NAME, for store_dsn." },
	{ "daemon", "node_name", CONFIG_STRING, D(node_name), NULL, 0, 0, NULL, false,
	  "This daemon's name in the coordination database (default: HOSTNAME:PID)." },
	{ "daemon", "lease_timeout", CONFIG_DURATION, D(lease_timeout_ms), "30s", 1000, 3600000,
	  NULL, false,
	  "A daemon that has not renewed its leases for this long loses them to the others." },

	{ "target", "dsn", CONFIG_DSN, T(dsn), NULL, 0, 0, NULL, true,
	  "libpq connection string or URI (service=... works). No password here: use password." },
	{ "target", "password", CONFIG_SECRET, T(password_source), NULL, 0, 0, NULL, true,
	  "file:/etc/schemadrift/db.pass or credential:NAME (systemd LoadCredential=)." },
	{ "target", "schedule", CONFIG_SCHEDULE, T(schedule), NULL, 0, 0, NULL, true,
	  "Overrides [daemon] schedule." },
	{ "target", "timezone", CONFIG_ZONE, T(timezone), NULL, 0, 0, NULL, true,
	  "Overrides [daemon] timezone." },
	/* Not "include": that is the file-inclusion directive (lib/ini.c). */
	{ "target", "include_objects", CONFIG_LIST, TL(include), NULL, 0, 0, NULL, true,
	  "Only objects whose schema.name matches one of these globs." },
	{ "target", "exclude_objects", CONFIG_LIST, TL(exclude), NULL, 0, 0, NULL, true,
	  "Leave out objects matching these globs, e.g. audit.*" },
	{ "target", "include_schema", CONFIG_LIST, TL(include_schema), NULL, 0, 0, NULL, true,
	  "Only these schemas (globs)." },
	{ "target", "exclude_schema", CONFIG_LIST, TL(exclude_schema), NULL, 0, 0, NULL, true,
	  "Leave out these schemas (globs)." },
	{ "target", "ignore", CONFIG_LIST, TL(ignore), NULL, 0, 0, NULL, true,
	  "privileges, ownership, comments, column-order, body-whitespace, kinds or attributes (schemadrift kinds)." },
	{ "target", "partitions", CONFIG_ENUM, T(partitions), "parent", 0, 0, CHOICES("parent", "full"), true,
	  "parent: report what partitions inherit once, at the parent; full: every partition." },
	{ "target", "notifiers", CONFIG_LIST, TL(notifiers), NULL, 0, 0, NULL, true,
	  "Names of [notifier NAME] sections that receive this target's alerts." },
	{ "target", "environment", CONFIG_STRING, T(environment), NULL, 0, 0, NULL, true,
	  "A label shown in alerts, e.g. production." },
	{ "target", "baseline", CONFIG_ENUM, T(baseline), "auto", 0, 0, CHOICES("auto", "require"), true,
	  "auto: the first snapshot becomes the baseline; require: wait for schemadrift baseline create." },
	{ "target", "link_template", CONFIG_LINK, T(link_template), NULL, 0, 0, NULL, true,
	  "An http(s) URL in alerts; {target}, {to_hash}, {kind}, ... are replaced (docs/notifiers.md)." },
	{ "target", "expected", CONFIG_PATH, T(expected), NULL, 0, 0, NULL, true,
	  "What the schema should be (schemadrift verify): a .sql file, a directory of migrations or a snapshot." },
	{ "target", "expected_format", CONFIG_ENUM, T(expected_format), NULL, 0, 0,
	  CHOICES("sql", "sql-dir", "golang-migrate", "flyway", "goose", "dbmate", "snapshot"), true,
	  "The format of expected (default: detected)." },
	{ "target", "expected_cmd", CONFIG_STRING, T(expected_cmd), NULL, 0, 0, NULL, true,
	  "Instead of expected: a command that migrates an empty database (DATABASE_URL, PG* set)." },
	{ "target", "verify_schedule", CONFIG_SCHEDULE, T(verify_schedule), "@daily", 0, 0, NULL, true,
	  "When expected or expected_cmd is checked: cron, @daily or 'every 6h'." },
	{ "target", "scratch_dsn", CONFIG_DSN, T(scratch_dsn), NULL, 0, 0, NULL, true,
	  "A server where verify may create and drop a database (default: an embedded throwaway cluster)." },
	{ "target", "pg_bindir", CONFIG_PATH, T(pg_bindir), NULL, 0, 0, NULL, true,
	  "Server binaries of the embedded cluster (default: pg_config, /usr/lib/postgresql/*/bin)." },
	{ "target", "enabled", CONFIG_BOOL, T(enabled), "true", 0, 0, NULL, true,
	  "false keeps the section but does not monitor it." },
	{ "target", "checks", CONFIG_LIST, TL(checks), NULL, 0, 0, NULL, true,
	  "Schema health checks to run (none by default): fk-index, orphans, check-violations, "
	  "null-violations, custom:NAME, custom (every [check NAME] for this target), all." },
	{ "target", "checks_schedule", CONFIG_SCHEDULE, T(checks_schedule), "@daily", 0, 0, NULL, true,
	  "When the checks run, apart from the snapshots (cron or 'every 6h')." },
	{ "target", "check_dsn", CONFIG_DSN, T(check_dsn), NULL, 0, 0, NULL, true,
	  "Run the checks here instead of dsn, e.g. on a replica (same password)." },
	{ "target", "check_statement_timeout", CONFIG_DURATION, T(check_statement_timeout_ms), "30s",
	  10, DAY, NULL, true,
	  "Server-side limit for each statement of a check; one that hits it is reported as timed out." },
	{ "target", "check_lock_timeout", CONFIG_DURATION, T(check_lock_timeout_ms), "1s", 10, 600000,
	  NULL, true, "How long a check's statement may wait for a lock." },
	{ "target", "check_sample_rows", CONFIG_INT, T(check_sample_rows), "10", 1, 100000, NULL, true,
	  "At most this many violating rows per finding." },
	{ "target", "check_sample_above", CONFIG_INT, T(check_sample_above), "1000000", 0, 1LL << 50,
	  NULL, true,
	  "Tables estimated above this many rows are scanned with TABLESAMPLE SYSTEM (0: never)." },
	{ "target", "check_exact_counts", CONFIG_BOOL, T(check_exact_counts), "false", 0, 0, NULL, true,
	  "Count every violating row (a full scan per constraint)." },
	{ "target", "check_all_constraints", CONFIG_BOOL, T(check_all_constraints), "false", 0, 0, NULL,
	  true, "orphans and null-violations also look under valid constraints, not only NOT VALID ones." },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct config_key *find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

bool config_reloadable(const char *section, const char *key)
{
	const struct config_key *k = find_key(section, key);
	return k ? k->reloadable : true;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int config_listen_split(const char *listen, char **ret_host, unsigned short *ret_port,
			struct error *err)
{
	const char *colon = strrchr(listen, ':');
	const char *host = listen, *host_end = colon;
	char *end = NULL, *h;
	long port;

	if (!colon)
		return error_set(err, -EINVAL, "'%s': expected HOST:PORT, e.g. 127.0.0.1:9187", listen);
	/* [::1]:9187: the brackets keep an IPv6 address's colons apart from the port's. */
	if (host[0] == '[' && host_end > host && host_end[-1] == ']') {
		host++;
		host_end--;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (host_end <= host || !colon[1] || *end || errno || port < 1 || port > 65535)
		return error_set(err, -EINVAL, "'%s': expected HOST:PORT with a port from 1 to 65535",
				 listen);
	if (!(h = strndup(host, (size_t)(host_end - host))))
		return error_set(err, -ENOMEM, "out of memory");
	*ret_host = h;
	*ret_port = (unsigned short)port;
	return 0;
}

/* A libpq connection string that parses and holds no password (which would
 * end up in the logs and ps output of tools that echo it). */
static int check_dsn(const struct ini_kv *kv, struct error *err)
{
	char *msg = NULL;
	PQconninfoOption *opts;
	bool password = false;

	/* password= in any case, user:pw@ and ?password= in a URI: before libpq's
	 * parser, whose reason would only say "invalid connection option". */
	/* [daemon] coordination has a password key of its own. */
	const char *use =
		strcmp(kv->key, "coordination") == 0
			? "holds a password: use coordination_password (file: or credential:)"
		: strcmp(kv->key, "store_dsn") == 0
			? "holds a password: use store_password (file: or credential:)"
			: "holds a password: use the password key (file: or credential:)";

	if (live_dsn_has_password(kv->value))
		return ini_error(kv, err, -EINVAL, "%s", use);
	opts = PQconninfoParse(kv->value, &msg);
	if (!opts) {
		int r;
		/* libpq's reason may quote the string, and so a password in it. */
		if (!msg || strstr(kv->value, "password") || strchr(kv->value, '@'))
			r = ini_error(kv, err, -EINVAL, "not a valid libpq connection string");
		else
			r = ini_error(kv, err, -EINVAL, "%.*s", (int)strcspn(msg, "\n"), msg);
		PQfreemem(msg);
		return r;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val)
			password = true;
	PQconninfoFree(opts);
	if (password)
		return ini_error(kv, err, -EINVAL, "%s", use);
	return 0;
}

/* The checks of the text-valued types; the value is stored as it is. */
static int check_text(const struct config_key *k, const struct ini_kv *kv, struct error *err)
{
	struct schedule *sched = NULL;
	struct error e;
	char *host = NULL;
	unsigned short port;
	int r = 0;

	switch (k->type) {
	case CONFIG_STRING:
		if (!kv->value[0])
			return ini_error(kv, err, -EINVAL, "empty (leave the key out instead)");
		return 0;
	case CONFIG_SECRET:
		if (strncmp(kv->value, "file:", 5) != 0 && strncmp(kv->value, "credential:", 11) != 0)
			return ini_error(kv, err, -EINVAL,
					  "must be file:PATH or credential:NAME (never the secret itself)");
		return 0;
	case CONFIG_PATH:
		/* A path whose default is empty is optional: empty means off (report_dir). */
		if (!kv->value[0] && k->def && !k->def[0])
			return 0;
		if (kv->value[0] != '/')
			return ini_error(kv, err, -EINVAL, "'%s' is not an absolute path", kv->value);
		return 0;
	case CONFIG_LISTEN:
		if (!kv->value[0])
			return 0;
		r = config_listen_split(kv->value, &host, &port, &e);
		free(host);
		break;
	case CONFIG_DSN:
		return check_dsn(kv, err);
	case CONFIG_SCHEDULE:
		r = schedule_parse(kv->value, &sched, &e);
		schedule_free(sched);
		break;
	case CONFIG_ZONE:
		r = schedule_zone_check(kv->value, &e);
		break;
	case CONFIG_LINK:
		r = alert_link_check(kv->value, &e);
		break;
	default:
		break;
	}
	return r < 0 ? ini_error(kv, err, r, "%s", e.text) : 0;
}

static int set_value(const struct config_key *k, void *base, const struct ini_kv *kv,
		     struct error *err)
{
	char *field = (char *)base + k->offset;
	long long v;
	bool b;
	int r;

	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_SECRET:
	case CONFIG_PATH:
	case CONFIG_LISTEN:
	case CONFIG_DSN:
	case CONFIG_SCHEDULE:
	case CONFIG_ZONE:
	case CONFIG_LINK:
		if ((r = check_text(k, kv, err)) < 0)
			return r;
		free(*(char **)field);
		*(char **)field = strdup(kv->value);
		return *(char **)field ? 0 : ini_error(kv, err, -ENOMEM, "out of memory");
	case CONFIG_ENUM:
		for (const char *const *c = k->choices; *c; c++)
			if (strcmp(*c, kv->value) == 0) {
				free(*(char **)field);
				*(char **)field = strdup(kv->value);
				return *(char **)field ? 0 : ini_error(kv, err, -ENOMEM, "out of memory");
			}
		return ini_error(kv, err, -EINVAL, "'%s' is not one of the choices (see the sample configuration)",
				  kv->value);
	case CONFIG_BOOL:
		if ((r = ini_bool(kv, &b, err)) < 0)
			return r;
		*(bool *)field = b;
		return 0;
	case CONFIG_INT:
		if ((r = ini_int(kv, k->min, k->max, &v, err)) < 0)
			return r;
		*(long long *)field = v;
		return 0;
	case CONFIG_DURATION:
		if ((r = ini_duration_ms(kv, k->min, k->max, &v, err)) < 0)
			return r;
		*(long long *)field = v;
		return 0;
	case CONFIG_LIST: {
		char ***list = (char ***)field;
		size_t *count = (size_t *)((char *)base + k->count_offset);
		free_list(*list, *count);
		*list = NULL;
		*count = 0;
		return ini_list(kv, list, count, err);
	}
	case CONFIG_N_TYPES:
		break;
	}
	return -EINVAL;
}

/* Applies the table's defaults to a section's struct (base). */
static int set_defaults(const char *section, void *base, struct error *err)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		struct ini_kv kv = { .key = (char *)keys[i].key, .value = (char *)keys[i].def,
				      .file = "(built-in default)", .line = 0, .file_private = true };
		int r;

		if (strcmp(keys[i].section, section) != 0 || !keys[i].def)
			continue;
		if ((r = set_value(&keys[i], base, &kv, err)) < 0)
			return r;
	}
	return 0;
}

static int apply_section(const struct ini_section *s, const char *section, void *base,
			 struct error *err)
{
	int r = ini_section_check_repeats(s, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_kv; i++) {
		const struct ini_kv *kv = &s->kv[i];
		const struct config_key *k = find_key(section, kv->key);

		if (!k)
			return ini_error(kv, err, -EINVAL, "unknown key in [%s]", section);
		if ((r = set_value(k, base, kv, err)) < 0)
			return r;
	}
	return 0;
}

static void target_done(struct config_target *t)
{
	free(t->name);
	free(t->dsn);
	free(t->password_source);
	free(t->schedule);
	free(t->timezone);
	free_list(t->include, t->n_include);
	free_list(t->exclude, t->n_exclude);
	free_list(t->include_schema, t->n_include_schema);
	free_list(t->exclude_schema, t->n_exclude_schema);
	free_list(t->ignore, t->n_ignore);
	free_list(t->notifiers, t->n_notifiers);
	free(t->partitions);
	free(t->environment);
	free(t->baseline);
	free(t->link_template);
	free(t->expected);
	free(t->expected_format);
	free(t->expected_cmd);
	free(t->verify_schedule);
	free(t->scratch_dsn);
	free(t->pg_bindir);
	free_list(t->checks, t->n_checks);
	free(t->checks_schedule);
	free(t->check_dsn);
}

void config_free(struct config *c)
{
	struct config_daemon *d;

	if (!c)
		return;
	d = &c->daemon;
	free(d->state_dir);
	free(d->runtime_dir);
	free(d->log_level);
	free(d->schedule);
	free(d->timezone);
	free(d->metrics_listen);
	free(d->report_dir);
	free(d->coordination);
	free(d->coordination_password);
	free(d->store);
	free(d->store_dsn);
	free(d->store_password);
	free(d->node_name);
	for (size_t i = 0; i < c->n_targets; i++)
		target_done(&c->targets[i]);
	free(c->targets);
	dbcheck_custom_set_free(c->customs);
	ini_free(c->raw);
	free(c);
}

/* Cross-key checks that one key's parser cannot make. */
static int check_target(const struct config *c, const struct ini_section *s,
			const struct config_target *t, struct error *err)
{
	if (!t->dsn)
		return ini_section_error(s, err, -EINVAL, "no dsn");
	/* A password inline in the DSN would end up in logs and ps output of
	 * tools that echo it; the password key reads it from a file instead. */
	if (live_dsn_has_password(t->dsn))
		return ini_error(ini_get(s, "dsn"), err, -EINVAL,
				  "holds a password: use the password key (file: or credential:)");
	if (t->expected && t->expected_cmd)
		return ini_error(ini_get(s, "expected_cmd"), err, -EINVAL,
				  "expected and expected_cmd exclude each other");
	for (size_t i = 0; i < t->n_notifiers; i++)
		if (!ini_find(c->raw, "notifier", t->notifiers[i]))
			return ini_error(ini_get(s, "notifiers"), err, -EINVAL,
					  "no [notifier %s] section", t->notifiers[i]);
	for (size_t i = 0; i < t->n_checks; i++) {
		if (!dbcheck_name_valid(t->checks[i]))
			return ini_error(ini_get(s, "checks"), err, -EINVAL,
					  "unknown check '%s' (fk-index, orphans, check-violations, "
					  "null-violations, custom:NAME, custom, all)", t->checks[i]);
		if (strncmp(t->checks[i], "custom:", 7) == 0 &&
		    !ini_find(c->raw, "check", t->checks[i] + 7))
			return ini_error(ini_get(s, "checks"), err, -EINVAL, "no [check %s] section",
					  t->checks[i] + 7);
	}
	if (t->check_dsn && live_dsn_has_password(t->check_dsn))
		return ini_error(ini_get(s, "check_dsn"), err, -EINVAL,
				  "holds a password: use the password key (file: or credential:)");
	return 0;
}

int config_from_conf(struct ini *raw, struct config **ret, struct error *err)
{
	struct config *c = calloc(1, sizeof(*c));
	size_t n_targets = 0;
	int r;

	if (!c) {
		ini_free(raw);
		return error_set(err, -ENOMEM, "out of memory");
	}
	c->raw = raw;
	if ((r = set_defaults("daemon", &c->daemon, err)) < 0)
		goto fail;
	for (size_t i = 0; i < raw->n_sections; i++) {
		const struct ini_section *s = &raw->sections[i];
		if (strcmp(s->kind, "daemon") == 0) {
			if ((r = apply_section(s, "daemon", &c->daemon, err)) < 0)
				goto fail;
		} else if (strcmp(s->kind, "target") == 0) {
			n_targets++;
		} else if (strcmp(s->kind, "notifier") != 0 && strcmp(s->kind, "check") != 0) {
			r = ini_section_error(s, err, -EINVAL,
					       "unknown section kind (daemon, target, notifier or check)");
			goto fail;
		}
	}
	if ((r = dbcheck_customs_from_ini(raw, &c->customs, err)) < 0)
		goto fail;
	c->targets = calloc(n_targets ? n_targets : 1, sizeof(*c->targets));
	if (!c->targets) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < raw->n_sections; i++) {
		const struct ini_section *s = &raw->sections[i];
		struct config_target *t;

		if (strcmp(s->kind, "target") != 0)
			continue;
		t = &c->targets[c->n_targets++];
		t->name = strdup(s->name);
		t->file = s->file;
		t->line = s->line;
		if (!t->name) {
			r = error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		if ((r = set_defaults("target", t, err)) < 0 ||
		    (r = apply_section(s, "target", t, err)) < 0)
			goto fail;
		if (!t->schedule && !(t->schedule = strdup(c->daemon.schedule))) {
			r = error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		if (!t->timezone && !(t->timezone = strdup(c->daemon.timezone))) {
			r = error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		if ((r = check_target(c, s, t, err)) < 0)
			goto fail;
	}
	*ret = c;
	return 0;
fail:
	config_free(c);
	return r;
}

int config_load(const char *path, struct config **ret, struct error *err)
{
	struct ini *raw;
	int r = ini_load(path, &raw, err);

	if (r < 0)
		return r;
	return config_from_conf(raw, ret, err);
}

const struct config_target *config_target(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_targets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return &c->targets[i];
	return NULL;
}

int config_write_keys(FILE *out)
{
	fputs("# section\tkey\ttype\tdefault\tmin\tmax\tchoices\tapplied\n", out);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &keys[i];

		fprintf(out, "%s\t%s\t%s\t%s\t%lld\t%lld\t", k->section, k->key, type_names[k->type],
			k->def ? k->def : "", k->min, k->max);
		for (const char *const *c = k->choices; c && *c; c++)
			fprintf(out, "%s%s", c == k->choices ? "" : ",", *c);
		fprintf(out, "\t%s\n", k->reloadable ? "reload" : "restart");
	}
	return ferror(out) ? -EIO : 0;
}

static bool is_text(enum config_type t)
{
	return t != CONFIG_BOOL && t != CONFIG_INT && t != CONFIG_DURATION && t != CONFIG_LIST;
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_value(const struct config_key *k, const void *a, const void *b)
{
	const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;

	if (is_text(k->type))
		return same_text(*(char *const *)fa, *(char *const *)fb);
	if (k->type == CONFIG_BOOL)
		return *(const bool *)fa == *(const bool *)fb;
	if (k->type != CONFIG_LIST)
		return *(const long long *)fa == *(const long long *)fb;
	size_t n = *(const size_t *)((const char *)a + k->count_offset);
	if (n != *(const size_t *)((const char *)b + k->count_offset))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!same_text((*(char **const *)fa)[i], (*(char **const *)fb)[i]))
			return false;
	return true;
}

/* Gives dst (a section's struct) a copy of src's value of k. */
static int copy_value(const struct config_key *k, void *dst, const void *src)
{
	char *fd = (char *)dst + k->offset;
	const char *fs = (const char *)src + k->offset;

	if (is_text(k->type)) {
		const char *v = *(char *const *)fs;
		char *copy = NULL;

		if (v && !(copy = strdup(v)))
			return -ENOMEM;
		free(*(char **)fd);
		*(char **)fd = copy;
	} else if (k->type == CONFIG_BOOL) {
		*(bool *)fd = *(const bool *)fs;
	} else if (k->type != CONFIG_LIST) {
		*(long long *)fd = *(const long long *)fs;
	} else {
		size_t n = *(const size_t *)((const char *)src + k->count_offset);
		size_t *dn = (size_t *)((char *)dst + k->count_offset);
		char **items = calloc(n ? n : 1, sizeof(*items));

		for (size_t i = 0; items && i < n; i++)
			if (!(items[i] = strdup((*(char **const *)fs)[i]))) {
				free_list(items, i);
				items = NULL;
			}
		if (!items)
			return -ENOMEM;
		free_list(*(char ***)fd, *dn);
		*(char ***)fd = items;
		*dn = n;
	}
	return 0;
}

int config_keep_restart_only(struct config *loaded, const struct config *running,
			     config_restart_fn fn, void *arg)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &keys[i];
		bool daemon = strcmp(k->section, "daemon") == 0;
		size_t n = daemon ? 1 : loaded->n_targets;

		if (k->reloadable)
			continue;
		for (size_t j = 0; j < n; j++) {
			const char *name = daemon ? NULL : loaded->targets[j].name;
			void *a = daemon ? (void *)&loaded->daemon : (void *)&loaded->targets[j];
			const void *b = daemon ? (const void *)&running->daemon
					       : (const void *)config_target(running, name);
			const struct ini_section *s = ini_find(loaded->raw, k->section, name);

			/* A target new in this reload has nothing running to keep. */
			if (!b || same_value(k, a, b))
				continue;
			fn(k->section, name, k->key, s ? ini_get(s, k->key) : NULL, arg);
			if (copy_value(k, a, b) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int config_write_sample(FILE *out)
{
	const char *section = NULL;

	fputs("# schemadrift.conf: configuration of schemadriftd(8), see schemadrift.conf(5).\n"
	      "# Generated from the daemon's key table (schemadriftd --print-sample-config).\n"
	      "# Every key is shown with its default, commented out.  Keys marked\n"
	      "# [restart] take effect only after a restart; the rest on SIGHUP.\n"
	      "# Comments start with # or ; at the beginning of a line only.\n"
	      "# The docs/*.md named here are in /usr/share/doc/schemadrift/docs when installed.\n"
	      "# include = /etc/schemadrift.d   (every *.conf there, in name order)\n", out);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &keys[i];
		if (!section || strcmp(section, k->section) != 0) {
			section = k->section;
			/* A template, not a section anyone configured: commented out, so
			 * the sample is itself a valid configuration. */
			fprintf(out, "\n%s\n", strcmp(section, "target") == 0 ? "#[target NAME]" : "[daemon]");
		}
		fprintf(out, "\n# %s%s\n", k->doc, k->reloadable ? "" : " [restart]");
		if (k->choices) {
			fputs("# One of:", out);
			for (const char *const *c = k->choices; *c; c++)
				fprintf(out, " %s", *c);
			fputc('\n', out);
		}
		fprintf(out, "#%s = %s\n", k->key, k->def ? k->def : "");
	}
	fputs("\n#[check NAME]\n# A custom check (docs/checks.md): SQL returning the rows that break a rule,\n"
	      "# run as written in the checks' read-only transaction; targets run it with\n"
	      "# checks = custom:NAME.  sql = the query, or file = a file holding it.\n"
	      "#sql = \n#file = \n# info, warning or breaking.\n#severity = warning\n"
	      "# Rows shown (default: the target's check_sample_rows).\n#max_rows = \n"
	      "# Limits of this check's statements (default: the target's check_statement_timeout\n"
	      "# and check_lock_timeout).\n#statement_timeout = \n#lock_timeout = \n"
	      "# The targets that checks = custom runs it on (empty: every target).\n#targets = \n"
	      "# Said in the finding and the alert.\n#description = \n", out);
	return ferror(out) ? -EIO : 0;
}
