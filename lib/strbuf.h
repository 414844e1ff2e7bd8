/* A growable string whose allocation failure is sticky and reported once, by strbuf_take. */
#ifndef SCHEMADRIFT_STRBUF_H
#define SCHEMADRIFT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Zero-initialised it is the empty string.  After any append s is
 * NUL-terminated (s[len] == '\0').  When an allocation fails, failed is set,
 * every later append does nothing, and strbuf_take reports it: callers append
 * freely and check once at the end.
 */
struct strbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

/* Room for n more bytes (plus the NUL); false once the buffer has failed. */
bool strbuf_reserve(struct strbuf *b, size_t n);
void strbuf_put(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_putc(struct strbuf *b, char c);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties b for reuse, keeping its memory, and clears a failure. */
void strbuf_reset(struct strbuf *b);
/* The string (malloc'd, "" when nothing was appended), or NULL after a failure;
 * b is left empty either way. */
char *strbuf_take(struct strbuf *b);
void strbuf_done(struct strbuf *b);

#endif
