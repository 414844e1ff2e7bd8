/* Unit tests for lib/snapshot.c and lib/model.c: canonical text, round trips, errors. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "model.h"
#include "snapshot.h"

/* Strings that stress escaping: quotes, backslashes, controls, multi-byte, DEL. */
static const char *const hostile[] = {
	"plain", "with \"quotes\"", "back\\slash", "new\nline", "tab\there", "cr\rlf",
	"\x01\x1f ctl", "del\x7f", "caf\xc3\xa9", "emoji \xf0\x9f\x98\x80", "/slash/",
	"{\"json\":1}", "*bold* @channel <b>", "", "\xe9t\xe9 latin1", "bad \xff\xfe bytes",
	"\xc3", /* truncated sequence */
};
#define N_HOSTILE (sizeof(hostile) / sizeof(hostile[0]))

static struct model *build_model(void)
{
	struct model *m;

	ck_assert_int_eq(model_new(&m), 0);
	for (size_t i = 0; i < N_HOSTILE; i++) {
		char name[64];
		const char *items[3] = { hostile[i], "b", hostile[(i + 1) % N_HOSTILE] };

		snprintf(name, sizeof(name), "t%zu %s", i, i % 2 ? "x" : "");
		ck_assert_int_eq(model_begin(m, MODEL_TABLE, hostile[i][0] ? hostile[i] : "s",
					     NULL, name, NULL), 0);
		model_set_bool(m, "unlogged", i % 2);
		model_set_list(m, "inherits", items, i % 4);
		model_set_str(m, "partition_bound", hostile[(i + 3) % N_HOSTILE]);
		ck_assert_int_eq(model_end(m), 0);

		ck_assert_int_eq(model_begin(m, MODEL_COLUMN, hostile[i][0] ? hostile[i] : "s",
					     name, hostile[(i + 5) % N_HOSTILE], NULL), 0);
		model_set_int(m, "position", (long long)i - 3);
		model_set_str(m, "type", "numeric(10,2)");
		model_set_str(m, "default", hostile[i]);
		model_set_bool(m, "not_null", true);
		ck_assert_int_eq(model_end(m), 0);
	}
	ck_assert_int_eq(model_begin(m, MODEL_SCHEMA, NULL, NULL, "public", NULL), 0);
	ck_assert_int_eq(model_end(m), 0);
	ck_assert_int_eq(model_finish(m), 0);
	ck_assert_int_eq(snapshot_hash(m), 0);
	return m;
}

static char *write_to_string(struct model *m, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	struct error err;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(snapshot_write(m, f, &err), 0);
	fclose(f);
	return buf;
}

START_TEST(canonical_text_is_janssons)
{
	struct model *m = build_model();

	for (size_t i = 0; i < m->n_objects; i++) {
		json_t *j = snapshot_object_json(&m->objects[i]);
		char *ours = snapshot_object_text(&m->objects[i]);
		char *theirs = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);

		ck_assert_ptr_nonnull(j);
		ck_assert_ptr_nonnull(theirs);
		ck_assert_str_eq(ours, theirs);
		free(ours);
		free(theirs);
		json_decref(j);
	}
	model_free(m);
}
END_TEST

START_TEST(invalid_utf8_is_hex)
{
	json_t *j = snapshot_string_json("bad \xff");
	json_t *ok = snapshot_string_json("caf\xc3\xa9");

	ck_assert(json_is_object(j));
	ck_assert_str_eq(json_string_value(json_object_get(j, "hex")), "62616420ff");
	ck_assert(json_is_string(ok));
	ck_assert_str_eq(json_string_value(ok), "caf\xc3\xa9");
	json_decref(j);
	json_decref(ok);
}
END_TEST

static void assert_models_equal(const struct model *a, const struct model *b)
{
	ck_assert_uint_eq(a->n_objects, b->n_objects);
	ck_assert_mem_eq(a->hash, b->hash, 32);
	for (size_t i = 0; i < a->n_objects; i++) {
		const struct model_object *x = &a->objects[i], *y = &b->objects[i];
		ck_assert_int_eq(model_object_cmp(x, y), 0);
		ck_assert_uint_eq(x->n_attrs, y->n_attrs);
		for (size_t k = 0; k < x->n_attrs; k++) {
			ck_assert_str_eq(x->attrs[k].name, y->attrs[k].name);
			ck_assert(model_value_equal(&x->attrs[k].value, &y->attrs[k].value));
		}
	}
}

START_TEST(round_trip_keeps_bytes_and_hash)
{
	struct model *m = build_model(), *back = NULL;
	size_t len;
	char *text = write_to_string(m, &len);
	struct error err;

	ck_assert_int_eq(snapshot_parse(text, len, "mem", &back, &err), 0);
	assert_models_equal(m, back);
	/* The invalid bytes come back exactly. */
	bool found = false;
	for (size_t i = 0; i < back->n_objects; i++)
		if (back->objects[i].schema && strcmp(back->objects[i].schema, "bad \xff\xfe bytes") == 0)
			found = true;
	ck_assert(found);
	/* Writing what was read gives the same bytes. */
	size_t len2;
	char *again = write_to_string(back, &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_mem_eq(text, again, len);
	free(text);
	free(again);
	model_free(m);
	model_free(back);
}
END_TEST

/* The daemon keeps a drifting target's baseline model: with hundreds of small
 * databases, what a small model holds is what the daemon's RSS grows by. */
START_TEST(a_small_model_is_small)
{
	struct model *m = build_model(), *back = NULL;
	size_t len;
	char *text = write_to_string(m, &len);
	struct error err;

	ck_assert_uint_eq(m->n_objects, 2 * N_HOSTILE + 1);
	ck_assert_int_eq(snapshot_parse(text, len, "mem", &back, &err), 0);
	/* 35 objects in an 8 KB snapshot: 17.7 KB parsed (9.5 KB as built), where a
	 * first arena chunk of 64 KiB and 256 object slots made it about 90 KB. */
	ck_assert_uint_lt(len, 16 * 1024);
	ck_assert_uint_le(model_heap_bytes(back), 3 * len);
	ck_assert_uint_le(model_heap_bytes(m), 3 * len);
	free(text);
	model_free(m);
	model_free(back);
}
END_TEST

START_TEST(any_layout_reads_the_same)
{
	struct model *m = build_model(), *back = NULL;
	size_t len;
	char *text = write_to_string(m, &len);
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, 0, &jerr);
	char *pretty;
	struct error err;

	ck_assert_ptr_nonnull(doc);
	pretty = json_dumps(doc, JSON_INDENT(3));
	ck_assert_int_eq(snapshot_parse(pretty, strlen(pretty), "pretty", &back, &err), 0);
	assert_models_equal(m, back);
	json_decref(doc);
	free(pretty);
	free(text);
	model_free(m);
	model_free(back);
}
END_TEST

static void expect_error(const char *buf, size_t len, const char *needle, long byte)
{
	struct model *m = NULL;
	struct error err;
	char want[64];

	ck_assert_int_lt(snapshot_parse(buf, len, "f.json", &m, &err), 0);
	ck_assert_ptr_null(m);
	ck_assert_msg(strncmp(err.text, "f.json: byte ", 13) == 0, "no offset: %s", err.text);
	if (byte >= 0) {
		snprintf(want, sizeof(want), "f.json: byte %ld:", byte);
		ck_assert_msg(strncmp(err.text, want, strlen(want)) == 0, "want %s got %s", want,
			      err.text);
	}
	ck_assert_msg(strstr(err.text, needle), "want '%s' in: %s", needle, err.text);
}

START_TEST(truncation_is_reported_with_offset)
{
	struct model *m = build_model();
	size_t len;
	char *text = write_to_string(m, &len);

	/* Every prefix fails, naming an offset inside the prefix. */
	for (size_t cut = 0; cut < len - 1; cut += 1 + cut / 7) {
		struct model *back = NULL;
		struct error err;
		unsigned long at;

		ck_assert_int_lt(snapshot_parse(text, cut, "f.json", &back, &err), 0);
		ck_assert_ptr_null(back);
		ck_assert_msg(sscanf(err.text, "f.json: byte %lu:", &at) == 1, "%s", err.text);
		ck_assert_msg(at <= cut, "offset %lu past the end %zu: %s", at, cut, err.text);
	}
	free(text);
	model_free(m);
}
END_TEST

START_TEST(bad_inputs_have_clear_errors)
{
	expect_error("", 0, "expected '{'", 0);
	expect_error("hello", 5, "expected '{'", 0);
	expect_error("[1,2]", 5, "expected '{'", 0);
	expect_error("{\"objects\":[]}", 14, "before the header", -1);
	static const char v2[] = "{\"schemadrift_snapshot\":{\"version\":2,\"hash\":\"00\",\"objects\":0},\"objects\":[]}";
	expect_error(v2, sizeof(v2) - 1, "unsupported snapshot version 2", 24);
	static const char garbage[] = "{\"schemadrift_snapshot\":{\"version\":1,\"hash\":\"00\" oops";
	expect_error(garbage, sizeof(garbage) - 1, "", -1);
}
END_TEST

START_TEST(tampering_is_detected)
{
	struct model *m = build_model();
	size_t len;
	char *text = write_to_string(m, &len);
	char *p = strstr(text, "numeric(10,2)");

	ck_assert_ptr_nonnull(p);
	p[8] = '9'; /* numeric(19,2): still valid JSON, no longer the hashed content */
	expect_error(text, len, "does not match its hash", -1);
	free(text);
	model_free(m);
}
END_TEST

START_TEST(save_is_atomic)
{
	char dir[] = "/tmp/sdtest.XXXXXX", path[256], bad[300];
	struct model *m = build_model(), *back = NULL;
	struct error err;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/snap.json", dir);
	ck_assert_int_eq(snapshot_save(m, path, &err), 0);
	ck_assert_int_eq(snapshot_load(path, &back, &err), 0);
	assert_models_equal(m, back);
	ck_assert_int_eq(stat(path, &st), 0);
	mode_t mask = umask(0);
	umask(mask);
	ck_assert_int_eq(st.st_mode & 0777, 0666 & ~mask); /* as fopen() would, not mkstemp's 0600 */
	snprintf(bad, sizeof(bad), "%s/missing/snap.json", dir);
	ck_assert_int_lt(snapshot_save(m, bad, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.text, "missing/snap.json"));
	ck_assert_int_lt(stat(bad, &st), 0);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0); /* no temp file left behind */
	model_free(m);
	model_free(back);
}
END_TEST

START_TEST(identities_sort_and_collide)
{
	struct model *m;

	ck_assert_int_eq(model_new(&m), 0);
	model_begin(m, MODEL_INDEX, "public", "orders", "orders_pkey", NULL);
	model_end(m);
	model_begin(m, MODEL_COLUMN, "public", "orders", "id", NULL);
	model_end(m);
	model_begin(m, MODEL_TABLE, "public", NULL, "orders", NULL);
	model_end(m);
	model_begin(m, MODEL_SCHEMA, NULL, NULL, "public", NULL);
	model_end(m);
	model_begin(m, MODEL_TABLE, "a", NULL, "z", NULL);
	model_end(m);
	ck_assert_int_eq(model_finish(m), 0);
	ck_assert_str_eq(m->objects[0].name, "z"); /* schema "a" first */
	ck_assert_int_eq(m->objects[1].kind, MODEL_SCHEMA);
	ck_assert_int_eq(m->objects[2].kind, MODEL_TABLE);
	ck_assert_int_eq(m->objects[3].kind, MODEL_COLUMN);
	ck_assert_int_eq(m->objects[4].kind, MODEL_INDEX);
	model_begin(m, MODEL_COLUMN, "public", "orders", "id", NULL);
	model_end(m);
	ck_assert_int_eq(model_finish(m), -EEXIST);
	model_free(m);
}
END_TEST

START_TEST(names_are_quoted_like_postgres)
{
	char buf[128];
	struct model_object o = { .kind = MODEL_COLUMN, .schema = "My Schema", .parent = "orders",
				  .name = "we\"ird\nname" };

	model_quote_ident("orders", buf, sizeof(buf));
	ck_assert_str_eq(buf, "orders");
	model_quote_ident("Orders", buf, sizeof(buf));
	ck_assert_str_eq(buf, "\"Orders\"");
	model_quote_ident("select", buf, sizeof(buf));
	ck_assert_str_eq(buf, "\"select\"");
	model_quote_ident("1abc", buf, sizeof(buf));
	ck_assert_str_eq(buf, "\"1abc\"");
	model_object_name(&o, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\"My Schema\".orders.\"we\"\"ird\\x0aname\"");
	o.kind = MODEL_INDEX;
	o.name = "bad\xff";
	model_object_name(&o, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\"My Schema\".\"bad\\xff\"");
	/* Truncation still reports the full length, like snprintf. */
	ck_assert_uint_eq(model_object_name(&o, buf, 4), strlen("\"My Schema\".\"bad\\xff\""));
	ck_assert_str_eq(buf, "\"My");
}
END_TEST

static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, canonical_text_is_janssons);
	tcase_add_test(tc, invalid_utf8_is_hex);
	tcase_add_test(tc, round_trip_keeps_bytes_and_hash);
	tcase_add_test(tc, a_small_model_is_small);
	tcase_add_test(tc, any_layout_reads_the_same);
	tcase_add_test(tc, truncation_is_reported_with_offset);
	tcase_add_test(tc, bad_inputs_have_clear_errors);
	tcase_add_test(tc, tampering_is_detected);
	tcase_add_test(tc, save_is_atomic);
	tcase_add_test(tc, identities_sort_and_collide);
	tcase_add_test(tc, names_are_quoted_like_postgres);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(snapshot_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
