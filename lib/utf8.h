/* UTF-8 validation for names that may come from SQL_ASCII databases. */
#ifndef SCHEMADRIFT_UTF8_H
#define SCHEMADRIFT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at p, 0 if invalid or at NUL. */
size_t utf8_char_len(const unsigned char *p);
bool utf8_valid(const char *s, size_t n);

#endif
