/* Parsing the control socket's requests: {"command": "status"} or {"command": "run-now", "target": NAME}. */
#include "control_request.h"

#include <string.h>

#include <jansson.h>

void control_request_parse(const char *text, size_t len, struct control_request *ret)
{
	json_error_t jerr;
	json_t *req = len <= CONTROL_REQUEST_MAX ? json_loadb(text, len, 0, &jerr) : NULL;
	const char *cmd = json_string_value(json_object_get(req, "command"));
	const char *name = json_string_value(json_object_get(req, "target"));

	memset(ret, 0, sizeof(*ret));
	if (!cmd)
		ret->command = CONTROL_BAD;
	else if (strcmp(cmd, "status") == 0)
		ret->command = CONTROL_STATUS;
	else if (strcmp(cmd, "run-now") == 0)
		ret->command = CONTROL_RUN_NOW;
	else if (strcmp(cmd, "run-checks") == 0)
		ret->command = CONTROL_RUN_CHECKS;
	else
		ret->command = CONTROL_UNKNOWN;
	if (name && strlen(name) < sizeof(ret->target))
		strcpy(ret->target, name);
	json_decref(req);
}
