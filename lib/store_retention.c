/* The store's retention: which snapshots and history lines are kept, and pruning the rest. */
#include "store_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isotime.h"

static void retention_defaults(struct store_retention *r)
{
	r->keep_snapshots = STORE_DEFAULT_KEEP_SNAPSHOTS;
	r->keep_days = STORE_DEFAULT_KEEP_DAYS;
	r->history_days = STORE_DEFAULT_HISTORY_DAYS;
}

int store_retention_get(struct store *s, struct store_retention *ret, struct error *err)
{
	struct store_retention r;
	json_t *j = NULL;
	int e;

	retention_defaults(&r);
	e = store_read_state(s, RETENTION_FILE, &j, err);
	if (e == -ENOENT || e == -EBADMSG) {
		/* A corrupt policy was moved aside; the defaults keep more, never less. */
		error_clear(err);
	} else if (e < 0) {
		return e;
	} else {
		json_t *v;

		if (json_is_integer(v = json_object_get(j, "keep_snapshots")))
			r.keep_snapshots = (int)json_integer_value(v);
		if (json_is_integer(v = json_object_get(j, "keep_days")))
			r.keep_days = (int)json_integer_value(v);
		if (json_is_integer(v = json_object_get(j, "history_days")))
			r.history_days = (int)json_integer_value(v);
		json_decref(j);
	}
	*ret = r;
	return 0;
}

int store_retention_set(struct store *s, const struct store_retention *want, struct error *err)
{
	struct store_retention cur;
	char *text = NULL;
	json_t *j = NULL;
	int r;

	r = store_lock(s, err);
	if (r < 0)
		return r;
	r = store_retention_get(s, &cur, err);
	if (r < 0)
		goto out;
	if (want->keep_snapshots >= 0)
		cur.keep_snapshots = want->keep_snapshots;
	if (want->keep_days >= 0)
		cur.keep_days = want->keep_days;
	if (want->history_days >= 0)
		cur.history_days = want->history_days;
	j = json_pack("{si si si si}", "version", 1, "keep_snapshots", cur.keep_snapshots,
		      "keep_days", cur.keep_days, "history_days", cur.history_days);
	text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (!text) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = s->ops->write(s, RETENTION_FILE, text, strlen(text), err);
out:
	free(text);
	json_decref(j);
	store_unlock(s);
	return r;
}

struct snap_rank {
	const char *hash;
	size_t last_index; /* SIZE_MAX: not in the history */
	time_t last_time;
	time_t mtime;
};

/* Most recently seen first; snapshots the history no longer mentions last, newest file first. */
static int snap_rank_cmp(const void *pa, const void *pb)
{
	const struct snap_rank *a = pa, *b = pb;
	bool ra = a->last_index != SIZE_MAX, rb = b->last_index != SIZE_MAX;

	if (ra != rb)
		return ra ? -1 : 1;
	if (ra && a->last_index != b->last_index)
		return a->last_index > b->last_index ? -1 : 1;
	if (!ra && a->mtime != b->mtime)
		return a->mtime > b->mtime ? -1 : 1;
	return strcmp(a->hash, b->hash);
}

static int hash_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Drops history lines older than the limit; `exact` trims even the ones within the slack. */
static int trim_history(struct store *s, const struct store_history *h, const size_t *lines,
			int history_days, bool exact, size_t *ret_removed, struct error *err)
{
	time_t cutoff = store_now(s) - (time_t)history_days * DAY_SECONDS;
	const struct store_run *latest = store_history_latest(h);
	size_t drop = 0, keep_line_last = h->n ? lines[h->n - 1] : 0, keep_line_ok = 0;
	char *path = NULL, *buf = NULL, *out = NULL;
	size_t len = 0, olen = 0, line_no = 0, ri = 0;
	bool any_old = false;
	int r = 0;

	*ret_removed = 0;
	if (latest)
		keep_line_ok = lines[latest - h->runs];
	for (size_t i = 0; i < h->n; i++) {
		if (h->runs[i].time >= cutoff || lines[i] == keep_line_last || lines[i] == keep_line_ok)
			continue;
		drop++;
		if (exact || h->runs[i].time < cutoff - HISTORY_TRIM_SLACK)
			any_old = true;
	}
	/* Lines that are not records go now: the old file moves to corrupt/ (below). */
	if (h->bad_lines == 0 && (!any_old || drop == 0))
		return 0;
	path = store_path(s, HISTORY_FILE);
	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	r = s->ops->read(s, HISTORY_FILE, &buf, &len, err);
	if (r < 0)
		goto out;
	out = malloc(len + 1);
	if (!out) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* Lines are copied byte for byte; lines that did not parse are left out, so the
	 * old file is kept in corrupt/ when it had any (never silently lost). */
	for (size_t pos = 0; pos < len;) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - buf - pos) + 1 : 0;
		bool keep;

		if (!nl)
			break; /* an unfinished append cannot exist under the lock; drop it */
		line_no++;
		while (ri < h->n && lines[ri] < line_no)
			ri++;
		keep = ri < h->n && lines[ri] == line_no &&
		       (h->runs[ri].time >= cutoff || line_no == keep_line_last ||
			line_no == keep_line_ok);
		if (keep) {
			memcpy(out + olen, buf + pos, n);
			olen += n;
		}
		pos += n;
	}
	if (h->bad_lines) {
		char kept[PATH_MAX + 64];

		r = s->ops->aside(s, HISTORY_FILE, true, kept, sizeof(kept), err);
		if (r < 0)
			goto out;
		store_warn(s, "%s had %zu lines that are not history records; the old file is kept as %s",
			   path, h->bad_lines, kept);
	}
	r = s->ops->write(s, HISTORY_FILE, out, olen, err);
	if (r < 0)
		goto out;
	*ret_removed = drop;
out:
	free(out);
	free(buf);
	free(path);
	return r;
}

/* Retention over the given history (which matches the file: we hold the lock). */
int store_prune_locked(struct store *s, const struct store_history *h, const size_t *lines,
		       bool exact, struct store_prune_result *ret, struct error *err)
{
	struct store_prune_result res = { 0 };
	struct store_retention pol;
	struct store_baseline b = { 0 };
	const struct store_run *latest = store_history_latest(h);
	char (*names)[65] = NULL;
	struct snap_rank *rank = NULL;
	char (*sorted)[65] = NULL;
	size_t n = 0;
	bool have_baseline = false;
	time_t now = store_now(s);
	int r;

	r = store_retention_get(s, &pol, err);
	if (r < 0)
		return r;
	r = store_baseline_get(s, &b, err);
	if (r == 0)
		have_baseline = true;
	else if (r == -ENOENT)
		error_clear(err);
	else
		return error_prefix(err, "retention skipped");

	r = store_list_snapshots(s, &names, &n, err);
	if (r < 0)
		goto out;
	if (!latest) {
		/* Without a successful run we cannot tell the latest: delete nothing. */
		res.snapshots_kept = n;
		goto history;
	}
	rank = calloc(n ? n : 1, sizeof(*rank));
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!rank || !sorted) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (n) /* names is NULL when there are none */
		memcpy(sorted, names, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), hash_cmp);
	for (size_t i = 0; i < n; i++) {
		rank[i].hash = sorted[i];
		rank[i].last_index = SIZE_MAX;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct store_run *run = &h->runs[i];
		char(*hit)[65];

		if (run->outcome != STORE_RUN_OK)
			continue;
		hit = bsearch(run->hash, sorted, n, sizeof(*sorted), hash_cmp);
		if (!hit)
			continue;
		rank[hit - sorted].last_index = i;
		rank[hit - sorted].last_time = run->time;
	}
	for (size_t i = 0; i < n; i++) {
		if (rank[i].last_index == SIZE_MAX) {
			char name[128];

			snprintf(name, sizeof(name), "%s/%s.json", SNAPSHOT_DIR, rank[i].hash);
			rank[i].mtime = s->ops->mtime(s, name);
		}
	}
	qsort(rank, n, sizeof(*rank), snap_rank_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct snap_rank *k = &rank[i];
		bool keep = (int)i < pol.keep_snapshots || strcmp(k->hash, latest->hash) == 0 ||
			    (have_baseline && strcmp(k->hash, b.hash) == 0) ||
			    (pol.keep_days > 0 && k->last_index != SIZE_MAX &&
			     k->last_time >= now - (time_t)pol.keep_days * DAY_SECONDS);
		char name[128];

		if (keep) {
			res.snapshots_kept++;
			continue;
		}
		snprintf(name, sizeof(name), "%s/%s.json", SNAPSHOT_DIR, k->hash);
		if ((r = s->ops->remove(s, name, err)) < 0)
			goto out;
		res.snapshots_removed++;
	}
history:
	r = trim_history(s, h, lines, pol.history_days, exact, &res.lines_removed, err);
out:
	free(sorted);
	free(rank);
	free(names);
	store_baseline_done(&b);
	if (r == 0 && ret)
		*ret = res;
	return r;
}

int store_prune(struct store *s, struct store_prune_result *ret, struct error *err)
{
	struct store_history *h = NULL;
	size_t *lines = NULL;
	int r;

	r = store_lock(s, err);
	if (r < 0)
		return r;
	r = store_history_load_lines(s, &h, &lines, NULL, err);
	if (r == 0)
		r = store_prune_locked(s, h, lines, true, ret, err);
	store_history_free(h);
	free(lines);
	store_unlock(s);
	return r;
}
