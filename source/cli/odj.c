/*
 * odj: Offline Domain Join for Samba.
 *
 * main(): Samba's common options, the subcommand table, and the one place
 * where library results become exit codes.
 */

#include "odj_cli.h"

#include <popt.h>
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

struct odj_subcommand {
	const char *name;
	const char *djoin;		/* djoin.exe's switch, or NULL */
	int (*fn)(struct odj_cli *cli);
	const char *help;
};

static const struct odj_subcommand subcommands[] = {
	{ "provision", "PROVISION", odj_cmd_provision,
	  "Create a computer account and write its provisioning blob" },
	{ "dump", NULL, odj_cmd_dump,
	  "Show every field of a provisioning blob" },
	{ "requestodj", "REQUESTODJ", odj_cmd_requestodj,
	  "Join this machine with a blob, offline" },
	{ "composeodj", NULL, odj_cmd_composeodj,
	  "Write a blob from known values, with no DC contact" },
	{ "unattend", NULL, odj_cmd_unattend,
	  "Write the Windows answer file (unattend.xml) of a blob" },
	{ NULL },
};

enum {
	OPT_OPTION = 1000,
	OPT_VERSION,
};

void odj_cli_error(const struct odj_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "odj %s: ", cli->subcommand != NULL ?
		cli->subcommand : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
		{ NT_STATUS_OBJECT_NAME_NOT_FOUND, ODJ_EXIT_LOCAL },
		{ NT_STATUS_OBJECT_PATH_NOT_FOUND, ODJ_EXIT_LOCAL },
		{ NT_STATUS_OBJECT_NAME_COLLISION, ODJ_EXIT_LOCAL },
		{ NT_STATUS_FILE_IS_A_DIRECTORY, ODJ_EXIT_LOCAL },
		{ NT_STATUS_NOT_A_DIRECTORY, ODJ_EXIT_LOCAL },
		{ NT_STATUS_DISK_FULL, ODJ_EXIT_LOCAL },
		{ NT_STATUS_MEDIA_WRITE_PROTECTED, ODJ_EXIT_LOCAL },
		{ NT_STATUS_INVALID_DOMAIN_ROLE, ODJ_EXIT_LOCAL },
		{ NT_STATUS_ACCESS_DENIED, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_LOGON_FAILURE, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_WRONG_PASSWORD, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_NO_SUCH_USER, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_PRIVILEGE_NOT_HELD, ODJ_EXIT_CREDENTIALS },
		{ NT_STATUS_USER_EXISTS, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_NO_SUCH_DOMAIN, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_NO_LOGON_SERVERS, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_HOST_UNREACHABLE, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_IO_TIMEOUT, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_CONNECTION_REFUSED, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_NOT_FOUND, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_INVALID_SID, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_PASSWORD_RESTRICTION, ODJ_EXIT_DIRECTORY },
		{ NT_STATUS_UNSUCCESSFUL, ODJ_EXIT_DIRECTORY },
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
	if (cli->debuglevel > 0) {
		fprintf(stderr, "odj %s: status %s\n", cli->subcommand,
			nt_errstr(status));
	}
	return odj_cli_exit_code(status);
}

static void usage(FILE *f, poptContext pc)
{
	const struct odj_subcommand *c = NULL;

	fprintf(f, "Usage: odj SUBCOMMAND [ARGUMENTS] [OPTIONS]\n"
		"       odj /SWITCH [/ARG value ...]   (djoin.exe spelling)\n\n"
		"Subcommands:\n");
	for (c = subcommands; c->name != NULL; c++) {
		fprintf(f, "  %-12s %s\n", c->name, c->help);
	}
	fprintf(f, "\n");
	poptPrintHelp(pc, f, 0);
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

static bool add_option(struct odj_cli *cli, const char *opt)
{
	cli->options = talloc_realloc(cli->mem_ctx, cli->options,
				      const char *, cli->num_options + 1);
	if (cli->options == NULL) {
		return false;
	}
	cli->options[cli->num_options++] = opt;
	return true;
}

/* argv as given, for odj-dc; secret-wiped when freed */
static const char **copy_argv(TALLOC_CTX *mem_ctx, int argc,
			      const char **argv)
{
	const char **copy = talloc_zero_array(mem_ctx, const char *,
					      argc + 1);
	int i;

	if (copy == NULL) {
		return NULL;
	}
	for (i = 0; i < argc; i++) {
		char *a = talloc_strdup(copy, argv[i]);

		if (a == NULL) {
			return NULL;
		}
		odj_wipe_on_free(a);
		copy[i] = a;
	}
	return copy;
}

/* popt hands out malloc()ed copies for POPT_ARG_STRING */
static void free_string_options(struct odj_cli *cli)
{
	char **strings[] = {
		discard_const_p(char *, &cli->configfile),
		discard_const_p(char *, &cli->user),
		discard_const_p(char *, &cli->use_kerberos),
		discard_const_p(char *, &cli->krb5_ccache),
		discard_const_p(char *, &cli->realm),
		discard_const_p(char *, &cli->workgroup),
		discard_const_p(char *, &cli->server),
	};
	size_t i;

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if (*strings[i] != NULL) {
			/* -U user%password */
			explicit_bzero(*strings[i], strlen(*strings[i]));
		}
		free(*strings[i]);
		*strings[i] = NULL;
	}
	/* the password: wipe before freeing */
	if (cli->password != NULL) {
		explicit_bzero(discard_const_p(char, cli->password),
			       strlen(cli->password));
		free(discard_const_p(char, cli->password));
		cli->password = NULL;
	}
}

/*
 * After popt made its copies: blank passwords in argv, so that ps and
 * /proc/PID/cmdline show "-U user%" only (as Samba's tools do).
 */
static void burn_passwords(int argc, const char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		char *arg = discard_const_p(char, argv[i]);
		char *next = i + 1 < argc ? discard_const_p(char, argv[i + 1])
					  : NULL;
		char *secret = NULL;

		if ((strcmp(arg, "-U") == 0 || strcmp(arg, "--user") == 0) &&
		    next != NULL) {
			secret = strchr(next, '%');
		} else if (strncmp(arg, "-U", 2) == 0 ||
			   strncmp(arg, "--user=", 7) == 0) {
			secret = strchr(arg, '%');
		} else if (strcmp(arg, "--password") == 0 && next != NULL) {
			secret = next - 1;	/* the whole of the next */
		} else if (strncmp(arg, "--password=", 11) == 0) {
			secret = arg + 10;	/* the '=' */
		}
		if (secret != NULL) {
			explicit_bzero(secret + 1, strlen(secret + 1));
		}
	}
}

int main(int argc, const char **argv)
{
	struct odj_cli cli = { .prog = "odj" };
	const struct odj_subcommand *cmd = NULL;
	poptContext pc = NULL;
	const char **rest = NULL;
	int opt, ret, n;
	struct poptOption table[] = {
		POPT_AUTOHELP
		{ "debuglevel", 'd', POPT_ARG_INT, &cli.debuglevel, 0,
		  "Set debug level", "DEBUGLEVEL" },
		{ "configfile", 's', POPT_ARG_STRING, &cli.configfile, 0,
		  "Use alternate configuration file", "CONFIGFILE" },
		{ "option", 0, POPT_ARG_STRING, NULL, OPT_OPTION,
		  "Set smb.conf option from command line", "name=value" },
		{ "user", 'U', POPT_ARG_STRING, &cli.user, 0,
		  "Set the network username", "[DOMAIN/]USERNAME[%PASSWORD]" },
		{ "password", 0, POPT_ARG_STRING, &cli.password, 0,
		  "Password", "STRING" },
		{ "no-pass", 'N', POPT_ARG_NONE, &cli.no_pass, 0,
		  "Don't ask for a password" },
		{ "kerberos", 'k', POPT_ARG_NONE, &cli.kerberos, 0,
		  "Use Kerberos (same as --use-kerberos=required)" },
		{ "use-kerberos", 0, POPT_ARG_STRING, &cli.use_kerberos, 0,
		  "Use Kerberos authentication", "desired|required|off" },
		{ "use-krb5-ccache", 0, POPT_ARG_STRING, &cli.krb5_ccache, 0,
		  "Credentials cache location for Kerberos", "CCACHE" },
		{ "realm", 0, POPT_ARG_STRING, &cli.realm, 0,
		  "Set the realm name", "REALM" },
		{ "workgroup", 'W', POPT_ARG_STRING, &cli.workgroup, 0,
		  "Set the workgroup name", "WORKGROUP" },
		{ "server", 'S', POPT_ARG_STRING, &cli.server, 0,
		  "Domain controller to talk to (same as dcname=)", "DC" },
		{ "stdin", 'i', POPT_ARG_NONE, &cli.stdin_input, 0,
		  "Read the provisioning blob from standard input" },
		{ "json", 0, POPT_ARG_NONE, &cli.json, 0,
		  "Machine-readable output" },
		{ "show-secrets", 0, POPT_ARG_NONE, &cli.show_secrets, 0,
		  "Show the machine password and private keys" },
		{ "force", 'f', POPT_ARG_NONE, &cli.force, 0,
		  "Replace an existing join or file" },
		{ "update-config", 0, POPT_ARG_NONE, &cli.update_config, 0,
		  "Let requestodj adjust smb.conf to the blob" },
		{ "update-ca-certificates", 0, POPT_ARG_NONE,
		  &cli.update_ca_certificates, 0,
		  "Let requestodj run update-ca-certificates after "
		  "installing root CAs" },
		{ "version", 'V', POPT_ARG_NONE, NULL, OPT_VERSION,
		  "Print version" },
		POPT_TABLEEND
	};

	/* this process handles passwords: no core dumps, no ptrace */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	cli.mem_ctx = talloc_new(NULL);
	if (cli.mem_ctx == NULL) {
		fprintf(stderr, "odj: out of memory\n");
		return ODJ_EXIT_INTERNAL;
	}

	cli.full_argv = copy_argv(cli.mem_ctx, argc, argv);
	if (cli.full_argv == NULL) {
		fprintf(stderr, "odj: out of memory\n");
		ret = ODJ_EXIT_INTERNAL;
		goto done;
	}

	pc = poptGetContext("odj", argc, argv, table, 0);
	while ((opt = poptGetNextOpt(pc)) >= 0) {
		if (opt == OPT_OPTION) {
			char *o = poptGetOptArg(pc);
			bool ok = o != NULL &&
				add_option(&cli, talloc_strdup(cli.mem_ctx, o));

			free(o);
			if (!ok) {
				ret = ODJ_EXIT_INTERNAL;
				goto done;
			}
		} else if (opt == OPT_VERSION) {
			printf("odj (samba-odj) %s\n"
			       "built against Samba %s\n",
			       ODJ_VERSION, ODJ_SAMBA_VERSION);
			ret = ODJ_EXIT_OK;
			goto done;
		}
	}
	burn_passwords(argc, argv);
	if (opt < -1) {
		fprintf(stderr, "odj: %s: %s\n",
			poptBadOption(pc, POPT_BADOPTION_NOALIAS),
			poptStrerror(opt));
		ret = ODJ_EXIT_USAGE;
		goto done;
	}

	rest = poptGetArgs(pc);
	if (rest == NULL || rest[0] == NULL) {
		usage(stderr, pc);
		ret = ODJ_EXIT_USAGE;
		goto done;
	}
	cmd = find_subcommand(rest[0]);
	if (cmd == NULL) {
		fprintf(stderr, "odj: unknown subcommand '%s' "
			"(try odj --help)\n", rest[0]);
		ret = ODJ_EXIT_USAGE;
		goto done;
	}
	for (n = 0; rest[n] != NULL; n++) {
	}
	cli.subcommand = cmd->name;
	odj_args_set_subcommand(cmd->name);
	cli.argv = rest + 1;
	cli.argc = n - 1;
	ret = cmd->fn(&cli);

done:
	free_string_options(&cli);
	poptFreeContext(pc);
	TALLOC_FREE(cli.mem_ctx);
	return ret;
}
