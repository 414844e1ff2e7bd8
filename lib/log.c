/* Logging: journald with structured fields when stderr is the journal, plain lines otherwise. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "utf8.h"

static struct {
	const char *ident;
	int max_level;
	bool journal;
	bool prefix; /* stderr is the journal's stream: "<N>" prefixes (sd-daemon(3)) */
} log_state = { "schemadriftd", LOG_INFO, false, false };

/* Where libsystemd sends journal messages (fixed in it). */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static const char *const level_names[] = { "emerg", "alert", "crit", "error", "warning",
					   "notice", "info", "debug" };

/* JOURNAL_STREAM="dev:ino" is set by systemd when stderr goes to the journal;
 * check it is still our stderr (a child may have inherited the variable). */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_open(const char *ident, int max_level, bool force_stderr)
{
	log_state.ident = ident;
	log_state.max_level = max_level;
	log_state.prefix = stderr_is_journal();
	log_state.journal = !force_stderr && log_state.prefix;
}

void log_set_level(int max_level)
{
	log_state.max_level = max_level;
}

bool log_to_journal(void)
{
	return log_state.journal;
}

int log_level_from_name(const char *name)
{
	for (int i = 0; i < 8; i++)
		if (strcmp(level_names[i], name) == 0)
			return i;
	return -1;
}

static void emit(int level, const char *target, const char *message_id, const char *hash,
		 const char *raw)
{
	/* Messages quote servers, catalogs and files: the escaping rule makes
	 * sure none of it reaches a terminal or the journal raw. */
	char text[2048], name[256];

	if (level > log_state.max_level)
		return;
	utf8_escape(raw, strlen(raw), 0, text, sizeof(text));
	if (target) {
		utf8_escape(target, strlen(target), 0, name, sizeof(name));
		target = name;
	}
	if (log_state.journal) {
		char buf[6][2200];
		struct iovec iov[7];
		int n = 0;

		snprintf(buf[0], sizeof(buf[0]), "MESSAGE=%s", text);
		snprintf(buf[1], sizeof(buf[1]), "PRIORITY=%d", level);
		snprintf(buf[2], sizeof(buf[2]), "SYSLOG_IDENTIFIER=%s", log_state.ident);
		for (int i = 0; i < 3; i++)
			iov[n++] = (struct iovec){ buf[i], strlen(buf[i]) };
		if (target) {
			snprintf(buf[3], sizeof(buf[3]), "TARGET=%s", target);
			iov[n++] = (struct iovec){ buf[3], strlen(buf[3]) };
		}
		if (message_id) {
			snprintf(buf[4], sizeof(buf[4]), "MESSAGE_ID=%s", message_id);
			iov[n++] = (struct iovec){ buf[4], strlen(buf[4]) };
		}
		if (hash) {
			snprintf(buf[5], sizeof(buf[5]), "SNAPSHOT_HASH=%s", hash);
			iov[n++] = (struct iovec){ buf[5], strlen(buf[5]) };
		}
		/* No journald to take it (its socket is gone, or it refused): stderr,
		 * which is the journal's stream too, so that the line is not lost.
		 * sd_journal_sendv() reports success when there is no socket at all,
		 * hence the look first. */
		if (access(JOURNAL_SOCKET, F_OK) == 0 && sd_journal_sendv(iov, n) >= 0)
			return;
	}
	/* Under systemd, journald reads the priority from the "<N>" prefix, so
	 * that `journalctl -p err` finds these lines too. */
	if (log_state.prefix)
		fprintf(stderr, "<%d>", level);
	if (target)
		fprintf(stderr, "%s: target '%s': %s\n", level_names[level], target, text);
	else
		fprintf(stderr, "%s: %s\n", level_names[level], text);
}

void log_msg(int level, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit(level, NULL, NULL, NULL, text);
}

void log_errno(int level, int errnum, const char *fmt, ...)
{
	char text[2048];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	n = strlen(text);
	snprintf(text + n, sizeof(text) - n, ": %s", strerror(errnum));
	emit(level, NULL, NULL, NULL, text);
}

void log_target(int level, const char *target, const char *message_id, const char *hash,
		const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit(level, target, message_id, hash, text);
}
