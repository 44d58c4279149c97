/*
 * smb.conf values as text, for the few parameters whose getters the
 * installed param.h leaves out.
 */

#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <param.h>

/*
 * A global parameter as text.  loadparm's getters for most parameters
 * are not in the installed param.h; lpcfg_dump_a_parameter() is.
 */
char *odj_lp_get(TALLOC_CTX *mem_ctx, struct loadparm_context *lp_ctx,
		 const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char *value = NULL;
	bool ok;

	if (f == NULL) {
		return NULL;
	}
	ok = lpcfg_dump_a_parameter(lp_ctx, NULL, name, f);
	fclose(f);
	if (ok && buf != NULL) {
		len = strcspn(buf, "\n");
		value = talloc_strndup(mem_ctx, buf, len);
	}
	free(buf);
	return value;
}

