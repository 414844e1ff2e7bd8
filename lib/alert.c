/* Alerts: building them from diffs, headlines, links, and the outbox's JSON form. */
#include "alert.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "model.h"
#include "recorder.h"
#include "snapshot.h"
#include "utf8.h"

static const char *const alert_kind_names[] = {
	[ALERT_DRIFT] = "drift",	 [ALERT_CHECK] = "check", [ALERT_ERROR] = "error",
	[ALERT_RECOVERED] = "recovered", [ALERT_TEST] = "test",
	[ALERT_MISMATCH] = "mismatch", [ALERT_UPGRADED] = "upgraded",
	[ALERT_RECORDER] = "recorder",
};

const char *alert_kind_name(enum alert_kind k)
{
	if ((unsigned)k < sizeof(alert_kind_names) / sizeof(alert_kind_names[0]))
		return alert_kind_names[k];
	return "unknown";
}

int alert_kind_from_name(const char *name, enum alert_kind *ret)
{
	for (size_t i = 0; i < sizeof(alert_kind_names) / sizeof(alert_kind_names[0]); i++) {
		if (strcmp(name, alert_kind_names[i]) == 0) {
			*ret = (enum alert_kind)i;
			return 0;
		}
	}
	return -ENOENT;
}

static int alert_severity_from_name(const char *name, enum diff_severity *ret)
{
	for (int s = DIFF_INFO; s <= DIFF_BREAKING; s++) {
		if (strcmp(name, diff_severity_name((enum diff_severity)s)) == 0) {
			*ret = (enum diff_severity)s;
			return 0;
		}
	}
	return -ENOENT;
}

/* ------------------------------------------------------------ strings */

/*
 * Copies n bytes, writing invalid UTF-8 bytes and control characters as \xHH
 * (model.c's style); newlines and tabs are kept when keep_layout.  At most
 * max bytes of output, cut on a character boundary and ending in "…".
 */
static char *alert_clean(const char *s, size_t n, bool keep_layout, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	static const char ellipsis[] = "\xe2\x80\xa6";
	/* utf8_char_len reads up to 4 bytes: work on a NUL-terminated copy. */
	char *src = malloc(n + 1), *out;
	const unsigned char *p, *end;
	size_t len = 0;

	if (!src)
		return NULL;
	memcpy(src, s, n);
	src[n] = '\0';
	out = malloc(n * 4 + sizeof(ellipsis));
	if (!out) {
		free(src);
		return NULL;
	}
	p = (const unsigned char *)src;
	end = p + n;
	while (p < end) {
		size_t cl = *p ? utf8_char_len(p) : 0;
		bool layout = keep_layout && (*p == '\n' || *p == '\t');
		size_t need = (cl == 0 || ((*p < 0x20 || *p == 0x7f) && !layout)) ? 4 : cl;

		if (len + need > max) {
			memcpy(out + len, ellipsis, sizeof(ellipsis));
			free(src);
			return out;
		}
		if (need == 4 && cl != 4) {
			out[len++] = '\\';
			out[len++] = 'x';
			out[len++] = hex[*p >> 4];
			out[len++] = hex[*p & 15];
			p++;
			continue;
		}
		memcpy(out + len, p, cl);
		len += cl;
		p += cl;
	}
	out[len] = '\0';
	free(src);
	return out;
}

int alert_set_str(char **field, const char *s)
{
	char *copy = NULL;

	if (s) {
		copy = alert_clean(s, strlen(s), true, SIZE_MAX / 8);
		if (!copy)
			return -ENOMEM;
	}
	free(*field);
	*field = copy;
	return 0;
}

/* ------------------------------------------------------------ lifetime */

static void alert_change_done(struct alert_change *c)
{
	free(c->change);
	free(c->severity);
	free(c->kind);
	free(c->object);
	free(c->attribute);
	free(c->before);
	free(c->after);
	free(c->renamed_from);
	free(c->definition);
	free(c->revert_sql);
	free(c->attribution);
}

static void alert_clear_changes(struct alert *a)
{
	for (size_t i = 0; i < a->n_changes; i++)
		alert_change_done(&a->changes[i]);
	free(a->changes);
	a->changes = NULL;
	a->n_changes = 0;
}

static int alert_random_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

int alert_new(enum alert_kind kind, const char *target, struct alert **ret)
{
	struct alert *a;
	char id[33];
	int r;

	if ((unsigned)kind > ALERT_RECORDER)
		return -EINVAL;
	r = alert_random_id(id);
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->kind = kind;
	a->created = time(NULL);
	a->severity = kind == ALERT_ERROR ? DIFF_BREAKING
		      : kind == ALERT_CHECK || kind == ALERT_RECORDER ? DIFF_WARNING
					    : DIFF_INFO;
	a->id = strdup(id);
	if (!a->id || alert_set_str(&a->target, target) < 0) {
		alert_free(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

void alert_free(struct alert *a)
{
	if (!a)
		return;
	alert_clear_changes(a);
	free(a->id);
	free(a->target);
	free(a->environment);
	free(a->from_hash);
	free(a->to_hash);
	free(a->message);
	free(a->link);
	free(a->dedup_key);
	free(a->attribution);
	free(a);
}

/* ------------------------------------------------------------ from a diff */

/* The most severe changes first, diff order inside a severity, at most ALERT_MAX_CHANGES. */
static size_t alert_pick(const enum diff_severity *sev, size_t n, size_t *out)
{
	size_t k = 0;

	for (int s = DIFF_BREAKING; s >= DIFF_INFO; s--)
		for (size_t i = 0; i < n && k < ALERT_MAX_CHANGES; i++)
			if (sev[i] == (enum diff_severity)s)
				out[k++] = i;
	return k;
}

static char *alert_value_text(const struct model_value *v)
{
	char *buf = model_value_text_dup(v), *out;

	if (!buf)
		return NULL;
	out = alert_clean(buf, strlen(buf), true, ALERT_VALUE_MAX);
	free(buf);
	return out;
}

static char *alert_object_text(const struct model_object *o)
{
	char *buf = model_object_name_dup(o), *out;

	if (!buf)
		return NULL;
	out = alert_clean(buf, strlen(buf), false, SIZE_MAX / 8);
	free(buf);
	return out;
}

/* The length of s without its trailing newlines. */
static size_t text_len_trimmed(const char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '\n')
		n--;
	return n;
}

/* The definition and the revert SQL of a change, cut like values. */
static int alert_change_sql(const struct diff *d, const struct diff_change *c,
			    struct alert_change *ac)
{
	char *def = NULL, *sql = NULL;
	int r = diff_change_definition(d, c, &def);

	if (r == 0)
		r = diff_change_sql(d, c, true, &sql);
	/* Statements end in a newline, which a message does not need. */
	if (r == 0 && def &&
	    !(ac->definition = alert_clean(def, text_len_trimmed(def), true, ALERT_VALUE_MAX)))
		r = -ENOMEM;
	if (r == 0 && sql &&
	    !(ac->revert_sql = alert_clean(sql, text_len_trimmed(sql), true, ALERT_VALUE_MAX)))
		r = -ENOMEM;
	free(def);
	free(sql);
	return r;
}

static enum diff_severity alert_top_severity(const size_t by_severity[3])
{
	for (int s = DIFF_BREAKING; s > DIFF_INFO; s--)
		if (by_severity[s])
			return (enum diff_severity)s;
	return DIFF_INFO;
}

/* The alert's note on attribution: how to enable it on drift without a
 * recorder, the recorder's problem, or nothing. */
static const char *alert_attribution_note(const struct alert *a, bool recorder,
					  const char *problem)
{
	if (a->kind != ALERT_DRIFT)
		return NULL;
	return recorder ? problem : RECORDER_HOW_TO_ENABLE;
}

int alert_set_diff(struct alert *a, const struct diff *d)
{
	enum diff_severity *sev = NULL;
	size_t *live = NULL, *pick = NULL, n_live = 0, n;
	char hex[65];
	int r = -ENOMEM;

	alert_clear_changes(a);
	memset(a->by_type, 0, sizeof(a->by_type));
	memset(a->by_severity, 0, sizeof(a->by_severity));
	sev = malloc((d->n_changes ? d->n_changes : 1) * sizeof(*sev));
	live = malloc((d->n_changes ? d->n_changes : 1) * sizeof(*live));
	pick = malloc(ALERT_MAX_CHANGES * sizeof(*pick));
	if (!sev || !live || !pick)
		goto out;
	for (size_t i = 0; i < d->n_changes; i++) {
		const struct diff_change *c = &d->changes[i];

		if (c->acknowledged)
			continue;
		sev[n_live] = c->severity;
		live[n_live++] = i;
		if ((unsigned)c->type < sizeof(a->by_type) / sizeof(a->by_type[0]))
			a->by_type[c->type]++;
		a->by_severity[c->severity]++;
	}
	n = alert_pick(sev, n_live, pick);
	a->changes = calloc(n ? n : 1, sizeof(*a->changes));
	if (!a->changes)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct diff_change *c = &d->changes[live[pick[i]]];
		const struct model_object *o = c->after ? c->after : c->before;
		const struct model_kind_info *info = model_kind_info(o->kind);
		struct alert_change *ac = &a->changes[a->n_changes++];

		ac->change = strdup(diff_type_name(c->type));
		ac->severity = strdup(diff_severity_name(c->severity));
		ac->kind = strdup(info ? info->name : "object");
		ac->object = alert_object_text(o);
		if (!ac->change || !ac->severity || !ac->kind || !ac->object)
			goto out;
		if (c->type == DIFF_MODIFIED) {
			ac->attribute = alert_clean(c->attribute, strlen(c->attribute), false,
						    SIZE_MAX / 8);
			ac->before = alert_value_text(c->old_value);
			ac->after = alert_value_text(c->new_value);
			if (!ac->attribute || !ac->before || !ac->after)
				goto out;
		}
		if (c->type == DIFF_RENAMED && c->before && c->after) {
			ac->renamed_from = alert_object_text(c->before);
			if (!ac->renamed_from)
				goto out;
		}
		if (alert_change_sql(d, c, ac) < 0)
			goto out;
		if (d->recorder &&
		    !(ac->attribution = c->who ? recorder_who_text(c->who, ALERT_WHO_STATEMENT_MAX)
					       : strdup(RECORDER_UNATTRIBUTED)))
			goto out;
	}
	if (alert_set_str(&a->attribution, alert_attribution_note(a, d->recorder != NULL,
								  recorder_problem(d->recorder))) < 0)
		goto out;
	a->total_changes = n_live;
	a->severity = alert_top_severity(a->by_severity);
	r = 0;
	if (d->from && d->from->hashed) {
		snapshot_hash_hex(d->from->hash, hex);
		r = alert_set_str(&a->from_hash, hex);
	}
	if (r == 0 && d->to && d->to->hashed) {
		snapshot_hash_hex(d->to->hash, hex);
		r = alert_set_str(&a->to_hash, hex);
	}
out:
	if (r < 0)
		alert_clear_changes(a);
	free(sev);
	free(live);
	free(pick);
	return r;
}

/* Decodes {"hex": "..."} into bytes; NULL when j is not that shape. */
static char *alert_hex_bytes(json_t *j, size_t *ret_len)
{
	json_t *h = json_is_object(j) && json_object_size(j) == 1 ? json_object_get(j, "hex")
								    : NULL;
	const char *s;
	size_t n;
	char *out;

	if (!json_is_string(h))
		return NULL;
	s = json_string_value(h);
	n = json_string_length(h);
	if (n % 2)
		return NULL;
	out = malloc(n / 2 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++) {
			char ch = s[2 * i + (size_t)k];

			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v |= (unsigned)(ch - 'a' + 10);
			else if (ch >= 'A' && ch <= 'F')
				v |= (unsigned)(ch - 'A' + 10);
			else {
				free(out);
				return NULL;
			}
		}
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	*ret_len = n / 2;
	return out;
}

/* A snapshot-format string (JSON string or {"hex": ...}) as clean text. */
static char *alert_json_string_text(json_t *j, bool keep_layout, size_t max)
{
	size_t n;
	char *bytes, *out;

	if (json_is_string(j))
		return alert_clean(json_string_value(j), json_string_length(j), keep_layout, max);
	bytes = alert_hex_bytes(j, &n);
	if (!bytes)
		return NULL;
	out = alert_clean(bytes, n, keep_layout, max);
	free(bytes);
	return out;
}

/* A diff JSON value (as in the snapshot) as text, like model_value_text. */
static char *alert_json_value_text(json_t *v)
{
	char num[32];

	if (!v || json_is_null(v))
		return strdup("(none)");
	if (json_is_true(v) || json_is_false(v))
		return strdup(json_is_true(v) ? "true" : "false");
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return strdup(num);
	}
	if (json_is_array(v)) {
		size_t len = 0, i;
		json_t *item;
		char *joined, *out;

		if (json_array_size(v) == 0)
			return strdup("(empty)");
		json_array_foreach(v, i, item) {
			char *t = alert_json_string_text(item, false, ALERT_VALUE_MAX);

			if (!t)
				return NULL;
			len += strlen(t) + 2;
			free(t);
		}
		joined = malloc(len + 1);
		if (!joined)
			return NULL;
		joined[0] = '\0';
		len = 0;
		json_array_foreach(v, i, item) {
			char *t = alert_json_string_text(item, false, ALERT_VALUE_MAX);

			if (!t) {
				free(joined);
				return NULL;
			}
			len += (size_t)sprintf(joined + len, "%s%s", i ? ", " : "", t);
			free(t);
		}
		out = alert_clean(joined, len, true, ALERT_VALUE_MAX);
		free(joined);
		return out;
	}
	return alert_json_string_text(v, true, ALERT_VALUE_MAX);
}

static int alert_json_hash(json_t *head, const char *side, char **field)
{
	json_t *h = json_object_get(json_object_get(head, side), "hash");
	const char *s = json_string_value(h);

	if (!s)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return alert_set_str(field, s);
}

static int alert_change_type_from_name(const char *name, enum diff_change_type *ret)
{
	for (int t = DIFF_ADDED; t <= DIFF_RENAMED; t++) {
		if (strcmp(name, diff_type_name((enum diff_change_type)t)) == 0) {
			*ret = (enum diff_change_type)t;
			return 0;
		}
	}
	return -ENOENT;
}

int alert_set_diff_json(struct alert *a, json_t *diff, struct error *err)
{
	json_t *head = json_object_get(diff, "schemadrift_diff");
	json_t *changes = json_object_get(diff, "changes");
	enum diff_severity *sev = NULL;
	size_t n_all, n, n_live = 0, *live = NULL, *pick = NULL;
	int r = 0;

	if (!json_is_object(head) || json_integer_value(json_object_get(head, "version")) != 1)
		return error_set(err, -EBADMSG,
				 "not a schemadrift diff (version 1): no schemadrift_diff header");
	if (!json_is_array(changes))
		return error_set(err, -EBADMSG, "diff JSON: no changes list");
	alert_clear_changes(a);
	memset(a->by_type, 0, sizeof(a->by_type));
	memset(a->by_severity, 0, sizeof(a->by_severity));
	n_all = json_array_size(changes);
	sev = malloc((n_all ? n_all : 1) * sizeof(*sev));
	live = malloc((n_all ? n_all : 1) * sizeof(*live));
	pick = malloc(ALERT_MAX_CHANGES * sizeof(*pick));
	if (!sev || !live || !pick) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* Counts come from the changes themselves: acknowledged ones raise no alert. */
	for (size_t i = 0; i < n_all; i++) {
		json_t *c = json_array_get(changes, i);
		const char *s = json_string_value(json_object_get(c, "severity"));
		const char *t = json_string_value(json_object_get(c, "change"));
		enum diff_change_type type;

		if (!s || alert_severity_from_name(s, &sev[n_live]) < 0 || !t ||
		    alert_change_type_from_name(t, &type) < 0) {
			r = error_set(err, -EBADMSG,
				      "diff JSON: changes[%zu]: change or severity is invalid", i);
			goto out;
		}
		if (json_is_true(json_object_get(c, "acknowledged")))
			continue;
		a->by_type[type]++;
		a->by_severity[sev[n_live]]++;
		live[n_live++] = i;
	}
	n = alert_pick(sev, n_live, pick);
	a->changes = calloc(n ? n : 1, sizeof(*a->changes));
	if (!a->changes) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t at = live[pick[i]];
		json_t *c = json_array_get(changes, at);
		const char *change = json_string_value(json_object_get(c, "change"));
		const char *kind = json_string_value(json_object_get(c, "kind"));
		json_t *object = json_object_get(c, "object");
		struct alert_change *ac = &a->changes[a->n_changes++];

		if (!kind || !object) {
			r = error_set(err, -EBADMSG, "diff JSON: changes[%zu] needs kind and object",
				      at);
			goto out;
		}
		ac->change = strdup(change);
		ac->severity = strdup(diff_severity_name(sev[pick[i]]));
		ac->kind = alert_clean(kind, strlen(kind), false, 64);
		ac->object = alert_json_string_text(object, false, SIZE_MAX / 8);
		if (!ac->change || !ac->severity || !ac->kind || !ac->object) {
			r = error_set(err, -EBADMSG, "diff JSON: changes[%zu] is invalid", at);
			goto out;
		}
		if (strcmp(change, "modified") == 0) {
			json_t *attr = json_object_get(c, "attribute");

			ac->attribute = alert_json_string_text(attr, false, 256);
			ac->before = alert_json_value_text(json_object_get(c, "before"));
			ac->after = alert_json_value_text(json_object_get(c, "after"));
			if (!ac->attribute || !ac->before || !ac->after) {
				r = error_set(err, -EBADMSG,
					      "diff JSON: changes[%zu]: attribute, before or after "
					      "is invalid",
					      at);
				goto out;
			}
		}
		for (int k = 0; k < 2; k++) {
			json_t *v = json_object_get(c, k ? "revert_sql" : "definition");
			char **field = k ? &ac->revert_sql : &ac->definition;

			if (v && !json_is_null(v) &&
			    !(*field = alert_json_string_text(v, true, ALERT_VALUE_MAX))) {
				r = error_set(err, -EBADMSG,
					      "diff JSON: changes[%zu]: %s is invalid", at,
					      k ? "revert_sql" : "definition");
				goto out;
			}
		}
		json_t *who = json_object_get(c, "attribution");
		if (json_is_object(who))
			ac->attribution = alert_json_string_text(json_object_get(who, "text"), false,
								 ALERT_VALUE_MAX);
		else if (who && json_is_null(who))
			ac->attribution = strdup(RECORDER_UNATTRIBUTED);
		if (who && !ac->attribution) {
			r = error_set(err, -EBADMSG, "diff JSON: changes[%zu]: attribution is invalid",
				      at);
			goto out;
		}
		if (strcmp(change, "renamed") == 0) {
			json_t *old = json_object_get(c, "renamed_from_object");

			ac->renamed_from = alert_json_string_text(old, false, SIZE_MAX / 8);
			if (!ac->renamed_from) {
				r = error_set(err, -EBADMSG,
					      "diff JSON: changes[%zu]: renamed_from_object is invalid",
					      at);
				goto out;
			}
		}
	}
	a->total_changes = n_live;
	a->severity = alert_top_severity(a->by_severity);
	if (alert_json_hash(head, "from", &a->from_hash) < 0 ||
	    alert_json_hash(head, "to", &a->to_hash) < 0)
		r = error_set(err, -ENOMEM, "out of memory");
	json_t *rec = json_object_get(diff, "recorder");
	if (r == 0 && alert_set_str(&a->attribution,
				    alert_attribution_note(a, json_is_object(rec),
							   json_string_value(json_object_get(
								   rec, "problem")))) < 0)
		r = error_set(err, -ENOMEM, "out of memory");
out:
	if (r < 0)
		alert_clear_changes(a);
	free(sev);
	free(live);
	free(pick);
	return r;
}

/* ------------------------------------------------------------ links */

static int alert_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = (*len + n + 1) * 2;
		char *nb = realloc(*buf, ncap);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

static int alert_put_encoded(char **buf, size_t *len, size_t *cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && r == 0; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			r = alert_put(buf, len, cap, (const char *)p, 1);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			r = alert_put(buf, len, cap, e, 3);
		}
	}
	return r;
}

int alert_set_link(struct alert *a, const char *tpl, struct error *err)
{
	const struct {
		const char *name;
		const char *value;
	} vars[] = {
		{ "target", a->target },       { "environment", a->environment },
		{ "kind", alert_kind_name(a->kind) }, { "id", a->id },
		{ "from_hash", a->from_hash }, { "to_hash", a->to_hash },
		{ "dedup_key", a->dedup_key },
	};
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	if (strncmp(tpl, "https://", 8) != 0 && strncmp(tpl, "http://", 7) != 0)
		return error_set(err, -EINVAL, "link template must start with https:// or http://");
	for (const char *p = tpl; *p && r == 0;) {
		if (p[0] == '{' && p[1] == '{') {
			r = alert_put(&buf, &len, &cap, "{", 1);
			p += 2;
			continue;
		}
		if (*p == '{') {
			const char *close = strchr(p, '}');
			bool found = false;

			for (size_t i = 0; close && i < sizeof(vars) / sizeof(vars[0]); i++) {
				if (strlen(vars[i].name) == (size_t)(close - p - 1) &&
				    memcmp(vars[i].name, p + 1, (size_t)(close - p - 1)) == 0) {
					r = alert_put_encoded(&buf, &len, &cap, vars[i].value);
					found = true;
				}
			}
			if (!found) {
				free(buf);
				return error_set(err, -EINVAL,
						 "link template: unknown placeholder '%.*s' (use "
						 "{target}, {environment}, {kind}, {id}, {from_hash}, "
						 "{to_hash}, {dedup_key})",
						 close ? (int)(close - p + 1) : 1, p);
			}
			p = close + 1;
			continue;
		}
		/* Control characters and blanks cannot be part of a URL: encode them. */
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			char e[4];

			snprintf(e, sizeof(e), "%%%02X", (unsigned char)*p);
			r = alert_put(&buf, &len, &cap, e, 3);
		} else {
			r = alert_put(&buf, &len, &cap, p, 1);
		}
		p++;
	}
	if (r < 0) {
		free(buf);
		return error_set(err, -ENOMEM, "out of memory");
	}
	free(a->link);
	a->link = buf;
	return 0;
}

int alert_link_check(const char *url_template, struct error *err)
{
	struct alert *a = NULL;
	int r = alert_new(ALERT_TEST, "check", &a);

	if (r < 0)
		return error_set(err, r, "out of memory");
	r = alert_set_link(a, url_template, err);
	alert_free(a);
	return r;
}

/* ------------------------------------------------------------ text */

void alert_resolve_lines_free(char **lines, size_t n)
{
	for (size_t i = 0; lines && i < n; i++)
		free(lines[i]);
	free(lines);
}

/* "schemadrift <verb> TARGET [pattern] --reason '...'", malloc'd. */
static char *alert_command(const char *verb, const char *target, const char *pattern)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "schemadrift %s ", verb);
	diff_put_shell_word(f, target);
	if (pattern) {
		fputc(' ', f);
		diff_put_shell_word(f, pattern);
	}
	fputs(" --reason '...'", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int alert_resolve_lines(const struct alert *a, size_t max_acks, char ***ret, size_t *ret_n)
{
	size_t n = 0, cap = 1 + (a->n_changes < max_acks ? a->n_changes : max_acks);
	char **lines;

	*ret = NULL;
	*ret_n = 0;
	if (a->kind != ALERT_DRIFT || a->n_changes == 0 || !a->target)
		return 0;
	lines = calloc(cap, sizeof(*lines));
	if (!lines || !(lines[n++] = alert_command("baseline accept", a->target, NULL)))
		goto fail;
	for (size_t i = 0; i < a->n_changes && n < cap; i++) {
		const struct alert_change *c = &a->changes[i];
		bool seen = false;
		char *pattern;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(a->changes[j].kind, c->kind) == 0 &&
			       strcmp(a->changes[j].object, c->object) == 0;
		if (seen)
			continue;
		if (diff_ack_pattern_of(c->kind, c->object, &pattern) < 0)
			goto fail;
		lines[n] = alert_command("ack", a->target, pattern);
		free(pattern);
		if (!lines[n++])
			goto fail;
	}
	*ret = lines;
	*ret_n = n;
	return 0;
fail:
	alert_resolve_lines_free(lines, n);
	return -ENOMEM;
}

/* The first line of s, control characters as spaces, at most max bytes (UTF-8 safe). */
static void alert_first_line(const char *s, char *out, size_t max)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && *p != '\n';) {
		size_t cl = utf8_char_len(p);

		if (cl == 0)
			cl = 1;
		if (n + cl + 1 > max)
			break;
		for (size_t i = 0; i < cl; i++)
			out[n++] = (char)((p[i] < 0x20 || p[i] == 0x7f) ? ' ' : p[i]);
		p += cl;
	}
	out[n] = '\0';
}

char *alert_headline(const struct alert *a)
{
	char where[300], msg[400], counts[200], *out = NULL;
	const char *target = a->target ? a->target : "schemadrift";
	int r;

	if (a->environment)
		snprintf(where, sizeof(where), "%s (%s)", target, a->environment);
	else
		snprintf(where, sizeof(where), "%s", target);
	alert_first_line(where, where, sizeof(where));
	alert_first_line(a->message ? a->message : "", msg, sizeof(msg));

	switch (a->kind) {
	case ALERT_DRIFT: {
		size_t k = 0;

		k += (size_t)snprintf(counts, sizeof(counts), "%zu change%s", a->total_changes,
				      a->total_changes == 1 ? "" : "s");
		if (a->total_changes) {
			const char *sep = " (";

			for (int s = DIFF_BREAKING; s >= DIFF_INFO; s--) {
				if (!a->by_severity[s])
					continue;
				k += (size_t)snprintf(counts + k, sizeof(counts) - k, "%s%zu %s",
						      sep, a->by_severity[s],
						      diff_severity_name((enum diff_severity)s));
				sep = ", ";
			}
			if (k < sizeof(counts) - 1)
				snprintf(counts + k, sizeof(counts) - k, ")");
		}
		r = asprintf(&out, "Schema drift on %s: %s", where, counts);
		break;
	}
	case ALERT_MISMATCH:
		r = asprintf(&out, "Schema mismatch on %s: %zu difference%s from the repository%s%s",
			     where, a->total_changes, a->total_changes == 1 ? "" : "s",
			     msg[0] ? "; " : "", msg);
		break;
	case ALERT_CHECK:
		r = asprintf(&out, "Check failed on %s%s%s", where, msg[0] ? ": " : "", msg);
		break;
	case ALERT_ERROR:
		r = asprintf(&out, "Cannot monitor %s%s%s", where, msg[0] ? ": " : "", msg);
		break;
	case ALERT_RECOVERED:
		r = asprintf(&out, "Recovered: %s%s%s", where, msg[0] ? ": " : "", msg);
		break;
	case ALERT_UPGRADED:
		r = asprintf(&out, "Server upgraded on %s%s%s", where, msg[0] ? ": " : "", msg);
		break;
	case ALERT_RECORDER:
		r = asprintf(&out, "DDL recorder off on %s%s%s", where, msg[0] ? ": " : "", msg);
		break;
	case ALERT_TEST:
	default:
		r = asprintf(&out, "Test alert from schemadrift%s%s%s%s", a->target ? " for " : "",
			     a->target ? where : "", msg[0] ? ": " : "", msg);
		break;
	}
	return r < 0 ? NULL : out;
}

/* ------------------------------------------------------------ JSON */

static int alert_json_set(json_t *obj, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

/* Strings held by an alert are clean UTF-8 when set through the API; anything
 * assigned directly is cleaned here rather than dropped. */
static json_t *alert_json_str(const char *s)
{
	json_t *j;
	char *clean;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	clean = alert_clean(s, strlen(s), true, SIZE_MAX / 8);
	j = clean ? json_string(clean) : NULL;
	free(clean);
	return j;
}

static json_t *alert_json_counts(const size_t *v, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		if (json_array_append_new(arr, json_integer((json_int_t)v[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *alert_to_json(const struct alert *a)
{
	json_t *j = json_object(), *changes = json_array();
	int r = j && changes ? 0 : -ENOMEM;

	if (r == 0)
		r = alert_json_set(j, "version", json_integer(ALERT_JSON_VERSION));
	if (r == 0)
		r = alert_json_set(j, "id", alert_json_str(a->id));
	if (r == 0)
		r = alert_json_set(j, "kind", json_string(alert_kind_name(a->kind)));
	if (r == 0)
		r = alert_json_set(j, "target", alert_json_str(a->target));
	if (r == 0)
		r = alert_json_set(j, "environment", alert_json_str(a->environment));
	if (r == 0)
		r = alert_json_set(j, "severity", json_string(diff_severity_name(a->severity)));
	if (r == 0)
		r = alert_json_set(j, "created", json_integer((json_int_t)a->created));
	if (r == 0)
		r = alert_json_set(j, "by_type", alert_json_counts(a->by_type, 4));
	if (r == 0)
		r = alert_json_set(j, "by_severity", alert_json_counts(a->by_severity, 3));
	if (r == 0)
		r = alert_json_set(j, "total_changes", json_integer((json_int_t)a->total_changes));
	for (size_t i = 0; r == 0 && i < a->n_changes; i++) {
		const struct alert_change *c = &a->changes[i];
		json_t *cj = json_object();

		r = cj ? 0 : -ENOMEM;
		if (r == 0)
			r = alert_json_set(cj, "change", alert_json_str(c->change));
		if (r == 0)
			r = alert_json_set(cj, "severity", alert_json_str(c->severity));
		if (r == 0)
			r = alert_json_set(cj, "kind", alert_json_str(c->kind));
		if (r == 0)
			r = alert_json_set(cj, "object", alert_json_str(c->object));
		if (r == 0)
			r = alert_json_set(cj, "attribute", alert_json_str(c->attribute));
		if (r == 0)
			r = alert_json_set(cj, "before", alert_json_str(c->before));
		if (r == 0)
			r = alert_json_set(cj, "after", alert_json_str(c->after));
		if (r == 0 && c->renamed_from)
			r = alert_json_set(cj, "renamed_from", alert_json_str(c->renamed_from));
		if (r == 0 && c->definition)
			r = alert_json_set(cj, "definition", alert_json_str(c->definition));
		if (r == 0 && c->revert_sql)
			r = alert_json_set(cj, "revert_sql", alert_json_str(c->revert_sql));
		if (r == 0 && c->attribution)
			r = alert_json_set(cj, "attribution", alert_json_str(c->attribution));
		if (r == 0)
			r = json_array_append_new(changes, cj) == 0 ? 0 : -ENOMEM;
		else
			json_decref(cj);
	}
	if (r == 0) {
		r = alert_json_set(j, "changes", changes);
		changes = NULL;
	}
	if (r == 0)
		r = alert_json_set(j, "from_hash", alert_json_str(a->from_hash));
	if (r == 0)
		r = alert_json_set(j, "to_hash", alert_json_str(a->to_hash));
	if (r == 0)
		r = alert_json_set(j, "message", alert_json_str(a->message));
	if (r == 0)
		r = alert_json_set(j, "link", alert_json_str(a->link));
	if (r == 0)
		r = alert_json_set(j, "dedup_key", alert_json_str(a->dedup_key));
	if (r == 0 && a->attribution)
		r = alert_json_set(j, "attribution", alert_json_str(a->attribution));
	json_decref(changes);
	if (r < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* An optional string member: absent or null leaves *field NULL. */
static int alert_json_get_str(json_t *j, const char *key, bool required, char **field,
			      struct error *err)
{
	json_t *v = json_object_get(j, key);

	if (!v || json_is_null(v)) {
		if (required)
			return error_set(err, -EBADMSG, "alert JSON: '%s' is missing", key);
		return 0;
	}
	if (!json_is_string(v))
		return error_set(err, -EBADMSG, "alert JSON: '%s' is not a string", key);
	if (alert_set_str(field, json_string_value(v)) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* min..max counts into out (the rest zero). */
static int alert_json_get_counts(json_t *j, const char *key, size_t *out, size_t min,
				 size_t max, struct error *err)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_array(v) || json_array_size(v) < min || json_array_size(v) > max)
		return error_set(err, -EBADMSG, "alert JSON: '%s' is not %zu counts", key, max);
	memset(out, 0, max * sizeof(*out));
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *n = json_array_get(v, i);

		if (!json_is_integer(n) || json_integer_value(n) < 0)
			return error_set(err, -EBADMSG, "alert JSON: '%s' is not %zu counts", key,
					 max);
		out[i] = (size_t)json_integer_value(n);
	}
	return 0;
}

int alert_from_json(json_t *j, struct alert **ret, struct error *err)
{
	struct alert *a;
	json_t *changes, *v;
	enum alert_kind kind;
	const char *s;
	int r;

	if (!json_is_object(j))
		return error_set(err, -EBADMSG, "alert JSON: not an object");
	v = json_object_get(j, "version");
	if (!json_is_integer(v) || json_integer_value(v) != ALERT_JSON_VERSION)
		return error_set(err, -EBADMSG, "alert JSON: unsupported version (want %d)",
				 ALERT_JSON_VERSION);
	s = json_string_value(json_object_get(j, "kind"));
	if (!s || alert_kind_from_name(s, &kind) < 0)
		return error_set(err, -EBADMSG, "alert JSON: 'kind' is invalid");
	r = alert_new(kind, NULL, &a);
	if (r < 0)
		return error_set(err, r, "out of memory");
	free(a->id);
	a->id = NULL;
	r = alert_json_get_str(j, "id", true, &a->id, err);
	/* The id goes into headers (webhook-id) and file names: a token only. */
	if (r == 0 && (!a->id[0] || strlen(a->id) > 100 ||
		       strspn(a->id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789_-.") != strlen(a->id)))
		r = error_set(err, -EBADMSG,
			      "alert JSON: 'id' is not 1-100 of letters, digits, '_', '-', '.'");
	if (r == 0)
		r = alert_json_get_str(j, "target", false, &a->target, err);
	if (r == 0)
		r = alert_json_get_str(j, "environment", false, &a->environment, err);
	if (r == 0) {
		s = json_string_value(json_object_get(j, "severity"));
		if (!s || alert_severity_from_name(s, &a->severity) < 0)
			r = error_set(err, -EBADMSG, "alert JSON: 'severity' is invalid");
	}
	if (r == 0) {
		v = json_object_get(j, "created");
		if (!json_is_integer(v))
			r = error_set(err, -EBADMSG, "alert JSON: 'created' is not a time");
		else
			a->created = (time_t)json_integer_value(v);
	}
	if (r == 0)
		r = alert_json_get_counts(j, "by_type", a->by_type, 3, 4, err);
	if (r == 0)
		r = alert_json_get_counts(j, "by_severity", a->by_severity, 3, 3, err);
	if (r == 0) {
		v = json_object_get(j, "total_changes");
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			r = error_set(err, -EBADMSG, "alert JSON: 'total_changes' is not a count");
		else
			a->total_changes = (size_t)json_integer_value(v);
	}
	changes = json_object_get(j, "changes");
	if (r == 0 && (!json_is_array(changes) || json_array_size(changes) > ALERT_MAX_CHANGES))
		r = error_set(err, -EBADMSG, "alert JSON: 'changes' is not a list of at most %d",
			      ALERT_MAX_CHANGES);
	if (r == 0 && json_array_size(changes)) {
		a->changes = calloc(json_array_size(changes), sizeof(*a->changes));
		if (!a->changes)
			r = error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; r == 0 && i < json_array_size(changes); i++) {
		json_t *c = json_array_get(changes, i);
		struct alert_change *ac = &a->changes[a->n_changes++];

		static const struct {
			const char *key;
			size_t offset;
			bool required;
		} fields[] = {
			{ "change", offsetof(struct alert_change, change), true },
			{ "severity", offsetof(struct alert_change, severity), true },
			{ "kind", offsetof(struct alert_change, kind), true },
			{ "object", offsetof(struct alert_change, object), true },
			{ "attribute", offsetof(struct alert_change, attribute), false },
			{ "before", offsetof(struct alert_change, before), false },
			{ "after", offsetof(struct alert_change, after), false },
			{ "renamed_from", offsetof(struct alert_change, renamed_from), false },
			{ "definition", offsetof(struct alert_change, definition), false },
			{ "revert_sql", offsetof(struct alert_change, revert_sql), false },
			{ "attribution", offsetof(struct alert_change, attribution), false },
		};
		for (size_t f = 0; r == 0 && f < sizeof(fields) / sizeof(fields[0]); f++)
			r = alert_json_get_str(c, fields[f].key, fields[f].required,
					       (char **)((char *)ac + fields[f].offset), err);
		if (r < 0)
			error_prefix(err, "changes[%zu]", i);
	}
	char **optional[] = { &a->from_hash, &a->to_hash, &a->message, &a->link, &a->dedup_key,
			      &a->attribution };
	static const char *const optional_keys[] = { "from_hash", "to_hash", "message", "link",
						     "dedup_key", "attribution" };
	for (size_t f = 0; r == 0 && f < sizeof(optional) / sizeof(optional[0]); f++)
		r = alert_json_get_str(j, optional_keys[f], false, optional[f], err);
	if (r < 0) {
		alert_free(a);
		return r;
	}
	*ret = a;
	return 0;
}
