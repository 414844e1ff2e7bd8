/* libFuzzer target: the snapshot reader (snapshot_parse), then a diff of what it read with itself. */
#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model *m = NULL;
	struct diff *d = NULL;
	struct error err;

	if (snapshot_parse((const char *)data, size, "fuzz.json", &m, &err) == 0) {
		if (diff_models(m, m, &d) == 0)
			diff_free(d);
		model_free(m);
	}
	return 0;
}
