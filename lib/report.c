/* The history report: static, self-contained HTML (inline CSS and SVG, no script) from a store. */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ack.h"
#include "alert_log.h"
#include "alert_state.h"
#include "diff.h"
#include "fileio.h"
#include "isotime.h"
#include "model.h"
#include "utf8.h"

/* Bins of the timeline's SVG; unchanged runs are counted into them. */
#define REPORT_BINS 200
/* A value longer than this is cut (the whole value: schemadrift diff). */
#define REPORT_VALUE_MAX 4000
/* Ack lifetimes drawn on the timeline. */
#define REPORT_MAX_ACK_LINES 100

/* --------------------------------------------------------------- escaping */

/* Characters that change how the text around them is shown, or hide. */
static bool invisible(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c == 0xfeff;
}

static uint32_t decode(const unsigned char *p, size_t len)
{
	if (len == 1)
		return p[0];
	if (len == 2)
		return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	if (len == 3)
		return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
	       (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
}

/* The sequence at p (at most n bytes left): its length if valid UTF-8, else 0. */
static size_t char_len(const unsigned char *p, size_t n)
{
	size_t len = utf8_char_len(p);

	return len <= n ? len : 0;
}

void report_escape(FILE *out, const char *s, size_t n, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t len;

		switch (c) {
		case '&': fputs("&amp;", out); i++; continue;
		case '<': fputs("&lt;", out); i++; continue;
		case '>': fputs("&gt;", out); i++; continue;
		case '"': fputs("&quot;", out); i++; continue;
		case '\'': fputs("&#39;", out); i++; continue;
		default: break;
		}
		if (c < 0x80) {
			if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
				fprintf(out, "\\x%02x", c);
			else
				fputc(c, out);
			i++;
			continue;
		}
		len = c ? char_len(p + i, n - i) : 0;
		if (len == 0) {
			fprintf(out, "\\x%02x", c);
			i++;
			continue;
		}
		uint32_t cp = decode(p + i, len);
		if (invisible(cp))
			fprintf(out, "\\u%04X", (unsigned)cp);
		else
			fwrite(p + i, 1, len, out);
		i += len;
	}
}

static void h(FILE *out, const char *s)
{
	if (s)
		report_escape(out, s, strlen(s), false);
}

/* A value for a table cell or a <pre>, cut to REPORT_VALUE_MAX at a character boundary. */
static void h_value(FILE *out, const char *s, bool multiline)
{
	size_t n = strlen(s);

	if (n <= REPORT_VALUE_MAX) {
		report_escape(out, s, n, multiline);
		return;
	}
	n = REPORT_VALUE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	report_escape(out, s, n, multiline);
	fprintf(out, "… <span class=\"cut\">(%zu more bytes)</span>", strlen(s) - n);
}

static const char *jstr(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static void put_time(FILE *out, time_t t)
{
	char iso[ISOTIME_SIZE];

	isotime_format(t, iso);
	fprintf(out, "<time datetime=\"%s\">%.10s %.8s</time>", iso, iso, iso + 11);
}

static void put_hash(FILE *out, const char *hash)
{
	if (!hash || !*hash) {
		fputs("<span class=\"muted\">none</span>", out);
		return;
	}
	fputs("<code class=\"hash\" title=\"", out);
	h(out, hash);
	fputs("\">", out);
	report_escape(out, hash, strnlen(hash, 12), false);
	fputs("</code>", out);
}

/* "3d 4h", "5h 12m", "42m", "30s". */
static void put_duration(FILE *out, long long s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		fprintf(out, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		fprintf(out, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		fprintf(out, "%lldm", s / 60);
	else
		fprintf(out, "%llds", s);
}

static time_t json_time(const json_t *j, const char *key)
{
	const char *s = jstr(j, key);
	time_t t;

	return s && store_parse_time(s, &t, NULL) == 0 ? t : 0;
}

/* ------------------------------------------------------------ the target */

/* Everything the pages show about one target, read from its store. */
struct tgt {
	const char *name;
	struct store *s;
	struct store_history *h;
	struct store_baseline b;
	bool has_baseline;
	json_t *audit;  /* audit.log entries */
	json_t *alerts; /* alerts.log entries */
	json_t *dead;   /* this target's dead letters (outbox) */
	struct ack_set *acks;
	const struct store_run *latest; /* last successful run */
	const struct store_run *last;   /* last run */
	struct model *base_m, *latest_m;
	struct diff *drift;             /* baseline -> latest, acks applied */
	char load_error[300];           /* why a snapshot could not be loaded (the last one) */
	bool drifting, failing;
	time_t drifting_since, last_change;
};

static void tgt_done(struct tgt *t)
{
	diff_free(t->drift);
	model_free(t->base_m);
	model_free(t->latest_m);
	ack_set_free(t->acks);
	json_decref(t->audit);
	json_decref(t->alerts);
	json_decref(t->dead);
	store_history_free(t->h);
	if (t->has_baseline)
		store_baseline_done(&t->b);
	store_free(t->s);
}

static void warn(const struct report_options *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warn(const struct report_options *o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	o->warn(buf, o->warn_data);
}

static time_t now_of(const struct report_options *o)
{
	return o->now ? o->now : time(NULL);
}

static const char *state_dir_of(const struct report_options *o)
{
	return o->state_dir ? o->state_dir : STORE_DEFAULT_STATE_DIR;
}

/* Dead letters of every target: the outbox's dead/ directory. */
static int load_dead(const struct report_options *o, json_t **ret, struct error *err)
{
	json_t *all = json_array();
	char *dead = NULL;
	DIR *d;
	struct dirent *e;
	int r = o->outbox_dir ? asprintf(&dead, "%s/dead", o->outbox_dir)
			      : asprintf(&dead, "%s/outbox/dead", state_dir_of(o));

	if (!all || r < 0) {
		json_decref(all);
		if (r >= 0)
			free(dead);
		return error_set(err, -ENOMEM, "out of memory");
	}
	d = opendir(dead);
	if (!d) {
		if (errno != ENOENT)
			warn(o, "%s: %s (dead letters not shown)", dead, strerror(errno));
		free(dead);
		*ret = all;
		return 0;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char *path = NULL, *buf = NULL;
		size_t n;
		json_t *j;

		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 ||
		    asprintf(&path, "%s/%s", dead, e->d_name) < 0)
			continue;
		if (fileio_read_all(path, &buf, &n, NULL) == 0 &&
		    (j = json_loadb(buf, n, 0, NULL)) != NULL) {
			if (json_is_object(j))
				json_array_append(all, j);
			json_decref(j);
		}
		free(buf);
		free(path);
	}
	closedir(d);
	free(dead);
	*ret = all;
	return 0;
}

static int load_snapshot(struct tgt *t, const char *hash, struct model **ret)
{
	struct error e;
	int r = store_load_snapshot(t->s, hash, ret, &e);

	if (r < 0)
		snprintf(t->load_error, sizeof(t->load_error), "%s", e.text);
	return r;
}

/* Since when the schema has differed from the baseline: the trailing runs that are not it. */
static void find_drift_since(struct tgt *t)
{
	const struct store_history *h = t->h;

	t->drifting_since = 0;
	for (size_t i = h->n; i-- > 0;) {
		const struct store_run *r = &h->runs[i];

		if (r->outcome != STORE_RUN_OK)
			continue;
		if (strcmp(r->hash, t->b.hash) == 0)
			break;
		t->drifting_since = r->time;
	}
	if (t->drifting_since && t->drifting_since < t->b.accepted_at)
		t->drifting_since = t->b.accepted_at;
}

static int tgt_load(const struct report_options *o, const char *name, json_t *dead_all,
		    struct tgt *t, struct error *err)
{
	struct store_options so = { .state_dir = o->state_dir, .central = o->central, .warn = o->warn,
				    .warn_data = o->warn_data };
	struct error e;
	size_t bad = 0;
	int r;

	memset(t, 0, sizeof(*t));
	t->name = name;
	if ((r = store_open(&so, name, false, &t->s, err)) < 0 ||
	    (r = store_history_load(t->s, &t->h, err)) < 0 ||
	    (r = store_audit_load(t->s, &t->audit, err)) < 0 ||
	    (r = alert_log_load(store_dir(t->s), &t->alerts, &bad, err)) < 0)
		return r;
	if (bad)
		warn(o, "%s/%s: %zu lines that do not parse were skipped", store_dir(t->s),
		     ALERT_LOG_FILE, bad);
	if (ack_load(t->s, &t->acks, &e) < 0) {
		warn(o, "%s", e.text);
		t->acks = NULL;
	}
	t->dead = json_array();
	if (!t->dead)
		return error_set(err, -ENOMEM, "out of memory");
	size_t i;
	json_t *v;
	json_array_foreach(dead_all, i, v) {
		const char *who = jstr(json_object_get(v, "alert"), "target");
		if (who && strcmp(who, name) == 0)
			json_array_append(t->dead, v);
	}
	r = store_baseline_get(t->s, &t->b, &e);
	if (r == 0)
		t->has_baseline = true;
	else if (r != -ENOENT)
		warn(o, "%s", e.text);

	t->latest = store_history_latest(t->h);
	t->last = t->h->n ? &t->h->runs[t->h->n - 1] : NULL;
	t->failing = t->last && t->last->outcome == STORE_RUN_ERROR;
	for (size_t k = t->h->n; k-- > 0;)
		if (t->h->runs[k].outcome == STORE_RUN_OK) {
			t->last_change = t->h->runs[k].time;
			if (t->h->runs[k].from[0])
				break;
		}
	if (!t->has_baseline || !t->latest || strcmp(t->b.hash, t->latest->hash) == 0)
		return 0;
	/* What the daemon alerts on: baseline -> latest, minus what was acknowledged. */
	if (load_snapshot(t, t->b.hash, &t->base_m) < 0 ||
	    load_snapshot(t, t->latest->hash, &t->latest_m) < 0) {
		t->drifting = true;
		find_drift_since(t);
		return 0;
	}
	if (diff_models(t->base_m, t->latest_m, &t->drift) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	if (t->acks)
		ack_apply(t->acks, t->drift, now_of(o));
	t->drifting = t->drift->n_acknowledged < t->drift->n_changes;
	if (t->drifting)
		find_drift_since(t);
	return 0;
}

/* ------------------------------------------------------------------ page */

static const char page_css[] =
	":root{--ok:#2e7d32;--drift:#e08a00;--fail:#c62828;--info:#1565c0;--ack:#6a1b9a;"
	"--muted:#666;--line:#ddd}"
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em auto;"
	"max-width:1100px;padding:0 1em;color:#111;background:#fff}"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.6em 0 .5em;"
	"border-bottom:1px solid var(--line)}"
	"table{border-collapse:collapse;width:100%;margin:.4em 0}"
	"th,td{text-align:left;vertical-align:top;padding:.25em .5em;border-bottom:1px solid var(--line)}"
	"th{background:#f5f5f5;font-weight:600}"
	"code,pre{font:12px/1.4 ui-monospace,'DejaVu Sans Mono',monospace}"
	"pre{margin:0;white-space:pre-wrap;word-break:break-all}"
	".muted{color:var(--muted)}.cut{color:var(--muted);font-style:italic}"
	".badge{display:inline-block;padding:0 .5em;border-radius:.8em;color:#fff;font-weight:600;"
	"font-size:.9em;margin-right:.3em}"
	".s-ok{background:var(--ok)}.s-drifting{background:var(--drift)}"
	".s-failing{background:var(--fail)}.s-nobaseline,.s-noruns{background:var(--muted)}"
	".sev-breaking{color:var(--fail);font-weight:600}.sev-warning{color:var(--drift)}"
	".sev-info{color:var(--info)}.acked{color:var(--ack)}"
	"tr.r-change td:first-child{border-left:4px solid var(--drift)}"
	"tr.r-baseline td:first-child{border-left:4px solid var(--info)}"
	"tr.r-ack td:first-child,tr.r-ackremove td:first-child{border-left:4px solid var(--ack)}"
	"tr.r-alert td:first-child,tr.r-dead td:first-child{border-left:4px solid var(--fail)}"
	"tr.r-span td{color:#333}"
	"del{background:#fde2e2;text-decoration:none}ins{background:#e0f5e0;text-decoration:none}"
	"details{margin:.3em 0}summary{cursor:pointer}"
	"dl.card{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.5em 0}"
	"dl.card dt{color:var(--muted)}dl.card dd{margin:0}"
	"svg{width:100%;height:auto;border:1px solid var(--line);background:#fcfcfc}"
	".legend span{margin-right:1em}.sw{display:inline-block;width:.9em;height:.9em;"
	"vertical-align:-.1em;margin-right:.3em}"
	"@media print{body{margin:0;max-width:none;font-size:11px}"
	"details>*,details::details-content{display:block;content-visibility:visible}"
	"summary{list-style:none}a{color:inherit;text-decoration:none}"
	"tr,svg,details{break-inside:avoid}.noprint{display:none}}";

static void page_head(FILE *out, const char *title, time_t now)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      /* Nothing is fetched and nothing runs, whatever a name holds. */
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	      "<meta name=\"generator\" content=\"schemadrift report\"><title>", out);
	h(out, title);
	fprintf(out, "</title><style>%s</style></head><body>\n", page_css);
	fputs("<p class=\"muted\">schemadrift report, generated ", out);
	put_time(out, now);
	fputs(" (UTC)</p>\n", out);
}

static void page_foot(FILE *out)
{
	fputs("</body></html>\n", out);
}

static void put_state(FILE *out, const struct tgt *t)
{
	if (!t->last) {
		fputs("<span class=\"badge s-noruns\" data-state=\"no runs\">no runs</span>", out);
		return;
	}
	if (t->failing)
		fputs("<span class=\"badge s-failing\" data-state=\"failing\">failing</span>", out);
	if (t->drifting)
		fputs("<span class=\"badge s-drifting\" data-state=\"drifting\">drifting</span>", out);
	if (!t->has_baseline)
		fputs("<span class=\"badge s-nobaseline\" data-state=\"no baseline\">no baseline</span>",
		      out);
	else if (!t->failing && !t->drifting)
		fputs("<span class=\"badge s-ok\" data-state=\"ok\">ok</span>", out);
}

static void put_drifting_since(FILE *out, const struct tgt *t, time_t now)
{
	if (!t->drifting || !t->drifting_since) {
		fputs("<span class=\"muted\">—</span>", out);
		return;
	}
	fputs("<span class=\"drifting-for\">", out);
	put_duration(out, (long long)(now - t->drifting_since));
	fputs("</span> <span class=\"muted\">since ", out);
	put_time(out, t->drifting_since);
	fputs("</span>", out);
}

/* ------------------------------------------------------------ the changes */

/* Cells of one value: text, or for multi-line values the lines that differ. */
struct pre_out {
	FILE *out;
	size_t lines;
};

static int put_line(char sign, const char *line, size_t n, void *arg)
{
	struct pre_out *p = arg;

	if (p->lines++ >= REPORT_MAX_CHANGE_ROWS) {
		if (p->lines == REPORT_MAX_CHANGE_ROWS + 1)
			fputs("<span class=\"cut\">… more lines</span>\n", p->out);
		return 0;
	}
	fputs(sign == '-' ? "<del>- " : "<ins>+ ", p->out);
	report_escape(p->out, line, n < REPORT_VALUE_MAX ? n : REPORT_VALUE_MAX, true);
	fputs(sign == '-' ? "</del>\n" : "</ins>\n", p->out);
	return 0;
}

static int put_object_attrs(FILE *out, const struct model_object *o)
{
	fputs("<details class=\"definition\"><summary>definition</summary><table>", out);
	for (size_t i = 0; i < o->n_attrs && i < REPORT_MAX_CHANGE_ROWS; i++) {
		char *v = model_value_text_dup(&o->attrs[i].value);
		if (!v)
			return -ENOMEM;
		fputs("<tr><th>", out);
		h(out, o->attrs[i].name);
		fputs("</th><td><pre>", out);
		h_value(out, v, true);
		fputs("</pre></td></tr>", out);
		free(v);
	}
	fputs("</table></details>", out);
	return 0;
}

/* One diff as a table, attribute by attribute; *budget counts rows left in the page. */
static int put_diff(FILE *out, const struct diff *d, size_t *budget)
{
	size_t shown = 0;
	int r = 0;

	if (d->n_changes == 0) {
		fputs("<p class=\"muted\">no changes</p>", out);
		return 0;
	}
	fputs("<table class=\"diff\"><thead><tr><th>change</th><th>kind</th><th>object</th>"
	      "<th>attribute</th><th>before → after</th><th>severity</th></tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < d->n_changes && r == 0; i++) {
		const struct diff_change *c = &d->changes[i];
		const struct model_object *o = c->after ? c->after : c->before;
		const struct model_kind_info *info = model_kind_info(o->kind);
		char *name = model_object_name_dup(o), *before = NULL, *after = NULL;

		if (shown >= REPORT_MAX_CHANGE_ROWS || *budget == 0)
			break;
		if (!name)
			return -ENOMEM;
		shown++;
		(*budget)--;
		fprintf(out, "<tr class=\"change %s\"><td>%s</td><td>", diff_type_name(c->type),
			diff_type_name(c->type));
		h(out, info ? info->label : "object");
		fputs("</td><td class=\"object\"><code>", out);
		if (c->type == DIFF_RENAMED) {
			char *old = model_object_name_dup(c->before);
			if (!old) {
				free(name);
				return -ENOMEM;
			}
			h(out, old);
			fputs("</code> → <code>", out);
			free(old);
		}
		h(out, name);
		fputs("</code></td><td class=\"attribute\">", out);
		if (c->type == DIFF_MODIFIED) {
			h(out, c->attribute);
			fputs("</td><td class=\"values\">", out);
			before = c->old_value ? model_value_text_dup(c->old_value) : strdup("(none)");
			after = c->new_value ? model_value_text_dup(c->new_value) : strdup("(none)");
			if (!before || !after) {
				r = -ENOMEM;
			} else if (strchr(before, '\n') || strchr(after, '\n')) {
				struct pre_out p = { out, 0 };
				fputs("<pre>", out);
				r = diff_value_lines(c->old_value ? before : NULL,
						     c->new_value ? after : NULL, put_line, &p);
				fputs("</pre>", out);
			} else {
				fputs("<del class=\"before\">", out);
				h_value(out, before, false);
				fputs("</del> → <ins class=\"after\">", out);
				h_value(out, after, false);
				fputs("</ins>", out);
			}
		} else {
			fputs("</td><td class=\"values\">", out);
			if (c->type != DIFF_RENAMED)
				r = put_object_attrs(out, o);
		}
		fprintf(out, "</td><td class=\"sev-%s\">%s", diff_severity_name(c->severity),
			diff_severity_name(c->severity));
		if (c->acknowledged) {
			fputs(" <span class=\"acked\">acknowledged: ", out);
			h(out, c->ack_reason);
			fputs("</span>", out);
		}
		fputs("</td></tr>\n", out);
		free(name);
		free(before);
		free(after);
	}
	fputs("</tbody></table>\n", out);
	if (shown < d->n_changes)
		fprintf(out, "<p class=\"cut\">%zu more changes not shown</p>\n", d->n_changes - shown);
	return r;
}

static void put_summary_counts(FILE *out, const struct store_summary *s)
{
	if (!s->known) {
		fputs("<span class=\"muted\">changes not counted</span>", out);
		return;
	}
	fprintf(out, "%zu change%s (%zu added, %zu removed, %zu modified, %zu renamed; "
		"<span class=\"sev-breaking\">%zu breaking</span>, %zu warning, %zu info)",
		s->changes, s->changes == 1 ? "" : "s", s->by_type[DIFF_ADDED],
		s->by_type[DIFF_REMOVED], s->by_type[DIFF_MODIFIED], s->by_type[DIFF_RENAMED],
		s->by_severity[DIFF_BREAKING], s->by_severity[DIFF_WARNING], s->by_severity[DIFF_INFO]);
}

/* A couple of loaded snapshots, since consecutive changes share one side. */
struct model_cache {
	char hash[2][65];
	struct model *m[2];
	unsigned next;
};

static struct model *cache_get(struct model_cache *c, struct tgt *t, const char *hash)
{
	struct model *m;

	for (int i = 0; i < 2; i++)
		if (c->m[i] && strcmp(c->hash[i], hash) == 0)
			return c->m[i];
	if (load_snapshot(t, hash, &m) < 0)
		return NULL;
	model_free(c->m[c->next]);
	c->m[c->next] = m;
	memcpy(c->hash[c->next], hash, 65);
	c->next ^= 1;
	return m;
}

static void cache_done(struct model_cache *c)
{
	model_free(c->m[0]);
	model_free(c->m[1]);
}

/* ---------------------------------------------------------- the timeline */

enum row_kind { ROW_SPAN, ROW_FIRST, ROW_CHANGE, ROW_BASELINE, ROW_ACK, ROW_ACK_REMOVE,
		ROW_ALERT, ROW_DEAD };

struct row {
	enum row_kind kind;
	time_t t0, t1;
	const struct store_run *run;      /* ROW_FIRST, ROW_CHANGE */
	const json_t *j;                  /* audit, alert and dead-letter rows */
	/* ROW_SPAN */
	size_t ok, failed;
	const struct store_run *last_ok, *last_error;
	size_t change_no;                 /* ROW_CHANGE: its number, newest last */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static struct row *row_push(struct rows *r, enum row_kind kind, time_t t)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct row *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	struct row *row = &r->v[r->n++];
	memset(row, 0, sizeof(*row));
	row->kind = kind;
	row->t0 = row->t1 = t;
	return row;
}

/* A non-run event: an audit entry, an alert, a dead letter. */
struct event {
	time_t t;
	enum row_kind kind;
	const json_t *j;
	size_t seq;
};

static int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int collect_events(const struct tgt *t, time_t since, struct event **ret, size_t *ret_n)
{
	size_t cap = json_array_size(t->audit) + json_array_size(t->alerts) +
		     json_array_size(t->dead) + 1, n = 0, i;
	struct event *ev = calloc(cap, sizeof(*ev));
	json_t *v;

	if (!ev)
		return -ENOMEM;
	json_array_foreach(t->audit, i, v) {
		const char *a = jstr(v, "action");
		enum row_kind k;
		if (!a)
			continue;
		if (strncmp(a, "baseline", 8) == 0)
			k = ROW_BASELINE;
		else if (strcmp(a, "ack") == 0)
			k = ROW_ACK;
		else if (strcmp(a, "ack remove") == 0)
			k = ROW_ACK_REMOVE;
		else
			continue;
		ev[n] = (struct event){ json_time(v, "time"), k, v, n };
		n++;
	}
	json_array_foreach(t->alerts, i, v) {
		ev[n] = (struct event){ json_time(v, "time"), ROW_ALERT, v, n };
		n++;
	}
	json_array_foreach(t->dead, i, v) {
		const json_t *g = json_object_get(v, "given_up");
		ev[n] = (struct event){ (time_t)(json_integer_value(json_object_get(g, "at_ms")) / 1000),
					ROW_DEAD, v, n };
		n++;
	}
	size_t k = 0;
	for (i = 0; i < n; i++)
		if (ev[i].t >= since)
			ev[k++] = ev[i];
	qsort(ev, k, sizeof(*ev), event_cmp);
	*ret = ev;
	*ret_n = k;
	return 0;
}

/*
 * The history as rows: every change of hash, audit entry, alert and dead
 * letter is a row; the unchanged runs between them are one span row each
 * (with their failures counted), so 10,000 quiet runs are one row.
 */
static int build_rows(const struct tgt *t, time_t since, struct rows *rows, size_t *ret_changes)
{
	const struct store_history *hist = t->h;
	struct event *ev = NULL;
	size_t n_ev = 0, e = 0, changes = 0;
	size_t span = SIZE_MAX; /* the open span row (an index: pushing may move the rows) */
	bool seen_ok = false;
	int r = collect_events(t, since, &ev, &n_ev);

	if (r < 0)
		return r;
	for (size_t i = 0; i < hist->n; i++) {
		const struct store_run *run = &hist->runs[i];
		bool first = run->outcome == STORE_RUN_OK && !seen_ok;

		if (run->outcome == STORE_RUN_OK)
			seen_ok = true;
		if (run->time < since)
			continue;
		for (; e < n_ev && ev[e].t < run->time; e++) {
			struct row *row = row_push(rows, ev[e].kind, ev[e].t);
			if (!row)
				goto nomem;
			row->j = ev[e].j;
			span = SIZE_MAX;
		}
		if (first || (run->outcome == STORE_RUN_OK && run->from[0])) {
			struct row *row = row_push(rows, first ? ROW_FIRST : ROW_CHANGE, run->time);
			if (!row)
				goto nomem;
			row->run = run;
			row->change_no = changes++;
			span = SIZE_MAX;
		}
		if (span == SIZE_MAX) {
			if (!row_push(rows, ROW_SPAN, run->time))
				goto nomem;
			span = rows->n - 1;
		}
		struct row *sp = &rows->v[span];
		sp->t1 = run->time;
		if (run->outcome == STORE_RUN_OK) {
			sp->ok++;
			sp->last_ok = run;
		} else {
			sp->failed++;
			sp->last_error = run;
		}
	}
	for (; e < n_ev; e++) {
		struct row *row = row_push(rows, ev[e].kind, ev[e].t);
		if (!row)
			goto nomem;
		row->j = ev[e].j;
	}
	free(ev);
	*ret_changes = changes;
	return 0;
nomem:
	free(ev);
	return -ENOMEM;
}

static void put_strings(FILE *out, const json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (i)
			fputs(", ", out);
		fputs("<code>", out);
		h(out, json_string_value(v));
		fputs("</code>", out);
	}
}

static void put_expiry(FILE *out, time_t expires, time_t now)
{
	if (!expires) {
		fputs("<span class=\"expires\">never expires</span>", out);
		return;
	}
	fputs(expires <= now ? "<span class=\"expires expired\">expired " :
			       "<span class=\"expires\">expires ", out);
	put_time(out, expires);
	fputs("</span>", out);
}

/* " by WHO: REASON" of an audit entry. */
static void put_who_why(FILE *out, const json_t *j)
{
	fputs(" by <span class=\"who\">", out);
	h(out, jstr(j, "who"));
	fputs("</span>", out);
	if (jstr(j, "reason")) {
		fputs(": <span class=\"reason\">", out);
		h(out, jstr(j, "reason"));
		fputs("</span>", out);
	}
}

static void put_row(FILE *out, const struct row *row, const struct tgt *t, time_t now,
		    size_t n_changes, size_t detailed)
{
	static const char *const cls[] = { "span", "change", "change", "baseline", "ack",
					   "ackremove", "alert", "dead" };
	const json_t *j = row->j;

	fprintf(out, "<tr class=\"r-%s\"><td>", cls[row->kind]);
	put_time(out, row->t0);
	if (row->kind == ROW_SPAN && row->t1 != row->t0) {
		fputs(" – ", out);
		put_time(out, row->t1);
	}
	fputs("</td><td>", out);
	switch (row->kind) {
	case ROW_SPAN: {
		const char *hash = row->last_ok ? row->last_ok->hash : NULL;
		fprintf(out, "%zu run%s", row->ok + row->failed, row->ok + row->failed == 1 ? "" : "s");
		if (hash) {
			fputs(" of schema ", out);
			put_hash(out, hash);
			if (t->has_baseline && strcmp(hash, t->b.hash) == 0)
				fputs(" <span class=\"muted\">(the baseline)</span>", out);
		}
		if (row->failed) {
			fprintf(out, ", <span class=\"sev-breaking\">%zu failed</span>: ", row->failed);
			h(out, row->last_error->error);
		}
		break;
	}
	case ROW_FIRST:
		fputs("<strong>first snapshot</strong> ", out);
		put_hash(out, row->run->hash);
		fprintf(out, ", %zu objects", row->run->objects);
		break;
	case ROW_CHANGE:
		fputs("<strong>schema changed</strong> ", out);
		put_hash(out, row->run->from);
		fputs(" → ", out);
		put_hash(out, row->run->hash);
		fputs(": ", out);
		put_summary_counts(out, &row->run->summary);
		if (row->change_no + detailed >= n_changes)
			fprintf(out, " <a href=\"#change-%zu\">details</a>", row->change_no);
		break;
	case ROW_BASELINE:
		fputs("<strong>", out);
		h(out, jstr(j, "action"));
		fputs("</strong> ", out);
		put_hash(out, jstr(j, "hash"));
		put_who_why(out, j);
		break;
	case ROW_ACK:
		fputs("<strong>acknowledged</strong> <code class=\"pattern\">", out);
		h(out, jstr(j, "pattern"));
		fputs("</code>", out);
		put_who_why(out, j);
		fputs("; ", out);
		put_expiry(out, json_time(j, "expires"), now);
		fputs("; objects: ", out);
		put_strings(out, json_object_get(j, "objects"));
		break;
	case ROW_ACK_REMOVE:
		fputs("<strong>acknowledgement removed</strong> <code>", out);
		h(out, jstr(j, "match"));
		fputs("</code>", out);
		put_who_why(out, j);
		break;
	case ROW_ALERT: {
		const json_t *ch = json_object_get(j, "channels");
		fputs("<strong>alert</strong> <span class=\"alert-kind\">", out);
		h(out, jstr(j, "kind"));
		fputs("</span>: ", out);
		h(out, jstr(j, "headline"));
		if (json_array_size(ch)) {
			fputs("; spooled to ", out);
			put_strings(out, ch);
		} else {
			fputs("; <span class=\"muted\">no notifier configured</span>", out);
		}
		break;
	}
	case ROW_DEAD: {
		const json_t *a = json_object_get(j, "alert"), *g = json_object_get(j, "given_up");
		fputs("<strong>alert given up</strong> (dead letter) for <code>", out);
		h(out, jstr(j, "channel"));
		fputs("</code>: ", out);
		h(out, jstr(a, "kind"));
		fputs(" alert; ", out);
		h(out, jstr(g, "reason"));
		break;
	}
	}
	fputs("</td></tr>\n", out);
}

/* Which baseline was in force at each point: the audit log's baseline entries. */
static const char *baseline_at(const struct tgt *t, time_t when, size_t *cursor)
{
	size_t n = json_array_size(t->audit);
	const char *best = NULL;

	/* The cursor only moves forward: callers walk in time order. */
	for (; *cursor < n; (*cursor)++) {
		const json_t *v = json_array_get(t->audit, *cursor);
		const char *a = jstr(v, "action");
		if (json_time(v, "time") > when)
			break;
		if (a && strncmp(a, "baseline", 8) == 0)
			best = jstr(v, "hash");
	}
	return best;
}

struct bin {
	unsigned ok_base, ok_drift, failed;
	unsigned changes, baselines, acks, alerts;
};

/* The bin of t in [t0, t1] (t1 > t0): the last one holds t1 itself. */
static size_t bin_of(time_t t, time_t t0, time_t t1)
{
	size_t b = (size_t)((double)(t - t0) / (double)(t1 - t0) * REPORT_BINS);

	return b < REPORT_BINS ? b : REPORT_BINS - 1;
}

static double x_of(time_t t, time_t t0, time_t t1)
{
	return 40.0 + 940.0 * (double)(t - t0) / (double)(t1 - t0);
}

static void put_marker(FILE *out, double x, double y, const char *cls, unsigned n,
		       const char *what, time_t t)
{
	char iso[ISOTIME_SIZE];

	isotime_format(t, iso);
	fprintf(out, "<g class=\"m-%s\"><title>%u %s%s around %s</title>", cls, n, what,
		n == 1 ? "" : "s", iso);
	if (strcmp(cls, "baseline") == 0)
		fprintf(out, "<path d=\"M%.1f %.1fl5 5-5 5-5-5z\" fill=\"#1565c0\"/>", x, y - 5);
	else if (strcmp(cls, "ack") == 0)
		fprintf(out, "<path d=\"M%.1f %.1fl5 9h-10z\" fill=\"#6a1b9a\"/>", x, y - 5);
	else if (strcmp(cls, "alert") == 0)
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#c62828\"/>", x, y);
	else
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"3\" height=\"12\" fill=\"#e08a00\"/>",
			x - 1.5, y - 6);
	fputs("</g>", out);
}

/* The timeline as one SVG: runs counted into bins, markers per bin, acks as bars to expiry. */
static void put_svg(FILE *out, const struct tgt *t, time_t since, time_t now)
{
	const struct store_history *hist = t->h;
	struct bin bins[REPORT_BINS] = { 0 };
	time_t t0 = since, t1 = now;
	size_t cursor = 0, i;
	const char *base = NULL;
	unsigned max = 1;
	json_t *v;

	if (!t0)
		for (i = 0; i < hist->n && !t0; i++)
			t0 = hist->runs[i].time;
	/* A clock that was ahead when a run was recorded: the axis goes that far. */
	if (hist->n && hist->runs[hist->n - 1].time > t1)
		t1 = hist->runs[hist->n - 1].time;
	if (!t0 || t0 >= t1)
		t0 = t1 - 3600;
#define BIN(tt) (bins[bin_of((tt), t0, t1)])
#define IN(tt) ((tt) >= t0 && (tt) <= t1)
	for (i = 0; i < hist->n; i++) {
		const struct store_run *r = &hist->runs[i];
		const char *b = baseline_at(t, r->time, &cursor);
		if (b)
			base = b;
		if (!IN(r->time))
			continue;
		struct bin *bn = &BIN(r->time);
		if (r->outcome != STORE_RUN_OK)
			bn->failed++;
		else if (!base || !t->has_baseline || strcmp(r->hash, base) == 0)
			bn->ok_base++;
		else
			bn->ok_drift++;
		if (r->outcome == STORE_RUN_OK && r->from[0])
			bn->changes++;
	}
	json_array_foreach(t->audit, i, v) {
		time_t when = json_time(v, "time");
		const char *a = jstr(v, "action");
		if (!a || !IN(when))
			continue;
		if (strncmp(a, "baseline", 8) == 0)
			BIN(when).baselines++;
		else if (strcmp(a, "ack") == 0)
			BIN(when).acks++;
	}
	json_array_foreach(t->alerts, i, v) {
		time_t when = json_time(v, "time");
		if (IN(when))
			BIN(when).alerts++;
	}
	for (i = 0; i < REPORT_BINS; i++) {
		unsigned sum = bins[i].ok_base + bins[i].ok_drift + bins[i].failed;
		if (sum > max)
			max = sum;
	}
	fputs("<svg class=\"timeline\" viewBox=\"0 0 1000 190\" role=\"img\" "
	      "xmlns=\"http://www.w3.org/2000/svg\"><title>runs over time</title>"
	      "<text x=\"4\" y=\"58\" font-size=\"10\" fill=\"#666\">runs</text>"
	      "<text x=\"4\" y=\"114\" font-size=\"10\" fill=\"#666\">events</text>"
	      "<text x=\"4\" y=\"150\" font-size=\"10\" fill=\"#666\">acks</text>", out);
	double bw = 940.0 / REPORT_BINS;
	for (i = 0; i < REPORT_BINS; i++) {
		const struct bin *b = &bins[i];
		double x = 40.0 + bw * (double)i, y = 90;
		unsigned parts[3] = { b->ok_base, b->ok_drift, b->failed };
		static const char *const fill[3] = { "#2e7d32", "#e08a00", "#c62828" };
		static const char *const what[3] = { "at the baseline", "drifted", "failed" };
		for (int k = 0; k < 3; k++) {
			if (!parts[k])
				continue;
			double hgt = 70.0 * parts[k] / max;
			if (hgt < 2)
				hgt = 2;
			y -= hgt;
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"><title>%u run%s %s</title></rect>", x, y, bw, hgt, fill[k],
				parts[k], parts[k] == 1 ? "" : "s", what[k]);
		}
		time_t bt = t0 + (time_t)((double)(t1 - t0) * (double)i / REPORT_BINS);
		double mx = x + bw / 2;
		if (b->changes)
			put_marker(out, mx, 104, "change", b->changes, "schema change", bt);
		if (b->baselines)
			put_marker(out, mx, 104, "baseline", b->baselines, "baseline accept", bt);
		if (b->alerts)
			put_marker(out, mx, 120, "alert", b->alerts, "alert", bt);
		if (b->acks)
			put_marker(out, mx, 140, "ack", b->acks, "acknowledgement", bt);
	}
	/* Each acknowledgement's life: from when it was made to its expiry (or now). */
	size_t lines = 0;
	json_array_foreach(t->audit, i, v) {
		const char *a = jstr(v, "action");
		time_t from = json_time(v, "time"), to = json_time(v, "expires");
		if (!a || strcmp(a, "ack") != 0 || lines >= REPORT_MAX_ACK_LINES)
			continue;
		if (!to || to > t1)
			to = t1;
		if (from < t0)
			from = t0;
		if (to < t0 || from > t1)
			continue;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#6a1b9a\" "
			"stroke-width=\"2\" opacity=\".6\"/>", x_of(from, t0, t1), 152.0 + (double)(lines % 4) * 4,
			x_of(to, t0, t1), 152.0 + (double)(lines % 4) * 4);
		lines++;
	}
	/* Five ticks, as precise as the span needs: the date and minutes, or seconds. */
	for (int k = 0; k <= 4; k++) {
		double x = 40.0 + 235.0 * k;
		time_t tt = t0 + (time_t)((double)(t1 - t0) * k / 4);
		char iso[ISOTIME_SIZE];
		isotime_format(tt, iso);
		fprintf(out, "<text x=\"%.1f\" y=\"184\" font-size=\"10\" fill=\"#666\" "
			"text-anchor=\"%s\">", x, k == 0 ? "start" : k == 4 ? "end" : "middle");
		if (t1 - t0 < 3600)
			fprintf(out, "%.8s", iso + 11);
		else
			fprintf(out, "%.10s %.5s", iso, iso + 11);
		fputs("</text>", out);
	}
	fputs("<line x1=\"40\" y1=\"90.5\" x2=\"980\" y2=\"90.5\" stroke=\"#999\"/></svg>\n", out);
	fputs("<p class=\"legend muted\"><span><i class=\"sw\" style=\"background:#2e7d32\"></i>runs at "
	      "the baseline</span><span><i class=\"sw\" style=\"background:#e08a00\"></i>runs drifted "
	      "/ schema change</span><span><i class=\"sw\" style=\"background:#c62828\"></i>failed runs "
	      "/ alerts</span><span><i class=\"sw\" style=\"background:#1565c0\"></i>baseline "
	      "accepted</span><span><i class=\"sw\" style=\"background:#6a1b9a\"></i>acknowledgements "
	      "(bar: until expiry)</span></p>\n", out);
#undef BIN
#undef IN
}

/* ---------------------------------------------------------- the sections */

struct page {
	FILE *out;
	struct tgt *t;
	const struct report_options *o;
	time_t now, since;
	struct rows rows;
	size_t n_changes;
	size_t budget;      /* diff rows left in the page */
};

/* The daemon's alert policy state (docs/outbox.md): the open incidents. */
static void put_alert_state(FILE *out, const struct tgt *t)
{
	struct alert_state *st = NULL;
	bool any = false;

	if (alert_state_load_store(t->s, NULL, &st, NULL) < 0) {
		fputs("<span class=\"muted\">unknown (the alert state does not parse)</span>", out);
		return;
	}
	if (st->drift) {
		fprintf(out, "drift incident #%lu since ", st->drift_incident);
		put_time(out, (time_t)st->drift_since);
		fprintf(out, ", %u reminder%s", st->reminders, st->reminders == 1 ? "" : "s");
		any = true;
	}
	if (st->error) {
		fprintf(out, "%soutage incident #%lu: %u failed runs since ", any ? "; " : "",
			st->error_incident, st->failures);
		put_time(out, (time_t)st->failing_since);
		any = true;
	}
	if (!any)
		fputs("<span class=\"muted\">nothing open</span>", out);
	alert_state_free(st);
}

static int section_state(struct page *p)
{
	FILE *out = p->out;
	struct tgt *t = p->t;

	fputs("<dl class=\"card\"><dt>state</dt><dd class=\"state\">", out);
	put_state(out, t);
	fputs("</dd><dt>baseline</dt><dd class=\"baseline\">", out);
	if (t->has_baseline) {
		put_hash(out, t->b.hash);
		fputs(" ", out);
		h(out, t->b.action);
		fputs(" by ", out);
		h(out, t->b.accepted_by);
		fputs(", ", out);
		put_time(out, t->b.accepted_at);
		fputs(": <span class=\"reason\">", out);
		h(out, t->b.reason);
		fputs("</span>", out);
	} else {
		fputs("<span class=\"muted\">none (schemadrift baseline create|accept)</span>", out);
	}
	fputs("</dd><dt>latest</dt><dd>", out);
	if (t->latest) {
		put_hash(out, t->latest->hash);
		fprintf(out, ", %zu objects, ", t->latest->objects);
		put_time(out, t->latest->time);
	} else {
		fputs("<span class=\"muted\">no successful run</span>", out);
	}
	fputs("</dd><dt>last run</dt><dd>", out);
	if (t->last) {
		put_time(out, t->last->time);
		if (t->last->outcome == STORE_RUN_ERROR) {
			fputs(" <span class=\"sev-breaking\">failed</span>: ", out);
			h(out, t->last->error);
		}
	} else {
		fputs("<span class=\"muted\">none</span>", out);
	}
	fputs("</dd><dt>last change</dt><dd>", out);
	if (t->last_change)
		put_time(out, t->last_change);
	else
		fputs("<span class=\"muted\">—</span>", out);
	fputs("</dd><dt>drifting for</dt><dd>", out);
	put_drifting_since(out, t, p->now);
	fputs("</dd><dt>alerting</dt><dd class=\"alerting\">", out);
	put_alert_state(out, t);
	fprintf(out, "</dd><dt>history</dt><dd>%zu run%s</dd></dl>\n", t->h->n,
		t->h->n == 1 ? "" : "s");
	return 0;
}

static int section_drift(struct page *p)
{
	FILE *out = p->out;
	struct tgt *t = p->t;

	fputs("<h2 id=\"drift\">Drift now: baseline → latest</h2>\n", out);
	if (!t->drift) {
		if (t->load_error[0]) {
			fputs("<p>cannot compare: ", out);
			h(out, t->load_error);
			fputs("</p>\n", out);
		} else {
			fputs("<p class=\"muted\">the latest snapshot is the baseline</p>\n", out);
		}
		return 0;
	}
	fprintf(out, "<details open class=\"drift\"><summary>%zu change%s: %zu breaking, %zu warning, "
		"%zu info", t->drift->n_changes, t->drift->n_changes == 1 ? "" : "s",
		t->drift->by_severity[DIFF_BREAKING], t->drift->by_severity[DIFF_WARNING],
		t->drift->by_severity[DIFF_INFO]);
	if (t->drift->n_acknowledged)
		fprintf(out, ", %zu acknowledged", t->drift->n_acknowledged);
	fputs("</summary>\n", out);
	int r = put_diff(out, t->drift, &p->budget);
	fputs("</details>\n", out);
	return r;
}

static int section_timeline(struct page *p)
{
	FILE *out = p->out;
	size_t first = p->rows.n > REPORT_MAX_ROWS ? p->rows.n - REPORT_MAX_ROWS : 0;

	fputs("<h2 id=\"timeline\">Timeline</h2>\n", out);
	put_svg(out, p->t, p->since, p->now);
	fputs("<table class=\"timeline-rows\"><thead><tr><th>when (UTC)</th><th>what</th></tr>"
	      "</thead><tbody>\n", out);
	for (size_t i = p->rows.n; i-- > first;)
		put_row(out, &p->rows.v[i], p->t, p->now, p->n_changes, REPORT_MAX_DETAILED);
	fputs("</tbody></table>\n", out);
	if (first)
		fprintf(out, "<p class=\"cut\">%zu older rows not shown (use --since)</p>\n", first);
	return 0;
}

static int section_changes(struct page *p)
{
	FILE *out = p->out;
	struct model_cache cache = { 0 };
	size_t shown = 0;
	int r = 0;

	fputs("<h2 id=\"changes\">Changes of schema</h2>\n", out);
	for (size_t i = p->rows.n; i-- > 0 && r == 0;) {
		const struct row *row = &p->rows.v[i];
		struct model *from, *to;
		struct diff *d = NULL;

		if (row->kind != ROW_CHANGE)
			continue;
		if (shown++ >= REPORT_MAX_DETAILED)
			break;
		fprintf(out, "<details class=\"change\" id=\"change-%zu\"%s><summary>", row->change_no,
			shown == 1 ? " open" : "");
		put_time(out, row->t0);
		fputs(": ", out);
		put_hash(out, row->run->from);
		fputs(" → ", out);
		put_hash(out, row->run->hash);
		fputs(", ", out);
		put_summary_counts(out, &row->run->summary);
		fputs("</summary>\n", out);
		/* Both sides through the one model diff (diff.c), as `schemadrift diff` shows it. */
		if (p->budget == 0) {
			fputs("<p class=\"cut\">not shown: the page holds enough changes</p>", out);
		} else if (!(to = cache_get(&cache, p->t, row->run->hash)) ||
			   !(from = cache_get(&cache, p->t, row->run->from))) {
			fputs("<p class=\"muted\">not available (", out);
			h(out, p->t->load_error);
			fputs(")</p>", out);
		} else if (diff_models(from, to, &d) < 0) {
			r = -ENOMEM;
		} else {
			r = put_diff(out, d, &p->budget);
			diff_free(d);
		}
		fputs("<p class=\"muted noprint\">schemadrift diff ", out);
		h(out, p->t->name);
		fputs("@", out);
		report_escape(out, row->run->from, 12, false);
		fputs(" ", out);
		h(out, p->t->name);
		fputs("@", out);
		report_escape(out, row->run->hash, 12, false);
		fputs("</p></details>\n", out);
	}
	if (shown == 0)
		fputs("<p class=\"muted\">no change of schema in this period</p>\n", out);
	else if (shown > REPORT_MAX_DETAILED)
		fputs("<p class=\"cut\">older changes: see the timeline's summaries</p>\n", out);
	cache_done(&cache);
	return r;
}

static int section_acks(struct page *p)
{
	FILE *out = p->out;
	const struct ack_set *a = p->t->acks;

	fputs("<h2 id=\"acks\">Acknowledgements</h2>\n", out);
	if (!a || a->n == 0) {
		fputs("<p class=\"muted\">none in force</p>\n", out);
		return 0;
	}
	fputs("<table class=\"acks\"><thead><tr><th>id</th><th>pattern</th><th>reason</th><th>by</th>"
	      "<th>made</th><th>expiry</th><th>objects</th></tr></thead><tbody>\n", out);
	for (size_t i = 0; i < a->n; i++) {
		const struct ack *k = &a->acks[i];
		fprintf(out, "<tr class=\"ack%s\"><td><code>", ack_expired(k, p->now) ? " expired" : "");
		h(out, k->id);
		fputs("</code></td><td><code>", out);
		h(out, k->pattern);
		fputs("</code></td><td class=\"reason\">", out);
		h(out, k->reason);
		fputs("</td><td>", out);
		h(out, k->who);
		fputs("</td><td>", out);
		put_time(out, k->created);
		fputs("</td><td>", out);
		put_expiry(out, k->expires, p->now);
		fputs("</td><td>", out);
		for (size_t j = 0; j < k->n_objects; j++) {
			fputs(j ? ", <code>" : "<code>", out);
			h(out, k->objects[j].label);
			fputs(k->objects[j].present ? "</code>" : "</code> (removed)", out);
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
	return 0;
}

/*
 * The sections of a target's page, in order.  Adding one (the findings of
 * `check` and `mismatch`, once the store keeps them) is a function here
 * and a row in this table.
 */
static const struct {
	const char *name;
	int (*write)(struct page *p);
} sections[] = {
	{ "state", section_state },
	{ "drift", section_drift },
	{ "timeline", section_timeline },
	{ "changes", section_changes },
	{ "acknowledgements", section_acks },
};

int report_write_target(const struct report_options *o, const char *target, FILE *out,
			struct error *err)
{
	struct page p = { .out = out, .o = o, .now = now_of(o), .since = o->since,
			  .budget = REPORT_MAX_ROWS_TOTAL };
	struct tgt t;
	json_t *dead = NULL;
	int r;

	if ((r = load_dead(o, &dead, err)) < 0)
		return r;
	r = tgt_load(o, target, dead, &t, err);
	json_decref(dead);
	if (r < 0) {
		tgt_done(&t);
		return r;
	}
	p.t = &t;
	if (build_rows(&t, o->since, &p.rows, &p.n_changes) < 0) {
		free(p.rows.v);
		tgt_done(&t);
		return error_set(err, -ENOMEM, "out of memory");
	}
	char title[160];
	snprintf(title, sizeof(title), "schemadrift: %s", target);
	page_head(out, title, p.now);
	fputs("<h1>Schema history of <span class=\"target\">", out);
	h(out, target);
	fputs("</span></h1>\n", out);
	if (o->since) {
		fputs("<p class=\"muted\">from ", out);
		put_time(out, o->since);
		fputs(" on</p>\n", out);
	}
	if (o->link_targets)
		fputs("<p class=\"noprint\"><a href=\"index.html\">all targets</a></p>\n", out);
	for (size_t i = 0; r == 0 && i < sizeof(sections) / sizeof(sections[0]); i++)
		r = sections[i].write(&p);
	page_foot(out);
	free(p.rows.v);
	tgt_done(&t);
	if (r < 0)
		return error_set(err, r, "%s: cannot write the report: %s", target, strerror(-r));
	if (fflush(out) != 0 || ferror(out))
		return error_set(err, -EIO, "%s: cannot write the report: %s", target,
				 strerror(errno ? errno : EIO));
	return 0;
}

/* -------------------------------------------------------------- the fleet */

int report_write_fleet(const struct report_options *o, FILE *out, struct error *err)
{
	struct store_options so = { .state_dir = o->state_dir, .central = o->central };
	char **names = NULL;
	size_t n = 0, drifting = 0, failing = 0;
	json_t *dead = NULL;
	time_t now = now_of(o);
	struct tgt *ts;
	int r;

	struct stat st;

	/* A mistyped state directory is an error, not a fleet of none. */
	if (!o->central && stat(state_dir_of(o), &st) < 0)
		return error_set(err, -errno, "state directory %s: %s", state_dir_of(o),
				 strerror(errno));
	if ((r = store_list_targets(&so, &names, &n, err)) < 0)
		return r;
	if ((r = load_dead(o, &dead, err)) < 0) {
		store_strv_free(names);
		return r;
	}
	ts = calloc(n ? n : 1, sizeof(*ts));
	if (!ts) {
		json_decref(dead);
		store_strv_free(names);
		return error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct error e;
		if (tgt_load(o, names[i], dead, &ts[i], &e) < 0) {
			/* One target's trouble does not hide the others. */
			warn(o, "%s", e.text);
			tgt_done(&ts[i]);
			memset(&ts[i], 0, sizeof(ts[i]));
			ts[i].name = names[i];
			continue;
		}
		drifting += ts[i].drifting;
		failing += ts[i].failing;
		/* The fleet shows states, not diffs: drop the models early. */
		diff_free(ts[i].drift);
		model_free(ts[i].base_m);
		model_free(ts[i].latest_m);
		ts[i].drift = NULL;
		ts[i].base_m = ts[i].latest_m = NULL;
	}
	json_decref(dead);
	page_head(out, "schemadrift: fleet", now);
	fprintf(out, "<h1>Schema drift across %zu target%s</h1>\n<p class=\"fleet-summary\">"
		"<span class=\"badge %s\">%zu drifting</span>"
		"<span class=\"badge %s\">%zu failing</span></p>\n", n, n == 1 ? "" : "s",
		drifting ? "s-drifting" : "s-ok", drifting, failing ? "s-failing" : "s-ok", failing);
	fputs("<table class=\"fleet\"><thead><tr><th>target</th><th>state</th><th>last change</th>"
	      "<th>drifting for</th><th>baseline</th><th>last run</th><th>runs</th></tr></thead>"
	      "<tbody>\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct tgt *t = &ts[i];
		fputs("<tr class=\"target\" data-target=\"", out);
		h(out, t->name);
		fputs("\"><td class=\"name\">", out);
		if (o->link_targets) {
			fputs("<a href=\"", out);
			h(out, t->name);
			fputs(".html\">", out);
		}
		h(out, t->name);
		fputs(o->link_targets ? "</a></td><td class=\"state\">" : "</td><td class=\"state\">",
		      out);
		if (t->h) {
			put_state(out, t);
		} else {
			fputs("<span class=\"badge s-failing\">unreadable</span>", out);
			fputs("</td><td></td><td></td><td></td><td></td><td></td></tr>\n", out);
			continue;
		}
		fputs("</td><td>", out);
		if (t->last_change)
			put_time(out, t->last_change);
		fputs("</td><td class=\"drifting\">", out);
		put_drifting_since(out, t, now);
		fputs("</td><td>", out);
		if (t->has_baseline) {
			put_hash(out, t->b.hash);
			fputs(" ", out);
			put_time(out, t->b.accepted_at);
		}
		fputs("</td><td>", out);
		if (t->last) {
			put_time(out, t->last->time);
			if (t->failing) {
				fputs(" <span class=\"sev-breaking\">", out);
				h(out, t->last->error);
				fputs("</span>", out);
			}
		}
		fprintf(out, "</td><td>%zu</td></tr>\n", t->h->n);
	}
	fputs("</tbody></table>\n", out);
	if (n == 0)
		fputs("<p class=\"muted\">no targets in the state directory</p>\n", out);
	page_foot(out);
	for (size_t i = 0; i < n; i++)
		tgt_done(&ts[i]);
	free(ts);
	store_strv_free(names);
	if (fflush(out) != 0 || ferror(out))
		return error_set(err, -EIO, "cannot write the report: %s", strerror(errno ? errno : EIO));
	return 0;
}

/* ------------------------------------------------------------ a directory */

int report_write_page(const struct report_options *o, const char *dir, const char *target,
		      struct error *err)
{
	struct report_options lo = *o;
	struct fileio_atomic f;
	char *path = NULL;
	int r;

	lo.link_targets = true;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return error_set(err, -errno, "%s: %s", dir, strerror(errno));
	if (asprintf(&path, "%s/%s.html", dir, target ? target : "index") < 0)
		return error_set(err, -ENOMEM, "out of memory");
	r = fileio_atomic_open(&f, path, err);
	free(path);
	if (r < 0)
		return r;
	/* For a web server to read (the temporary file is 0600); nothing secret is on it. */
	if (f.tmp_path)
		fchmod(fileno(f.stream), 0644);
	r = target ? report_write_target(&lo, target, f.stream, err)
		   : report_write_fleet(&lo, f.stream, err);
	if (r < 0) {
		fileio_atomic_abort(&f);
		return r;
	}
	return fileio_atomic_commit(&f, err);
}

int report_write_dir(const struct report_options *o, const char *dir, struct error *err)
{
	struct store_options so = { .state_dir = o->state_dir, .central = o->central };
	char **names = NULL;
	size_t n = 0;
	int r;

	if ((r = store_list_targets(&so, &names, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		r = report_write_page(o, dir, names[i], err);
	store_strv_free(names);
	return r < 0 ? r : report_write_page(o, dir, NULL, err);
}
