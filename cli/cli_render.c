/* schemadrift render: the payload a channel type would send for a diff, for reviewing layouts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "cli.h"
#include "ini.h"
#include "fileio.h"
#include "notify.h"

/* With --config, --channel names a [notifier NAME] whose settings (max_changes...) apply. */
static int render_configured(const struct cli *c, const struct alert *a, char **ret)
{
	struct notify_env env = { 0 };
	struct notify_channel *ch = NULL;
	const struct ini_section *s;
	struct ini *conf = NULL;
	struct error err;
	int r = -1;

	if (ini_load(c->config, &conf, &err) < 0) {
		cli_fail("%s", err.text);
		return -1;
	}
	s = ini_find(conf, "notifier", c->channel);
	if (!s)
		cli_fail("%s: no [notifier %s] section", c->config, c->channel);
	else if (notify_channel_new(&env, s, &ch, &err) < 0)
		cli_fail("%s", err.text);
	else if (ch->backend->render(ch, a, ret, &err) < 0)
		cli_fail("%s", err.text);
	else
		r = 0;
	notify_channel_free(ch);
	ini_free(conf);
	return r;
}

int cli_cmd_render(const struct cli *c, int argc, char **argv)
{
	struct alert *a = NULL;
	json_t *diff = NULL, *pretty = NULL;
	json_error_t jerr;
	struct error err;
	char *text = NULL, *body = NULL, names[128];
	const char *target;
	size_t len;
	int status = EXIT_TROUBLE;

	notify_backend_names(names, sizeof(names));
	if (argc != 1) {
		cli_fail("render needs one DIFF.json (from `schemadrift diff --format json`; - is "
			 "standard input)");
		return EXIT_TROUBLE;
	}
	if (!c->channel) {
		cli_fail("render needs --channel KIND (%s)", names);
		return EXIT_TROUBLE;
	}
	if (!c->config && !notify_backend_find(c->channel)) {
		cli_fail("unknown channel kind '%s' (%s)", c->channel, names);
		return EXIT_TROUBLE;
	}
	if (fileio_read_all(argv[0], &text, &len, &err) < 0) {
		cli_fail("%s", err.text);
		goto out;
	}
	diff = json_loadb(text, len, 0, &jerr);
	if (!diff) {
		cli_fail("%s: line %d: %s", argv[0], jerr.line, jerr.text);
		goto out;
	}
	/* The alert names the target like the daemon would; without --target,
	 * the side the diff compared to stands in for it. */
	target = c->target;
	if (!target)
		target = json_string_value(json_object_get(
			json_object_get(json_object_get(diff, "schemadrift_diff"), "to"), "source"));
	if (alert_new(ALERT_DRIFT, target ? target : "example", &a) < 0) {
		cli_fail("out of memory");
		goto out;
	}
	if (alert_set_diff_json(a, diff, &err) < 0) {
		cli_fail("%s: %s", argv[0], err.text);
		goto out;
	}
	if (asprintf(&a->dedup_key, "schemadrift:%s:drift:1", a->target) < 0) {
		a->dedup_key = NULL;
		cli_fail("out of memory");
		goto out;
	}
	if (c->config) {
		if (render_configured(c, a, &body) < 0)
			goto out;
	} else if (notify_render_type(c->channel, a, &body, &err) < 0) {
		cli_fail("%s", err.text);
		goto out;
	}
	/* JSON payloads are shown indented (same content as sent); others as they are. */
	pretty = json_loads(body, 0, NULL);
	if (pretty) {
		if (json_dumpf(pretty, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			cli_fail("cannot write the payload");
			goto out;
		}
		fputc('\n', stdout);
	} else {
		fputs(body, stdout);
		if (!body[0] || body[strlen(body) - 1] != '\n')
			fputc('\n', stdout);
	}
	if (fflush(stdout) != 0) {
		cli_fail("cannot write the payload: %s", strerror(errno));
		goto out;
	}
	status = EXIT_SAME;
out:
	json_decref(pretty);
	json_decref(diff);
	free(body);
	free(text);
	alert_free(a);
	return status;
}
