/* libFuzzer target: the alert JSON loader (alert_from_json), written back and read again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr), *back;
	struct alert *a = NULL, *b = NULL;
	struct error err;

	if (!j)
		return 0;
	if (alert_from_json(j, &a, &err) == 0) {
		/* What we write, we read: a round trip must never fail. */
		back = alert_to_json(a);
		if (back && alert_from_json(back, &b, &err) != 0)
			abort();
		alert_free(b);
		json_decref(back);
		alert_free(a);
	}
	json_decref(j);
	return 0;
}
