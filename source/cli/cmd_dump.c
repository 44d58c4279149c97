/*
 * odj dump FILE|-: every field of a provisioning blob.
 */

#include "odj_cli.h"

#include <jansson.h>

static const struct odj_arg_spec dump_args[] = {
	{ "loadfile", "LOADFILE", false, "the provisioning file" },
	{ NULL },
};

int odj_cmd_dump(struct odj_cli *cli)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct odj_args *args = NULL;
	struct odj_provision_data *pd = NULL;
	DATA_BLOB ndr = data_blob_null;
	const char *path = NULL;
	char *text = NULL;
	char *why = NULL;
	NTSTATUS status;

	args = odj_args_parse(ctx, dump_args, cli->argc, cli->argv, 1);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, dump_args, "{FILE | loadfile=FILE | "
				      "-i}");
	}
	path = odj_args_blob_path(cli, args);
	if (path == NULL) {
		return ODJ_EXIT_USAGE;
	}

	status = odj_file_load(ctx, path, &ndr, &why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_provision_data_decode(ctx, ndr, &pd, &why);
	}
	if (NT_STATUS_IS_OK(status) && cli->json) {
		json_t *tree = NULL;

		status = odj_dump_json(ctx, pd, cli->show_secrets, &tree);
		if (NT_STATUS_IS_OK(status)) {
			/* the blob's fields at the top, beside "schema" */
			json_object_update(odj_cli_doc(cli), tree);
			json_decref(tree);
			return ODJ_EXIT_OK;
		}
	} else if (NT_STATUS_IS_OK(status)) {
		status = odj_dump(ctx, pd, ODJ_DUMP_TEXT, cli->show_secrets,
				  &text);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	fputs(text, stdout);
	if (fflush(stdout) != 0) {
		odj_cli_error(cli, "cannot write the output");
		return ODJ_EXIT_LOCAL;
	}
	return ODJ_EXIT_OK;
}
