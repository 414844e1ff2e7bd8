/* schemadriftd: launcher for all the rest (options, logging, then the daemon's loop). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "version.h"

#define DEFAULT_CONFIG "/etc/schemadrift.conf"

static const char usage_text[] =
	"Usage: schemadriftd [OPTIONS]\n"
	"\n"
	"Watches PostgreSQL databases for schema drift (see schemadriftd(8)).\n"
	"\n"
	"  -c, --config FILE        configuration file (default " DEFAULT_CONFIG ")\n"
	"  -t, --check-config       validate the configuration and exit (0 valid, 78 not)\n"
	"      --print-sample-config  print the commented sample configuration\n"
	"      --print-keys         print the key table (section, key, type, default, ...)\n"
	"  -f, --foreground         log to stderr even under systemd\n"
	"  -v, --verbose            log debug messages\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n";

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "print-sample-config", no_argument, NULL, 'S' },
		{ "print-keys", no_argument, NULL, 'K' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG;
	bool check = false, foreground = false, verbose = false;
	struct daemon d = { 0 };
	struct error err;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:tfvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'S':
			/* The daemon's keys, then every notifier type's, each from its table. */
			return config_write_sample(stdout) == 0 && notify_write_sample(stdout) == 0
				       ? 0
				       : 2;
		case 'K':
			return config_write_keys(stdout) == 0 ? 0 : 2;
		case 'f':
			foreground = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("schemadriftd %s\n", SCHEMADRIFT_VERSION);
			return 0;
		default:
			fputs("Try 'schemadriftd --help'.\n", stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "schemadriftd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (check) {
		struct config *c = NULL;
		if (daemon_load_config(config, true, &c, &err) < 0) {
			fprintf(stderr, "schemadriftd: %s\n", err.text);
			return DAEMON_EXIT_CONFIG;
		}
		printf("%s: configuration is valid (%zu target%s)\n", config, c->n_targets,
		       c->n_targets == 1 ? "" : "s");
		config_free(c);
		return 0;
	}
	log_open("schemadriftd", verbose ? LOG_DEBUG : LOG_INFO, foreground);
	d.verbose = verbose;
	if (daemon_start(&d, config, &err) < 0) {
		bool invalid = d.config_invalid;
		log_msg(LOG_ERR, "cannot start: %s", err.text);
		daemon_stop(&d);
		return invalid ? DAEMON_EXIT_CONFIG : 2;
	}
	event_base_dispatch(d.base);
	/* A stop (not a crash): hand the leases over now rather than at their expiry. */
	if (d.fleet)
		fleet_leave(d.fleet);
	log_msg(LOG_NOTICE, "stopped");
	daemon_stop(&d);
	return 0;
}
