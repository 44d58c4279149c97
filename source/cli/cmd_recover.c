/*
 * odj recover [root=DIR] [-s smb.conf]: finish, or roll back, a join a
 * kill interrupted (its journal, odj_recover()).  Every odj command does
 * this first for this system; this one says what it did, and reaches an
 * image root.
 */

#include "odj_cli.h"

#include <unistd.h>

static const struct odj_arg_spec recover_args[] = {
	{ "root", NULL, false, "the image mounted at DIR, not this system "
	  "(smb.conf: DIR/etc/samba/smb.conf)" },
	{ NULL },
};

/* smb.conf, the image's in an image root; NULL after printing why */
static struct loadparm_context *recover_loadparm(struct odj_cli *cli,
						 const char *root)
{
	char *path = NULL;

	if (root != NULL && cli->configfile == NULL) {
		path = talloc_asprintf(cli->mem_ctx, "%s/etc/samba/smb.conf",
				       root);
		if (path == NULL) {
			return NULL;
		}
		if (access(path, F_OK) == 0) {
			if (!odj_cli_set_configfile(cli, path)) {
				return NULL;
			}
		} else {
			cli->no_default_config = true;
		}
	}
	return odj_cli_loadparm(cli);
}

int odj_cmd_recover(struct odj_cli *cli)
{
	struct loadparm_context *lp_ctx = NULL;
	struct odj_args *args = NULL;
	const char **done = NULL;
	const char *root = NULL;
	char *why = NULL;
	NTSTATUS status;
	size_t i;

	args = odj_args_parse(cli->mem_ctx, recover_args, cli->argc,
			      cli->argv, 0);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, recover_args, "[root=DIR]");
	}
	root = odj_args_get(args, "root");
	lp_ctx = recover_loadparm(cli, root);
	if (lp_ctx == NULL) {
		return ODJ_EXIT_LOCAL;
	}
	status = odj_recover(cli->mem_ctx, lp_ctx, root, &done, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	for (i = 0; done != NULL && done[i] != NULL; i++) {
		if (cli->json) {
			odj_cli_doc_append(cli, "recovered", done[i]);
		} else {
			printf("%s\n", done[i]);
		}
	}
	if (done == NULL && !cli->json) {
		printf("no interrupted join\n");
	}
	return ODJ_EXIT_OK;
}

int odj_cli_recover_quietly(struct odj_cli *cli)
{
	struct loadparm_context *lp_ctx = NULL;
	const char **done = NULL;
	char *why = NULL;
	NTSTATUS status;
	size_t i;

	/* an smb.conf that cannot be read: the command itself says so */
	if (cli->configfile != NULL && access(cli->configfile, R_OK) != 0) {
		return ODJ_EXIT_LOCAL;
	}
	lp_ctx = odj_cli_loadparm(cli);
	if (lp_ctx == NULL) {
		return ODJ_EXIT_LOCAL;	/* the command will say why */
	}
	status = odj_recover(cli->mem_ctx, lp_ctx, NULL, &done, &why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_cli_warning(cli, "an interrupted join was left as it is: "
				"%s", why != NULL ? why : nt_errstr(status));
		return ODJ_EXIT_LOCAL;
	}
	for (i = 0; done != NULL && done[i] != NULL; i++) {
		odj_cli_warning(cli, "%s", done[i]);
	}
	return ODJ_EXIT_OK;
}
