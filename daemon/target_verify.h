/* A target's verify runs (expected = PATH on verify_schedule) and their mismatch alerts. */
#ifndef SCHEMADRIFT_TARGET_VERIFY_H
#define SCHEMADRIFT_TARGET_VERIFY_H

#include <stdbool.h>

#include <jansson.h>

#include "alert_state.h"
#include "error.h"
#include "schedule.h"

struct target;
struct target_verify;

/*
 * How the events of a verify's alert state (saved in the store under sub) become alerts:
 * the target's own dispatch in target.c, handed over so that this file never
 * calls back into it by name.  diff_json is the report's diff (the changes).
 */
typedef void (*target_verify_dispatch_fn)(struct target *t, struct alert_state *st,
					  const char *sub, int changed,
					  const struct alert_state_event *ev, size_t n,
					  json_t *diff_json, const char *message);

/*
 * After a load or reload: takes schedule (NULL when the target has neither
 * expected nor expected_cmd) and creates, keeps or drops t->verify.  On
 * failure (out of memory, the state directory) t->verify is unchanged.
 */
int target_verify_setup(struct target *t, struct schedule *schedule,
			target_verify_dispatch_fn dispatch, struct error *err);
/* Stops a running verify (SIGTERM: it removes its scratch cluster itself). */
void target_verify_free(struct target_verify *v);
/* The mismatch alert state again from the store (after a takeover). */
int target_verify_reload_state(struct target_verify *v, struct error *err);
json_t *target_verify_status_json(const struct target_verify *v);
/* Whether a verify run (its child process) is in flight; v may be NULL. */
bool target_verify_running(const struct target_verify *v);

#endif
