/* Canonical JSON snapshots: writing, hashing and streaming parse with byte offsets. */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fileio.h"
#include "strbuf.h"
#include "utf8.h"

#define DUMP_FLAGS (JSON_SORT_KEYS | JSON_COMPACT)

json_t *snapshot_string_json(const char *s)
{
	size_t n = strlen(s);

	if (utf8_valid(s, n))
		return json_stringn_nocheck(s, n);

	/* Not UTF-8 (SQL_ASCII databases): keep the exact bytes, in hex. */
	static const char hex[] = "0123456789abcdef";
	char *h = malloc(2 * n + 1);
	json_t *o;
	if (!h)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		h[2 * i] = hex[(unsigned char)s[i] >> 4];
		h[2 * i + 1] = hex[(unsigned char)s[i] & 15];
	}
	h[2 * n] = '\0';
	o = json_pack("{s:s}", "hex", h);
	free(h);
	return o;
}

static json_t *value_json(const struct model_value *v)
{
	json_t *a;

	switch (v->type) {
	case MODEL_STR:
		return snapshot_string_json(v->u.str);
	case MODEL_BOOL:
		return json_boolean(v->u.b);
	case MODEL_INT:
		return json_integer(v->u.i);
	case MODEL_LIST:
		a = json_array();
		for (size_t i = 0; a && i < v->u.list.n; i++)
			if (json_array_append_new(a, snapshot_string_json(v->u.list.items[i]))) {
				json_decref(a);
				return NULL;
			}
		return a;
	case MODEL_NULL:
		break;
	}
	return json_null();
}

json_t *snapshot_object_json(const struct model_object *o)
{
	json_t *j = json_object(), *attrs = json_object();
	int r = 0;

	if (!j || !attrs) {
		json_decref(j);
		json_decref(attrs);
		return NULL;
	}
	r |= json_object_set_new_nocheck(j, "kind",
					 json_string(model_kind_info(o->kind)->name));
	if (o->schema)
		r |= json_object_set_new_nocheck(j, "schema", snapshot_string_json(o->schema));
	if (o->parent)
		r |= json_object_set_new_nocheck(j, "parent", snapshot_string_json(o->parent));
	r |= json_object_set_new_nocheck(j, "name", snapshot_string_json(o->name));
	if (o->signature)
		r |= json_object_set_new_nocheck(j, "signature",
						 snapshot_string_json(o->signature));
	for (size_t i = 0; i < o->n_attrs; i++)
		r |= json_object_set_new_nocheck(attrs, o->attrs[i].name,
						 value_json(&o->attrs[i].value));
	r |= json_object_set_new_nocheck(j, "attrs", attrs);
	if (r) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/*
 * The canonical text, written directly: byte for byte what jansson's
 * json_dumps(snapshot_object_json(o), JSON_SORT_KEYS | JSON_COMPACT) gives
 * (a unit test holds the two together), without building a JSON tree per
 * object.  It is on the hot path: every object is emitted to hash it and
 * again to write it.
 */
#define canon_lit(c, s) strbuf_put((c), (s), sizeof(s) - 1)

static void canon_string(struct strbuf *c, const char *s)
{
	static const char hex[] = "0123456789abcdef", HEX[] = "0123456789ABCDEF";
	size_t n = strlen(s);

	if (!utf8_valid(s, n)) {
		canon_lit(c, "{\"hex\":\"");
		if (strbuf_reserve(c, 2 * n))
			for (size_t i = 0; i < n; i++) {
				c->s[c->len++] = hex[(unsigned char)s[i] >> 4];
				c->s[c->len++] = hex[(unsigned char)s[i] & 15];
			}
		canon_lit(c, "\"}");
		return;
	}
	canon_lit(c, "\"");
	const char *run = s;
	for (const char *p = s;; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch && ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		strbuf_put(c, run, (size_t)(p - run));
		if (!ch)
			break;
		run = p + 1;
		switch (ch) {
		case '"': canon_lit(c, "\\\""); break;
		case '\\': canon_lit(c, "\\\\"); break;
		case '\b': canon_lit(c, "\\b"); break;
		case '\f': canon_lit(c, "\\f"); break;
		case '\n': canon_lit(c, "\\n"); break;
		case '\r': canon_lit(c, "\\r"); break;
		case '\t': canon_lit(c, "\\t"); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', HEX[ch >> 4], HEX[ch & 15] };
			strbuf_put(c, u, sizeof(u));
		}
		}
	}
	canon_lit(c, "\"");
}

static void canon_value(struct strbuf *c, const struct model_value *v)
{
	char num[32];

	switch (v->type) {
	case MODEL_STR:
		canon_string(c, v->u.str);
		return;
	case MODEL_BOOL:
		if (v->u.b)
			canon_lit(c, "true");
		else
			canon_lit(c, "false");
		return;
	case MODEL_INT:
		strbuf_put(c, num, (size_t)snprintf(num, sizeof(num), "%lld", v->u.i));
		return;
	case MODEL_LIST:
		canon_lit(c, "[");
		for (size_t i = 0; i < v->u.list.n; i++) {
			if (i)
				canon_lit(c, ",");
			canon_string(c, v->u.list.items[i]);
		}
		canon_lit(c, "]");
		return;
	case MODEL_NULL:
		canon_lit(c, "null");
		return;
	}
}

/* Keys in sorted order: attrs, kind, name, parent, schema, signature. */
static void canon_object(struct strbuf *c, const struct model_object *o)
{
	strbuf_reset(c);
	canon_lit(c, "{\"attrs\":{");
	for (size_t i = 0; i < o->n_attrs; i++) {
		if (i)
			canon_lit(c, ",");
		canon_string(c, o->attrs[i].name);
		canon_lit(c, ":");
		canon_value(c, &o->attrs[i].value);
	}
	canon_lit(c, "},\"kind\":");
	canon_string(c, model_kind_info(o->kind)->name);
	canon_lit(c, ",\"name\":");
	canon_string(c, o->name);
	if (o->parent) {
		canon_lit(c, ",\"parent\":");
		canon_string(c, o->parent);
	}
	if (o->schema) {
		canon_lit(c, ",\"schema\":");
		canon_string(c, o->schema);
	}
	if (o->signature) {
		canon_lit(c, ",\"signature\":");
		canon_string(c, o->signature);
	}
	canon_lit(c, "}");
}

char *snapshot_object_text(const struct model_object *o)
{
	struct strbuf c = { 0 };

	canon_object(&c, o);
	return strbuf_take(&c);
}

void snapshot_hash_hex(const unsigned char hash[32], char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[hash[i] >> 4];
		out[2 * i + 1] = hex[hash[i] & 15];
	}
	out[64] = '\0';
}

/* SHA-256, fetched once: EVP_sha256() makes OpenSSL 3 look it up on every use. */
static const EVP_MD *sha256(void)
{
	static EVP_MD *md;

	if (!md)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return md ? md : EVP_sha256();
}

/* Emits the object's canonical text into c and hashes it. */
static int object_hash(struct strbuf *c, struct model_object *o)
{
	unsigned int mdlen;

	canon_object(c, o);
	if (c->failed)
		return -ENOMEM;
	if (!EVP_Digest(c->s, c->len, o->hash, &mdlen, sha256(), NULL))
		return -EIO;
	return 0;
}

/* The overall hash is SHA-256 over the object hashes in canonical order. */
static int model_hash(struct model *m)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, sha256(), NULL);
	for (size_t i = 0; ok && i < m->n_objects; i++)
		ok = EVP_DigestUpdate(ctx, m->objects[i].hash, 32);
	ok = ok && EVP_DigestFinal_ex(ctx, m->hash, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	m->hashed = true;
	return 0;
}

int snapshot_hash(struct model *m)
{
	struct strbuf c = { 0 };
	int r = 0;

	for (size_t i = 0; r == 0 && i < m->n_objects; i++)
		r = object_hash(&c, &m->objects[i]);
	strbuf_done(&c);
	return r < 0 ? r : model_hash(m);
}

static const char *string_from_json(struct model *m, json_t *v);

/* The DDL recorder beside the objects (docs/snapshot-format.md): never hashed. */
static json_t *recorder_json(const struct model_recorder *rec)
{
	json_t *j = json_object(), *events = json_array();

	if (!j || !events) {
		json_decref(j);
		json_decref(events);
		return NULL;
	}
	json_object_set_new(j, "schema", snapshot_string_json(rec->schema));
	json_object_set_new(j, "ddl_trigger",
			    rec->ddl_trigger ? json_string(rec->ddl_trigger) : json_null());
	json_object_set_new(j, "drop_trigger",
			    rec->drop_trigger ? json_string(rec->drop_trigger) : json_null());
	json_object_set_new(j, "readable", json_boolean(rec->readable));
	for (size_t i = 0; i < rec->n_events; i++) {
		const struct model_ddl_event *e = &rec->events[i];
		json_t *o = json_object();
		const struct { const char *k, *v; } strs[] = {
			{ "at", e->at }, { "session_role", e->session_role },
			{ "current_role", e->current_role }, { "application", e->application },
			{ "client_addr", e->client_addr }, { "event", e->event },
			{ "command_tag", e->command_tag }, { "object_type", e->object_type },
			{ "object_identity", e->object_identity }, { "statement", e->statement },
		};
		if (!o)
			continue;
		json_object_set_new(o, "id", json_integer(e->id));
		for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
			if (strs[k].v)
				json_object_set_new(o, strs[k].k, snapshot_string_json(strs[k].v));
		if (e->client_port)
			json_object_set_new(o, "client_port", json_integer(e->client_port));
		json_object_set_new(o, "backend_pid", json_integer(e->backend_pid));
		json_object_set_new(o, "xid", json_integer(e->xid));
		json_array_append_new(events, o);
	}
	json_object_set_new(j, "events", events);
	return j;
}

static const char *recorder_str(struct model *m, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return v && !json_is_null(v) ? string_from_json(m, v) : NULL;
}

/* A damaged recorder block loses the attribution, never the snapshot. */
static void recorder_from_json(struct model *m, json_t *j)
{
	struct model_recorder *rec;
	json_t *events = json_object_get(j, "events");
	size_t n = json_is_array(events) ? json_array_size(events) : 0;

	if (!json_is_object(j) || !(rec = model_alloc(m, sizeof(*rec))))
		return;
	memset(rec, 0, sizeof(*rec));
	if (!(rec->schema = recorder_str(m, j, "schema")))
		return;
	rec->ddl_trigger = recorder_str(m, j, "ddl_trigger");
	rec->drop_trigger = recorder_str(m, j, "drop_trigger");
	rec->readable = json_is_true(json_object_get(j, "readable"));
	if (n && (rec->events = model_alloc(m, n * sizeof(*rec->events)))) {
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_array_get(events, i);
			struct model_ddl_event *e = &rec->events[rec->n_events];

			if (!json_is_object(o))
				continue;
			e->id = json_integer_value(json_object_get(o, "id"));
			e->at = recorder_str(m, o, "at");
			e->session_role = recorder_str(m, o, "session_role");
			e->current_role = recorder_str(m, o, "current_role");
			e->application = recorder_str(m, o, "application");
			e->client_addr = recorder_str(m, o, "client_addr");
			e->event = recorder_str(m, o, "event");
			e->command_tag = recorder_str(m, o, "command_tag");
			e->object_type = recorder_str(m, o, "object_type");
			e->object_identity = recorder_str(m, o, "object_identity");
			e->statement = recorder_str(m, o, "statement");
			e->client_port = json_integer_value(json_object_get(o, "client_port"));
			e->backend_pid = json_integer_value(json_object_get(o, "backend_pid"));
			e->xid = json_integer_value(json_object_get(o, "xid"));
			rec->n_events++;
		}
	}
	m->recorder = rec;
}

static int write_header(struct model *m, FILE *out)
{
	char hex[65];
	json_t *meta = json_object(), *head;
	char *text;
	int r;

	snapshot_hash_hex(m->hash, hex);
	if (m->server_version)
		json_object_set_new(meta, "server_version", snapshot_string_json(m->server_version));
	if (m->database)
		json_object_set_new(meta, "database", snapshot_string_json(m->database));
	if (m->taken_at)
		json_object_set_new(meta, "taken_at", json_string(m->taken_at));
	if (m->fingerprint)
		json_object_set_new(meta, "fingerprint", snapshot_string_json(m->fingerprint));
	if (m->recorder)
		json_object_set_new(meta, "recorder", recorder_json(m->recorder));
	head = json_pack("{si ss sI so}", "version", SNAPSHOT_VERSION, "hash", hex, "objects",
			 (json_int_t)m->n_objects, "meta", meta);
	if (!head)
		return -ENOMEM;
	text = json_dumps(head, DUMP_FLAGS);
	json_decref(head);
	if (!text)
		return -ENOMEM;
	r = fprintf(out, "{\"schemadrift_snapshot\":%s,\n\"objects\":[", text) < 0 ? -EIO : 0;
	free(text);
	return r;
}

/*
 * One object per line, each with its hash; the header goes first and
 * carries the overall hash, so an unhashed model is hashed in a first pass.
 */
int snapshot_write(struct model *m, FILE *out, struct error *err)
{
	struct strbuf c = { 0 };
	int r;

	if (!m->hashed && (r = snapshot_hash(m)) < 0)
		return error_set(err, r, "cannot hash snapshot: %s", strerror(-r));
	r = write_header(m, out);
	for (size_t i = 0; r == 0 && i < m->n_objects; i++) {
		char hex[65];

		/* The stored line is the canonical text with the hash put first. */
		canon_object(&c, &m->objects[i]);
		if (c.failed) {
			r = -ENOMEM;
			break;
		}
		snapshot_hash_hex(m->objects[i].hash, hex);
		if (fputs(i ? ",\n{\"hash\":\"" : "\n{\"hash\":\"", out) == EOF ||
		    fputs(hex, out) == EOF || fputs("\",", out) == EOF ||
		    fwrite(c.s + 1, 1, c.len - 1, out) != c.len - 1)
			r = -EIO;
	}
	strbuf_done(&c);
	if (r == 0 && fputs("\n]}\n", out) == EOF)
		r = -EIO;
	if (r == 0 && fflush(out) == EOF)
		r = -errno;
	if (r < 0)
		return error_set(err, r, "cannot write snapshot: %s", strerror(-r));
	return 0;
}

int snapshot_save(struct model *m, const char *path, struct error *err)
{
	struct fileio_atomic f;
	int r;

	r = fileio_atomic_open(&f, path, err);
	if (r < 0)
		return r;
	r = snapshot_write(m, f.stream, err);
	if (r < 0) {
		fileio_atomic_abort(&f);
		return error_prefix(err, "%s", path);
	}
	return fileio_atomic_commit(&f, err);
}

/* ---- parsing ---- */

/* Decodes 2*n hex digits into n bytes; -EINVAL on a non-hex digit.  Every
 * object line's hash goes through here: a table, not a branch per digit. */
static int hex_decode(const char *hex, unsigned char *out, size_t n)
{
	/* A digit's value plus one; 0 for anything else. */
	static const unsigned char table[256] = {
		['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7,
		['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
		['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
		['F'] = 16,
	};

	for (size_t i = 0; i < n; i++) {
		int hi = table[(unsigned char)hex[2 * i]], lo = table[(unsigned char)hex[2 * i + 1]];

		if (!hi || !lo)
			return -EINVAL;
		hi--;
		lo--;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}


struct parser {
	const char *buf;
	size_t len, pos;
	const char *name;
	struct error *err;
	struct strbuf canon; /* each object's hash is verified where it was read */
	bool unsorted;      /* objects out of canonical order (an edited file) */
	size_t base; /* where buf starts in the file (one line of it, when streaming) */
};

static int parse_fail(struct parser *p, size_t at, const char *fmt, const char *detail)
{
	char what[512];

	snprintf(what, sizeof(what), fmt, detail ? detail : "");
	return error_set(p->err, -EBADMSG, "%s: byte %zu: %s", p->name, p->base + at, what);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->buf[p->pos] == ' ' || p->buf[p->pos] == '\n' ||
				   p->buf[p->pos] == '\r' || p->buf[p->pos] == '\t'))
		p->pos++;
}

static int expect(struct parser *p, char c)
{
	char what[] = "expected 'x'%s";

	skip_ws(p);
	if (p->pos < p->len && p->buf[p->pos] == c) {
		p->pos++;
		return 0;
	}
	what[10] = c;
	return parse_fail(p, p->pos, what, p->pos >= p->len ? " (file is truncated)" : "");
}

/* Decodes one JSON value (object or array) at pos, advancing past it. */
static int parse_value(struct parser *p, json_t **ret)
{
	json_error_t jerr;
	json_t *v;

	skip_ws(p);
	if (p->pos >= p->len)
		return parse_fail(p, p->pos, "unexpected end of file%s", NULL);
	v = json_loadb(p->buf + p->pos, p->len - p->pos, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!v) {
		size_t at = p->pos + (size_t)(jerr.position > 0 ? jerr.position : 0);
		if (at > p->len)
			at = p->len;
		return parse_fail(p, at, "%s", jerr.text);
	}
	p->pos += (size_t)jerr.position;
	*ret = v;
	return 0;
}

/* A key: a JSON string followed by ':'; decoded through jansson for escapes. */
static int parse_key(struct parser *p, char *buf, size_t size)
{
	size_t start, end;
	json_error_t jerr;
	json_t *s;

	skip_ws(p);
	start = p->pos;
	if (start >= p->len || p->buf[start] != '"')
		return parse_fail(p, start, "expected a key%s", NULL);
	for (end = start + 1; end < p->len && p->buf[end] != '"'; end++)
		if (p->buf[end] == '\\')
			end++;
	if (end >= p->len)
		return parse_fail(p, start, "unterminated key%s", NULL);
	s = json_loadb(p->buf + start, end + 1 - start, JSON_DECODE_ANY, &jerr);
	if (!json_is_string(s)) {
		json_decref(s);
		return parse_fail(p, start, "bad key%s", NULL);
	}
	snprintf(buf, size, "%s", json_string_value(s));
	json_decref(s);
	p->pos = end + 1;
	return expect(p, ':');
}

/* A JSON string or {"hex": "..."} back to raw bytes in the model's arena. */
static const char *string_from_json(struct model *m, json_t *v)
{
	const char *h;
	size_t n;
	char *bytes;
	const char *out;

	if (json_is_string(v)) {
		if (memchr(json_string_value(v), 0, json_string_length(v)))
			return NULL;
		return model_strndup(m, json_string_value(v), json_string_length(v));
	}
	if (!json_is_object(v) || json_object_size(v) != 1 ||
	    !json_is_string(json_object_get(v, "hex")))
		return NULL;
	h = json_string_value(json_object_get(v, "hex"));
	n = strlen(h);
	if (n % 2)
		return NULL;
	bytes = malloc(n / 2 + 1);
	if (!bytes)
		return NULL;
	/* No NUL bytes: PostgreSQL text cannot hold them. */
	if (hex_decode(h, (unsigned char *)bytes, n / 2) < 0 || memchr(bytes, 0, n / 2)) {
		free(bytes);
		return NULL;
	}
	out = model_strndup(m, bytes, n / 2);
	free(bytes);
	return out;
}

static int object_from_json(struct parser *p, size_t at, struct model *m, json_t *j,
			    unsigned char ret_hash[32])
{
	enum model_kind kind;
	const char *ident[4] = { NULL, NULL, NULL, NULL };
	static const char *const ident_keys[4] = { "schema", "parent", "name", "signature" };
	json_t *attrs, *v, *hash;
	const char *key;
	int r;

	if (!json_is_object(j))
		return parse_fail(p, at, "object expected in \"objects\"%s", NULL);
	if (!json_is_string(json_object_get(j, "kind")) ||
	    model_kind_from_name(json_string_value(json_object_get(j, "kind")), &kind) < 0)
		return parse_fail(p, at, "missing or unknown \"kind\"%s", NULL);
	for (int i = 0; i < 4; i++) {
		v = json_object_get(j, ident_keys[i]);
		if (v && !(ident[i] = string_from_json(m, v)))
			return parse_fail(p, at, "bad \"%s\"", ident_keys[i]);
	}
	if (!ident[2])
		return parse_fail(p, at, "object without \"name\"%s", NULL);
	hash = json_object_get(j, "hash");
	if (!json_is_string(hash) || json_string_length(hash) != 64 ||
	    hex_decode(json_string_value(hash), ret_hash, 32) < 0)
		return parse_fail(p, at, "object without a valid \"hash\"%s", NULL);
	attrs = json_object_get(j, "attrs");
	if (!json_is_object(attrs))
		return parse_fail(p, at, "object without \"attrs\"%s", NULL);

	r = model_begin(m, kind, ident[0], ident[1], ident[2], ident[3]);
	json_object_foreach(attrs, key, v) {
		if (r < 0)
			break;
		if (json_is_boolean(v)) {
			r = model_set_bool(m, key, json_is_true(v));
		} else if (json_is_integer(v)) {
			r = model_set_int(m, key, json_integer_value(v));
		} else if (json_is_array(v)) {
			size_t n = json_array_size(v);
			const char **items = calloc(n ? n : 1, sizeof(*items));
			if (!items) {
				r = -ENOMEM;
				break;
			}
			for (size_t i = 0; i < n; i++)
				if (!(items[i] = string_from_json(m, json_array_get(v, i))))
					r = -EINVAL;
			if (r == 0)
				r = model_set_list(m, key, items, n);
			free(items);
		} else {
			const char *s = string_from_json(m, v);
			r = s ? model_set_str(m, key, s) : -EINVAL;
		}
		if (r < 0) {
			if (m->in_object)
				model_end(m);
			return parse_fail(p, at, "bad value for attribute \"%s\"", key);
		}
	}
	if (r == 0)
		r = model_end(m);
	if (r < 0)
		return parse_fail(p, at, "cannot build object: %s", strerror(-r));
	return 0;
}

static int parse_objects(struct parser *p, struct model *m)
{
	int r = expect(p, '[');
	if (r < 0)
		return r;
	skip_ws(p);
	if (p->pos < p->len && p->buf[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		json_t *j;
		size_t at;
		unsigned char hash[32];

		skip_ws(p);
		at = p->pos;
		r = parse_value(p, &j);
		if (r < 0)
			return r;
		r = object_from_json(p, at, m, j, hash);
		json_decref(j);
		if (r < 0)
			return r;
		/* Verified here, so a damaged object is reported at its own byte. */
		struct model_object *o = &m->objects[m->n_objects - 1];
		if ((r = object_hash(&p->canon, o)) < 0)
			return parse_fail(p, at, "cannot hash object: %s", strerror(-r));
		if (memcmp(hash, o->hash, 32) != 0) {
			char obj[256];
			model_object_name(o, obj, sizeof(obj));
			return parse_fail(p, at,
					  "object %s does not match its hash (file damaged or edited)",
					  obj);
		}
		if (m->n_objects > 1) {
			int cmp = model_object_cmp(o - 1, o);
			if (cmp == 0) {
				char obj[256];
				model_object_name(o, obj, sizeof(obj));
				return parse_fail(p, at, "object %s is duplicated", obj);
			}
			p->unsorted |= cmp > 0;
		}
		skip_ws(p);
		if (p->pos < p->len && p->buf[p->pos] == ',') {
			p->pos++;
			continue;
		}
		return expect(p, ']');
	}
}

static int parse_header(struct parser *p, size_t at, json_t *h, unsigned char ret_hash[32],
			size_t *ret_count, struct model *m)
{
	json_t *v = json_object_get(h, "version"), *meta;
	const char *hex;

	if (!json_is_object(h))
		return parse_fail(p, at, "\"schemadrift_snapshot\" is not an object%s", NULL);
	if (!json_is_integer(v))
		return parse_fail(p, at, "snapshot has no version%s", NULL);
	if (json_integer_value(v) != SNAPSHOT_VERSION) {
		char msg[128];
		snprintf(msg, sizeof(msg), "unsupported snapshot version %lld (this build reads %d)",
			 (long long)json_integer_value(v), SNAPSHOT_VERSION);
		return parse_fail(p, at, "%s", msg);
	}
	v = json_object_get(h, "hash");
	hex = json_string_value(v);
	if (!hex || strlen(hex) != 64 || hex_decode(hex, ret_hash, 32) < 0)
		return parse_fail(p, at, "snapshot header has no valid hash%s", NULL);
	v = json_object_get(h, "objects");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return parse_fail(p, at, "snapshot header has no object count%s", NULL);
	*ret_count = (size_t)json_integer_value(v);
	meta = json_object_get(h, "meta");
	if (json_is_object(meta)) {
		if ((v = json_object_get(meta, "server_version")))
			m->server_version = string_from_json(m, v);
		if ((v = json_object_get(meta, "database")))
			m->database = string_from_json(m, v);
		if ((v = json_object_get(meta, "taken_at")))
			m->taken_at = string_from_json(m, v);
		if ((v = json_object_get(meta, "fingerprint")))
			m->fingerprint = string_from_json(m, v);
		if ((v = json_object_get(meta, "recorder")))
			recorder_from_json(m, v);
	}
	return 0;
}

int snapshot_parse(const char *buf, size_t len, const char *name, struct model **ret,
		   struct error *err)
{
	struct parser p = { .buf = buf, .len = len, .name = name, .err = err };
	struct model *m = NULL;
	unsigned char header_hash[32];
	size_t count = 0, header_at = 0;
	bool have_header = false, have_objects = false;
	int r;

	r = model_new(&m);
	if (r < 0)
		return error_set(err, r, "%s: out of memory", name);
	r = expect(&p, '{');
	while (r == 0) {
		char key[64];
		json_t *v;

		skip_ws(&p);
		if (p.pos < p.len && p.buf[p.pos] == '}') {
			p.pos++;
			break;
		}
		if (have_header || have_objects) {
			if ((r = expect(&p, ',')) < 0)
				break;
		}
		if ((r = parse_key(&p, key, sizeof(key))) < 0)
			break;
		if (strcmp(key, "objects") == 0) {
			if (!have_header) {
				r = parse_fail(&p, p.pos, "\"objects\" before the header%s", NULL);
				break;
			}
			r = parse_objects(&p, m);
			have_objects = true;
			continue;
		}
		skip_ws(&p);
		size_t at = p.pos;
		if ((r = parse_value(&p, &v)) < 0)
			break;
		if (strcmp(key, "schemadrift_snapshot") == 0) {
			header_at = at;
			r = parse_header(&p, at, v, header_hash, &count, m);
			have_header = true;
		} else {
			r = parse_fail(&p, at, "unexpected key \"%s\"", key);
		}
		json_decref(v);
	}
	if (r == 0) {
		skip_ws(&p);
		if (p.pos != p.len)
			r = parse_fail(&p, p.pos, "trailing data after the snapshot%s", NULL);
		else if (!have_header)
			r = parse_fail(&p, 0, "not a schemadrift snapshot (no header)%s", NULL);
		else if (!have_objects)
			r = parse_fail(&p, p.len, "snapshot has no \"objects\" (file is truncated?)%s",
				       NULL);
		else if (count != m->n_objects) {
			char msg[128];
			snprintf(msg, sizeof(msg), "header says %zu objects, file has %zu", count,
				 m->n_objects);
			r = parse_fail(&p, header_at, "%s", msg);
		}
	}
	/* Objects in canonical order had their duplicates found where they
	 * were read; only an edited, reordered file gets here with one. */
	if (r == 0 && model_finish(m) < 0)
		r = parse_fail(&p, 0, "objects are duplicated%s",
			       p.unsorted ? " (and out of canonical order: the file was edited)"
					  : "");
	strbuf_done(&p.canon);
	if (r == 0) {
		r = model_hash(m);
		if (r == 0 && memcmp(header_hash, m->hash, 32) != 0)
			r = parse_fail(&p, header_at, "snapshot hash does not match its objects%s", NULL);
	}
	if (r < 0) {
		model_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

int snapshot_load(const char *path, struct model **ret, struct error *err)
{
	char *buf;
	size_t len;
	int r;

	r = fileio_read_all(path, &buf, &len, err);
	if (r < 0)
		return r;
	r = snapshot_parse(buf, len, strcmp(path, "-") == 0 ? "<stdin>" : path, ret, err);
	free(buf);
	return r;
}

/* ---- streaming: a file's hash, and what differs between two files ----
 *
 * snapshot_write() puts the header on the first line and one object per
 * line, each starting with its hash.  Reading a file in that layout line by
 * line, an object's hash is checked over its own bytes ("{" and the line
 * after the hash is its canonical text) without building anything, and two
 * files are compared a group at a time (an object with its children, the
 * way model_object_cmp orders them): byte-identical groups are skipped and
 * only the others are built.  Anything else (another layout, objects out of
 * order, a line that is not canonical) is -EAGAIN: the caller falls back to
 * snapshot_load(), which reads any valid snapshot and reports errors.
 */

/* The longest line the streaming reader takes: one object's canonical text. */
#define STREAM_LINE_MAX ((size_t)32 << 20)
#define STREAM_HEAD "{\"schemadrift_snapshot\":"
#define STREAM_OBJECTS "\"objects\":["
/* {"hash":"<64 hex digits>", */
#define STREAM_OBJ_HEAD 75

/* One object line and the key of its group, decoded. */
struct stream_line {
	char *text; /* without the newline and the comma after it */
	size_t len, off;
	unsigned char hash[32];
	/* The group key, decoded into the same allocation, after the text. */
	bool is_schema;
	const char *schema, *parent, *name;
};

struct stream {
	FILE *f;
	const char *name;
	struct error *err;
	char buf[1 << 16];
	size_t pos, end, off;
	bool eof;
	char *line;
	size_t len, cap, line_off;
	struct model *m; /* the header's meta fields go here */
	unsigned char header_hash[32];
	size_t count, n;
	bool comma; /* the last object line ended with one */
	bool ended; /* "]}" and the checks after it passed */
	EVP_MD_CTX *overall;
	struct stream_line next; /* read ahead: the first line of the next group */
	bool have_next;
};

static void stream_line_done(struct stream_line *l)
{
	free(l->text);
	memset(l, 0, sizeof(*l));
}

/* The next line into s->line: 1, 0 at the end of the file, or an error. */
static int stream_read_line(struct stream *s)
{
	s->len = 0;
	s->line_off = s->off;
	for (;;) {
		char *nl;
		size_t take;

		if (s->pos == s->end) {
			size_t n;

			if (s->eof)
				return s->len ? 1 : 0;
			n = fread(s->buf, 1, sizeof(s->buf), s->f);
			if (n == 0) {
				if (ferror(s->f))
					return error_set(s->err, -EIO, "%s: %s", s->name, strerror(errno));
				s->eof = true;
				continue;
			}
			s->pos = 0;
			s->end = n;
		}
		nl = memchr(s->buf + s->pos, '\n', s->end - s->pos);
		take = nl ? (size_t)(nl - (s->buf + s->pos)) : s->end - s->pos;
		if (s->len + take + 1 > STREAM_LINE_MAX)
			return error_set(s->err, -EBADMSG, "%s: byte %zu: a line longer than %zu MiB",
					 s->name, s->line_off, STREAM_LINE_MAX >> 20);
		if (s->len + take + 1 > s->cap) {
			size_t cap = s->cap ? s->cap : 4096;
			char *nb;

			while (cap < s->len + take + 1)
				cap *= 2;
			if (!(nb = realloc(s->line, cap)))
				return error_set(s->err, -ENOMEM, "%s: out of memory", s->name);
			s->line = nb;
			s->cap = cap;
		}
		memcpy(s->line + s->len, s->buf + s->pos, take);
		s->len += take;
		s->pos += take + (nl ? 1 : 0);
		s->off += take + (nl ? 1 : 0);
		s->line[s->len] = '\0';
		if (nl)
			return 1;
	}
}

static void stream_close(struct stream *s)
{
	if (s->f)
		fclose(s->f);
	free(s->line);
	EVP_MD_CTX_free(s->overall);
	stream_line_done(&s->next);
}

/* Opens path and reads the header: 0, -EAGAIN when not in the written layout. */
static int stream_open(struct stream *s, const char *path, struct model *m, struct error *err)
{
	struct parser p = { 0 };
	json_error_t jerr;
	json_t *h;
	int r;

	memset(s, 0, sizeof(*s));
	s->name = path;
	s->err = err;
	s->m = m;
	if (!(s->overall = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(s->overall, sha256(), NULL))
		return error_set(err, -ENOMEM, "%s: out of memory", path);
	if (!(s->f = fopen(path, "re")))
		return error_set(err, -errno, "%s: %s", path, strerror(errno));
	/* Not even JSON (binary data, /dev/zero): say so at once, without
	 * reading it all looking for a line or handing it to the full reader. */
	s->end = fread(s->buf, 1, sizeof(s->buf), s->f);
	if (ferror(s->f))
		return error_set(err, -EIO, "%s: %s", path, strerror(errno));
	if (s->end == 0 || !memchr("{ \t\r\n", s->buf[0], 5))
		return error_set(err, -EBADMSG, "%s: byte 0: not a schemadrift snapshot (no JSON "
				 "object)", path);
	if ((r = stream_read_line(s)) <= 0)
		return r < 0 ? r : -EAGAIN;
	if (strncmp(s->line, STREAM_HEAD, strlen(STREAM_HEAD)) != 0 || s->len < 27 ||
	    s->line[s->len - 1] != ',')
		return -EAGAIN;
	h = json_loadb(s->line + strlen(STREAM_HEAD), s->len - strlen(STREAM_HEAD) - 1, 0, &jerr);
	if (!h)
		return -EAGAIN;
	p = (struct parser){ .buf = s->line, .len = s->len, .name = path, .err = err };
	r = parse_header(&p, strlen(STREAM_HEAD), h, s->header_hash, &s->count, m);
	json_decref(h);
	if (r < 0)
		return r;
	if ((r = stream_read_line(s)) <= 0)
		return r < 0 ? r : -EAGAIN;
	return strcmp(s->line, STREAM_OBJECTS) == 0 ? 0 : -EAGAIN;
}

/*
 * A JSON string or {"hex": "..."} at *p (as the canonical text writes it),
 * decoded at *cursor (never longer than its JSON form) and NUL-terminated.
 */
static int stream_string(const char **p, const char *end, char **cursor, const char **ret)
{
	const char *q = *p;
	json_error_t jerr;
	json_t *v;
	struct model *scratch;
	const char *bytes;
	int r = -EAGAIN;

	if (q < end && *q == '"') {
		const char *close = memchr(q + 1, '"', (size_t)(end - q - 1));

		if (!close)
			return -EAGAIN;
		if (!memchr(q + 1, '\\', (size_t)(close - q - 1))) {
			size_t n = (size_t)(close - q - 1);

			memcpy(*cursor, q + 1, n);
			(*cursor)[n] = '\0';
			*ret = *cursor;
			*cursor += n + 1;
			*p = close + 1;
			return 0;
		}
		/* An escaped quote may end it later: find the real end. */
		for (q++; q < end && *q != '"'; q++)
			if (*q == '\\')
				q++;
		if (q >= end)
			return -EAGAIN;
		q++;
	} else if (q + 1 < end && *q == '{') {
		q = memchr(q, '}', (size_t)(end - q));
		if (!q)
			return -EAGAIN;
		q++;
	} else {
		return -EAGAIN;
	}
	/* Escapes or hex bytes: rare, left to jansson and the model's decoder. */
	v = json_loadb(*p, (size_t)(q - *p), JSON_DECODE_ANY, &jerr);
	if (v && model_new(&scratch) == 0) {
		bytes = string_from_json(scratch, v);
		if (bytes && strlen(bytes) <= (size_t)(q - *p)) {
			strcpy(*cursor, bytes);
			*ret = *cursor;
			*cursor += strlen(bytes) + 1;
			r = 0;
		}
		model_free(scratch);
	}
	json_decref(v);
	if (r == 0)
		*p = q;
	return r;
}

/*
 * The group key of an object line, from the identity after its attrs:
 * `},"kind":"` cannot occur earlier in the line than where the attrs end
 * (quotes inside strings are escaped, and no attribute is called "kind"),
 * so the last occurrence is it.
 */
static int stream_ident(struct stream_line *l)
{
	static const char mark[] = "},\"kind\":";
	static const char *const keys[] = { ",\"parent\":", ",\"schema\":", ",\"signature\":" };
	const char **fields[] = { &l->parent, &l->schema, NULL };
	const char *end = l->text + l->len, *p = end - (sizeof(mark) - 1), *kind, *skip;
	char *cursor = l->text + l->len + 1;
	int r;

	while (p > l->text + STREAM_OBJ_HEAD && memcmp(p, mark, sizeof(mark) - 1) != 0)
		p--;
	if (p <= l->text + STREAM_OBJ_HEAD || strncmp(l->text + STREAM_OBJ_HEAD, "\"attrs\":{", 9))
		return -EAGAIN;
	p += sizeof(mark) - 1;
	if ((r = stream_string(&p, end, &cursor, &kind)) < 0)
		return r;
	l->is_schema = strcmp(kind, "schema") == 0;
	if (strncmp(p, ",\"name\":", 8) != 0)
		return -EAGAIN;
	p += 8;
	if ((r = stream_string(&p, end, &cursor, &l->name)) < 0)
		return r;
	for (size_t i = 0; i < 3; i++) {
		if (strncmp(p, keys[i], strlen(keys[i])) != 0)
			continue;
		p += strlen(keys[i]);
		if ((r = stream_string(&p, end, &cursor, fields[i] ? fields[i] : &skip)) < 0)
			return r;
	}
	return p + 1 == end && *p == '}' ? 0 : -EAGAIN;
}

/* The end of the objects: "]}", then nothing but blanks; counts and the overall hash. */
static int stream_end(struct stream *s)
{
	unsigned char overall[32];
	unsigned int mdlen;
	int r;

	if (s->comma)
		return -EAGAIN;
	while ((r = stream_read_line(s)) > 0)
		if (strspn(s->line, " \t\r") != s->len)
			return -EAGAIN;
	if (r < 0)
		return r;
	if (!EVP_DigestFinal_ex(s->overall, overall, &mdlen))
		return error_set(s->err, -EIO, "%s: cannot hash", s->name);
	/* Objects out of order or a count that is off: the full reader knows. */
	if (s->n != s->count || memcmp(overall, s->header_hash, 32) != 0)
		return -EAGAIN;
	s->ended = true;
	return 0;
}

/* The next object line (with its group key when ident): 1, 0 after the last, or an error. */
static int stream_next(struct stream *s, struct stream_line *ret, bool ident)
{
	struct stream_line l = { 0 };
	int r = s->ended ? 0 : stream_read_line(s);

	if (s->ended)
		return 0;
	if (r <= 0)
		return r < 0 ? r : -EAGAIN; /* no "]}" */
	if (strcmp(s->line, "]}") == 0)
		return stream_end(s);
	if (s->n && !s->comma)
		return -EAGAIN;
	s->comma = s->len && s->line[s->len - 1] == ',';
	if (s->comma)
		s->line[--s->len] = '\0';
	if (s->len < STREAM_OBJ_HEAD + 2 || strncmp(s->line, "{\"hash\":\"", 9) != 0 ||
	    strncmp(s->line + 73, "\",", 2) != 0 ||
	    hex_decode(s->line + 9, l.hash, 32) < 0)
		return -EAGAIN;
	if (!EVP_DigestUpdate(s->overall, l.hash, 32))
		return error_set(s->err, -EIO, "%s: cannot hash", s->name);
	s->n++;
	l.len = s->len;
	l.off = s->line_off;
	/* Room after the text for the decoded group key (shorter than the line). */
	if (!(l.text = malloc(2 * s->len + 2)))
		return error_set(s->err, -ENOMEM, "%s: out of memory", s->name);
	memcpy(l.text, s->line, s->len + 1);
	if (ident && (r = stream_ident(&l)) < 0) {
		stream_line_done(&l);
		return r == -EAGAIN ? r : error_set(s->err, r, "%s: out of memory", s->name);
	}
	*ret = l;
	return 1;
}

/* Whether the line's object is what its hash says: "{" and the line after the hash. */
static bool stream_line_verified(const struct stream_line *l)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	unsigned int mdlen;
	bool ok = ctx && EVP_DigestInit_ex(ctx, sha256(), NULL) && EVP_DigestUpdate(ctx, "{", 1) &&
		  EVP_DigestUpdate(ctx, l->text + STREAM_OBJ_HEAD, l->len - STREAM_OBJ_HEAD) &&
		  EVP_DigestFinal_ex(ctx, md, &mdlen) && memcmp(md, l->hash, 32) == 0;

	EVP_MD_CTX_free(ctx);
	return ok;
}

int snapshot_file_hash(const char *path, unsigned char ret[32], struct error *err)
{
	struct model *meta = NULL;
	struct stream s;
	int r = model_new(&meta);

	if (r < 0)
		return error_set(err, r, "%s: out of memory", path);
	r = strcmp(path, "-") == 0 ? -EAGAIN : stream_open(&s, path, meta, err);
	while (r == 0) {
		struct stream_line l;

		r = stream_next(&s, &l, false);
		if (r <= 0)
			break;
		/* Not byte-canonical: the full reader decides what it is. */
		r = stream_line_verified(&l) ? 0 : -EAGAIN;
		stream_line_done(&l);
	}
	if (strcmp(path, "-") != 0)
		stream_close(&s);
	model_free(meta);
	if (r == 0) {
		memcpy(ret, s.header_hash, 32);
		return 0;
	}
	if (r == -EAGAIN) {
		struct model *m;

		if ((r = snapshot_load(path, &m, err)) < 0)
			return r;
		memcpy(ret, m->hash, 32);
		model_free(m);
		return 0;
	}
	return r;
}

struct stream_group {
	struct stream_line *lines;
	size_t n, cap;
};

static void stream_group_done(struct stream_group *g)
{
	for (size_t i = 0; i < g->n; i++)
		stream_line_done(&g->lines[i]);
	g->n = 0;
}

static const char *group_schema(const struct stream_line *l)
{
	return l->is_schema ? l->name : l->schema;
}

static int group_str_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* The order of groups: model_object_cmp's first three keys. */
static int group_cmp(const struct stream_line *a, const struct stream_line *b)
{
	int r = group_str_cmp(group_schema(a), group_schema(b));

	if (r)
		return r;
	if (a->is_schema != b->is_schema)
		return a->is_schema ? -1 : 1;
	return group_str_cmp(a->parent ? a->parent : a->name, b->parent ? b->parent : b->name);
}

/* The next group of s into g (emptied first): n > 0, or 0 at the end. */
static int stream_group_next(struct stream *s, struct stream_group *g)
{
	int r;

	stream_group_done(g);
	if (!s->have_next) {
		r = stream_next(s, &s->next, true);
		if (r <= 0)
			return r;
		s->have_next = true;
	}
	for (;;) {
		if (g->n == g->cap) {
			size_t cap = g->cap ? g->cap * 2 : 16;
			struct stream_line *nl = realloc(g->lines, cap * sizeof(*nl));

			if (!nl)
				return error_set(s->err, -ENOMEM, "%s: out of memory", s->name);
			g->lines = nl;
			g->cap = cap;
		}
		g->lines[g->n++] = s->next;
		memset(&s->next, 0, sizeof(s->next));
		s->have_next = false;
		r = stream_next(s, &s->next, true);
		if (r < 0)
			return r;
		if (r == 0)
			return (int)(g->n > 0);
		s->have_next = true;
		r = group_cmp(&g->lines[0], &s->next);
		if (r > 0)
			return -EAGAIN; /* out of order */
		if (r < 0)
			return 1;
	}
}

static bool groups_equal(const struct stream_group *a, const struct stream_group *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->lines[i].len != b->lines[i].len ||
		    memcmp(a->lines[i].text, b->lines[i].text, a->lines[i].len) != 0)
			return false;
	return true;
}

/* Builds every object of g into m, each checked against its hash. */
static int stream_build(struct stream *s, const struct stream_group *g, struct model *m,
			struct strbuf *c)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct stream_line *l = &g->lines[i];
		struct parser p = { .buf = l->text, .len = l->len, .name = s->name, .err = s->err,
				      .base = l->off };
		unsigned char stored[32];
		struct model_object *o;
		json_t *j;
		int r;

		if ((r = parse_value(&p, &j)) < 0)
			return r;
		r = object_from_json(&p, 0, m, j, stored);
		json_decref(j);
		if (r < 0)
			return r;
		o = &m->objects[m->n_objects - 1];
		if ((r = object_hash(c, o)) < 0)
			return error_set(s->err, r, "%s: cannot hash", s->name);
		if (memcmp(stored, o->hash, 32) != 0) {
			char obj[256];

			model_object_name(o, obj, sizeof(obj));
			return parse_fail(&p, 0, "object %s does not match its hash (file damaged or "
					  "edited)", obj);
		}
	}
	return 0;
}

/* A partition's columns are compared with its parent's (diff.c), which may
 * sit in a group that was skipped: such diffs need the whole files. */
static bool has_partition(const struct model *m)
{
	for (size_t i = 0; i < m->n_objects; i++)
		if ((m->objects[i].kind == MODEL_TABLE || m->objects[i].kind == MODEL_FOREIGN_TABLE) &&
		    model_object_attr(&m->objects[i], "partition_of"))
			return true;
	return false;
}

static int load_differing(struct stream *sa, struct stream *sb, struct model *a,
			  struct model *b)
{
	struct stream_group ga = { 0 }, gb = { 0 };
	struct strbuf c = { 0 };
	int ra = stream_group_next(sa, &ga), rb = ra < 0 ? 0 : stream_group_next(sb, &gb);
	int r = ra < 0 ? ra : rb < 0 ? rb : 0;

	while (r == 0 && (ga.n || gb.n)) {
		int cmp = !ga.n ? 1 : !gb.n ? -1 : group_cmp(&ga.lines[0], &gb.lines[0]);

		if (cmp != 0 || !groups_equal(&ga, &gb)) {
			if (cmp <= 0)
				r = stream_build(sa, &ga, a, &c);
			if (r == 0 && cmp >= 0)
				r = stream_build(sb, &gb, b, &c);
		}
		if (r == 0 && cmp <= 0 && (ra = stream_group_next(sa, &ga)) < 0)
			r = ra;
		if (r == 0 && cmp >= 0 && (rb = stream_group_next(sb, &gb)) < 0)
			r = rb;
	}
	strbuf_done(&c);
	stream_group_done(&ga);
	stream_group_done(&gb);
	free(ga.lines);
	free(gb.lines);
	return r;
}

int snapshot_load_differing(const char *path_a, const char *path_b, struct model **ret_a,
			    struct model **ret_b, struct error *err)
{
	struct model *a = NULL, *b = NULL;
	struct stream sa, sb;
	bool open_a = false, open_b = false;
	int r;

	if (strcmp(path_a, "-") == 0 || strcmp(path_b, "-") == 0)
		return -EAGAIN;
	if ((r = model_new(&a)) < 0 || (r = model_new(&b)) < 0) {
		r = error_set(err, r, "out of memory");
		goto out;
	}
	r = stream_open(&sa, path_a, a, err);
	open_a = true;
	if (r == 0) {
		r = stream_open(&sb, path_b, b, err);
		open_b = true;
	}
	if (r == 0)
		r = load_differing(&sa, &sb, a, b);
	if (r == 0 && (model_finish(a) < 0 || model_finish(b) < 0))
		r = -EAGAIN;
	if (r == 0 && (has_partition(a) || has_partition(b)))
		r = -EAGAIN;
out:
	if (open_a)
		stream_close(&sa);
	if (open_b)
		stream_close(&sb);
	if (r < 0) {
		model_free(a);
		model_free(b);
		return r;
	}
	memcpy(a->hash, sa.header_hash, 32);
	memcpy(b->hash, sb.header_hash, 32);
	a->hashed = b->hashed = true;
	*ret_a = a;
	*ret_b = b;
	return 0;
}
