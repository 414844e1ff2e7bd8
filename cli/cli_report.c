/* The CLI's one place that prints a failure: "schemadrift: <message>" on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "utf8.h"

void cli_fail(const char *fmt, ...)
{
	char text[4096];
	va_list ap;

	/* Errors quote servers and files: escaped (utf8.h) on the way out. */
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fputs("schemadrift: ", stderr);
	utf8_escape_fputs(text, strlen(text), 0, stderr);
	fputc('\n', stderr);
}
