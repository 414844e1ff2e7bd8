/* A target's verify runs (expected = PATH on verify_schedule) and their mismatch alerts. */
#ifndef SCHEMADRIFT_TARGET_VERIFY_H
#define SCHEMADRIFT_TARGET_VERIFY_H

#include <jansson.h>

#include "error.h"
#include "schedule.h"

struct target;
struct target_verify;

/*
 * After a load or reload: takes schedule (NULL when the target has neither
 * expected nor expected_cmd) and creates, keeps or drops t->verify.  On
 * failure (out of memory, the state directory) t->verify is unchanged.
 */
int target_verify_setup(struct target *t, struct schedule *schedule, struct error *err);
/* Stops a running verify (SIGTERM: it removes its scratch cluster itself). */
void target_verify_free(struct target_verify *v);
json_t *target_verify_status_json(const struct target_verify *v);

#endif
