/* The daemon's configuration: parsing, defaults and validation from one descriptor table. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum config_type {
	CONFIG_STRING,
	CONFIG_BOOL,
	CONFIG_INT,
	CONFIG_DURATION,
	CONFIG_LIST,   /* comma-separated */
	CONFIG_ENUM,
	CONFIG_SECRET, /* file:PATH or credential:NAME only: never inline */
};

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
	{ "daemon", "state_dir", CONFIG_STRING, D(state_dir), "/var/lib/schemadrift", 0, 0, NULL, false,
	  "Snapshot history, baselines, alert state and the outbox live here." },
	{ "daemon", "runtime_dir", CONFIG_STRING, D(runtime_dir), "/run/schemadrift", 0, 0, NULL, false,
	  "The control socket (schemadrift status, run-now) lives here." },
	{ "daemon", "log_level", CONFIG_ENUM, D(log_level), "info", 0, 0,
	  CHOICES("error", "warning", "notice", "info", "debug"), true,
	  "Least severe level logged." },
	{ "daemon", "max_concurrent", CONFIG_INT, D(max_concurrent), "8", 1, 1000, NULL, true,
	  "At most this many targets are checked at once." },
	{ "daemon", "schedule", CONFIG_STRING, D(schedule), "every 5m", 0, 0, NULL, true,
	  "Default schedule: a 5-field cron expression or 'every 15m'." },
	{ "daemon", "timezone", CONFIG_STRING, D(timezone), "UTC", 0, 0, NULL, true,
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
	{ "daemon", "metrics_listen", CONFIG_STRING, D(metrics_listen), "", 0, 0, NULL, false,
	  "Prometheus /metrics and /healthz on this address, e.g. 127.0.0.1:9187 (empty: off)." },

	{ "target", "dsn", CONFIG_STRING, T(dsn), NULL, 0, 0, NULL, true,
	  "libpq connection string or URI (service=... works). No password here: use password." },
	{ "target", "password", CONFIG_SECRET, T(password_source), NULL, 0, 0, NULL, true,
	  "file:/etc/schemadrift/db.pass or credential:NAME (systemd LoadCredential=)." },
	{ "target", "schedule", CONFIG_STRING, T(schedule), NULL, 0, 0, NULL, true,
	  "Overrides [daemon] schedule." },
	{ "target", "timezone", CONFIG_STRING, T(timezone), NULL, 0, 0, NULL, true,
	  "Overrides [daemon] timezone." },
	{ "target", "include", CONFIG_LIST, TL(include), NULL, 0, 0, NULL, true,
	  "Only objects whose schema.name matches one of these globs." },
	{ "target", "exclude", CONFIG_LIST, TL(exclude), NULL, 0, 0, NULL, true,
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
	{ "target", "link_template", CONFIG_STRING, T(link_template), NULL, 0, 0, NULL, true,
	  "A URL in alerts; {target} and {hash} are replaced." },
	{ "target", "enabled", CONFIG_BOOL, T(enabled), "true", 0, 0, NULL, true,
	  "false keeps the section but does not monitor it." },
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

/* Splits "a, b,c" into a list of trimmed items; empty items are errors. */
static int parse_list(const struct ini_kv *kv, char ***ret, size_t *ret_n, struct error *err)
{
	char **items = NULL;
	size_t n = 0;
	const char *p = kv->value;

	while (*p) {
		const char *start, *end;
		char **grown;

		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == start) {
			free_list(items, n);
			return ini_error(kv, err, -EINVAL, "empty item in list");
		}
		grown = realloc(items, (n + 1) * sizeof(*items));
		if (!grown || !(grown[n] = strndup(start, (size_t)(end - start)))) {
			free_list(grown ? grown : items, n);
			return ini_error(kv, err, -ENOMEM, "out of memory");
		}
		items = grown;
		n++;
		if (*p == ',')
			p++;
	}
	*ret = items;
	*ret_n = n;
	return 0;
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
		if (k->type == CONFIG_SECRET && strncmp(kv->value, "file:", 5) != 0 &&
		    strncmp(kv->value, "credential:", 11) != 0)
			return ini_error(kv, err, -EINVAL,
					  "must be file:PATH or credential:NAME (never the secret itself)");
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
		return parse_list(kv, list, count, err);
	}
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
	for (size_t i = 0; i < s->n_kv; i++) {
		const struct ini_kv *kv = &s->kv[i];
		const struct config_key *k = find_key(section, kv->key);
		int r;

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
	for (size_t i = 0; i < c->n_targets; i++)
		target_done(&c->targets[i]);
	free(c->targets);
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
	if (strstr(t->dsn, "password=") || strstr(t->dsn, "password ="))
		return ini_error(ini_get(s, "dsn"), err, -EINVAL,
				  "holds a password: use the password key (file: or credential:)");
	for (size_t i = 0; i < t->n_notifiers; i++)
		if (!ini_find(c->raw, "notifier", t->notifiers[i]))
			return ini_error(ini_get(s, "notifiers"), err, -EINVAL,
					  "no [notifier %s] section", t->notifiers[i]);
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
		} else if (strcmp(s->kind, "notifier") != 0) {
			r = ini_section_error(s, err, -EINVAL,
					       "unknown section kind (daemon, target or notifier)");
			goto fail;
		}
	}
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

int config_write_sample(FILE *out)
{
	const char *section = NULL;

	fputs("# schemadrift.conf: configuration of schemadriftd(8), see schemadrift.conf(5).\n"
	      "# Generated from the daemon's key table (schemadriftd --print-sample-config).\n"
	      "# Every key is shown with its default, commented out.  Keys marked\n"
	      "# [restart] take effect only after a restart; the rest on SIGHUP.\n"
	      "# Comments start with # or ; at the beginning of a line only.\n"
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
	return ferror(out) ? -EIO : 0;
}
