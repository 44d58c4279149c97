/*
 * odj: Offline Domain Join for Samba.
 *
 * main(): the subcommand table, and the one place where library results
 * become exit codes.  The common options: options.c.
 */

#include "odj_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>

#ifndef ODJ_VERSION
#define ODJ_VERSION "0.1.0"
#endif
/* the Samba we are built against: the wscript's configure says */
#ifndef ODJ_SAMBA_VERSION
#define ODJ_SAMBA_VERSION "(unknown)"
#endif

/*
 * The DC side (credentials, LDAP, SMB) is in odj-dc only.  odj, what a
 * joining machine runs, hands those subcommands to odj-dc with the
 * command line as given (dc_exec.c): compiled with ODJ_CLIENT_ONLY, the
 * table below points them there.
 */
#ifdef ODJ_CLIENT_ONLY
#define DC_SIDE(fn) odj_cli_exec_dc
#else
#define DC_SIDE(fn) fn
#endif

struct odj_subcommand {
	const char *name;
	const char *djoin;		/* djoin.exe's switch, or NULL */
	int (*fn)(struct odj_cli *cli);
	const char *help;
};

static const struct odj_subcommand subcommands[] = {
	{ "provision", "PROVISION", DC_SIDE(odj_cmd_provision),
	  "Create a computer account and write its provisioning blob" },
	{ "dump", NULL, odj_cmd_dump,
	  "Show every field of a provisioning blob" },
	{ "requestodj", "REQUESTODJ", odj_cmd_requestodj,
	  "Join this machine with a blob, offline" },
	{ "composeodj", NULL, DC_SIDE(odj_cmd_composeodj),
	  "Write a blob from known values, with no DC contact" },
	{ "unattend", NULL, odj_cmd_unattend,
	  "Write the Windows answer file (unattend.xml) of a blob" },
	{ "rodc-preload", NULL, DC_SIDE(odj_cmd_rodc_preload),
	  "Cache machines' passwords on this read-only DC (RODC)" },
	{ "recover", NULL, odj_cmd_recover,
	  "Finish or roll back a join a kill interrupted" },
	{ "verify", NULL, DC_SIDE(odj_cmd_verify),
	  "Check that blobs still work: account, SID, password" },
	{ "status", NULL, DC_SIDE(odj_cmd_status),
	  "Which provisioned machines joined, which blobs are pending" },
	{ "expire", NULL, DC_SIDE(odj_cmd_expire),
	  "Delete the accounts of blobs never used (dry run by default)" },
	{ NULL },
};

void odj_cli_error(const struct odj_cli *cli, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = talloc_vasprintf(cli->mem_ctx, fmt, ap);
	va_end(ap);
	if (cli->json) {
		odj_cli_doc_error(cli, msg != NULL ? msg : "out of memory",
				  NULL);
	} else {
		fprintf(stderr, "odj %s: %s\n", cli->subcommand != NULL ?
			cli->subcommand : "", msg != NULL ? msg :
			"out of memory");
	}
	TALLOC_FREE(msg);
}

void odj_cli_warning(const struct odj_cli *cli, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = talloc_vasprintf(cli->mem_ctx, fmt, ap);
	va_end(ap);
	if (msg == NULL) {
		return;
	}
	if (cli->json) {
		odj_cli_doc_append(cli, "warnings", msg);
	} else {
		fprintf(stderr, "warning: %s\n", msg);
	}
	TALLOC_FREE(msg);
}

enum odj_exit odj_cli_exit_code(NTSTATUS status)
{
	static const struct {
		NTSTATUS status;
		enum odj_exit code;
	} map[] = {
		{ NT_STATUS_INVALID_PARAMETER, ODJ_EXIT_INPUT },
		{ NT_STATUS_INVALID_NETWORK_RESPONSE, ODJ_EXIT_INPUT },
		{ NT_STATUS_ILLEGAL_CHARACTER, ODJ_EXIT_INPUT },
		{ NT_STATUS_FILE_TOO_LARGE, ODJ_EXIT_INPUT },
		{ NT_STATUS_REVISION_MISMATCH, ODJ_EXIT_INPUT },
		{ NT_STATUS_ARRAY_BOUNDS_EXCEEDED, ODJ_EXIT_INPUT },
		{ NT_STATUS_BUFFER_TOO_SMALL, ODJ_EXIT_INPUT },
		{ NT_STATUS_INVALID_PARAMETER_MIX, ODJ_EXIT_INPUT },
		{ NT_STATUS_INVALID_COMPUTER_NAME, ODJ_EXIT_INPUT },
		{ NT_STATUS_OBJECT_PATH_SYNTAX_BAD, ODJ_EXIT_INPUT },
		/* root=DIR: a path given that lies outside the image */
		{ NT_STATUS_OBJECT_PATH_INVALID, ODJ_EXIT_INPUT },
		{ NT_STATUS_OBJECT_NAME_NOT_FOUND, ODJ_EXIT_LOCAL },
		{ NT_STATUS_OBJECT_PATH_NOT_FOUND, ODJ_EXIT_LOCAL },
		{ NT_STATUS_OBJECT_NAME_COLLISION, ODJ_EXIT_LOCAL },
		{ NT_STATUS_FILE_IS_A_DIRECTORY, ODJ_EXIT_LOCAL },
		{ NT_STATUS_NOT_A_DIRECTORY, ODJ_EXIT_LOCAL },
		{ NT_STATUS_DISK_FULL, ODJ_EXIT_LOCAL },
		{ NT_STATUS_MEDIA_WRITE_PROTECTED, ODJ_EXIT_LOCAL },
		{ NT_STATUS_INVALID_DOMAIN_ROLE, ODJ_EXIT_LOCAL },
		/* a local file that does not parse: sssd.conf, a journal */
		{ NT_STATUS_DATA_ERROR, ODJ_EXIT_LOCAL },
		/* a local file or program failed (odj-gp-apply's exit 4) */
		{ NT_STATUS_UNEXPECTED_IO_ERROR, ODJ_EXIT_LOCAL },
		{ NT_STATUS_ACCESS_DENIED, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_LOGON_FAILURE, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_WRONG_PASSWORD, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_NO_SUCH_USER, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_PRIVILEGE_NOT_HELD, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_USER_EXISTS, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_NO_SUCH_DOMAIN, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_INVALID_SERVER_STATE, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_NO_LOGON_SERVERS, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_HOST_UNREACHABLE, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_IO_TIMEOUT, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_CONNECTION_REFUSED, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_NOT_FOUND, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_INVALID_SID, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_PASSWORD_RESTRICTION, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_UNSUCCESSFUL, ODJ_EXIT_DIRECTORY },
		/* AD CS: a request pending or denied, a CA out of reach */
		{ NT_STATUS_PENDING, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_REQUEST_NOT_ACCEPTED, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_EPT_NOT_REGISTERED, ODJ_EXIT_DIRECTORY },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (NT_STATUS_EQUAL(status, map[i].status)) {
			return map[i].code;
		}
	}
	return ODJ_EXIT_INTERNAL;
}

int odj_cli_fail(const struct odj_cli *cli, NTSTATUS status, const char *why)
{
	if (why != NULL) {
		odj_cli_error(cli, "%s", why);
	} else {
		odj_cli_error(cli, "%s", get_friendly_nt_error_msg(status));
	}
	if (cli->json) {
		odj_cli_doc_error(cli, NULL, nt_errstr(status));
	} else if (cli->debuglevel > 0) {
		fprintf(stderr, "odj %s: status %s\n", cli->subcommand,
			nt_errstr(status));
	}
	return odj_cli_exit_code(status);
}

static void usage(FILE *f, const struct odj_cli *cli)
{
	const struct odj_subcommand *c = NULL;

	fprintf(f, "Usage: odj SUBCOMMAND [ARGUMENTS] [OPTIONS]\n"
		"       odj /SWITCH [/ARG value ...]   (djoin.exe spelling)\n\n"
		"Subcommands:\n");
	for (c = subcommands; c->name != NULL; c++) {
		fprintf(f, "  %-12s %s\n", c->name, c->help);
	}
	fprintf(f, "\n");
	odj_cli_print_options(cli, f);
}

static const struct odj_subcommand *find_subcommand(const char *name)
{
	const struct odj_subcommand *c = NULL;

	for (c = subcommands; c->name != NULL; c++) {
		if (strcmp(c->name, name) == 0) {
			return c;
		}
		/* djoin.exe: /PROVISION, /REQUESTODJ, any case */
		if (name[0] == '/' && c->djoin != NULL &&
		    strcasecmp(c->djoin, name + 1) == 0) {
			return c;
		}
	}
	return NULL;
}

/*
 * A join a kill interrupted is finished (or rolled back) by the next odj
 * run, whatever it does: requestodj and recover see to it themselves
 * (an image root, their lock), odj-dc is not a joining machine's tool.
 */
static void recover_first(struct odj_cli *cli,
			  const struct odj_subcommand *cmd)
{
#ifdef ODJ_CLIENT_ONLY
	if (!cli->help && cmd->fn != odj_cmd_requestodj &&
	    cmd->fn != odj_cmd_recover) {
		odj_cli_recover_quietly(cli);
	}
#endif
}

int main(int argc, const char **argv)
{
	struct odj_cli cli = { .prog = "odj" };
	const struct odj_subcommand *cmd = NULL;
	int ret;

	/* this process handles passwords: no core dumps, no ptrace */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	cli.mem_ctx = talloc_new(NULL);
	if (cli.mem_ctx == NULL || !odj_cli_out_init(&cli)) {
		fprintf(stderr, "odj: out of memory\n");
		return ODJ_EXIT_INTERNAL;
	}
	ret = odj_cli_parse(&cli, argc, argv);
	if (ret == ODJ_EXIT_OK && cli.argc > 0) {
		cmd = find_subcommand(cli.argv[0]);
		if (cmd == NULL && !cli.help) {
			odj_cli_error(&cli, "unknown subcommand '%s' (try odj "
				      "--help)", cli.argv[0]);
			ret = ODJ_EXIT_USAGE;
		}
	}
	if (ret == ODJ_EXIT_OK && cli.version && cli.json) {
		odj_cli_doc_str(&cli, "odj_version", ODJ_VERSION);
		odj_cli_doc_str(&cli, "samba_version", ODJ_SAMBA_VERSION);
	} else if (ret == ODJ_EXIT_OK && cli.version) {
		printf("odj (samba-odj) %s\n"
		       "built against Samba %s\n",
		       ODJ_VERSION, ODJ_SAMBA_VERSION);
	} else if (ret == ODJ_EXIT_OK && cmd == NULL) {
		/* --help alone; without it, a usage error */
		usage(cli.help ? stdout : stderr, &cli);
		ret = cli.help ? ODJ_EXIT_OK : ODJ_EXIT_USAGE;
		if (!cli.help && cli.json) {
			odj_cli_doc_error(&cli, "no subcommand (try odj "
					  "--help)", NULL);
		}
	} else if (ret == ODJ_EXIT_OK) {
		cli.subcommand = cmd->name;
		odj_args_set_cli(&cli);
		cli.argv++;
		cli.argc--;
		recover_first(&cli, cmd);
		ret = cmd->fn(&cli);
	}
	if (cli.json) {
		odj_cli_doc_print(&cli, ret);
	}
	odj_cli_done(&cli);
	TALLOC_FREE(cli.mem_ctx);
	return ret;
}
