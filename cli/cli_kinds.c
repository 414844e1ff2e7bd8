/* schemadrift kinds: the object kinds, their attributes and the --ignore groups. */
#include <stdio.h>

#include "cli.h"

int cli_cmd_kinds(const struct cli *c, int argc, char **argv)
{
	(void)c;
	(void)argv;
	if (argc != 0) {
		cli_fail("kinds takes no arguments");
		return EXIT_TROUBLE;
	}
	for (int k = 0; k < MODEL_KIND_COUNT; k++) {
		const struct model_kind_info *info = model_kind_info((enum model_kind)k);
		printf("%s:", info->name);
		for (const char *const *a = info->attrs; *a; a++)
			printf(" %s", *a);
		putchar('\n');
	}
	fputs("--ignore groups:", stdout);
	for (const char *const *g = filter_groups; *g; g++)
		printf(" %s", *g);
	putchar('\n');
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}
