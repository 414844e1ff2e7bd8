/* Mail message pieces for the SMTP channel: safe text, encoded headers, addresses. */
#ifndef SCHEMADRIFT_MIME_H
#define SCHEMADRIFT_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

struct mime_mailbox {
	char *name; /* display name (valid UTF-8, no controls) or NULL */
	char *addr; /* local@domain, ASCII dot-atom local part, no quoted parts */
};

/* "addr" or "Display Name <addr>" (the name may be "quoted"); -EINVAL with
 * *why set when it is not one, -ENOMEM. */
int mime_mailbox_parse(const char *s, size_t n, struct mime_mailbox *ret, const char **why);
void mime_mailbox_done(struct mime_mailbox *m);

/*
 * Text from the database (names, definitions, error messages), literally but
 * harmless: invalid UTF-8 becomes U+FFFD, controls and invisible format
 * characters visible escapes, and with html the markup characters entities.
 * Line breaks and tabs are kept when indent is not NULL, each break followed
 * by indent; otherwise they are shown as \n and \t.
 */
void mime_put_text(struct strbuf *b, const char *s, const char *indent, bool html);
/* One header line of text as it is meant to read: valid UTF-8, every control
 * character a space; malloc'd, NULL on ENOMEM. */
char *mime_header_text(const char *s);
/* "Name: text" CRLF, folded within 78 columns where words allow, as RFC 2047
 * encoded-words when text is not plain printable ASCII. */
void mime_put_unstructured_header(struct strbuf *b, const char *name, const char *text);
/* An address-list header, folded between addresses. */
void mime_put_address_header(struct strbuf *b, const char *name,
			     const struct mime_mailbox *list, size_t n);
/* RFC 2045 quoted-printable of text whose lines end in "\n", with CRLF breaks. */
void mime_put_quoted_printable(struct strbuf *b, const char *text);

#endif
