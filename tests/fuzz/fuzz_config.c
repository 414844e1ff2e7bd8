/* libFuzzer target: the INI reader (ini_parse) and the daemon's keys (config_from_conf). */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ini *raw = NULL;
	struct config *c = NULL;
	struct error err;

	/* "fuzz/x.conf": includes resolve under a directory that does not exist. */
	if (ini_parse((const char *)data, size, "/nonexistent-fuzz/x.conf", &raw, &err) < 0)
		return 0;
	if (config_from_conf(raw, &c, &err) == 0) /* takes raw */
		config_free(c);
	return 0;
}
