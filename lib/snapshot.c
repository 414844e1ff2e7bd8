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

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes 2*n hex digits into n bytes; -EINVAL on a non-hex digit. */
static int hex_decode(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hi < 0 ? -1 : hex_nibble(hex[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}


struct parser {
	const char *buf;
	size_t len, pos;
	const char *name;
	struct error *err;
};

static int parse_fail(struct parser *p, size_t at, const char *fmt, const char *detail)
{
	char what[512];

	snprintf(what, sizeof(what), fmt, detail ? detail : "");
	return error_set(p->err, -EBADMSG, "%s: byte %zu: %s", p->name, at, what);
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
		/* Remember the stored hash and where the object was, for verification. */
		memcpy(m->objects[m->n_objects - 1].hash, hash, 32);
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
	}
	return 0;
}

int snapshot_parse(const char *buf, size_t len, const char *name, struct model **ret,
		   struct error *err)
{
	struct parser p = { buf, len, 0, name, err };
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
		else if (count != m->n_objects)
			r = parse_fail(&p, header_at, "header says %s objects, file has a different number",
				       NULL);
	}
	if (r == 0 && model_finish(m) < 0)
		r = parse_fail(&p, 0, "objects are duplicated%s", NULL);
	if (r == 0) {
		/* Verify: recompute every hash; a mismatch means a damaged or edited file. */
		struct strbuf c = { 0 };
		for (size_t i = 0; r == 0 && i < m->n_objects; i++) {
			unsigned char stored[32];
			memcpy(stored, m->objects[i].hash, 32);
			r = object_hash(&c, &m->objects[i]);
			if (r == 0 && memcmp(stored, m->objects[i].hash, 32) != 0) {
				char obj[256];
				model_object_name(&m->objects[i], obj, sizeof(obj));
				r = parse_fail(&p, 0, "object %s does not match its hash (file damaged or edited)",
					       obj);
			}
		}
		strbuf_done(&c);
		if (r == 0)
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
