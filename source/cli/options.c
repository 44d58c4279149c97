/*
 * Samba's common options (-s, -d, --option, -U, -k, --realm, ...) and
 * odj's own (--json, --force, ...): parsed with popt into struct odj_cli,
 * passwords blanked in argv once popt has its copies, and the smb.conf
 * they describe.
 */

#include "odj_cli.h"

#include <errno.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <param.h>

enum {
	OPT_OPTION = 1000,
	OPT_VERSION,
};

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
		discard_const_p(char *, &cli->ipaddress),
		discard_const_p(char *, &cli->netbiosname),
		discard_const_p(char *, &cli->auth_file),
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

/* The table points into @p cli: it lives as long as @p cli */
static struct poptOption *option_table(struct odj_cli *cli)
{
	const struct poptOption table[] = {
		{ "help", '?', POPT_ARG_NONE, &cli->help, 0,
		  "Show this help (with a subcommand: its arguments)" },
		{ "usage", 0, POPT_ARG_NONE, &cli->help, 0,
		  "The same as --help" },
		/* Samba's POPT_COMMON_SAMBA */
		{ "debuglevel", 'd', POPT_ARG_INT, &cli->debuglevel, 0,
		  "Set debug level", "DEBUGLEVEL" },
		{ "configfile", 's', POPT_ARG_STRING, &cli->configfile, 0,
		  "Use alternate configuration file", "CONFIGFILE" },
		{ "option", 0, POPT_ARG_STRING, NULL, OPT_OPTION,
		  "Set smb.conf option from command line", "name=value" },
		/* POPT_COMMON_CONNECTION */
		{ "netbiosname", 'n', POPT_ARG_STRING, &cli->netbiosname, 0,
		  "Primary netbios name", "NETBIOSNAME" },
		{ "workgroup", 'W', POPT_ARG_STRING, &cli->workgroup, 0,
		  "Set the workgroup name", "WORKGROUP" },
		{ "realm", 0, POPT_ARG_STRING, &cli->realm, 0,
		  "Set the realm name", "REALM" },
		/* POPT_COMMON_CREDENTIALS */
		{ "user", 'U', POPT_ARG_STRING, &cli->user, 0,
		  "Set the network username", "[DOMAIN/]USERNAME[%PASSWORD]" },
		{ "no-pass", 'N', POPT_ARG_NONE, &cli->no_pass, 0,
		  "Don't ask for a password" },
		{ "password", 0, POPT_ARG_STRING, &cli->password, 0,
		  "Password", "STRING" },
		{ "authentication-file", 'A', POPT_ARG_STRING,
		  &cli->auth_file, 0,
		  "Get the credentials from a file", "FILE" },
		{ "machine-pass", 'P', POPT_ARG_NONE, &cli->machine_pass, 0,
		  "Use stored machine account password" },
		{ "use-kerberos", 0, POPT_ARG_STRING, &cli->use_kerberos, 0,
		  "Use Kerberos authentication", "desired|required|off" },
		{ "kerberos", 'k', POPT_ARG_NONE, &cli->kerberos, 0,
		  "Use Kerberos (same as --use-kerberos=required)" },
		{ "use-krb5-ccache", 0, POPT_ARG_STRING, &cli->krb5_ccache, 0,
		  "Credentials cache location for Kerberos", "CCACHE" },
		/* net's */
		{ "server", 'S', POPT_ARG_STRING, &cli->server, 0,
		  "Domain controller to talk to (same as dcname=)", "DC" },
		{ "ipaddress", 'I', POPT_ARG_STRING, &cli->ipaddress, 0,
		  "Address of the domain controller (same as dcaddress=)",
		  "IPADDRESS" },
		{ "stdin", 'i', POPT_ARG_NONE, &cli->stdin_input, 0,
		  "Read the provisioning blob from standard input" },
		{ "json", 0, POPT_ARG_NONE, &cli->json, 0,
		  "One JSON document on standard output" },
		/* odj's */
		{ "show-secrets", 0, POPT_ARG_NONE, &cli->show_secrets, 0,
		  "Show the machine password and private keys" },
		{ "force", 'f', POPT_ARG_NONE, &cli->force, 0,
		  "Replace an existing join or file" },
		{ "update-config", 0, POPT_ARG_NONE, &cli->update_config, 0,
		  "Let requestodj adjust smb.conf to the blob" },
		{ "update-ca-certificates", 0, POPT_ARG_NONE,
		  &cli->update_ca_certificates, 0,
		  "Let requestodj run update-ca-certificates after "
		  "installing root CAs" },
		{ "apply", 0, POPT_ARG_NONE, &cli->apply, 0,
		  "Let expire delete (default: a dry run)" },
		{ "version", 'V', POPT_ARG_NONE, NULL, OPT_VERSION,
		  "Print version" },
		POPT_TABLEEND
	};

	return talloc_memdup(cli->mem_ctx, table, sizeof(table));
}

/* -V, --option and popt's own errors; ODJ_EXIT_OK to go on */
static int parse_options(struct odj_cli *cli, poptContext pc)
{
	int opt;

	while ((opt = poptGetNextOpt(pc)) >= 0) {
		if (opt == OPT_OPTION) {
			char *o = poptGetOptArg(pc);
			bool ok = o != NULL &&
				add_option(cli, talloc_strdup(cli->mem_ctx, o));

			free(o);
			if (!ok) {
				return ODJ_EXIT_INTERNAL;
			}
		} else if (opt == OPT_VERSION) {
			cli->version = true;
		}
	}
	if (opt < -1) {
		fprintf(stderr, "odj: %s: %s\n",
			poptBadOption(pc, POPT_BADOPTION_NOALIAS),
			poptStrerror(opt));
		return ODJ_EXIT_USAGE;
	}
	return ODJ_EXIT_OK;
}

int odj_cli_parse(struct odj_cli *cli, int argc, const char **argv)
{
	struct poptOption *table = NULL;
	const char **rest = NULL;
	int ret;

	cli->full_argv = copy_argv(cli->mem_ctx, argc, argv);
	table = option_table(cli);
	if (cli->full_argv == NULL || table == NULL) {
		fprintf(stderr, "odj: out of memory\n");
		return ODJ_EXIT_INTERNAL;
	}
	cli->popt = poptGetContext("odj", argc, argv, table, 0);
	if (cli->popt == NULL) {
		return ODJ_EXIT_INTERNAL;
	}
	ret = parse_options(cli, cli->popt);
	burn_passwords(argc, argv);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	rest = poptGetArgs(cli->popt);
	cli->argv = rest;
	for (cli->argc = 0; rest != NULL && rest[cli->argc] != NULL;
	     cli->argc++) {
	}
	return ODJ_EXIT_OK;
}

void odj_cli_print_options(const struct odj_cli *cli, FILE *f)
{
	poptPrintHelp(cli->popt, f, 0);
}

bool odj_cli_set_configfile(struct odj_cli *cli, const char *path)
{
	char *copy = strdup(path);	/* popt's strings are malloc()ed */

	if (copy == NULL) {
		return false;
	}
	free(discard_const_p(char, cli->configfile));
	cli->configfile = copy;
	return true;
}

void odj_cli_done(struct odj_cli *cli)
{
	free_string_options(cli);
	poptFreeContext(cli->popt);
	cli->popt = NULL;
}

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
	} else if (cli->no_default_config) {
		ok = true;	/* Samba's defaults alone */
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
	if (cli->netbiosname != NULL) {
		lpcfg_set_cmdline(lp_ctx, "netbios name", cli->netbiosname);
	}
	return lp_ctx;
}
