/* The CLI's one place that prints a failure: "schemadrift: <message>" on stderr. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

void cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("schemadrift: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
