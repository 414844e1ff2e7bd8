/* libFuzzer target: the outbox entry loader (outbox_entry_parse). */
#include <stddef.h>
#include <stdint.h>

#include "outbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = NULL;
	struct alert *a = NULL;
	struct error err;

	if (outbox_entry_parse((const char *)data, size, "queue/1.json", 1, &j, &a, &err) == 0) {
		alert_free(a);
		json_decref(j);
	}
	return 0;
}
