/*
 * Samba's common options turned into a loadparm context and credentials.
 */

#include "odj_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <credentials.h>
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

static bool set_kerberos(struct odj_cli *cli, struct cli_credentials *creds)
{
	enum credentials_use_kerberos k = CRED_USE_KERBEROS_DESIRED;

	if (cli->use_kerberos != NULL) {
		if (strcmp(cli->use_kerberos, "required") == 0) {
			k = CRED_USE_KERBEROS_REQUIRED;
		} else if (strcmp(cli->use_kerberos, "desired") == 0) {
			k = CRED_USE_KERBEROS_DESIRED;
		} else if (strcmp(cli->use_kerberos, "off") == 0) {
			k = CRED_USE_KERBEROS_DISABLED;
		} else {
			odj_cli_error(cli, "--use-kerberos takes desired, "
				      "required or off");
			return false;
		}
	}
	if (cli->kerberos) {
		k = CRED_USE_KERBEROS_REQUIRED;
	}
	cli_credentials_set_kerberos_state(creds, k, CRED_SPECIFIED);
	return true;
}

struct cli_credentials *odj_cli_credentials(struct odj_cli *cli,
					    struct loadparm_context *lp_ctx)
{
	struct cli_credentials *creds = NULL;
	const char *ccache = cli->krb5_ccache;
	const char *err = NULL;
	bool kerberos = cli->kerberos || (cli->use_kerberos != NULL &&
					  strcmp(cli->use_kerberos,
						 "required") == 0);

	creds = cli_credentials_init(cli->mem_ctx);
	if (creds == NULL) {
		return NULL;
	}
	cli_credentials_guess(creds, lp_ctx);
	if (!set_kerberos(cli, creds)) {
		return NULL;
	}
	if (cli->user != NULL) {
		cli_credentials_parse_string(creds, cli->user, CRED_SPECIFIED);
	}
	if (cli->password != NULL) {
		cli_credentials_set_password(creds, cli->password,
					     CRED_SPECIFIED);
	}
	if (ccache == NULL && kerberos && cli->user == NULL) {
		ccache = getenv("KRB5CCNAME");
	}
	if (ccache != NULL &&
	    cli_credentials_set_ccache(creds, lp_ctx, ccache, CRED_SPECIFIED,
				       &err) != 0) {
		odj_cli_error(cli, "cannot use the credentials cache %s: %s",
			      ccache, err != NULL ? err : "unknown error");
		return NULL;
	}
	if (cli->user == NULL && !kerberos && ccache == NULL) {
		odj_cli_error(cli, "no credentials: give -U USER[%%PASSWORD] "
			      "or -k with a Kerberos ticket");
		return NULL;
	}
	if (cli->user != NULL && !kerberos &&
	    cli_credentials_get_password(creds) == NULL) {
		char *pw = NULL;

		if (cli->no_pass || !isatty(STDIN_FILENO)) {
			odj_cli_error(cli, "no password for %s (use "
				      "-U USER%%PASSWORD or -k)", cli->user);
			return NULL;
		}
		pw = getpass("Password: ");
		if (pw == NULL) {
			return NULL;
		}
		cli_credentials_set_password(creds, pw, CRED_SPECIFIED);
		explicit_bzero(pw, strlen(pw));
	}
	return creds;
}
