/* libFuzzer target: the INI reader (ini_parse), the daemon's keys (config_from_conf), and the DSN secret finder. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ini.h"
#include "live.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ini *raw = NULL;
	struct config *c = NULL;
	struct error err;
	char *dsn = malloc(size + 1), msg[512];

	/* The same bytes as a DSN: what the daemon refuses and libpq's messages redacted. */
	if (dsn) {
		memcpy(dsn, data, size);
		dsn[size] = '\0';
		(void)live_dsn_has_password(dsn);
		snprintf(msg, sizeof(msg), "invalid token: \"%.200s\" and %.200s", dsn, dsn);
		live_redact(dsn, "pw", msg, sizeof(msg));
		free(dsn);
	}
	/* Includes resolve under a directory that does not exist. */
	if (ini_parse((const char *)data, size, "/nonexistent-fuzz/x.conf", &raw, &err) < 0)
		return 0;
	if (config_from_conf(raw, &c, &err) == 0) /* takes raw */
		config_free(c);
	return 0;
}
