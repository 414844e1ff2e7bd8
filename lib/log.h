/* Logging for the daemon: one API, two backends (journald with fields, or plain stderr). */
#ifndef SCHEMADRIFT_LOG_H
#define SCHEMADRIFT_LOG_H

#include <stdbool.h>
#include <syslog.h>

/*
 * Only daemon/ logs; lib/ reports errors to its caller.  Levels are
 * syslog's (LOG_ERR ... LOG_DEBUG).  When stderr is connected to the
 * journal (JOURNAL_STREAM names stderr's device and inode), messages go
 * to journald with structured fields; otherwise one line each on stderr:
 * "<level>: target 'billing': message".  Lines on a stderr that is the
 * journal's stream (with -f, or when journald refused a message) start with
 * the syslog priority, "<3>error: ...", which journald takes as the priority.
 */

/* Fixed MESSAGE_IDs, so `journalctl MESSAGE_ID=...` finds every such event. */
#define LOG_ID_DRIFT "5a1d0e3b7c2f4f0a9e6d1b8c4a2f7e90"
#define LOG_ID_ERROR "8c3e4b1a6d5f4e2b9a7c0d1e2f3a4b5c"
#define LOG_ID_RECOVERED "1f2e3d4c5b6a47988796a5b4c3d2e1f0"
#define LOG_ID_UPGRADED "6b0f2c9e4d7a4b1e8f3c5a2d9e0b7c14"
#define LOG_ID_RECORDER "3d9a7f1e2c5b4a608e7d6c5b4a3f2e1d"

void log_open(const char *ident, int max_level, bool force_stderr);
void log_set_level(int max_level);
/* "info" -> LOG_INFO; -1 if unknown. */
int log_level_from_name(const char *name);
bool log_to_journal(void);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends strerror(errno) like err(3)'s warn. */
void log_errno(int level, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * About one target, with optional MESSAGE_ID and SNAPSHOT_HASH fields
 * (NULL to leave out).  Every message about a target names it.
 */
void log_target(int level, const char *target, const char *message_id, const char *hash,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
