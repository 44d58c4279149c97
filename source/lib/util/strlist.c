/*
 * NULL-terminated string lists on talloc.
 */

#include "util/util.h"

bool odj_str_list_add(TALLOC_CTX *mem_ctx, const char ***list,
		      const char *s)
{
	const char **l = *list;
	size_t n = 0;

	while (l != NULL && l[n] != NULL) {
		n++;
	}
	l = talloc_realloc(mem_ctx, l, const char *, n + 2);
	if (l == NULL) {
		return false;
	}
	l[n] = talloc_strdup(l, s);
	l[n + 1] = NULL;
	*list = l;
	return l[n] != NULL;
}

