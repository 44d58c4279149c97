/*
 * Samba's common credential options (-U, --password, -N, -k,
 * --use-kerberos, --use-krb5-ccache) turned into cli_credentials.  Only
 * odj-dc links this: libsamba-credentials alone loads some 80 libraries.
 */

#include "odj_cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <credentials.h>
#include <param.h>

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
