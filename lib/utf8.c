/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

size_t utf8_char_len(const unsigned char *p)
{
	unsigned char c = p[0];

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		size_t len = utf8_char_len(p);
		if (len == 0 || len > (size_t)(end - p))
			return false;
		p += len;
	}
	return true;
}

size_t utf8_escape_step(const char *p, size_t left, unsigned flags, char esc[UTF8_ESCAPE_MAX])
{
	unsigned char u[4] = { 0 };
	size_t n;

	/* utf8_char_len looks at up to 4 bytes: never past the end of p. */
	memcpy(u, p, left < 4 ? left : 4);
	n = u[0] ? utf8_char_len(u) : 0;

	esc[0] = '\0';
	if (n == 0 || n > left) {
		snprintf(esc, UTF8_ESCAPE_MAX, "\\x%02x", u[0]);
		return 1;
	}
	if (n == 1) {
		bool layout = (u[0] == '\t' && (flags & (UTF8_KEEP_LAYOUT | UTF8_KEEP_TAB))) ||
			      (u[0] == '\n' && (flags & UTF8_KEEP_LAYOUT));
		if ((u[0] < 0x20 || u[0] == 0x7f) && !layout)
			snprintf(esc, UTF8_ESCAPE_MAX, "\\x%02x", u[0]);
		return 1;
	}
	if (n == 2 && u[0] == 0xc2 && u[1] < 0xa0) /* C1: U+0080-U+009F */
		snprintf(esc, UTF8_ESCAPE_MAX, "\\u%04x", u[1]);
	else if (n == 3 && u[0] == 0xe2 &&
		 ((u[1] == 0x80 && u[2] >= 0xaa && u[2] <= 0xae) ||   /* U+202A-U+202E */
		  (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9)))    /* U+2066-U+2069 */
		snprintf(esc, UTF8_ESCAPE_MAX, "\\u%04x",
			 0x2000 | ((u[1] & 0x3f) << 6) | (u[2] & 0x3f));
	return n;
}

size_t utf8_escape(const char *s, size_t n, unsigned flags, char *out, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		char esc[UTF8_ESCAPE_MAX];
		size_t k = utf8_escape_step(s + i, n - i, flags, esc);
		const char *piece = esc[0] ? esc : s + i;
		size_t plen = esc[0] ? strlen(esc) : k;

		if (len + plen >= size)
			break;
		memcpy(out + len, piece, plen);
		len += plen;
		i += k;
	}
	out[len] = '\0';
	return len;
}

char *utf8_escape_dup(const char *s, unsigned flags)
{
	size_t n = strlen(s), size = n * 4 + 1; /* "\xHH" per byte at most */
	char *out = malloc(size);

	if (out)
		utf8_escape(s, n, flags, out, size);
	return out;
}

void utf8_escape_inplace(char *s, size_t size, unsigned flags)
{
	char *copy = strdup(s);

	if (!copy) { /* keep only what needs no escape */
		for (char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		return;
	}
	utf8_escape(copy, strlen(copy), flags, s, size);
	free(copy);
}

void utf8_escape_fputs(const char *s, size_t n, unsigned flags, FILE *out)
{
	for (size_t i = 0; i < n;) {
		char esc[UTF8_ESCAPE_MAX];
		size_t k = utf8_escape_step(s + i, n - i, flags, esc);

		if (esc[0])
			fputs(esc, out);
		else
			fwrite(s + i, 1, k, out);
		i += k;
	}
}
