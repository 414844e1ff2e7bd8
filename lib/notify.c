/* Notifier registry, channel lifetime, and the text helpers every renderer shares. */
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

/* Adding a channel: a lib/notify_<type>.c defining notify_<type>_backend, and one row here. */
static const struct notify_backend *const notify_backends[] = {
	&notify_webhook_backend, &notify_pagerduty_backend, &notify_slack_backend,
	&notify_teams_backend,	 &notify_discord_backend,   &notify_smtp_backend,
};

#define NOTIFY_N_BACKENDS (sizeof(notify_backends) / sizeof(notify_backends[0]))

const struct notify_backend *notify_backend_find(const char *type)
{
	for (size_t i = 0; i < NOTIFY_N_BACKENDS; i++)
		if (strcmp(notify_backends[i]->name, type) == 0)
			return notify_backends[i];
	return NULL;
}

void notify_backend_names(char *buf, size_t size)
{
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < NOTIFY_N_BACKENDS && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
				      notify_backends[i]->name);
}

int notify_channel_new(struct notify_env *env, const struct ini_section *s,
		       struct notify_channel **ret, struct error *err)
{
	const struct notify_backend *b;
	const struct ini_kv *type;
	struct notify_channel *ch;
	char names[128];
	int r;

	if (strcmp(s->kind, "notifier") != 0 || !s->name)
		return ini_section_error(s, err, -EINVAL, "not a [notifier NAME] section");
	notify_backend_names(names, sizeof(names));
	type = ini_get(s, "type");
	if (!type)
		return ini_section_error(s, err, -EINVAL, "needs type = (one of %s)", names);
	b = notify_backend_find(type->value);
	if (!b)
		return ini_error(type, err, -EINVAL, "unknown notifier type '%.40s' (one of %s)",
				  type->value, names);
	ch = calloc(1, sizeof(*ch));
	if (!ch || !(ch->name = strdup(s->name))) {
		free(ch);
		return error_set(err, -ENOMEM, "out of memory");
	}
	ch->backend = b;
	ch->env = env;
	r = b->configure(ch, s, err);
	if (r < 0) {
		notify_channel_free(ch);
		return r;
	}
	*ret = ch;
	return 0;
}

void notify_channel_free(struct notify_channel *ch)
{
	if (!ch)
		return;
	if (ch->backend && ch->backend->destroy)
		ch->backend->destroy(ch);
	free(ch->name);
	free(ch);
}

int notify_render_type(const char *type, const struct alert *a, char **ret_body,
		       struct error *err)
{
	const struct notify_backend *b = notify_backend_find(type);
	struct notify_channel ch = { .backend = b, .name = (char *)"render" };
	char names[128];

	if (!b) {
		notify_backend_names(names, sizeof(names));
		return error_set(err, -EINVAL, "unknown channel type '%.40s' (one of %s)", type,
				 names);
	}
	return b->render(&ch, a, ret_body, err);
}

/* ------------------------------------------------------------ key tables */

static int notify_key_set(const struct notify_key *k, void *state, const struct ini_kv *kv,
			  struct error *err)
{
	char *field = (char *)state + k->offset, *v;
	long long n;
	bool b;
	int r;

	switch (k->type) {
	case NOTIFY_KEY_SECRET:
		if ((r = ini_secret(kv, &v, err)) < 0)
			return r;
		ini_secret_free(*(char **)field);
		*(char **)field = v;
		return 0;
	case NOTIFY_KEY_BOOL:
		if ((r = ini_bool(kv, &b, err)) < 0)
			return r;
		*(bool *)field = b;
		return 0;
	case NOTIFY_KEY_INT:
		if ((r = ini_int(kv, k->min, k->max, &n, err)) < 0)
			return r;
		*(long *)field = (long)n;
		return 0;
	case NOTIFY_KEY_DURATION:
		if ((r = ini_duration_ms(kv, k->min, k->max, &n, err)) < 0)
			return r;
		*(long *)field = (long)n;
		return 0;
	case NOTIFY_KEY_CUSTOM:
		return k->parse(state, kv, err);
	}
	return -EINVAL;
}

static const struct notify_key *notify_key_find(const struct notify_backend *b, const char *key)
{
	for (size_t i = 0; i < b->n_keys; i++)
		if (strcmp(b->keys[i].key, key) == 0)
			return &b->keys[i];
	return NULL;
}

int notify_keys_apply(const struct notify_backend *b, void *state, const struct ini_section *s,
		      struct error *err)
{
	int r;

	for (size_t i = 0; i < b->n_keys; i++) {
		const struct notify_key *k = &b->keys[i];
		struct ini_kv kv = { .key = (char *)k->key, .value = (char *)k->def,
				     .file = "(built-in default)", .file_private = true };

		if (k->def && (r = notify_key_set(k, state, &kv, err)) < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_kv; i++) {
		const struct ini_kv *kv = &s->kv[i];
		const struct notify_key *k;

		if (strcmp(kv->key, "type") == 0)
			continue;
		k = notify_key_find(b, kv->key);
		if (!k)
			return ini_error(kv, err, -EINVAL, "unknown key for %s %s notifier",
					  strcmp(b->name, "smtp") == 0 ? "an" : "a", b->name);
		if ((r = notify_key_set(k, state, kv, err)) < 0)
			return r;
	}
	return 0;
}

int notify_write_sample(FILE *out)
{
	fputs("\n# Notifiers: one [notifier NAME] section per channel, whose type decides\n"
	      "# the other keys (docs/notifiers.md).  A template of each type follows.\n", out);
	for (size_t i = 0; i < NOTIFY_N_BACKENDS; i++) {
		const struct notify_backend *b = notify_backends[i];

		fprintf(out, "\n#[notifier NAME]\n#type = %s\n", b->name);
		for (size_t k = 0; k < b->n_keys; k++)
			fprintf(out, "\n# %s\n#%s = %s\n", b->keys[k].doc, b->keys[k].key,
				b->keys[k].def ? b->keys[k].def : "");
	}
	return ferror(out) ? -EIO : 0;
}

/* ------------------------------------------------------------ text helpers */

bool notify_id_is_token(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > 100)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static size_t notify_piece_units(const char *piece, size_t len)
{
	size_t u = 0;

	for (size_t i = 0; i < len;) {
		size_t cl = utf8_char_len((const unsigned char *)piece + i);

		if (cl == 0 || cl > len - i)
			cl = 1;
		u += cl == 4 ? 2 : 1;
		i += cl;
	}
	return u;
}

void notify_escape_cut(struct strbuf *b, const char *s, size_t max, notify_escape_fn fn)
{
	size_t total = 0, units = 0, len, adv;
	const char *p, *piece;

	for (p = s; *p; p += adv) {
		piece = fn(p, &len, &adv);
		total += notify_piece_units(piece, len);
	}
	for (p = s; *p; p += adv) {
		size_t u;

		piece = fn(p, &len, &adv);
		u = notify_piece_units(piece, len);
		if (total > max && units + u + 1 > max) {
			strbuf_puts(b, "\xe2\x80\xa6");
			return;
		}
		strbuf_put(b, piece, len);
		units += u;
	}
}

char *notify_title(const struct alert *a)
{
	const char *prefix;
	char *out;
	int r;

	switch (a->kind) {
	case ALERT_DRIFT:
		prefix = "Schema drift on ";
		break;
	case ALERT_MISMATCH:
		prefix = "Schema mismatch on ";
		break;
	case ALERT_CHECK:
		prefix = "Check failed on ";
		break;
	case ALERT_ERROR:
		prefix = "Cannot monitor ";
		break;
	case ALERT_RECOVERED:
		prefix = "Recovered: ";
		break;
	case ALERT_UPGRADED:
		prefix = "Server upgraded on ";
		break;
	case ALERT_RECORDER:
		prefix = "DDL recorder off on ";
		break;
	case ALERT_TEST:
	default:
		prefix = a->target ? "Test alert from schemadrift for " : "Test alert from schemadrift";
		break;
	}
	if (a->target && a->environment)
		r = asprintf(&out, "%s%s (%s)", prefix, a->target, a->environment);
	else
		r = asprintf(&out, "%s%s", prefix, a->target ? a->target : "");
	return r < 0 ? NULL : out;
}

size_t notify_text_units(const char *s)
{
	size_t units = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t cl = utf8_char_len(p);

		if (cl == 0)
			cl = 1;
		units += cl == 4 ? 2 : 1;
		p += cl;
	}
	return units;
}

char *notify_truncate(const char *s, size_t max_units)
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	size_t units = 0, keep = 0;
	const unsigned char *p = (const unsigned char *)s;
	char *out;

	if (notify_text_units(s) <= max_units)
		return strdup(s);
	while (*p) {
		size_t cl = utf8_char_len(p), u;

		if (cl == 0)
			cl = 1;
		u = cl == 4 ? 2 : 1;
		if (units + u + 1 > max_units)
			break;
		units += u;
		p += cl;
	}
	keep = (size_t)((const char *)p - s);
	out = malloc(keep + sizeof(ellipsis));
	if (!out)
		return NULL;
	memcpy(out, s, keep);
	memcpy(out + keep, max_units ? ellipsis : "", max_units ? sizeof(ellipsis) : 1);
	return out;
}

void notify_kind_label(const char *kind, char *buf, size_t size)
{
	snprintf(buf, size, "%s", kind ? kind : "object");
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
}

bool notify_change_is_long(const struct alert_change *c, size_t max_units)
{
	if (!c->before || !c->after)
		return false;
	return strchr(c->before, '\n') || strchr(c->after, '\n') ||
	       notify_text_units(c->before) > max_units || notify_text_units(c->after) > max_units;
}
