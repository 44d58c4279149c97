/*
 * Samba's credential options, read the way Samba's tools read them,
 * through libsamba-credentials: the environment (USER, PASSWD,
 * PASSWD_FD, PASSWD_FILE, a Kerberos ccache), -A FILE, -U
 * [DOMAIN/]NAME[%PASSWORD], --password, -P (the machine account of this
 * host's secrets.tdb), -N, -k/--use-kerberos, --use-krb5-ccache, and
 * Samba's prompt, "Password for [DOMAIN\NAME]:", on the terminal when a
 * password is still missing.  Only odj-dc links this: libsamba-credentials
 * alone loads some 80 libraries.
 */

#include "odj_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <credentials.h>
#include <param.h>

/* longer than any password Samba's prompt takes (256) */
#define PROMPT_MAX 1024

/* A line from the terminal, not echoed; wiped when freed */
char *odj_cli_read_tty_secret(TALLOC_CTX *mem_ctx, const char *prompt)
{
	struct termios old, quiet;
	char *buf = NULL;
	size_t n = 0;
	int fd;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		return NULL;
	}
	buf = talloc_zero_array(mem_ctx, char, PROMPT_MAX + 1);
	if (buf == NULL || tcgetattr(fd, &old) != 0) {
		close(fd);
		TALLOC_FREE(buf);
		return NULL;
	}
	odj_wipe_on_free(buf);
	quiet = old;
	quiet.c_lflag &= ~(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* quiet first: what is typed after the prompt must not be flushed */
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0 ||
	    write(fd, prompt, strlen(prompt)) < 0) {
		tcsetattr(fd, TCSAFLUSH, &old);
		close(fd);
		TALLOC_FREE(buf);
		return NULL;
	}
	while (n < PROMPT_MAX) {
		ssize_t r = read(fd, buf + n, 1);

		if (r == -1 && errno == EINTR) {
			continue;
		}
		if (r <= 0 || buf[n] == '\n') {
			break;
		}
		n++;
	}
	buf[n] = '\0';
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* the echo of the line break only */
	}
	close(fd);
	return buf;
}

/* The password callback: Samba's prompt, on the terminal */
static const char *prompt_password(struct cli_credentials *creds)
{
	TALLOC_CTX *tmp = talloc_new(creds);
	const char *name = cli_credentials_get_unparsed_name(creds, tmp);
	char *prompt = talloc_asprintf(tmp, "Password for [%s]:",
				       name != NULL ? name : "");
	char *pw = NULL;

	if (prompt != NULL) {
		pw = odj_cli_read_tty_secret(creds, prompt);
	}
	TALLOC_FREE(tmp);
	return pw;
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

bool odj_cli_kerberos_required(const struct odj_cli *cli)
{
	return cli->kerberos || (cli->use_kerberos != NULL &&
				 strcmp(cli->use_kerberos, "required") == 0);
}

struct cli_credentials *odj_cli_parse_credentials(
	struct odj_cli *cli, struct loadparm_context *lp_ctx)
{
	struct cli_credentials *creds = NULL;
	const char *err = NULL;

	creds = cli_credentials_init(cli->mem_ctx);
	if (creds == NULL) {
		return NULL;
	}
	/* smb.conf, USER, PASSWD, PASSWD_FD, PASSWD_FILE, the ccache */
	cli_credentials_guess(creds, lp_ctx);
	if (!set_kerberos(cli, creds)) {
		return NULL;
	}
	if (cli->auth_file != NULL &&
	    !cli_credentials_parse_file(creds, cli->auth_file,
					CRED_SPECIFIED)) {
		odj_cli_error(cli, "cannot read the authentication file %s",
			      cli->auth_file);
		return NULL;
	}
	if (cli->user != NULL) {
		cli_credentials_parse_string(creds, cli->user, CRED_SPECIFIED);
	}
	if (cli->password != NULL) {
		cli_credentials_set_password(creds, cli->password,
					     CRED_SPECIFIED);
	}
	if (cli->machine_pass) {
		NTSTATUS status = cli_credentials_set_machine_account(creds,
								      lp_ctx);

		if (!NT_STATUS_IS_OK(status)) {
			odj_cli_error(cli, "-P: no machine account in the "
				      "secrets of %s: %s",
				      lpcfg_configfile(lp_ctx) != NULL ?
				      lpcfg_configfile(lp_ctx) : "smb.conf",
				      nt_errstr(status));
			return NULL;
		}
	}
	if (cli->krb5_ccache != NULL &&
	    cli_credentials_set_ccache(creds, lp_ctx, cli->krb5_ccache,
				       CRED_SPECIFIED, &err) != 0) {
		odj_cli_error(cli, "cannot use the credentials cache %s: %s",
			      cli->krb5_ccache, err != NULL ? err :
			      "unknown error");
		return NULL;
	}
	/* a password still missing: Samba's prompt, on a terminal only */
	if (!cli->no_pass && isatty(STDIN_FILENO)) {
		cli_credentials_set_password_callback(creds, prompt_password);
	}
	return creds;
}

struct cli_credentials *odj_cli_credentials(struct odj_cli *cli,
					    struct loadparm_context *lp_ctx)
{
	struct cli_credentials *creds = NULL;
	enum credentials_obtained obtained = CRED_UNINITIALISED;
	bool kerberos = odj_cli_kerberos_required(cli);
	bool ccache = cli->krb5_ccache != NULL;

	creds = odj_cli_parse_credentials(cli, lp_ctx);
	if (creds == NULL) {
		return NULL;
	}
	cli_credentials_get_username_and_obtained(creds, &obtained);
	/* a user from $USER alone is no choice of credentials */
	if (obtained < CRED_SPECIFIED && !kerberos && !ccache &&
	    cli->auth_file == NULL && !cli->machine_pass) {
		odj_cli_error(cli, "no credentials: give -U USER[%%PASSWORD], "
			      "-A FILE, -P, or -k with a Kerberos ticket");
		return NULL;
	}
	if (kerberos || ccache) {
		return creds;
	}
	cli_credentials_get_password_and_obtained(creds, &obtained);
	if (obtained == CRED_UNINITIALISED ||
	    (obtained == CRED_CALLBACK && (cli->no_pass ||
					   !isatty(STDIN_FILENO)))) {
		odj_cli_error(cli, "no password for %s (use -U "
			      "USER%%PASSWORD, -A FILE, PASSWD_FILE= or -k)",
			      cli_credentials_get_username(creds));
		return NULL;
	}
	return creds;
}
