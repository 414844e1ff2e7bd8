/* libFuzzer target: the control socket's request parser. */
#include <stddef.h>
#include <stdint.h>

#include "control_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req;

	control_request_parse((const char *)data, size, &req);
	return 0;
}
