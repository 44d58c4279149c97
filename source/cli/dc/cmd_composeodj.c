/*
 * odj composeodj: a blob from known values, with no DC in reach, in the
 * spelling of Samba's "net offlinejoin composeodj" (Samba 4.20, 4.19.4,
 * 4.18.10), which Samba 4.17 lacks:
 *
 *   odj composeodj --realm=odj.test --workgroup=ODJ \
 *       domain_sid=S-1-5-21-... domain_guid=... forest_name=odj.test \
 *       -S dc1.odj.test -I 192.0.2.1 -P printblob
 *
 * As net does, realm, workgroup and NetBIOS name default to smb.conf's,
 * and the machine account is -U 'NAME$' (default: the NetBIOS name and
 * $) with its password from Samba's credential sources: -P (this host's
 * secrets.tdb), -A FILE, PASSWD, PASSWD_FD, PASSWD_FILE, --password, -U
 * NAME$%PASSWORD, or Samba's prompt on a terminal.  odj's own spellings
 * (domain=, machine_name=, dcname=, dcaddress=, machine_password_file=,
 * -i for the password on standard input) work as well.
 */

#include "odj_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <credentials.h>
#include <jansson.h>

/* longer than any machine password; a line of a password file */
#define MAX_PASSWORD 1024

static const struct odj_arg_spec compose_args[] = {
	/* net offlinejoin composeodj's own */
	{ "domain_sid", NULL, false, "the domain SID" },
	{ "domain_guid", NULL, false, "the domain GUID" },
	{ "forest_name", NULL, false, "the forest (default: the domain)" },
	{ "domain_is_nt4", NULL, true, "the domain is NT4, not AD" },
	{ "savefile", "SAVEFILE", false, "write the blob to this file" },
	{ "printblob", "PRINTBLOB", true, "print the blob as base64" },
	/* odj's */
	{ "domain", "DOMAIN", false, "DNS domain (same as --realm)" },
	{ "machine_name", "MACHINE", false, "computer name (same as -U "
	  "NAME$)" },
	{ "dcname", "DCNAME", false, "DNS name of the DC (same as -S)" },
	{ "dcaddress", NULL, false, "IP address of the DC (same as -I)" },
	{ "rid", NULL, false, "the account's RID (JOIN_PROVIDER3)" },
	{ "object_guid", NULL, false, "the account's objectGUID "
	  "(JOIN_PROVIDER4)" },
	{ "machine_password_file", NULL, false, "file holding the machine "
	  "password (- or -i: standard input)" },
	{ "dc_flags", NULL, false, "DOMAIN_CONTROLLER_INFO Flags" },
	{ "dc_site", NULL, false, "the DC's site" },
	{ "client_site", NULL, false, "the client's site" },
	{ "netbios", "NETBIOS", false, "JOIN_PROVIDER2 NetBIOS name" },
	{ "psite", "PSITE", false, "JOIN_PROVIDER2 persistent site" },
	{ "dsite", "DSITE", false, "JOIN_PROVIDER2 dynamic site" },
	{ "primarydns", "PRIMARYDNS", false, "JOIN_PROVIDER2 DNS domain" },
	{ NULL },
};

/*
 * DS_PDC_FLAG | DS_WRITABLE_FLAG: what an NT4 PDC answers (no DS, no
 * DNS names), for domain_is_nt4.
 */
#define NT4_PDC_FLAGS 0x00000101

static bool parse_u32(struct odj_cli *cli, const char *name, const char *s,
		      uint32_t *v)
{
	char *end = NULL;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || s[0] == '-' || n > UINT32_MAX) {
		odj_cli_error(cli, "%s= takes a 32-bit number, not '%s'",
			      name, s);
		return false;
	}
	*v = n;
	return true;
}

/*
 * The first line of @p fd, without its line break; wiped when freed.
 * Read a byte at a time: what follows the line stays unread.
 */
static char *read_line(TALLOC_CTX *ctx, int fd, bool *too_long)
{
	char *buf = talloc_zero_array(ctx, char, MAX_PASSWORD + 2);
	size_t used = 0;

	if (buf == NULL) {
		return NULL;
	}
	odj_wipe_on_free(buf);
	while (used <= MAX_PASSWORD) {
		ssize_t n = read(fd, buf + used, 1);

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0 || buf[used] == '\n') {
			break;
		}
		used++;
	}
	buf[used] = '\0';
	if (used > 0 && buf[used - 1] == '\r') {
		buf[--used] = '\0';
	}
	*too_long = used > MAX_PASSWORD;
	return buf;
}

static char *password_from_file(struct odj_cli *cli, const char *path)
{
	int fd = STDIN_FILENO;
	bool too_long = false;
	char *pw = NULL;

	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd == -1) {
			odj_cli_error(cli, "%s: %s", path, strerror(errno));
			return NULL;
		}
	}
	pw = read_line(cli->mem_ctx, fd, &too_long);
	if (fd != STDIN_FILENO) {
		close(fd);
	}
	if (too_long) {
		odj_cli_error(cli, "%s: the password is longer than %d "
			      "characters", strcmp(path, "-") == 0 ?
			      "standard input" : path, MAX_PASSWORD);
		TALLOC_FREE(pw);
	}
	return pw;
}

/* A password on the command line: allowed, as Samba allows it */
static char *password_from_cmdline(struct odj_cli *cli,
				   struct cli_credentials *creds)
{
	char *pw = NULL;

	odj_cli_warning(cli, "a password on the command line is visible to "
			"other users (ps); prefer machine_password_file=, "
			"PASSWD_FILE=, -A or -i");
	pw = talloc_strdup(cli->mem_ctx, cli_credentials_get_password(creds));
	odj_wipe_on_free(pw);
	return pw;
}

/*
 * The machine account: machine_name=, else -U NAME$ (from the command
 * line, -A or -P), else smb.conf's NetBIOS name, as Samba's composeodj
 * does.  NULL after saying why.
 */
static const char *machine_name(struct odj_cli *cli,
				const struct odj_args *args,
				struct cli_credentials *creds)
{
	enum credentials_obtained obtained = CRED_UNINITIALISED;
	const char *user = NULL;
	size_t len;

	user = cli_credentials_get_username_and_obtained(creds, &obtained);
	len = user != NULL ? strlen(user) : 0;
	/* $USER is not a machine account, -U and -A must be one */
	if (obtained >= CRED_CALLBACK_RESULT &&
	    (len < 2 || user[len - 1] != '$')) {
		odj_cli_error(cli, "-U names the machine account (NAME$) for "
			      "composeodj; composeodj contacts no DC and "
			      "needs no admin");
		return NULL;
	}
	if (odj_args_get(args, "machine_name") != NULL) {
		return odj_args_get(args, "machine_name");
	}
	if (obtained < CRED_CALLBACK_RESULT) {
		return cli_credentials_get_workstation(creds);
	}
	return talloc_strndup(cli->mem_ctx, user, len - 1);
}

/*
 * The machine password, from exactly one of machine_password_file=, -i
 * and the command line (--password, -U NAME$%PW); else from Samba's
 * sources through @p creds (-P, -A, PASSWD, PASSWD_FD, PASSWD_FILE, the
 * prompt on a terminal).
 */
static int machine_password(struct odj_cli *cli, const struct odj_args *args,
			    struct cli_credentials *creds, char **_pw)
{
	const char *file = odj_args_get(args, "machine_password_file");
	enum credentials_obtained obtained = CRED_UNINITIALISED;
	bool cmdline = false;
	char *pw = NULL;

	cli_credentials_get_password_and_obtained(creds, &obtained);
	cmdline = obtained == CRED_SPECIFIED && cli->auth_file == NULL &&
		!cli->machine_pass;
	if ((file != NULL) + (cli->stdin_input != 0) + cmdline > 1) {
		odj_cli_error(cli, "give the machine password one way: "
			      "machine_password_file=, -i or --password");
		return ODJ_EXIT_USAGE;
	}
	if (file != NULL || cli->stdin_input) {
		pw = password_from_file(cli, file != NULL ? file : "-");
	} else if (cmdline) {
		pw = password_from_cmdline(cli, creds);
	} else if (obtained == CRED_CALLBACK && cli->no_pass) {
		pw = NULL;
	} else if (obtained != CRED_UNINITIALISED) {
		/* may ask: "Password for [DOMAIN\NAME$]:" */
		pw = talloc_strdup(cli->mem_ctx,
				   cli_credentials_get_password(creds));
		odj_wipe_on_free(pw);
		if (pw == NULL && obtained != CRED_CALLBACK) {
			return ODJ_EXIT_INTERNAL;
		}
	}
	if (pw == NULL && file == NULL && !cli->stdin_input) {
		odj_cli_error(cli, "no machine password: give -P, -A FILE, "
			      "PASSWD_FILE=, machine_password_file=FILE, pipe "
			      "it with -i, or run on a terminal");
		return ODJ_EXIT_USAGE;
	}
	if (pw == NULL) {
		return ODJ_EXIT_INPUT;
	}
	if (pw[0] == '\0') {
		odj_cli_error(cli, "the machine password is empty");
		return ODJ_EXIT_INPUT;
	}
	*_pw = pw;
	return ODJ_EXIT_OK;
}

/*
 * Domain and DC, from the arguments and, as Samba's composeodj takes
 * them, the credentials' realm and domain (--realm, --workgroup, else
 * smb.conf's); the library checks the values and fills in what a DC
 * would say.  A value that does not parse
 * is a usage error, as any other bad argument.
 */
static bool fill_dc_info(struct odj_cli *cli, const struct odj_args *args,
			 struct cli_credentials *creds,
			 struct odj_dc_info **info)
{
	const char *flags = odj_args_get(args, "dc_flags");
	const char *realm = cli_credentials_get_realm(creds);
	struct odj_compose_domain d = {
		.dns_domain = odj_args_get(args, "domain"),
		.netbios_domain = cli_credentials_get_domain(creds),
		.domain_sid = odj_args_get(args, "domain_sid"),
		.domain_guid = odj_args_get(args, "domain_guid"),
		.forest = odj_args_get(args, "forest_name"),
		.dc_name = odj_args_get(args, "dcname"),
		.dc_address = odj_args_get(args, "dcaddress"),
		.dc_site = odj_args_get(args, "dc_site"),
		.client_site = odj_args_get(args, "client_site"),
	};
	char *why = NULL;
	NTSTATUS status;

	if (d.dns_domain == NULL && realm != NULL && realm[0] != '\0') {
		d.dns_domain = realm;
	}
	if (d.dc_name == NULL) {
		d.dc_name = cli->server;
	}
	if (d.dc_address == NULL) {
		d.dc_address = cli->ipaddress;
	}
	if (d.dns_domain == NULL || d.netbios_domain == NULL ||
	    d.domain_sid == NULL || d.domain_guid == NULL ||
	    d.dc_name == NULL || d.dc_address == NULL) {
		odj_cli_error(cli, "needed: --realm (or domain=, or smb.conf's "
			      "realm), --workgroup, domain_sid=, domain_guid=, "
			      "-S (or dcname=) and -I (or dcaddress=)");
		return false;
	}
	if (odj_args_flag(args, "domain_is_nt4")) {
		d.dc_flags = NT4_PDC_FLAGS;
		d.have_dc_flags = true;
	}
	if (flags != NULL) {
		if (!parse_u32(cli, "dc_flags", flags, &d.dc_flags)) {
			return false;
		}
		d.have_dc_flags = true;
	}
	status = odj_compose_dc_info(cli->mem_ctx, &d, info, &why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_cli_error(cli, "%s", why != NULL ? why :
			      nt_errstr(status));
		return false;
	}
	return true;
}

/* The account: name, RID, objectGUID, JOIN_PROVIDER2 options. */
static bool fill_account(struct odj_cli *cli, const struct odj_args *args,
			 struct odj_compose *c, struct GUID *object_guid)
{
	const char *rid = odj_args_get(args, "rid");
	const char *guid = odj_args_get(args, "object_guid");
	char *why = NULL;

	if (!NT_STATUS_IS_OK(odj_machine_name_check(cli->mem_ctx,
						    c->machine_name, &why))) {
		odj_cli_error(cli, "%s", why);
		return false;
	}
	if (rid != NULL && !parse_u32(cli, "rid", rid, &c->rid)) {
		return false;
	}
	if (guid != NULL) {
		if (!NT_STATUS_IS_OK(GUID_from_string(guid, object_guid))) {
			odj_cli_error(cli, "object_guid= '%s' is not a GUID",
				      guid);
			return false;
		}
		c->object_guid = object_guid;
	}
	return odj_args_jp2(cli, args, &c->jp2);
}

/* Save or print the blob. */
static int deliver(struct odj_cli *cli, const struct odj_args *args,
		   const struct odj_provision_data *pd)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	const char *savefile = odj_args_get(args, "savefile");
	const struct ODJ_WIN7BLOB *w = odj_provision_data_win7(pd);
	DATA_BLOB ndr = data_blob_null;
	char *b64 = NULL;
	char *why = NULL;
	NTSTATUS status;

	status = odj_provision_data_encode(ctx, pd, &ndr, &why);
	if (NT_STATUS_IS_OK(status) && savefile != NULL) {
		status = odj_file_save(ctx, savefile, ndr, cli->force, &why);
	} else if (NT_STATUS_IS_OK(status)) {
		status = odj_file_base64(ctx, ndr, &b64);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	if (cli->json) {
		odj_cli_doc_str(cli, "machine_name", w->lpMachineName);
		odj_cli_doc_str(cli, "domain", w->lpDomain);
		odj_cli_doc_str(cli, "savefile", savefile);
		if (b64 != NULL) {
			odj_cli_doc_str(cli, "blob", b64);
		}
		return ODJ_EXIT_OK;
	}
	if (b64 != NULL) {
		printf("%s\n", b64);
		if (fflush(stdout) != 0) {
			odj_cli_error(cli, "cannot write the blob to standard "
				      "output");
			return ODJ_EXIT_LOCAL;
		}
		return ODJ_EXIT_OK;
	}
	printf("Composed the blob of %s for %s; saved to %s\n",
	       w->lpMachineName, w->lpDomain, savefile);
	return ODJ_EXIT_OK;
}

/* The blob's values; ODJ_EXIT_OK, or the exit code after saying why */
static int compose_values(struct odj_cli *cli, const struct odj_args *args,
			  struct odj_compose *c, struct GUID *object_guid)
{
	struct loadparm_context *lp_ctx = NULL;
	struct cli_credentials *creds = NULL;
	struct odj_dc_info *info = NULL;
	char *password = NULL;
	int ret;

	lp_ctx = odj_cli_loadparm(cli);
	if (lp_ctx == NULL) {
		return ODJ_EXIT_LOCAL;
	}
	creds = odj_cli_parse_credentials(cli, lp_ctx);
	if (creds == NULL) {
		return ODJ_EXIT_CREDENTIALS;
	}
	c->machine_name = machine_name(cli, args, creds);
	if (c->machine_name == NULL ||
	    !fill_dc_info(cli, args, creds, &info) ||
	    !fill_account(cli, args, c, object_guid)) {
		return ODJ_EXIT_USAGE;
	}
	c->dc = info;
	/* a bad savefile fails before anyone types a password */
	if (odj_args_get(args, "savefile") != NULL) {
		char *why = NULL;
		NTSTATUS status = odj_file_check_target(
			cli->mem_ctx, odj_args_get(args, "savefile"),
			cli->force, &why);

		if (!NT_STATUS_IS_OK(status)) {
			return odj_cli_fail(cli, status, why);
		}
	}
	ret = machine_password(cli, args, creds, &password);
	c->machine_password = password;
	return ret;
}

int odj_cmd_composeodj(struct odj_cli *cli)
{
	struct odj_compose c = { .dc = NULL };
	struct odj_provision_data *pd = NULL;
	struct odj_args *args = NULL;
	struct GUID object_guid;
	NTSTATUS status;
	int ret;

	args = odj_args_parse(cli->mem_ctx, compose_args, cli->argc,
			      cli->argv, 0);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, compose_args,
				      "domain_sid=SID domain_guid=GUID "
				      "[forest_name=NAME] "
				      "{savefile=FILE | printblob}");
	}
	if ((odj_args_get(args, "savefile") == NULL) ==
	    !odj_args_flag(args, "printblob")) {
		odj_cli_error(cli, "give exactly one of savefile=FILE and "
			      "printblob");
		return ODJ_EXIT_USAGE;
	}
	ret = compose_values(cli, args, &c, &object_guid);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	status = odj_compose(cli->mem_ctx, &c, &pd);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, NULL);
	}
	return deliver(cli, args, pd);
}
