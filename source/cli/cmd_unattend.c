/*
 * odj unattend loadfile=F [savefile=X]: the Windows answer file
 * (unattend.xml) that joins Setup from a provisioning blob.
 */

#include "odj_cli.h"

static const struct odj_arg_spec unattend_args[] = {
	{ "loadfile", "LOADFILE", false, "the provisioning file" },
	{ "savefile", "SAVEFILE", false, "write unattend.xml here" },
	{ "arch", NULL, false, "processorArchitecture (amd64, x86, arm64)" },
	{ NULL },
};

int odj_cmd_unattend(struct odj_cli *cli)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct odj_args *args = NULL;
	struct odj_provision_data *pd = NULL;
	DATA_BLOB ndr = data_blob_null;
	const char *path = NULL;
	const char *savefile = NULL;
	const char *arch = NULL;
	char *xml = NULL;
	char *why = NULL;
	NTSTATUS status;

	args = odj_args_parse(ctx, unattend_args, cli->argc, cli->argv, 1);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, unattend_args, "{FILE | loadfile=FILE "
				      "| -i} [savefile=FILE] [arch=ARCH]");
	}
	path = odj_args_blob_path(cli, args);
	if (path == NULL) {
		return ODJ_EXIT_USAGE;
	}
	savefile = odj_args_get(args, "savefile");
	arch = odj_args_get(args, "arch");

	status = odj_file_load(ctx, path, &ndr, &why);
	/* only a blob that decodes goes into an answer file */
	if (NT_STATUS_IS_OK(status)) {
		status = odj_provision_data_decode(ctx, ndr, &pd, &why);
	}
	if (NT_STATUS_IS_OK(status) && savefile != NULL) {
		status = odj_unattend_save(ctx, savefile, ndr, arch, cli->force,
					   &why);
	} else if (NT_STATUS_IS_OK(status)) {
		status = odj_unattend_xml(ctx, ndr, arch, &xml, &why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	if (cli->json) {
		const struct ODJ_WIN7BLOB *w = odj_provision_data_win7(pd);

		odj_cli_doc_str(cli, "machine_name", w != NULL ?
				w->lpMachineName : NULL);
		odj_cli_doc_str(cli, "savefile", savefile);
		/* asked for: the answer file holds the machine password */
		if (xml != NULL) {
			odj_cli_doc_str(cli, "xml", xml);
		}
		return ODJ_EXIT_OK;
	}
	if (xml != NULL) {
		fputs(xml, stdout);
		if (fflush(stdout) != 0) {
			odj_cli_error(cli, "cannot write the answer file to "
				      "standard output");
			return ODJ_EXIT_LOCAL;
		}
		return ODJ_EXIT_OK;
	}
	printf("Answer file for %s written to %s (mode 0600: it "
		"holds the machine password)\n",
		odj_provision_data_win7(pd) != NULL &&
		odj_provision_data_win7(pd)->lpMachineName != NULL ?
		odj_provision_data_win7(pd)->lpMachineName : "(unknown)",
		savefile);
	return ODJ_EXIT_OK;
}
