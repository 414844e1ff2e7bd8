/* Alert policy per target: which observations become alerts, and its persisted state. */
#include "alert_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "fileio.h"
#include "isotime.h"
#include "store.h"

#define STATE_VERSION 1
/* Longer targets are hashed in dedup keys: PagerDuty caps dedup_key at 255 bytes. */
#define KEY_TARGET_MAX 160

int alert_state_new(const char *target, struct alert_state **ret)
{
	struct alert_state *st;

	if (!target || !*target)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->target = strdup(target))) {
		free(st);
		return -ENOMEM;
	}
	*ret = st;
	return 0;
}

void alert_state_free(struct alert_state *st)
{
	if (!st)
		return;
	free(st->target);
	free(st);
}

static bool hash_ok(const char *h)
{
	size_t n = 0;

	if (!h)
		return false;
	for (; h[n]; n++) {
		char c = h[n];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return n > 0 && n <= ALERT_STATE_HASH_MAX;
}

static struct alert_state_event *push(struct alert_state_event *events, size_t *n,
				      enum alert_state_event_kind kind)
{
	struct alert_state_event *ev = &events[(*n)++];

	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	return ev;
}

static void drift_event(const struct alert_state *st, struct alert_state_event *ev)
{
	ev->incident = st->drift_incident;
	memcpy(ev->baseline, st->baseline, sizeof(ev->baseline));
	memcpy(ev->current, st->current, sizeof(ev->current));
	ev->since = st->drift_since;
	ev->reminders = st->reminders;
}

/* Closes the open drift incident; current is what the target looks like now. */
static void drift_recover(struct alert_state *st, enum alert_state_reason reason,
			  const char *current, struct alert_state_event *events, size_t *n)
{
	struct alert_state_event *ev = push(events, n, ALERT_STATE_DRIFT_RECOVERED);

	drift_event(st, ev);
	ev->reason = reason;
	snprintf(ev->current, sizeof(ev->current), "%s", current);
	st->drift = false;
	st->drift_incident = 0;
	st->baseline[0] = st->current[0] = '\0';
	st->drift_since = st->drift_last_sent = 0;
	st->reminders = 0;
}

int alert_state_observe_ok(struct alert_state *st, const struct alert_state_options *o,
			   const char *baseline, const char *current, int64_t now,
			   struct alert_state_event events[ALERT_STATE_MAX_EVENTS], size_t *ret_n)
{
	bool changed = false, drifting;
	size_t n = 0;

	if (!hash_ok(current) || (baseline && !hash_ok(baseline)))
		return -EINVAL;
	drifting = baseline && strcmp(baseline, current) != 0;

	if (st->error) {
		struct alert_state_event *ev = push(events, &n, ALERT_STATE_ERROR_RECOVERED);
		ev->incident = st->error_incident;
		ev->since = st->failing_since;
		ev->failures = st->failures;
	}
	if (st->failures || st->error) {
		st->failures = 0;
		st->failing_since = 0;
		st->error = false;
		st->error_incident = 0;
		changed = true;
	}

	if (st->drift) {
		if (!baseline) {
			drift_recover(st, ALERT_STATE_REASON_BASELINE_REMOVED, current, events, &n);
			changed = true;
		} else if (strcmp(baseline, st->baseline) != 0) {
			/* A new baseline ends this incident whatever the schema looks like
			 * now; a remaining difference opens a new one below. */
			drift_recover(st, ALERT_STATE_REASON_BASELINE_ACCEPTED, current, events,
				      &n);
			changed = true;
		} else if (!drifting) {
			drift_recover(st, ALERT_STATE_REASON_BACK_TO_BASELINE, current, events, &n);
			changed = true;
		} else if (strcmp(current, st->current) != 0) {
			/* Drifted further from the same baseline: a new state, same incident. */
			snprintf(st->current, sizeof(st->current), "%s", current);
			st->drift_last_sent = now;
			st->reminders = 0;
			drift_event(st, push(events, &n, ALERT_STATE_DRIFT));
			changed = true;
		} else if (o->repeat_interval_s > 0 &&
			   now - st->drift_last_sent >= o->repeat_interval_s) {
			st->drift_last_sent = now;
			st->reminders++;
			drift_event(st, push(events, &n, ALERT_STATE_REMINDER));
			changed = true;
		}
	}
	if (!st->drift && drifting) {
		st->drift = true;
		st->drift_incident = ++st->incidents;
		snprintf(st->baseline, sizeof(st->baseline), "%s", baseline);
		snprintf(st->current, sizeof(st->current), "%s", current);
		st->drift_since = st->drift_last_sent = now;
		st->reminders = 0;
		drift_event(st, push(events, &n, ALERT_STATE_DRIFT));
		changed = true;
	}
	*ret_n = n;
	return changed;
}

int alert_state_observe_error(struct alert_state *st, const struct alert_state_options *o,
			      int64_t now, struct alert_state_event events[ALERT_STATE_MAX_EVENTS],
			      size_t *ret_n)
{
	unsigned threshold = o->error_threshold ? o->error_threshold : 1;
	size_t n = 0;

	if (st->failures == 0)
		st->failing_since = now;
	if (st->failures < UINT32_MAX)
		st->failures++;
	if (!st->error && st->failures >= threshold) {
		struct alert_state_event *ev = push(events, &n, ALERT_STATE_ERROR);
		st->error = true;
		st->error_incident = ++st->incidents;
		ev->incident = st->error_incident;
		ev->since = st->failing_since;
		ev->failures = st->failures;
	}
	*ret_n = n;
	return 1;
}

/* ---- alerts ---- */

static char *key_for(const char *target, const char *what, unsigned long incident)
{
	char *key = NULL;

	if (strlen(target) <= KEY_TARGET_MAX) {
		if (asprintf(&key, "schemadrift:%s:%s:%lu", target, what, incident) < 0)
			return NULL;
		return key;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[33];

	if (!EVP_Digest(target, strlen(target), md, &mdlen, EVP_sha256(), NULL))
		return NULL;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (asprintf(&key, "schemadrift:sha256-%s:%s:%lu", hex, what, incident) < 0)
		return NULL;
	return key;
}

static const char *reason_text(const struct alert_state *st, enum alert_state_reason r)
{
	if (st->mismatch)
		return r == ALERT_STATE_REASON_BACK_TO_BASELINE
			       ? "the database matches the repository again"
			       : "the repository changed";
	switch (r) {
	case ALERT_STATE_REASON_BACK_TO_BASELINE:
		return "the schema is back to its baseline";
	case ALERT_STATE_REASON_BASELINE_ACCEPTED:
		return "a new baseline was accepted";
	case ALERT_STATE_REASON_BASELINE_REMOVED:
		return "the baseline was removed";
	case ALERT_STATE_REASON_NONE:
		break;
	}
	return "resolved";
}

int alert_state_alert_new(const struct alert_state *st, const struct alert_state_event *ev,
			  const char *message, struct alert **ret)
{
	bool is_drift = ev->kind == ALERT_STATE_DRIFT || ev->kind == ALERT_STATE_REMINDER ||
			ev->kind == ALERT_STATE_DRIFT_RECOVERED;
	enum alert_kind kind;
	struct alert *a = NULL;
	char since[21], *text = NULL, *key;
	int r = 0;

	switch (ev->kind) {
	case ALERT_STATE_DRIFT:
	case ALERT_STATE_REMINDER:
		kind = st->mismatch ? ALERT_MISMATCH : ALERT_DRIFT;
		break;
	case ALERT_STATE_ERROR:
		kind = ALERT_ERROR;
		break;
	default:
		kind = ALERT_RECOVERED;
		break;
	}
	isotime_format((time_t)ev->since, since);
	switch (ev->kind) {
	case ALERT_STATE_DRIFT:
		if (st->mismatch && message && *message) /* what verify compared, its findings */
			r = asprintf(&text, "%s", message);
		break;
	case ALERT_STATE_REMINDER:
		r = asprintf(&text, "reminder %u: %s unresolved since %s", ev->reminders,
			     st->mismatch ? "mismatch" : "drift", since);
		break;
	case ALERT_STATE_DRIFT_RECOVERED:
		r = asprintf(&text, "%s resolved: %s (%s since %s)",
			     st->mismatch ? "mismatch" : "drift", reason_text(st, ev->reason),
			     st->mismatch ? "mismatching" : "drifted", since);
		break;
	case ALERT_STATE_ERROR:
		r = asprintf(&text, "%s (%u consecutive failed checks since %s)",
			     message && *message ? message : "the target cannot be monitored",
			     ev->failures, since);
		break;
	case ALERT_STATE_ERROR_RECOVERED:
		r = asprintf(&text, "monitoring works again (failing since %s, %u failed checks)",
			     since, ev->failures);
		break;
	}
	if (r < 0)
		return -ENOMEM;

	r = alert_new(kind, st->target, &a);
	if (r < 0) {
		free(text);
		return r;
	}
	key = key_for(st->target,
		      is_drift ? (st->mismatch ? "mismatch" : "drift")
			       : (st->mismatch ? "verify-error" : "error"), ev->incident);
	if (!key) {
		r = -ENOMEM;
		goto fail;
	}
	free(a->dedup_key);
	a->dedup_key = key;
	/* alert_set_str() makes the caller's error text safe to carry. */
	if (alert_set_str(&a->message, text) < 0 ||
	    (is_drift && (alert_set_str(&a->from_hash, ev->baseline) < 0 ||
			  alert_set_str(&a->to_hash, ev->current) < 0))) {
		r = -ENOMEM;
		goto fail;
	}
	free(text);
	if (ev->kind == ALERT_STATE_ERROR)
		a->severity = DIFF_BREAKING;
	else if (kind == ALERT_RECOVERED)
		a->severity = DIFF_INFO;
	*ret = a;
	return 0;
fail:
	free(text);
	alert_free(a);
	return r;
}

int alert_state_check_alert_new(const struct alert_state *st, const struct alert_state_event *ev,
				const char *message, struct alert **ret)
{
	bool findings = ev->kind == ALERT_STATE_DRIFT || ev->kind == ALERT_STATE_REMINDER ||
			ev->kind == ALERT_STATE_DRIFT_RECOVERED;
	struct alert *a = NULL;
	char since[21], *text = NULL, *key;
	int r = alert_state_alert_new(st, ev, message, &a);

	if (r < 0)
		return r;
	isotime_format((time_t)ev->since, since);
	if (ev->kind == ALERT_STATE_DRIFT || ev->kind == ALERT_STATE_REMINDER)
		a->kind = ALERT_CHECK;
	if (ev->kind == ALERT_STATE_DRIFT)
		r = asprintf(&text, "%s", message ? message : "check findings");
	else if (ev->kind == ALERT_STATE_REMINDER)
		r = asprintf(&text, "reminder %u: check findings unresolved since %s%s%s",
			     ev->reminders, since, message ? ": " : "", message ? message : "");
	else if (ev->kind == ALERT_STATE_DRIFT_RECOVERED)
		r = asprintf(&text, "check findings resolved (found since %s)", since);
	else if (ev->kind == ALERT_STATE_ERROR)
		r = asprintf(&text, "checks cannot run: %s (%u consecutive failed check runs since %s)",
			     message && *message ? message : "unknown error", ev->failures, since);
	else
		r = asprintf(&text, "checks run again (failing since %s, %u failed check runs)", since,
			     ev->failures);
	key = r < 0 ? NULL : key_for(st->target, findings ? "check" : "check-error", ev->incident);
	if (!key || alert_set_str(&a->message, text) < 0 || alert_set_str(&a->from_hash, NULL) < 0 ||
	    alert_set_str(&a->to_hash, NULL) < 0) {
		free(key);
		free(text);
		alert_free(a);
		return -ENOMEM;
	}
	free(text);
	free(a->dedup_key);
	a->dedup_key = key;
	*ret = a;
	return 0;
}

/* ---- persistence ---- */

/* The names the file store gives its own files in a target's directory
 * (store_internal.h, ack.c, dbcheck.h): a target called so gets its first
 * letter encoded, so its alert state never takes one of their places. */
static const char *const store_own_names[] = { "baseline", "acks", "retention", "checks" };

char *alert_state_file_name(const char *target)
{
	size_t len = strlen(target), cap = 3 * len + 8;
	char *name = malloc(cap);
	size_t o = 0;
	bool own = false;

	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(store_own_names) / sizeof(store_own_names[0]); i++)
		own = own || strcmp(target, store_own_names[i]) == 0;
	/* Section names may hold '/', '..' or anything: keep [A-Za-z0-9._-] and
	 * percent-encode the rest (and a leading dot), so names never collide. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)target[i];
		bool keep = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || c == '_' || c == '-' || (c == '.' && i > 0);
		if (keep && !(own && i == 0))
			name[o++] = (char)c;
		else
			o += (size_t)snprintf(name + o, cap - o, "%%%02X", c);
	}
	name[o] = '\0';
	if (o > 200) { /* NAME_MAX is 255 */
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;

		if (!EVP_Digest(target, len, md, &mdlen, EVP_sha256(), NULL)) {
			free(name);
			return NULL;
		}
		o = (size_t)snprintf(name, cap, "sha256-");
		for (unsigned int i = 0; i < mdlen; i++)
			o += (size_t)snprintf(name + o, cap - o, "%02x", md[i]);
	}
	snprintf(name + o, cap - o, ".json");
	return name;
}

char *alert_state_path(const char *dir, const char *target)
{
	char *name = alert_state_file_name(target), *path = NULL;

	if (name && asprintf(&path, "%s/%s", dir, name) < 0)
		path = NULL;
	free(name);
	return path;
}

/* The state as its JSON object (the file's content and the coordination database's copy). */
static json_t *state_json(const struct alert_state *st)
{
	json_t *j, *failures;

	j = json_pack("{s:i, s:s, s:I}", "schemadrift_alert_state", STATE_VERSION, "target",
		      st->target, "incidents", (json_int_t)st->incidents);
	failures = json_pack("{s:I, s:I, s:o}", "count", (json_int_t)st->failures, "since",
			     (json_int_t)st->failing_since, "alerted_incident",
			     st->error ? json_integer((json_int_t)st->error_incident)
				       : json_null());
	if (!j || !failures || json_object_set_new(j, "failures", failures) < 0) {
		json_decref(j);
		return NULL;
	}
	if (st->server_major > 0 || st->recorder > 0) {
		json_t *n = json_pack("{s:i, s:i}", "server_major", st->server_major, "recorder",
				      st->recorder);
		if (!n || json_object_set_new(j, "notices", n) < 0) {
			json_decref(j);
			return NULL;
		}
	}
	if (st->drift) {
		json_t *d = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I}", "incident",
				      (json_int_t)st->drift_incident, "baseline", st->baseline,
				      "current", st->current, "since", (json_int_t)st->drift_since,
				      "last_sent", (json_int_t)st->drift_last_sent, "reminders",
				      (json_int_t)st->reminders);
		if (!d || json_object_set_new(j, "drift", d) < 0) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

char *alert_state_dump(const struct alert_state *st)
{
	json_t *j = state_json(st);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	return text;
}

int alert_state_save(const struct alert_state *st, const char *dir, struct error *err)
{
	char *path = alert_state_path(dir, st->target);
	struct fileio_atomic f;
	json_t *j;
	int r;

	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	if (!(j = state_json(st))) {
		free(path);
		return error_set(err, -ENOMEM, "out of memory");
	}
	r = fileio_atomic_open(&f, path, err);
	if (r == 0) {
		if (json_dumpf(j, f.stream, JSON_INDENT(1) | JSON_PRESERVE_ORDER) < 0 ||
		    fputc('\n', f.stream) == EOF) {
			r = error_set(err, -EIO, "%s: cannot write", path);
			fileio_atomic_abort(&f);
		} else {
			r = fileio_atomic_commit(&f, err);
		}
	}
	json_decref(j);
	free(path);
	return r;
}

/* A non-negative integer member, or -1 when missing or of another type. */
static int64_t get_uint(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	return json_integer_value(v);
}

static int load_drift(struct alert_state *st, json_t *d)
{
	const char *b = json_string_value(json_object_get(d, "baseline"));
	const char *c = json_string_value(json_object_get(d, "current"));
	int64_t inc = get_uint(d, "incident"), since = get_uint(d, "since");
	int64_t last = get_uint(d, "last_sent"), rem = get_uint(d, "reminders");

	if (!hash_ok(b) || !hash_ok(c) || inc < 1 || since < 0 || last < 0 || rem < 0 ||
	    rem > UINT32_MAX)
		return -1;
	st->drift = true;
	st->drift_incident = (unsigned long)inc;
	snprintf(st->baseline, sizeof(st->baseline), "%s", b);
	snprintf(st->current, sizeof(st->current), "%s", c);
	st->drift_since = since;
	st->drift_last_sent = last;
	st->reminders = (unsigned)rem;
	return 0;
}

static int load_failures(struct alert_state *st, json_t *f)
{
	int64_t count = get_uint(f, "count"), since = get_uint(f, "since");
	json_t *alerted = json_object_get(f, "alerted_incident");

	if (count < 0 || count > UINT32_MAX || since < 0)
		return -1;
	st->failures = (unsigned)count;
	st->failing_since = since;
	if (json_is_integer(alerted) && json_integer_value(alerted) > 0) {
		st->error = true;
		st->error_incident = (unsigned long)json_integer_value(alerted);
	} else if (!json_is_null(alerted)) {
		return -1;
	}
	return 0;
}

int alert_state_parse(const char *target, const char *text, size_t len, const char *origin,
		      struct alert_state **ret, struct error *err)
{
	const char *path = origin;
	struct alert_state *st = NULL;
	json_error_t jerr;
	json_t *j = NULL, *v;
	int r = alert_state_new(target, &st);

	if (r < 0)
		return error_set(err, r, "out of memory");
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		r = error_set(err, -EBADMSG, "%s: line %d column %d: %s", path, jerr.line,
			      jerr.column, jerr.text);
		goto out;
	}
	v = json_object_get(j, "schemadrift_alert_state");
	if (!json_is_integer(v) || json_integer_value(v) != STATE_VERSION) {
		r = error_set(err, -EBADMSG, "%s: not an alert state file of version %d", path,
			      STATE_VERSION);
		goto out;
	}
	v = json_object_get(j, "target");
	if (!json_is_string(v) || strcmp(json_string_value(v), target) != 0) {
		r = error_set(err, -EBADMSG, "%s: holds the state of another target", path);
		goto out;
	}
	if (get_uint(j, "incidents") < 0) {
		r = error_set(err, -EBADMSG, "%s: bad \"incidents\"", path);
		goto out;
	}
	st->incidents = (unsigned long)get_uint(j, "incidents");
	v = json_object_get(j, "drift");
	if (v && (!json_is_object(v) || load_drift(st, v) < 0)) {
		r = error_set(err, -EBADMSG, "%s: bad \"drift\"", path);
		goto out;
	}
	v = json_object_get(j, "failures");
	if (!json_is_object(v) || load_failures(st, v) < 0) {
		r = error_set(err, -EBADMSG, "%s: bad \"failures\"", path);
		goto out;
	}
	v = json_object_get(j, "notices");
	if (v) {
		int64_t major = get_uint(v, "server_major"), rec = get_uint(v, "recorder");

		if (!json_is_object(v) || major < 0 || major > 999 || rec < 0 || rec > 99) {
			r = error_set(err, -EBADMSG, "%s: bad \"notices\"", path);
			goto out;
		}
		st->server_major = (int)major;
		st->recorder = (int)rec;
	}
	if (st->drift_incident > st->incidents || st->error_incident > st->incidents) {
		r = error_set(err, -EBADMSG, "%s: incident numbers beyond \"incidents\"", path);
		goto out;
	}
out:
	if (r == 0)
		*ret = st;
	else
		alert_state_free(st);
	json_decref(j);
	return r;
}

int alert_state_load(const char *dir, const char *target, struct alert_state **ret,
		     struct error *err)
{
	char *path = alert_state_path(dir, target), *text = NULL;
	size_t len;
	int r;

	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	r = fileio_read_state(path, &text, &len, err);
	if (r == -ENOENT) { /* never alerted: a fresh state */
		error_clear(err);
		r = alert_state_new(target, ret);
		if (r < 0)
			error_set(err, r, "out of memory");
	} else if (r == 0) {
		r = alert_state_parse(target, text, len, path, ret, err);
	}
	free(text);
	free(path);
	return r;
}

/* <store dir>[/sub], made if missing (the file store). */
static char *local_dir(struct store *s, const char *sub, struct error *err)
{
	char *dir = NULL;

	if (!sub)
		dir = strdup(store_dir(s));
	else if (asprintf(&dir, "%s/%s", store_dir(s), sub) < 0)
		dir = NULL;
	if (!dir) {
		error_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (sub && mkdir(dir, 0750) < 0 && errno != EEXIST) {
		error_set(err, -errno, "%s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* The central store's name for it: one fixed name per sub, beside no other file. */
static void central_name(const char *sub, char buf[64])
{
	snprintf(buf, 64, "%s%salert-state.json", sub ? sub : "", sub ? "/" : "");
}

int alert_state_load_store(struct store *s, const char *sub, struct alert_state **ret,
			   struct error *err)
{
	char name[64], *text = NULL, *origin;
	size_t len = 0;
	int r;

	if (!store_is_central(s)) {
		char *dir = local_dir(s, sub, err);

		if (!dir)
			return err ? err->code : -ENOMEM;
		r = alert_state_load(dir, store_target(s), ret, err);
		free(dir);
		return r;
	}
	central_name(sub, name);
	r = store_file_get(s, name, &text, &len, err);
	if (r == -ENOENT) {
		r = alert_state_new(store_target(s), ret);
		return r < 0 ? error_set(err, r, "out of memory") : 0;
	}
	if (r < 0)
		return r;
	if (asprintf(&origin, "%s/%s", store_where(s), name) < 0)
		origin = NULL;
	r = alert_state_parse(store_target(s), text, len, origin ? origin : name, ret, err);
	free(origin);
	free(text);
	return r;
}

int alert_state_save_store(const struct alert_state *st, struct store *s, const char *sub,
			   struct error *err)
{
	char name[64], *text;
	int r;

	if (!store_is_central(s)) {
		char *dir = local_dir(s, sub, err);

		if (!dir)
			return err ? err->code : -ENOMEM;
		r = alert_state_save(st, dir, err);
		free(dir);
		return r;
	}
	central_name(sub, name);
	if (!(text = alert_state_dump(st)))
		return error_set(err, -ENOMEM, "out of memory");
	r = store_file_put(s, name, text, strlen(text), err);
	free(text);
	return r;
}
