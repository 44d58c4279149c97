/*
 * The client side of a POLICY part: its registry settings as JSON, the
 * file requestodj leaves for other tools.  Local only.
 */

#include "client/client.h"

#include <string.h>

NTSTATUS odj_policy_write_json(TALLOC_CTX *mem_ctx,
			       const struct OP_POLICY_PART *part,
			       const char *path,
			       char **why)
{
	char *text = NULL;
	NTSTATUS status;

	if (path == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = odj_policy_json_text(mem_ctx, part, &text);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = odj_file_write(mem_ctx, path,
				data_blob_const(text, strlen(text)), 0644, 0,
				why);
	TALLOC_FREE(text);
	return status;
}
