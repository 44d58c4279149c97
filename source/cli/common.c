/*
 * Samba's common options turned into a loadparm context.
 */

#include "odj_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <param.h>

struct loadparm_context *odj_cli_loadparm(struct odj_cli *cli)
{
	struct loadparm_context *lp_ctx = NULL;
	char level[16];
	size_t i;
	bool ok;

	lp_ctx = loadparm_init_global(false);
	if (lp_ctx == NULL) {
		odj_cli_error(cli, "cannot initialise loadparm");
		return NULL;
	}
	if (cli->configfile != NULL) {
		if (access(cli->configfile, R_OK) != 0) {
			odj_cli_error(cli, "cannot read %s: %s",
				      cli->configfile, strerror(errno));
			return NULL;
		}
		ok = lpcfg_load(lp_ctx, cli->configfile);
	} else {
		ok = lpcfg_load_default(lp_ctx);
	}
	if (!ok) {
		odj_cli_error(cli, "cannot load %s",
			      cli->configfile != NULL ? cli->configfile :
			      "the default smb.conf");
		return NULL;
	}
	for (i = 0; i < cli->num_options; i++) {
		if (!lpcfg_set_option(lp_ctx, cli->options[i])) {
			odj_cli_error(cli, "invalid --option '%s'",
				      cli->options[i]);
			return NULL;
		}
	}
	snprintf(level, sizeof(level), "%d", cli->debuglevel);
	lpcfg_set_cmdline(lp_ctx, "log level", level);
	if (cli->realm != NULL) {
		lpcfg_set_cmdline(lp_ctx, "realm", cli->realm);
	}
	if (cli->workgroup != NULL) {
		lpcfg_set_cmdline(lp_ctx, "workgroup", cli->workgroup);
	}
	return lp_ctx;
}
