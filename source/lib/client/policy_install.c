/*
 * The client side of a POLICY part: its registry settings as JSON, the
 * file requestodj leaves for whatever applies them (Samba has no Group
 * Policy client for arbitrary registry values).  Local only.
 */

#include "odj_private.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

NTSTATUS odj_policy_json_text(TALLOC_CTX *mem_ctx,
			      const struct OP_POLICY_PART *part,
			      char **_text)
{
	json_t *tree = NULL;
	char *text = NULL;
	char *copy = NULL;

	if (part == NULL ||
	    (part->cElementLists > 0 && part->pElementLists == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tree = odj_dump_policy_json(part);
	if (tree == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	text = json_dumps(tree, JSON_INDENT(2));
	json_decref(tree);
	if (text == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	copy = talloc_asprintf(mem_ctx, "%s\n", text);
	free(text);
	if (copy == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*_text = copy;
	return NT_STATUS_OK;
}

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
