/* SQL lexing shared by the filters and the loader: tokens and statement boundaries. */
#include "sqllex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool sqllex_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c >= 0x80;
}

static bool is_op(char c)
{
	return c && strchr("+-*/<>=~!@#%^&|`?", c) != NULL;
}

size_t sqllex_token_len(const char *p)
{
	const char *q = p;

	if (!*p)
		return 0;
	if (p[0] == '-' && p[1] == '-') { /* line comment, to the end of the line */
		while (*q && *q != '\n')
			q++;
		return (size_t)(q - p);
	}
	if (p[0] == '/' && p[1] == '*') { /* block comment; they nest in PostgreSQL */
		int depth = 0;
		while (*q) {
			if (q[0] == '/' && q[1] == '*') {
				depth++;
				q += 2;
			} else if (q[0] == '*' && q[1] == '/') {
				q += 2;
				if (--depth == 0)
					break;
			} else {
				q++;
			}
		}
		return (size_t)(q - p);
	}
	if (*p == '\'' || *p == '"' ||
	    ((*p == 'E' || *p == 'e') && p[1] == '\'')) { /* quoted; E'' takes backslashes */
		bool backslash = *p == 'E' || *p == 'e';
		char quote = backslash ? '\'' : *p;
		q = p + (backslash ? 2 : 1);
		while (*q) {
			if (backslash && *q == '\\' && q[1]) {
				q += 2;
			} else if (*q == quote && q[1] == quote) {
				q += 2;
			} else if (*q == quote) {
				q++;
				break;
			} else {
				q++;
			}
		}
		return (size_t)(q - p);
	}
	if (*p == '$' && !(p[1] >= '0' && p[1] <= '9')) { /* $tag$ ... $tag$; $1 is a parameter */
		const char *t = p + 1;
		while (*t && *t != '$' && is_word((unsigned char)*t))
			t++;
		if (*t == '$') {
			size_t tag = (size_t)(t - p) + 1;
			const char *end = t + 1;
			while ((end = strchr(end, '$')) && strncmp(end, p, tag) != 0)
				end++;
			return end ? (size_t)(end + tag - p) : strlen(p);
		}
	}
	if (is_word((unsigned char)*p)) {
		while (is_word((unsigned char)*q))
			q++;
		return (size_t)(q - p);
	}
	if (is_op(*p)) {
		while (is_op(*q) && !(q[0] == '-' && q[1] == '-') && !(q[0] == '/' && q[1] == '*'))
			q++;
		return q > p ? (size_t)(q - p) : 1;
	}
	return 1;
}

static bool word_is(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

static int lines_in(const char *p, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

int sqllex_split(const char *script, int first_line, struct sqllex_statement **ret,
		 size_t *ret_n)
{
	struct sqllex_statement *out = NULL, *grown;
	size_t n = 0, cap = 0;
	const char *p = script, *start = NULL;
	int line = first_line, start_line = 0;
	/* SQL-standard bodies (CREATE FUNCTION ... BEGIN ATOMIC ... END) hold
	 * semicolons: psql counts BEGIN/CASE against END inside CREATE
	 * FUNCTION/PROCEDURE, and so do we. */
	int words = 0, depth = 0;
	bool routine = false, prev_create = false, at_line_start = true;

	while (*p) {
		if (sqllex_is_space(*p)) {
			if (*p == '\n') {
				line++;
				at_line_start = true;
			}
			p++;
			continue;
		}
		if (!start && at_line_start && *p == '\\') { /* psql meta-command */
			while (*p && *p != '\n')
				p++;
			continue;
		}
		at_line_start = false;
		size_t len = sqllex_token_len(p);
		bool comment = (p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*');
		if (*p == ';' && depth == 0) {
			if (start) {
				if (n == cap) {
					cap = cap ? 2 * cap : 64;
					grown = realloc(out, cap * sizeof(*out));
					if (!grown) {
						free(out);
						return -ENOMEM;
					}
					out = grown;
				}
				out[n++] = (struct sqllex_statement){ start, (size_t)(p - start),
								      start_line };
			}
			start = NULL;
			words = depth = 0;
			routine = prev_create = false;
			p++;
			continue;
		}
		if (!start && !comment) {
			start = p;
			start_line = line;
		}
		if (start && !comment && is_word((unsigned char)*p)) {
			words++;
			if (words <= 4 && (word_is(p, len, "function") || word_is(p, len, "procedure")) &&
			    prev_create)
				routine = true;
			if (words == 1)
				prev_create = word_is(p, len, "create");
			if (routine && (word_is(p, len, "begin") || word_is(p, len, "case")))
				depth++;
			else if (routine && depth > 0 && word_is(p, len, "end"))
				depth--;
		}
		line += lines_in(p, len);
		p += len;
	}
	if (start) { /* the last statement may lack its semicolon */
		const char *end = p;
		if (n == cap) {
			grown = realloc(out, (cap + 1) * sizeof(*out));
			if (!grown) {
				free(out);
				return -ENOMEM;
			}
			out = grown;
		}
		out[n++] = (struct sqllex_statement){ start, (size_t)(end - start), start_line };
	}
	*ret = out;
	*ret_n = n;
	return 0;
}
