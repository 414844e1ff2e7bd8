/*
 * libFuzzer target: the migration-file splitter (each format's "up" cut,
 * goose's statement blocks, the SQL lexer) and Flyway's checksum.  The
 * first byte picks the format; the rest is the file's text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "migrate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const formats[] = { "sql", "sql-dir", "golang-migrate", "flyway", "goose",
				       "dbmate" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct migrate_format *fmt;
	struct migrate_statement *st = NULL;
	struct error err = { 0 };
	size_t n = 0, len;
	char *text;

	if (size == 0)
		return 0;
	fmt = migrate_format_find(formats[data[0] % (sizeof(formats) / sizeof(formats[0]))]);
	if (!fmt)
		abort();
	len = size - 1;
	text = malloc(len + 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, len);
	text[len] = '\0';
	(void)migrate_flyway_checksum(text, len);
	if (migrate_text_statements(fmt, "fuzz.sql", text, len, &st, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			/* Every statement is a NUL-terminated piece of the input at a sane line. */
			if (!st[i].text || st[i].line < 1 || strlen(st[i].text) > len)
				abort();
		}
		migrate_statements_free(st, n);
	}
	error_clear(&err);
	free(text);
	return 0;
}
