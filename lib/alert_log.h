/* The alerts a target's runs raised, one JSON line each, for the history report. */
#ifndef SCHEMADRIFT_ALERT_LOG_H
#define SCHEMADRIFT_ALERT_LOG_H

#include <stddef.h>

#include <jansson.h>

#include "alert.h"
#include "error.h"

/* The log's file name inside a target's store directory. */
#define ALERT_LOG_FILE "alerts.log"

/*
 * Appends one line for an alert handed to the outbox: its time, id, kind,
 * severity, dedup key, headline, change count and the channels it was spooled
 * to (none: nobody was told, the alert is still logged).  Written without an
 * fsync: the outbox holds the alert itself; losing a line costs a row of the
 * report.  Only one writer per directory (the daemon's loop).
 */
int alert_log_append(const char *dir, const struct alert *a, const char *const *channels,
		     size_t n_channels, struct error *err);

/*
 * Every entry, oldest first, as a JSON array (new reference); an empty array
 * when there is no log.  Lines that do not parse are skipped and counted in
 * *ret_bad (may be NULL).
 */
int alert_log_load(const char *dir, json_t **ret, size_t *ret_bad, struct error *err);

#endif
