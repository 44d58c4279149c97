/*
 * libFuzzer harness: the readers of what the 2012 extensions carry and
 * odj provision reads from files and SYSVOL: Registry.pol (PReg),
 * serialized certificate stores (SST), certificates and PFX files.
 * What parses must write back and parse to the same thing.
 */

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "odj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void preg(TALLOC_CTX *ctx, DATA_BLOB in)
{
	struct odj_preg *p = NULL;
	struct odj_preg *p2 = NULL;
	struct OP_POLICY_ELEMENT_LIST list;
	DATA_BLOB out = data_blob_null;
	DATA_BLOB out2 = data_blob_null;

	if (!NT_STATUS_IS_OK(odj_preg_parse(ctx, in, &p, NULL))) {
		return;
	}
	if (!NT_STATUS_IS_OK(odj_policy_element_list(ctx, p, "fuzz",
						     &list))) {
		abort();
	}
	/* strings go through UTF-8: compare our own writes */
	if (!NT_STATUS_IS_OK(odj_preg_push(ctx, p, &out)) ||
	    !NT_STATUS_IS_OK(odj_preg_parse(ctx, out, &p2, NULL)) ||
	    p2->num_entries != p->num_entries ||
	    !NT_STATUS_IS_OK(odj_preg_push(ctx, p2, &out2)) ||
	    out.length != out2.length ||
	    memcmp(out.data, out2.data, out.length) != 0) {
		abort();
	}
}

static void sst(TALLOC_CTX *ctx, DATA_BLOB in)
{
	struct odj_sst *s = NULL;
	struct odj_sst *s2 = NULL;
	struct odj_cert_info *info = NULL;
	DATA_BLOB out = data_blob_null;
	uint32_t i;

	if (!NT_STATUS_IS_OK(odj_sst_parse(ctx, in, &s, NULL))) {
		return;
	}
	for (i = 0; i < s->num_elements; i++) {
		odj_cert_info(ctx, s->elements[i].data, &info, NULL);
	}
	if (!NT_STATUS_IS_OK(odj_sst_push(ctx, s, &out)) ||
	    !NT_STATUS_IS_OK(odj_sst_parse(ctx, out, &s2, NULL)) ||
	    s2->num_elements != s->num_elements) {
		abort();
	}
	/* with its end marker, a store comes back byte for byte */
	if (in.length == out.length &&
	    memcmp(in.data, out.data, in.length) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	DATA_BLOB in = data_blob_const(data, size);
	struct odj_cert_info *info = NULL;
	struct odj_pfx *pfx = NULL;

	preg(ctx, in);
	sst(ctx, in);
	odj_cert_info(ctx, in, &info, NULL);
	if (size < 4096) {
		odj_pfx_parse(ctx, in, "", &pfx, NULL);
	}
	talloc_free(ctx);
	return 0;
}
