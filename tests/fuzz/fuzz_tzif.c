/* libFuzzer target: the TZif reader (RFC 8536), its footer rule and local-time conversions. */
#include <stddef.h>
#include <stdint.h>

#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err;

	(void)schedule_zone_parse("Fuzz/Zone", data, size, &err);
	return 0;
}
