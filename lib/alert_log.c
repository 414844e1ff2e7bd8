/* The alerts a target's runs raised, one JSON line each, for the history report. */
#include "alert_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "isotime.h"

static char *log_path(const char *dir)
{
	char *path;

	return asprintf(&path, "%s/%s", dir, ALERT_LOG_FILE) < 0 ? NULL : path;
}

int alert_log_append(const char *dir, const struct alert *a, const char *const *channels,
		     size_t n_channels, struct error *err)
{
	char when[ISOTIME_SIZE], *path = log_path(dir), *text = NULL, *line = NULL;
	char *headline = alert_headline(a);
	json_t *j, *ch = json_array();
	int r;

	isotime_format(a->created, when);
	j = json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:s?, s:I, s:s?}", "time", when, "id", a->id,
		      "kind", alert_kind_name(a->kind), "severity", diff_severity_name(a->severity),
		      "dedup_key", a->dedup_key, "headline", headline,
		      "changes", (json_int_t)a->total_changes, "to", a->to_hash);
	for (size_t i = 0; ch && i < n_channels; i++)
		if (json_array_append_new(ch, json_string(channels[i])) < 0) {
			json_decref(ch);
			ch = NULL;
		}
	if (!path || !j || !ch || json_object_set(j, "channels", ch) < 0 ||
	    !(text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII)) ||
	    asprintf(&line, "%s\n", text) < 0) {
		line = NULL;
		r = error_set(err, -ENOMEM, "out of memory");
	} else {
		r = fileio_append_line_unsynced(path, line, strlen(line), err);
	}
	free(path);
	free(text);
	free(line);
	free(headline);
	json_decref(j);
	json_decref(ch);
	return r;
}

int alert_log_load(const char *dir, json_t **ret, size_t *ret_bad, struct error *err)
{
	char *path = log_path(dir), *buf = NULL;
	size_t len = 0, bad = 0;
	json_t *all;
	int r;

	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	r = fileio_read_all(path, &buf, &len, err);
	free(path);
	if (r == -ENOENT) {
		buf = NULL;
		len = 0;
	} else if (r < 0) {
		return r;
	}
	all = json_array();
	if (!all) {
		free(buf);
		return error_set(err, -ENOMEM, "out of memory");
	}
	for (char *p = buf, *end = buf + len; p && p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		json_t *e;

		if (!nl)
			break; /* an append that never finished */
		e = json_loadb(p, (size_t)(nl - p), 0, NULL);
		if (json_is_object(e))
			json_array_append(all, e);
		else
			bad++;
		json_decref(e);
		p = nl + 1;
	}
	free(buf);
	if (ret_bad)
		*ret_bad = bad;
	*ret = all;
	return 0;
}
