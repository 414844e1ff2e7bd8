/* UTC instants as ISO 8601 text ("2024-05-01T12:00:00Z"), as every file and message shows them. */
#ifndef SCHEMADRIFT_ISOTIME_H
#define SCHEMADRIFT_ISOTIME_H

#include <stdint.h>
#include <time.h>

/* Bytes isotime_format() writes, the NUL included. */
#define ISOTIME_SIZE 21

/* t as "YYYY-MM-DDTHH:MM:SSZ", or "invalid-time" when it has no such form. */
void isotime_format(time_t t, char out[ISOTIME_SIZE]);

/* Milliseconds on the monotonic clock (CLOCK_MONOTONIC): for deadlines and durations. */
int64_t isotime_mono_ms(void);

#endif
