/* The UTC-time formatter and the monotonic clock (isotime.h). */
#include "isotime.h"

#include <stdio.h>

void isotime_format(time_t t, char out[ISOTIME_SIZE])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, ISOTIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, ISOTIME_SIZE, "invalid-time");
}

int64_t isotime_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
