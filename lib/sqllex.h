/* SQL lexing shared by the filters and the loader: tokens and statement boundaries. */
#ifndef SCHEMADRIFT_SQLLEX_H
#define SCHEMADRIFT_SQLLEX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Length of the token at p (0 only at the end of the text): a -- or nested
 * block comment, a '' "" or E'' quoted string, a $tag$ dollar-quoted body,
 * a word, an operator run, or one other character.  An unterminated quote
 * or comment runs to the end of the text.
 */
size_t sqllex_token_len(const char *p);

bool sqllex_is_space(char c);

/* One statement of a script: where it starts (1-based line) and its text. */
struct sqllex_statement {
	const char *text; /* into the script; not NUL-terminated */
	size_t len;       /* without the terminating ';' */
	int line;         /* line of the statement's first token */
};

/*
 * Splits a script into statements at top-level semicolons (never inside
 * quotes, dollar quotes, comments or a BEGIN ATOMIC body), as psql does.
 * Lines starting with a backslash between statements (psql meta-commands
 * such as pg_dump's \restrict) are skipped.  first_line numbers the script's
 * first line.  *ret is malloc'd (NULL when there is no statement).
 */
int sqllex_split(const char *script, int first_line, struct sqllex_statement **ret,
		 size_t *ret_n);

#endif
