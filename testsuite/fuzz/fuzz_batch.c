/*
 * libFuzzer harness: the batch file parser (odj_batch_parse(): one name
 * a line, or CSV with an optional header and RFC 4180 quoting).  Every
 * entry it returns must be well formed: a non-empty name, a line
 * number inside the text, no field holding a NUL.
 */

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "odj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void field(const char *s, size_t size)
{
	if (s != NULL && strlen(s) > size) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct odj_batch_entry *e = NULL;
	size_t i, n = 0, lines = 1;
	char *why = NULL;

	for (i = 0; i < size; i++) {
		lines += data[i] == '\n';
	}
	if (NT_STATUS_IS_OK(odj_batch_parse(ctx, data_blob_const(data, size),
					    "fuzz", &e, &n, &why))) {
		for (i = 0; i < n; i++) {
			if (e[i].name == NULL || e[i].name[0] == '\0' ||
			    e[i].line == 0 || e[i].line > lines) {
				abort();
			}
			field(e[i].name, size);
			field(e[i].ou, size);
			field(e[i].netbios, size);
			field(e[i].site, size);
			field(e[i].primary_dns, size);
		}
	} else if (why == NULL) {
		abort();	/* a refusal always says why */
	}
	talloc_free(ctx);
	return 0;
}
