/* libFuzzer target: the schedule parser (cron and every), then next fires, jitter and catch-up. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct schedule *s = NULL;
	struct error err;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (schedule_parse(text, &s, &err) == 0) {
		struct schedule_catch_up cu;
		time_t t = 1700000000, next;

		schedule_set_anchor(s, t - 3600);
		for (int i = 0; i < 4 && schedule_next(s, t, &next) == 0; i++)
			t = next;
		(void)schedule_jitter(s, "fuzz", 300);
		(void)schedule_catch_up(s, 1700000000, 1700000000 + 86400 * 3, &cu);
		schedule_free(s);
	}
	free(text);
	return 0;
}
