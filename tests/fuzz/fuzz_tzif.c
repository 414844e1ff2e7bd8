/* libFuzzer target: the TZif reader (RFC 8536), its footer rule and local-time conversions. */
#include <stddef.h>
#include <stdint.h>

#include "zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t probes[] = { INT32_MIN, -1, 0, 1700000000, 4102444800LL,
					  INT64_C(253402300799) };
	struct zone z;
	struct error err;

	if (zone_parse(&z, "Fuzz/Zone", data, size, &err) < 0)
		return 0;
	/* Through the table and the footer's rule: what a schedule would do. */
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		(void)zone_offset(&z, probes[i]);
		(void)zone_local_to_utc(&z, probes[i]);
	}
	zone_done(&z);
	return 0;
}
