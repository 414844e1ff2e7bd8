/* The store's audit log: every baseline and acknowledgement change, read back for recovery. */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int collect_audit(json_t *j, size_t line_no, void *data)
{
	(void)line_no;
	return json_array_append(data, j) == 0 ? 0 : -ENOMEM;
}

int store_audit_load(struct store *s, json_t **ret, struct error *err)
{
	json_t *a = json_array();
	int r;

	if (!a)
		return error_set(err, -ENOMEM, "out of memory");
	r = store_read_json_lines(s, AUDIT_FILE, collect_audit, a, NULL, NULL, err);
	if (r < 0) {
		json_decref(a);
		return r == -ENOMEM ? error_set(err, r, "out of memory") : r;
	}
	*ret = a;
	return 0;
}

long long store_audit_mark(struct store *s)
{
	return s->ops->log_mark(s, AUDIT_FILE);
}

bool store_audit_has_id(const json_t *audit, const char *id)
{
	size_t i;
	json_t *e;

	json_array_foreach(audit, i, e) {
		const char *v = json_string_value(json_object_get(e, "id"));

		if (v && strcmp(v, id) == 0)
			return true;
	}
	return false;
}

/* Restores baseline.json from the last baseline entry of the audit log. */
int store_audit_restore_baseline(struct store *s, const json_t *audit, struct error *err)
{
	json_t *last = NULL, *e, *state;
	char *path;
	size_t i;
	int r;

	json_array_foreach(audit, i, e) {
		const char *action = json_string_value(json_object_get(e, "action"));

		if (action && strncmp(action, "baseline ", 9) == 0 &&
		    store_is_hex_hash(json_string_value(json_object_get(e, "hash"))) &&
		    store_json_time(e, "time") >= 0)
			last = e;
	}
	if (!last)
		return 0;
	state = json_pack("{si sO sO sO sO sO sO}", "version", 1, "hash",
			  json_object_get(last, "hash"), "accepted_at", json_object_get(last, "time"),
			  "accepted_by", json_object_get(last, "who") ? json_object_get(last, "who") : json_null(),
			  "reason", json_object_get(last, "reason") ? json_object_get(last, "reason") : json_null(),
			  "action", json_object_get(last, "action"), "audit", last);
	path = store_path(s, BASELINE_FILE);
	if (!state || !path) {
		json_decref(state);
		free(path);
		return error_set(err, -ENOMEM, "out of memory");
	}
	char *text = json_dumps(state, JSON_COMPACT | JSON_PRESERVE_ORDER);
	r = text ? s->ops->write(s, BASELINE_FILE, text, strlen(text), err)
		 : error_set(err, -ENOMEM, "out of memory");
	if (r == 0)
		store_warn(s, "%s was missing; restored from %s/%s (%s by %s)", path, s->where,
			   AUDIT_FILE, json_string_value(json_object_get(last, "time")),
			   json_string_value(json_object_get(last, "who")) ?: "?");
	free(text);
	free(path);
	json_decref(state);
	return r;
}
