/*
 * libFuzzer harness: the whole blob decode path a hostile file goes
 * through (file framing -> base64 -> NDR -> nested streams -> parts),
 * then dump and re-encode of whatever decoded.
 */

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <talloc.h>
#include "odj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(TALLOC_CTX *ctx, DATA_BLOB ndr)
{
	struct odj_provision_data *pd = NULL;
	DATA_BLOB again = data_blob_null;
	char *text = NULL;
	char *why = NULL;

	if (!NT_STATUS_IS_OK(odj_provision_data_decode(ctx, ndr, &pd,
						       &why))) {
		return;
	}
	odj_dump(ctx, pd, ODJ_DUMP_TEXT, true, &text);
	odj_dump(ctx, pd, ODJ_DUMP_JSON, false, &text);
	if (NT_STATUS_IS_OK(odj_provision_data_encode(ctx, pd, &again,
						      &why))) {
		struct odj_provision_data *pd2 = NULL;

		/* what we write, we must read back */
		if (!NT_STATUS_IS_OK(odj_provision_data_decode(
					     ctx, again, &pd2, &why))) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	DATA_BLOB in = data_blob_const(data, size);
	DATA_BLOB ndr = data_blob_null;
	char *why = NULL;

	/* the bytes as NDR, and as the text of a provisioning file */
	exercise(ctx, in);
	if (NT_STATUS_IS_OK(odj_file_decode(ctx, in, &ndr, &why))) {
		exercise(ctx, ndr);
	}
	talloc_free(ctx);
	return 0;
}
