/*
 * odj composeodj: a blob from known values, with no DC in reach, as
 * Samba 4.20's "net offlinejoin composeodj" (which Samba 4.17 lacks):
 *
 *   odj composeodj --realm=odj.test --workgroup=ODJ \
 *       domain_sid=S-1-5-21-... domain_guid=... forest_name=odj.test \
 *       machine_name=ws1 dcname=dc1.odj.test dcaddress=192.0.2.1 \
 *       machine_password_file=pw.txt savefile=ws1.odj
 *
 * Samba takes the machine password with --password; here it comes from
 * a file, standard input or a prompt, so that it never shows in ps, and
 * from --password only if the user insists.
 */

#include "odj_cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>

/* longer than any machine password; a line of a password file */
#define MAX_PASSWORD 1024

static const struct odj_arg_spec compose_args[] = {
	{ "domain", "DOMAIN", false, "DNS domain (same as --realm)" },
	{ "domain_sid", NULL, false, "the domain SID" },
	{ "domain_guid", NULL, false, "the domain GUID" },
	{ "forest_name", NULL, false, "the forest (default: the domain)" },
	{ "machine_name", "MACHINE", false, "computer name" },
	{ "dcname", "DCNAME", false, "DNS name of the DC (same as -S)" },
	{ "dcaddress", NULL, false, "IP address of the DC" },
	{ "rid", NULL, false, "the account's RID (JOIN_PROVIDER3)" },
	{ "object_guid", NULL, false, "the account's objectGUID "
	  "(JOIN_PROVIDER4)" },
	{ "machine_password_file", NULL, false, "file holding the machine "
	  "password" },
	{ "dc_flags", NULL, false, "DOMAIN_CONTROLLER_INFO Flags" },
	{ "dc_site", NULL, false, "the DC's site" },
	{ "client_site", NULL, false, "the client's site" },
	{ "netbios", "NETBIOS", false, "JOIN_PROVIDER2 NetBIOS name" },
	{ "psite", "PSITE", false, "JOIN_PROVIDER2 persistent site" },
	{ "dsite", "DSITE", false, "JOIN_PROVIDER2 dynamic site" },
	{ "primarydns", "PRIMARYDNS", false, "JOIN_PROVIDER2 DNS domain" },
	{ "savefile", "SAVEFILE", false, "write the blob to this file" },
	{ "printblob", "PRINTBLOB", true, "print the blob as base64" },
	{ NULL },
};

/* A copy wiped when freed; @p s (getpass's buffer too) is wiped now. */
static char *take_secret(struct odj_cli *cli, char *s)
{
	char *copy = NULL;

	if (s == NULL) {
		return NULL;
	}
	copy = talloc_strdup(cli->mem_ctx, s);
	odj_wipe_on_free(copy);
	explicit_bzero(s, strlen(s));
	return copy;
}

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

static char *password_from_tty(struct odj_cli *cli)
{
	char *pw = NULL;
	char *again = NULL;
	bool same;

	pw = take_secret(cli, getpass("Machine password: "));
	again = take_secret(cli, getpass("Retype it: "));
	if (pw == NULL || again == NULL) {
		return NULL;
	}
	same = strcmp(pw, again) == 0;
	TALLOC_FREE(again);
	if (!same) {
		odj_cli_error(cli, "the passwords differ");
		TALLOC_FREE(pw);
	}
	return pw;
}

/*
 * -U [DOMAIN\]NAME$[%PASSWORD], as Samba's composeodj names the machine
 * account; without the $ it would be an admin, which composeodj has no
 * use for.
 */
static bool split_user(struct odj_cli *cli, char **name, char **password)
{
	const char *u = cli->user;
	const char *slash = NULL;
	char *pct = NULL;
	size_t len;

	if (u == NULL) {
		return true;
	}
	slash = strpbrk(u, "\\/");
	*name = talloc_strdup(cli->mem_ctx, slash != NULL ? slash + 1 : u);
	if (*name == NULL) {
		return false;
	}
	pct = strchr(*name, '%');
	if (pct != NULL) {
		*pct = '\0';
		*password = take_secret(cli, pct + 1);
	}
	len = strlen(*name);
	if (len < 2 || (*name)[len - 1] != '$') {
		odj_cli_error(cli, "-U names the machine account (NAME$) for "
			      "composeodj; composeodj contacts no DC and "
			      "needs no admin");
		return false;
	}
	(*name)[len - 1] = '\0';
	return true;
}

/*
 * The machine password: machine_password_file=F, -i, --password (or
 * -U NAME$%PW), or a prompt on a terminal; exactly one.
 */
static int machine_password(struct odj_cli *cli, const char *file,
			    char *from_user, char **_pw)
{
	const char *cmdline = cli->password != NULL ? cli->password :
		from_user;
	int sources = (file != NULL) + (cli->stdin_input != 0) +
		(cmdline != NULL);
	char *pw = NULL;

	if (sources > 1) {
		odj_cli_error(cli, "give the machine password one way: "
			      "machine_password_file=, -i or --password");
		return ODJ_EXIT_USAGE;
	}
	if (file != NULL || cli->stdin_input) {
		pw = password_from_file(cli, file != NULL ? file : "-");
	} else if (cmdline != NULL) {
		fprintf(stderr, "odj composeodj: note: a password on the "
			"command line is visible to other users (ps); prefer "
			"machine_password_file= or -i\n");
		pw = talloc_strdup(cli->mem_ctx, cmdline);
		odj_wipe_on_free(pw);
	} else if (isatty(STDIN_FILENO)) {
		pw = password_from_tty(cli);
	} else {
		odj_cli_error(cli, "no machine password: give "
			      "machine_password_file=FILE, pipe it with -i, "
			      "or run on a terminal");
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
 * Domain and DC, from the arguments alone; the library checks the values
 * and fills in what a DC would say.  A value that does not parse is a
 * usage error, as any other bad argument.
 */
static bool fill_dc_info(struct odj_cli *cli, const struct odj_args *args,
			 struct odj_dc_info **info)
{
	const char *flags = odj_args_get(args, "dc_flags");
	struct odj_compose_domain d = {
		.dns_domain = odj_args_get(args, "domain"),
		.netbios_domain = cli->workgroup,
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

	if (d.dns_domain == NULL) {
		d.dns_domain = cli->realm;
	}
	if (d.dc_name == NULL) {
		d.dc_name = cli->server;
	}
	if (d.dns_domain == NULL || d.netbios_domain == NULL ||
	    d.domain_sid == NULL || d.domain_guid == NULL ||
	    d.dc_name == NULL || d.dc_address == NULL) {
		odj_cli_error(cli, "needed: --realm (or domain=), "
			      "--workgroup, domain_sid=, domain_guid=, "
			      "dcname= (or -S) and dcaddress=");
		return false;
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

	if (c->machine_name == NULL) {
		odj_cli_error(cli, "machine_name= (or -U NAME$) is needed");
		return false;
	}
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
	       pd->blobs[0].win7->lpMachineName, pd->blobs[0].win7->lpDomain,
	       savefile);
	return ODJ_EXIT_OK;
}

int odj_cmd_composeodj(struct odj_cli *cli)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct odj_dc_info *info = NULL;
	struct odj_compose c = { .dc = NULL };
	struct odj_provision_data *pd = NULL;
	struct odj_args *args = NULL;
	struct GUID object_guid;
	char *user_name = NULL;
	char *user_password = NULL;
	char *password = NULL;
	NTSTATUS status;
	int ret;

	args = odj_args_parse(ctx, compose_args, cli->argc, cli->argv, 0);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if ((odj_args_get(args, "savefile") == NULL) ==
	    !odj_args_flag(args, "printblob")) {
		odj_cli_error(cli, "give exactly one of savefile=FILE and "
			      "printblob");
		return ODJ_EXIT_USAGE;
	}
	if (!split_user(cli, &user_name, &user_password)) {
		return ODJ_EXIT_USAGE;
	}
	c.machine_name = odj_args_get(args, "machine_name");
	if (c.machine_name == NULL) {
		c.machine_name = user_name;
	}
	if (!fill_dc_info(cli, args, &info) ||
	    !fill_account(cli, args, &c, &object_guid)) {
		return ODJ_EXIT_USAGE;
	}
	c.dc = info;
	/* a bad savefile fails before anyone types a password */
	if (odj_args_get(args, "savefile") != NULL) {
		char *why = NULL;

		status = odj_file_check_target(ctx, odj_args_get(args,
								 "savefile"),
					       cli->force, &why);
		if (!NT_STATUS_IS_OK(status)) {
			return odj_cli_fail(cli, status, why);
		}
	}
	ret = machine_password(cli, odj_args_get(args,
						 "machine_password_file"),
			       user_password, &password);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	c.machine_password = password;
	status = odj_compose(ctx, &c, &pd);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, NULL);
	}
	return deliver(cli, args, pd);
}
