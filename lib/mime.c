/* Mail message pieces (RFC 5322, 2045, 2047): safe text, headers, addresses, quoted-printable. */
#include "mime.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* RFC 5322 recommends header lines of at most 78 characters. */
#define HEADER_WIDTH 78
/* Raw bytes per RFC 2047 encoded-word: base64 of 42 bytes is 56 characters, plus
 * "=?UTF-8?B?" and "?=" makes 68, so "Subject: " + one word stays within 78. */
#define EWORD_RAW 42

/* ------------------------------------------------------ text from the database */

static unsigned long utf8_decode(const unsigned char *p, size_t len)
{
	static const unsigned char lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned long cp = p[0] & lead_mask[len];

	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	return cp;
}

/* Characters that reorder or break lines without looking like it (bidi controls,
 * line/paragraph separators): shown as \uXXXX so a name cannot disguise itself. */
static bool invisible_format(unsigned long cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 || cp == 0x0085;
}

static void put_escaped_char(struct strbuf *b, unsigned char c, bool html)
{
	if (!html) {
		strbuf_putc(b, (char)c);
		return;
	}
	switch (c) {
	case '&':
		strbuf_puts(b, "&amp;");
		break;
	case '<':
		strbuf_puts(b, "&lt;");
		break;
	case '>':
		strbuf_puts(b, "&gt;");
		break;
	case '"':
		strbuf_puts(b, "&quot;");
		break;
	case '\'':
		strbuf_puts(b, "&#39;");
		break;
	default:
		strbuf_putc(b, (char)c);
	}
}

/*
 * Text from the database (names, definitions, error messages), literally but
 * harmless: invalid UTF-8 becomes U+FFFD, control characters and invisible
 * format characters become visible escapes (\r, \x07, \u202e), and with html
 * the markup characters become entities.  Line breaks and tabs are kept when
 * indent is not NULL (multi-line values such as view definitions), each break
 * followed by indent; otherwise they are shown as \n and \t, so a name can
 * never start a line of its own in the message.
 */
void mime_put_text(struct strbuf *b, const char *s, const char *indent, bool html)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t len;

		if (*p == '\r' && p[1] == '\n' && indent) {
			p++;
			continue; /* CRLF is one line break */
		}
		if (*p == '\n') {
			if (indent) {
				strbuf_putc(b, '\n');
				strbuf_puts(b, indent);
			} else {
				strbuf_puts(b, "\\n");
			}
			p++;
			continue;
		}
		if (*p == '\t' && indent) {
			strbuf_putc(b, '\t');
			p++;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			if (*p == '\r')
				strbuf_puts(b, "\\r");
			else if (*p == '\t')
				strbuf_puts(b, "\\t");
			else
				strbuf_printf(b, "\\x%02x", *p);
			p++;
			continue;
		}
		if (*p < 0x80) {
			put_escaped_char(b, *p, html);
			p++;
			continue;
		}
		len = utf8_char_len(p);
		if (len == 0) {
			strbuf_puts(b, "\xef\xbf\xbd"); /* U+FFFD */
			p++;
			continue;
		}
		if (invisible_format(utf8_decode(p, len)))
			strbuf_printf(b, "\\u%04lx", utf8_decode(p, len));
		else
			strbuf_put(b, (const char *)p, len);
		p += len;
	}
}

/* ------------------------------------------------------------ header encoding */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_base64(struct strbuf *b, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)s[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (unsigned long)s[i + 1] << 8;
		if (left > 2)
			v |= s[i + 2];
		strbuf_putc(b, b64_alphabet[(v >> 18) & 63]);
		strbuf_putc(b, b64_alphabet[(v >> 12) & 63]);
		strbuf_putc(b, left > 1 ? b64_alphabet[(v >> 6) & 63] : '=');
		strbuf_putc(b, left > 2 ? b64_alphabet[v & 63] : '=');
	}
}

/*
 * One header line of text (Subject, a display name) as it is meant to read:
 * valid UTF-8 with every control character turned into a space, since a
 * header is one line and must never carry a raw CR or LF.
 */
char *mime_header_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	struct strbuf b = { 0 };

	while (*p) {
		size_t len;

		if (*p < 0x20 || *p == 0x7f) {
			strbuf_putc(&b, ' ');
			p++;
			continue;
		}
		len = utf8_char_len(p);
		if (len == 0) {
			strbuf_puts(&b, "\xef\xbf\xbd");
			p++;
			continue;
		}
		if (len > 1 && invisible_format(utf8_decode(p, len)))
			strbuf_putc(&b, ' ');
		else
			strbuf_put(&b, (const char *)p, len);
		p += len;
	}
	return strbuf_take(&b);
}

static bool plain_ascii(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return strstr(s, "=?") == NULL;
}

/*
 * RFC 2047 "B" encoded-words of at most EWORD_RAW bytes each, cut only between
 * UTF-8 characters, folded onto continuation lines (CRLF SP) after the first.
 * s must be valid UTF-8 (mime_header_text's output).
 */
static void put_encoded_words(struct strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	bool first = true;

	while (*p) {
		size_t n = 0;

		while (p[n]) {
			size_t len = utf8_char_len(p + n);
			if (len == 0)
				len = 1;
			if (n + len > EWORD_RAW)
				break;
			n += len;
		}
		if (!first)
			strbuf_puts(b, "\r\n ");
		strbuf_puts(b, "=?UTF-8?B?");
		put_base64(b, p, n);
		strbuf_puts(b, "?=");
		first = false;
		p += n;
	}
}

/*
 * An unstructured header (Subject): printable ASCII as it is, folded before
 * blanks that follow a word so lines stay within 78 where the words allow
 * (unfolding gives back the exact text); anything else as encoded-words.
 */
void mime_put_unstructured_header(struct strbuf *b, const char *name, const char *text)
{
	size_t col = strlen(name) + 2;

	strbuf_puts(b, name);
	strbuf_puts(b, ": ");
	if (!plain_ascii(text)) {
		put_encoded_words(b, text);
		strbuf_puts(b, "\r\n");
		return;
	}
	for (const char *p = text; *p;) {
		/* the next piece: blanks, then a word */
		size_t n = strspn(p, " ");

		n += strcspn(p + n, " ");
		if (col + n > HEADER_WIDTH && p != text && p[-1] != ' ' && *p == ' ') {
			strbuf_puts(b, "\r\n");
			col = 0;
		}
		strbuf_put(b, p, n);
		col += n;
		p += n;
	}
	strbuf_puts(b, "\r\n");
}

/* ----------------------------------------------------------------- mailboxes */

static bool atext(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * The addresses we accept: dot-atom local part @ a host name or [IP literal],
 * ASCII only.  Narrower than RFC 5321 on purpose (no quoted local parts): the
 * address goes into the envelope and the headers verbatim.
 */
static bool addr_valid(const char *a)
{
	const char *at = strchr(a, '@');
	const char *d;

	if (!at || at == a || strchr(at + 1, '@') || strlen(a) > 254)
		return false;
	for (const char *p = a; p < at; p++)
		if (!atext((unsigned char)*p) &&
		    !(*p == '.' && p != a && p + 1 != at && p[1] != '.'))
			return false;
	d = at + 1;
	if (!*d)
		return false;
	if (*d == '[') {
		size_t n = strlen(d);
		if (n < 3 || d[n - 1] != ']')
			return false;
		for (const char *p = d + 1; p < d + n - 1; p++)
			if (!isxdigit((unsigned char)*p) && !strchr(".:", *p) &&
			    !isalpha((unsigned char)*p))
				return false;
		return true;
	}
	for (const char *p = d; *p; p++)
		if (!isalnum((unsigned char)*p) && !(*p == '-' && p != d) &&
		    !(*p == '.' && p != d && p[1] && p[1] != '.'))
			return false;
	return true;
}

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

void mime_mailbox_done(struct mime_mailbox *m)
{
	free(m->name);
	free(m->addr);
	m->name = m->addr = NULL;
}

/* "addr" or "Display Name <addr>" (the name may be "quoted"). */
int mime_mailbox_parse(const char *s, size_t n, struct mime_mailbox *ret, const char **why)
{
	struct mime_mailbox m = { 0 };
	char *all = trimmed(s, n);
	char *lt, *gt;

	if (!all)
		return -ENOMEM;
	lt = strrchr(all, '<');
	gt = strrchr(all, '>');
	if (lt || gt) {
		if (!lt || !gt || gt < lt || gt[1] != '\0') {
			*why = "expected \"address\" or \"Name <address>\"";
			free(all);
			return -EINVAL;
		}
		m.addr = trimmed(lt + 1, (size_t)(gt - lt - 1));
		m.name = trimmed(all, (size_t)(lt - all));
		if (m.name && m.name[0] == '"') {
			size_t len = strlen(m.name);
			if (len < 2 || m.name[len - 1] != '"') {
				*why = "unbalanced quotes in the display name";
				goto bad;
			}
			memmove(m.name, m.name + 1, len - 2);
			m.name[len - 2] = '\0';
		}
	} else {
		m.addr = strdup(all);
	}
	free(all);
	all = NULL;
	if (!m.addr || (lt && !m.name)) {
		mime_mailbox_done(&m);
		return -ENOMEM;
	}
	if (!addr_valid(m.addr)) {
		*why = "not an email address (local@domain, ASCII, no quoted parts)";
		goto bad;
	}
	if (m.name) {
		if (!utf8_valid(m.name, strlen(m.name))) {
			*why = "the display name is not valid UTF-8";
			goto bad;
		}
		for (const unsigned char *p = (const unsigned char *)m.name; *p; p++)
			if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\') {
				*why = "the display name holds a control character, '\"' or '\\'";
				goto bad;
			}
		if (!m.name[0]) { /* "<addr>" alone */
			free(m.name);
			m.name = NULL;
		}
	}
	*ret = m;
	return 0;
bad:
	free(all);
	mime_mailbox_done(&m);
	return -EINVAL;
}

/* A display name: atoms as they are, other printable ASCII quoted, the rest RFC 2047. */
static void put_phrase(struct strbuf *b, const char *name)
{
	bool atoms = true, ascii = true;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p >= 0x80)
			ascii = false;
		if (!atext(*p) && *p != ' ')
			atoms = false;
	}
	if (ascii && atoms && !strstr(name, "=?"))
		strbuf_puts(b, name);
	else if (ascii && !strstr(name, "=?"))
		strbuf_printf(b, "\"%s\"", name); /* '"' and '\\' were refused by mime_mailbox_parse */
	else
		put_encoded_words(b, name);
}

static void put_mailbox(struct strbuf *b, const struct mime_mailbox *m)
{
	if (m->name) {
		put_phrase(b, m->name);
		strbuf_printf(b, " <%s>", m->addr);
	} else {
		strbuf_puts(b, m->addr);
	}
}

/* An address-list header, folded between addresses. */
void mime_put_address_header(struct strbuf *b, const char *name,
			     const struct mime_mailbox *list, size_t n)
{
	size_t col;

	strbuf_puts(b, name);
	strbuf_puts(b, ":");
	col = strlen(name) + 1;
	for (size_t i = 0; i < n; i++) {
		struct strbuf one = { 0 };

		put_mailbox(&one, &list[i]);
		if (one.failed) {
			b->failed = true;
			strbuf_done(&one);
			return;
		}
		if (i > 0 && col + 2 + one.len > HEADER_WIDTH) {
			strbuf_puts(b, ",\r\n ");
			col = 1;
		} else {
			strbuf_puts(b, i > 0 ? ", " : " ");
			col += i > 0 ? 2 : 1;
		}
		strbuf_put(b, one.s, one.len);
		col += one.len;
		strbuf_done(&one);
	}
	strbuf_puts(b, "\r\n");
}

/* ---------------------------------------------------------- quoted-printable */

/*
 * RFC 2045 quoted-printable of text whose lines end in "\n": CRLF hard breaks,
 * soft breaks keep every line within 76 characters, trailing blanks encoded.
 * A line starting with "." is left to libESMTP, which dot-stuffs every line
 * of the message it sends (headers and body).
 */
void mime_put_quoted_printable(struct strbuf *b, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)text;

	while (*p) {
		const unsigned char *eol = (const unsigned char *)strchrnul((const char *)p, '\n');
		size_t col = 0;

		for (const unsigned char *q = p; q < eol; q++) {
			char tok[4];
			size_t n;
			bool last = q + 1 == eol;

			if ((*q >= 33 && *q <= 126 && *q != '=') ||
			    ((*q == ' ' || *q == '\t') && !last)) {
				tok[0] = (char)*q;
				n = 1;
			} else {
				tok[0] = '=';
				tok[1] = hex[*q >> 4];
				tok[2] = hex[*q & 15];
				n = 3;
			}
			if (col + n > 75) {
				strbuf_puts(b, "=\r\n");
				col = 0;
			}
			strbuf_put(b, tok, n);
			col += n;
		}
		strbuf_puts(b, "\r\n");
		p = *eol ? eol + 1 : eol;
	}
}
