/* systemd notifications: READY, RELOADING, STOPPING, STATUS and the watchdog. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"

void service_ready(void)
{
	sd_notify(0, "READY=1");
}

void service_reloading(void)
{
	struct timespec ts;
	char msg[64];

	/* MONOTONIC_USEC lets systemd tell this reload from an earlier one. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	sd_notify(0, msg);
}

void service_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void service_status(const char *fmt, ...)
{
	char text[512], msg[520];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "STATUS=%s", text);
	sd_notify(0, msg);
}

void service_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t service_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

