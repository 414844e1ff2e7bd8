/* The UTC-time formatter (isotime.h). */
#include "isotime.h"

#include <stdio.h>

void isotime_format(time_t t, char out[ISOTIME_SIZE])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, ISOTIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, ISOTIME_SIZE, "invalid-time");
}
