/* Acknowledgements of drift, object by object: acks.json, matching, expiry, applying to a diff. */
#include "ack.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "isotime.h"
#include "snapshot.h"

#define ACK_FILE "acks.json"

/* ---------------------------------------------------------------- memory */

static void ack_object_done(struct ack_object *o)
{
	free(o->schema);
	free(o->parent);
	free(o->name);
	free(o->signature);
	free(o->label);
}

static void ack_done(struct ack *a)
{
	free(a->pattern);
	free(a->reason);
	free(a->who);
	for (size_t i = 0; i < a->n_objects; i++)
		ack_object_done(&a->objects[i]);
	free(a->objects);
	memset(a, 0, sizeof(*a));
}

void ack_free(struct ack *a)
{
	if (!a)
		return;
	ack_done(a);
	free(a);
}

void ack_set_free(struct ack_set *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		ack_done(&a->acks[i]);
	free(a->acks);
	free(a);
}

bool ack_expired(const struct ack *a, time_t now)
{
	return a->expires != 0 && now >= a->expires;
}

/* ----------------------------------------------------------------- state */

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

void ack_object_state(const struct model *m, const struct model_object *o, unsigned char out[32])
{
	const struct model_kind_info *info = model_kind_info(o->kind);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 32;
	bool ok;

	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, o->hash, 32);
	if (ok && info && !info->has_parent && o >= m->objects && o < m->objects + m->n_objects) {
		/* Canonical order puts a table's (or view's) children right after it. */
		for (const struct model_object *c = o + 1; ok && c < m->objects + m->n_objects; c++) {
			if (!c->parent || !str_eq(c->schema, o->schema) || !str_eq(c->parent, o->name))
				break;
			ok = EVP_DigestUpdate(ctx, c->hash, 32);
		}
	}
	if (!ok || !EVP_DigestFinal_ex(ctx, out, &len))
		memset(out, 0, 32); /* never equal to a real state: the ack lapses, drift shows */
	EVP_MD_CTX_free(ctx);
}

static bool same_identity(const struct ack_object *a, const struct model_object *o)
{
	return a->kind == o->kind && str_eq(a->schema, o->schema) && str_eq(a->parent, o->parent) &&
	       str_eq(a->name, o->name) && str_eq(a->signature, o->signature);
}

/* The object of m with a's identity, or NULL. */
static const struct model_object *find_in(const struct model *m, const struct ack_object *a)
{
	struct model_object key;

	memset(&key, 0, sizeof(key));
	key.kind = a->kind;
	key.schema = a->schema;
	key.parent = a->parent;
	key.name = a->name;
	key.signature = a->signature;
	return model_find(m, &key);
}

bool ack_object_current(const struct ack_object *a, const struct model *m)
{
	const struct model_object *o;
	unsigned char st[32];

	if (!m)
		return false;
	o = find_in(m, a);
	if (!o || !a->present)
		return !o && !a->present;
	ack_object_state(m, o, st);
	return memcmp(st, a->state, 32) == 0;
}

size_t ack_apply(const struct ack_set *a, struct diff *d, time_t now)
{
	size_t marked = 0;

	if (!a || !d)
		return 0;
	for (size_t i = 0; i < d->n_changes; i++) {
		const struct diff_change *c = &d->changes[i];
		const struct model_object *o = c->after ? c->after : c->before;

		for (size_t k = 0; k < a->n && !d->changes[i].acknowledged; k++) {
			const struct ack *ack = &a->acks[k];

			if (ack_expired(ack, now))
				continue;
			for (size_t j = 0; j < ack->n_objects; j++) {
				if (!same_identity(&ack->objects[j], o))
					continue;
				if (ack_object_current(&ack->objects[j], d->to)) {
					diff_acknowledge(d, i, ack->reason);
					marked++;
				}
				break;
			}
		}
	}
	return marked;
}

/* ------------------------------------------------------------------ JSON */

static int hex32(const char *s, unsigned char out[32])
{
	if (!s || strlen(s) != 64)
		return -EINVAL;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* A JSON string or {"hex": ...} into *ret (NULL stays NULL when absent). */
static int opt_string(const json_t *obj, const char *key, char **ret)
{
	const json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	*ret = store_json_string_dup(v);
	return *ret ? 0 : -EBADMSG;
}

static int object_from_json(const json_t *j, struct ack_object *o)
{
	const char *kind = json_string_value(json_object_get(j, "kind"));
	const json_t *state = json_object_get(j, "state");

	memset(o, 0, sizeof(*o));
	if (!kind || model_kind_from_name(kind, &o->kind) < 0)
		return -EBADMSG;
	if (opt_string(j, "schema", &o->schema) < 0 || opt_string(j, "parent", &o->parent) < 0 ||
	    opt_string(j, "name", &o->name) < 0 || opt_string(j, "signature", &o->signature) < 0 ||
	    opt_string(j, "object", &o->label) < 0 || !o->name || !o->label)
		return -EBADMSG;
	o->present = !json_is_null(state);
	if (o->present && hex32(json_string_value(state), o->state) < 0)
		return -EBADMSG;
	return 0;
}

static int ack_from_json(const json_t *j, struct ack *a)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	const json_t *objs = json_object_get(j, "objects"), *v;
	const char *t;
	size_t i;

	memset(a, 0, sizeof(*a));
	if (!id || strlen(id) != 8 || !json_is_array(objs))
		return -EBADMSG;
	memcpy(a->id, id, 9);
	if (opt_string(j, "pattern", &a->pattern) < 0 || opt_string(j, "reason", &a->reason) < 0 ||
	    opt_string(j, "who", &a->who) < 0 || !a->pattern)
		return -EBADMSG;
	t = json_string_value(json_object_get(j, "created"));
	if (!t || store_parse_time(t, &a->created, NULL) < 0)
		return -EBADMSG;
	v = json_object_get(j, "expires");
	if (v && !json_is_null(v) &&
	    (!json_string_value(v) || store_parse_time(json_string_value(v), &a->expires, NULL) < 0))
		return -EBADMSG;
	a->objects = calloc(json_array_size(objs) ? json_array_size(objs) : 1, sizeof(*a->objects));
	if (!a->objects)
		return -ENOMEM;
	json_array_foreach(objs, i, v) {
		int r = object_from_json(v, &a->objects[a->n_objects]);

		if (r < 0) {
			ack_object_done(&a->objects[a->n_objects]);
			return r;
		}
		a->n_objects++;
	}
	return 0;
}

static json_t *opt_json(const char *s)
{
	return s ? snapshot_string_json(s) : json_null();
}

static json_t *object_to_json(const struct ack_object *o)
{
	char hex[65];
	json_t *j;

	snapshot_hash_hex(o->state, hex);
	j = json_pack("{ss so so so}", "kind", model_kind_info(o->kind)->name, "object",
		      opt_json(o->label), "name", opt_json(o->name), "state",
		      o->present ? json_string(hex) : json_null());
	if (j && o->schema)
		json_object_set_new(j, "schema", snapshot_string_json(o->schema));
	if (j && o->parent)
		json_object_set_new(j, "parent", snapshot_string_json(o->parent));
	if (j && o->signature)
		json_object_set_new(j, "signature", snapshot_string_json(o->signature));
	return j;
}

static json_t *ack_to_json(const struct ack *a)
{
	char created[21], expires[21];
	json_t *j, *objs = json_array();

	isotime_format(a->created, created);
	isotime_format(a->expires, expires);
	for (size_t i = 0; objs && i < a->n_objects; i++)
		if (json_array_append_new(objs, object_to_json(&a->objects[i])) < 0) {
			json_decref(objs);
			objs = NULL;
		}
	if (!objs)
		return NULL;
	j = json_pack("{ss so so so ss so so}", "id", a->id, "pattern", opt_json(a->pattern),
		      "reason", opt_json(a->reason), "who", opt_json(a->who), "created", created,
		      "expires", a->expires ? json_string(expires) : json_null(), "objects", objs);
	return j;
}

int ack_load(struct store *s, struct ack_set **ret, struct error *err)
{
	struct ack_set *set = calloc(1, sizeof(*set));
	json_t *j = NULL, *arr, *v;
	size_t i;
	int r;

	if (!set)
		return error_set(err, -ENOMEM, "out of memory");
	r = store_read_state(s, ACK_FILE, &j, err);
	if (r == -ENOENT) {
		error_clear(err);
		*ret = set;
		return 0;
	}
	if (r < 0) {
		/* A corrupt acks.json was moved aside (and reported): with no acks,
		 * everything shows as drift, which is the safe way to be wrong. */
		ack_set_free(set);
		return r;
	}
	arr = json_object_get(j, "acks");
	set->acks = calloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof(*set->acks));
	if (!set->acks) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, v) {
		r = ack_from_json(v, &set->acks[set->n]);
		if (r < 0) {
			ack_done(&set->acks[set->n]);
			r = r == -ENOMEM ? error_set(err, r, "out of memory")
					 : error_set(err, r, "%s/%s: acknowledgement %zu is not valid",
						     store_dir(s), ACK_FILE, i + 1);
			goto out;
		}
		set->n++;
	}
out:
	json_decref(j);
	if (r < 0) {
		ack_set_free(set);
		return r;
	}
	*ret = set;
	return 0;
}

/* acks.json for a set. New reference. */
static json_t *set_to_json(const struct ack_set *set)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < set->n; i++)
		if (json_array_append_new(arr, ack_to_json(&set->acks[i])) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	return arr ? json_pack("{si so}", "version", 1, "acks", arr) : NULL;
}

/* --------------------------------------------------------------- changes */

/* Splits "[KIND:]GLOB"; *kind is -1 without a kind prefix. */
static const char *split_pattern(const char *pattern, int *kind)
{
	const char *colon = strchr(pattern, ':');
	enum model_kind k;

	*kind = -1;
	if (colon && colon > pattern && (size_t)(colon - pattern) < 32) {
		char name[32];

		memcpy(name, pattern, (size_t)(colon - pattern));
		name[colon - pattern] = '\0';
		if (model_kind_from_name(name, &k) == 0) {
			*kind = (int)k;
			return colon + 1;
		}
	}
	return pattern;
}

static int dup_opt(const char *s, char **ret)
{
	*ret = s ? strdup(s) : NULL;
	return s && !*ret ? -ENOMEM : 0;
}

/* The objects of d (baseline -> latest) matching pattern, once each. */
static int match_drift(const struct diff *d, const char *pattern, struct ack *a)
{
	int kind;
	const char *glob = split_pattern(pattern, &kind);

	a->objects = calloc(d->n_changes ? d->n_changes : 1, sizeof(*a->objects));
	if (!a->objects)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_changes; i++) {
		const struct diff_change *c = &d->changes[i];
		const struct model_object *o = c->after ? c->after : c->before;
		const struct model_object *now = model_find(d->to, o);
		struct ack_object *ao;
		bool dup = false;
		char *label;

		if (kind >= 0 && (int)o->kind != kind)
			continue;
		for (size_t j = 0; j < a->n_objects && !dup; j++)
			dup = same_identity(&a->objects[j], o);
		if (dup)
			continue;
		label = model_object_name_dup(o);
		if (!label)
			return -ENOMEM;
		if (fnmatch(glob, label, 0) != 0) {
			free(label);
			continue;
		}
		ao = &a->objects[a->n_objects];
		ao->kind = o->kind;
		ao->label = label;
		if (dup_opt(o->schema, &ao->schema) < 0 || dup_opt(o->parent, &ao->parent) < 0 ||
		    dup_opt(o->name, &ao->name) < 0 || dup_opt(o->signature, &ao->signature) < 0) {
			a->n_objects++;
			return -ENOMEM;
		}
		ao->present = now != NULL;
		if (now)
			ack_object_state(d->to, now, ao->state);
		a->n_objects++;
	}
	return 0;
}

static int random_id(char out[9])
{
	unsigned char b[4];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	snprintf(out, 9, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
	return 0;
}

static int copy_ack(const struct ack *a, struct ack **ret)
{
	struct ack *c = calloc(1, sizeof(*c));
	int r = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c->id, a->id, sizeof(c->id));
	c->created = a->created;
	c->expires = a->expires;
	c->objects = calloc(a->n_objects ? a->n_objects : 1, sizeof(*c->objects));
	if (!c->objects || dup_opt(a->pattern, &c->pattern) < 0 || dup_opt(a->reason, &c->reason) < 0 ||
	    dup_opt(a->who, &c->who) < 0)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < a->n_objects; i++) {
		const struct ack_object *o = &a->objects[i];
		struct ack_object *n = &c->objects[c->n_objects++];

		*n = *o;
		n->schema = n->parent = n->name = n->signature = n->label = NULL;
		if (dup_opt(o->schema, &n->schema) < 0 || dup_opt(o->parent, &n->parent) < 0 ||
		    dup_opt(o->name, &n->name) < 0 || dup_opt(o->signature, &n->signature) < 0 ||
		    dup_opt(o->label, &n->label) < 0)
			r = -ENOMEM;
	}
	if (r < 0) {
		ack_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

/* Writes the set as acks.json with an audit entry (takes over audit). */
static int save_set(struct store *s, const struct ack_set *set, json_t *audit, struct error *err)
{
	json_t *state = set_to_json(set);
	int r;

	if (!state || !audit)
		r = error_set(err, -ENOMEM, "out of memory");
	else
		r = store_write_state(s, ACK_FILE, state, audit, err);
	json_decref(state);
	json_decref(audit);
	return r;
}

int ack_add(struct store *s, const char *pattern, const char *who, const char *reason,
	    time_t expires, struct ack **ret, struct error *err)
{
	char base_hash[65], latest_hash[65];
	struct model *base = NULL, *latest = NULL;
	struct ack_set *set = NULL;
	struct diff *d = NULL;
	struct ack a = { 0 };
	json_t *labels = NULL, *audit = NULL;
	time_t now = store_now(s);
	int r;

	if (expires && expires <= now)
		return error_set(err, -EINVAL, "the expiry time is already past");
	r = store_lock(s, err);
	if (r < 0)
		return r;
	r = store_resolve(s, "baseline", base_hash, err);
	if (r == -ENOENT)
		r = error_prefix(err, "acknowledgements are relative to the baseline");
	if (r < 0)
		goto out;
	if ((r = store_resolve(s, "latest", latest_hash, err)) < 0 ||
	    (r = store_load_snapshot(s, base_hash, &base, err)) < 0 ||
	    (r = store_load_snapshot(s, latest_hash, &latest, err)) < 0 ||
	    (r = ack_load(s, &set, err)) < 0)
		goto out;
	if (diff_models(base, latest, &d) < 0) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = match_drift(d, pattern, &a);
	if (r < 0) {
		r = error_set(err, r, "out of memory");
		goto out;
	}
	if (a.n_objects == 0) {
		r = error_set(err, -ENOENT,
			      "nothing to acknowledge: no difference between the baseline and the "
			      "latest snapshot of %s is on an object matching '%s'",
			      store_target(s), pattern);
		goto out;
	}
	do {
		if (random_id(a.id) < 0) {
			r = error_set(err, -EIO, "cannot get random bytes for an id");
			goto out;
		}
		for (size_t i = 0; i < set->n; i++)
			if (strcmp(set->acks[i].id, a.id) == 0)
				a.id[0] = '\0';
	} while (!a.id[0]);
	a.created = now;
	a.expires = expires;
	if (dup_opt(pattern, &a.pattern) < 0 || dup_opt(reason, &a.reason) < 0 ||
	    dup_opt(who ? who : "unknown", &a.who) < 0) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	{
		struct ack *grown = realloc(set->acks, (set->n + 1) * sizeof(*grown));

		if (!grown) {
			r = error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		set->acks = grown;
	}
	labels = json_array();
	for (size_t i = 0; labels && i < a.n_objects; i++)
		json_array_append_new(labels, snapshot_string_json(a.objects[i].label));
	{
		char exp[21];

		isotime_format(expires, exp);
		audit = json_pack("{ss ss so so so so sO so}", "action", "ack", "ack", a.id, "who",
				  opt_json(a.who), "pattern", opt_json(pattern), "reason",
				  opt_json(reason), "expires", expires ? json_string(exp) : json_null(),
				  "objects", labels, "baseline", json_string(base_hash));
		if (audit)
			json_object_set_new(audit, "latest", json_string(latest_hash));
	}
	set->acks[set->n++] = a;
	r = save_set(s, set, audit, err);
	audit = NULL;
	set->n--; /* a is still ours */
	if (r == 0 && ret && copy_ack(&a, ret) < 0)
		r = error_set(err, -ENOMEM, "out of memory (the acknowledgement was saved)");
out:
	json_decref(labels);
	json_decref(audit);
	ack_done(&a);
	ack_set_free(set);
	diff_free(d);
	model_free(base);
	model_free(latest);
	store_unlock(s);
	return r;
}

int ack_remove(struct store *s, const char *id_or_pattern, const char *who, const char *reason,
	       size_t *ret_removed, struct error *err)
{
	struct ack_set *set = NULL;
	json_t *ids = NULL, *audit;
	size_t kept = 0, removed = 0;
	int r;

	r = store_lock(s, err);
	if (r < 0)
		return r;
	r = ack_load(s, &set, err);
	if (r < 0)
		goto out;
	ids = json_array();
	if (!ids) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < set->n; i++) {
		struct ack *a = &set->acks[i];

		if (strcmp(a->id, id_or_pattern) == 0 || strcmp(a->pattern, id_or_pattern) == 0) {
			json_array_append_new(ids, json_string(a->id));
			ack_done(a);
			removed++;
		} else {
			set->acks[kept++] = *a;
		}
	}
	set->n = kept;
	if (removed == 0) {
		r = error_set(err, -ENOENT, "target %s has no acknowledgement with id or pattern '%s'",
			      store_target(s), id_or_pattern);
		goto out;
	}
	audit = json_pack("{ss sO so so so}", "action", "ack remove", "acks", ids, "match",
			  opt_json(id_or_pattern), "who", opt_json(who ? who : "unknown"), "reason",
			  opt_json(reason));
	r = save_set(s, set, audit, err);
	if (r == 0 && ret_removed)
		*ret_removed = removed;
out:
	json_decref(ids);
	ack_set_free(set);
	store_unlock(s);
	return r;
}
