/* UTF-8 validation, and the one escaping rule for bytes on their way to a terminal or a log. */
#ifndef SCHEMADRIFT_UTF8_H
#define SCHEMADRIFT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Length (1-4) of the valid UTF-8 sequence at p, 0 if invalid or at NUL. */
size_t utf8_char_len(const unsigned char *p);
bool utf8_valid(const char *s, size_t n);

/*
 * The escaping rule (docs/conventions.md): every byte that came from a
 * server, a catalog or a file is written so it cannot move the cursor,
 * change a terminal's state or reorder what is shown.  C0 controls, DEL and
 * bytes that are not valid UTF-8 become \xHH; C1 controls (U+0080-U+009F)
 * and the bidi controls U+202A-U+202E and U+2066-U+2069 become \uHHHH.
 * Everything else, backslashes included, is copied: the output of the rule
 * passes through it unchanged, so text escaped twice reads as escaped once.
 */
enum {
	UTF8_KEEP_LAYOUT = 1, /* keep '\n' and '\t' (multi-line definitions) */
	UTF8_KEEP_TAB = 2,    /* keep '\t' only (one line of a definition) */
};
#define UTF8_ESCAPE_MAX 8 /* "\\u202e" and its NUL */

/*
 * One step of the rule over the left (> 0) bytes at p: returns how many bytes
 * it consumed; esc is "" when they are to be copied as they are, else their
 * escaped form.
 */
size_t utf8_escape_step(const char *p, size_t left, unsigned flags, char esc[UTF8_ESCAPE_MAX]);
/* s (n bytes) escaped into out (NUL-terminated, cut at a whole escape or character). */
size_t utf8_escape(const char *s, size_t n, unsigned flags, char *out, size_t size);
/* s escaped, malloc'd; NULL when out of memory. */
char *utf8_escape_dup(const char *s, unsigned flags);
/* Escapes in place within the buffer's size (error texts): cut when it grows past it. */
void utf8_escape_inplace(char *s, size_t size, unsigned flags);
void utf8_escape_fputs(const char *s, size_t n, unsigned flags, FILE *out);

#endif
