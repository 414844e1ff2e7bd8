/* The control socket's request: one JSON object per connection, parsed apart from the loop. */
#ifndef SCHEMADRIFT_CONTROL_REQUEST_H
#define SCHEMADRIFT_CONTROL_REQUEST_H

#include <stddef.h>

/* Longer requests are refused: the largest real one is a run-now with a name. */
#define CONTROL_REQUEST_MAX 65536

enum control_command { CONTROL_BAD, CONTROL_UNKNOWN, CONTROL_STATUS, CONTROL_RUN_NOW, CONTROL_RUN_CHECKS };

struct control_request {
	enum control_command command;
	char target[256]; /* run-now, run-checks: the target's name ("" when absent or too long) */
};

/* Parses len bytes (NUL bytes and trailing garbage make it CONTROL_BAD). */
void control_request_parse(const char *text, size_t len, struct control_request *ret);

#endif
