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

/* What a writable Windows Server 2008+ DC answers, short of the roles
 * (PDC, GC, time server) a composer cannot know: DS_LDAP_FLAG,
 * DS_DS_FLAG, DS_KDC_FLAG, DS_CLOSEST_FLAG, DS_WRITABLE_FLAG,
 * DS_FULL_SECRET_DOMAIN_6_FLAG and the three DNS flags. */
#define DEFAULT_DC_FLAGS 0xe00011b8
#define DEFAULT_SITE "Default-First-Site-Name"
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

static char *change_case(TALLOC_CTX *ctx, const char *s, bool upper)
{
	char *copy = talloc_strdup(ctx, s);
	char *p = NULL;

	for (p = copy; p != NULL && *p != '\0'; p++) {
		*p = upper ? toupper((unsigned char)*p) :
			tolower((unsigned char)*p);
	}
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

/* Domain and DC, from the arguments alone. */
static bool fill_dc_info(struct odj_cli *cli, const struct odj_args *args,
			 struct odj_dc_info *info)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	const char *realm = odj_args_get(args, "domain");
	const char *sid = odj_args_get(args, "domain_sid");
	const char *guid = odj_args_get(args, "domain_guid");
	const char *forest = odj_args_get(args, "forest_name");
	const char *flags = odj_args_get(args, "dc_flags");
	const char *addr = odj_args_get(args, "dcaddress");
	uint8_t buf[sizeof(struct in6_addr)];

	if (realm == NULL) {
		realm = cli->realm;
	}
	info->dc_name = odj_args_get(args, "dcname");
	if (info->dc_name == NULL) {
		info->dc_name = cli->server;
	}
	if (realm == NULL || cli->workgroup == NULL || sid == NULL ||
	    guid == NULL || info->dc_name == NULL || addr == NULL) {
		odj_cli_error(cli, "needed: --realm (or domain=), "
			      "--workgroup, domain_sid=, domain_guid=, "
			      "dcname= (or -S) and dcaddress=");
		return false;
	}
	if (inet_pton(AF_INET, addr, buf) != 1 &&
	    inet_pton(AF_INET6, addr, buf) != 1) {
		odj_cli_error(cli, "dcaddress= takes an IPv4 or IPv6 address, "
			      "not '%s'", addr);
		return false;
	}
	info->dc_address = addr;
	/* what a DC reports: the DNS domain in lower case, NetBIOS upper */
	info->dns_domain = change_case(ctx, realm, false);
	info->netbios_domain = change_case(ctx, cli->workgroup, true);
	info->forest = change_case(ctx, forest != NULL ? forest : realm,
				   false);
	info->domain_sid = talloc_zero(ctx, struct ODJ_SID);
	if (info->dns_domain == NULL || info->netbios_domain == NULL ||
	    info->forest == NULL || info->domain_sid == NULL) {
		return false;
	}
	if (!odj_sid_parse(sid, info->domain_sid, ctx) ||
	    info->domain_sid->SubAuthorityCount == 0) {
		odj_cli_error(cli, "domain_sid= '%s' is not a SID", sid);
		return false;
	}
	if (!NT_STATUS_IS_OK(GUID_from_string(guid, &info->domain_guid))) {
		odj_cli_error(cli, "domain_guid= '%s' is not a GUID", guid);
		return false;
	}
	info->dc_flags = DEFAULT_DC_FLAGS;
	if (flags != NULL &&
	    !parse_u32(cli, "dc_flags", flags, &info->dc_flags)) {
		return false;
	}
	info->dc_site = odj_args_get(args, "dc_site");
	if (info->dc_site == NULL) {
		info->dc_site = DEFAULT_SITE;
	}
	info->client_site = odj_args_get(args, "client_site");
	if (info->client_site == NULL) {
		info->client_site = info->dc_site;
	}
	return true;
}

/* The account: name, RID, objectGUID, JOIN_PROVIDER2 options. */
static bool fill_account(struct odj_cli *cli, const struct odj_args *args,
			 struct odj_compose *c, struct GUID *object_guid)
{
	const char *rid = odj_args_get(args, "rid");
	const char *guid = odj_args_get(args, "object_guid");
	size_t len = c->machine_name != NULL ? strlen(c->machine_name) : 0;

	if (len == 0 || len > 15) {
		odj_cli_error(cli, "machine_name= (or -U NAME$) is needed: "
			      "1 to 15 characters");
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
	if (odj_args_get(args, "psite") != NULL &&
	    odj_args_get(args, "dsite") != NULL) {
		odj_cli_error(cli, "psite and dsite exclude each other");
		return false;
	}
	c->jp2_netbios_name = odj_args_get(args, "netbios");
	c->jp2_site = odj_args_get(args, "psite");
	c->jp2_site_persistent = c->jp2_site != NULL;
	if (c->jp2_site == NULL) {
		c->jp2_site = odj_args_get(args, "dsite");
	}
	c->jp2_primary_dns = odj_args_get(args, "primarydns");
	return true;
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
	struct odj_dc_info info = { .dc_name = NULL };
	struct odj_compose c = { .dc = &info };
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
