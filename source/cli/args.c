/*
 * Subcommand arguments, in Samba's and in djoin.exe's spelling.
 *
 *   odj provision domain=odj.test machine_name=ws1 reuse savefile=F
 *   odj provision /DOMAIN odj.test /MACHINE ws1 /REUSE /SAVEFILE F
 */

#include "odj_cli.h"

#include <string.h>
#include <strings.h>

struct odj_arg_value {
	const char *name;
	const char *value;		/* "" for a flag */
};

struct odj_args {
	struct odj_arg_value *values;
	size_t num_values;
	const char **positional;
	int num_positional;
};

/* Whose arguments are parsed: messages go through odj_cli_error() */
static const struct odj_cli *args_cli;

void odj_args_set_cli(const struct odj_cli *cli)
{
	args_cli = cli;
}

#define args_error(...) odj_cli_error(args_cli, __VA_ARGS__)

static const struct odj_arg_spec *spec_by_name(
	const struct odj_arg_spec *specs, const char *name, size_t len)
{
	for (; specs->name != NULL; specs++) {
		if (strlen(specs->name) == len &&
		    strncasecmp(specs->name, name, len) == 0) {
			return specs;
		}
	}
	return NULL;
}

static const struct odj_arg_spec *spec_by_djoin(
	const struct odj_arg_spec *specs, const char *name)
{
	for (; specs->name != NULL; specs++) {
		if (specs->djoin != NULL &&
		    strcasecmp(specs->djoin, name) == 0) {
			return specs;
		}
	}
	return NULL;
}

static bool add_value(struct odj_args *args, const struct odj_arg_spec *s,
		      const char *value)
{
	size_t i;

	for (i = 0; i < args->num_values; i++) {
		if (strcmp(args->values[i].name, s->name) == 0) {
			args_error("argument '%s' given twice",
				s->name);
			return false;
		}
	}
	args->values = talloc_realloc(args, args->values,
				      struct odj_arg_value,
				      args->num_values + 1);
	if (args->values == NULL) {
		return false;
	}
	args->values[args->num_values++] = (struct odj_arg_value) {
		.name = s->name,
		.value = value,
	};
	return true;
}

/* "/KEY value" or "/FLAG"; returns how many argv entries it used */
static int parse_djoin(struct odj_args *args,
		       const struct odj_arg_spec *specs,
		       int argc, const char **argv)
{
	const struct odj_arg_spec *s = spec_by_djoin(specs, argv[0] + 1);

	if (s == NULL) {
		args_error("unknown switch '%s'", argv[0]);
		return -1;
	}
	if (s->is_flag) {
		return add_value(args, s, "") ? 1 : -1;
	}
	if (argc < 2) {
		args_error("switch '%s' needs a value", argv[0]);
		return -1;
	}
	return add_value(args, s, argv[1]) ? 2 : -1;
}

static bool parse_net(struct odj_args *args,
		      const struct odj_arg_spec *specs,
		      const char *arg,
		      int max_positional)
{
	const char *eq = strchr(arg, '=');
	const struct odj_arg_spec *s = NULL;

	s = spec_by_name(specs, arg, eq != NULL ? (size_t)(eq - arg)
						: strlen(arg));
	if (s == NULL && eq != NULL) {
		args_error("unknown argument '%.*s'",
			(int)(eq - arg), arg);
		return false;
	}
	if (s == NULL || (eq == NULL && !s->is_flag)) {
		if (s != NULL) {
			args_error("argument '%s' needs a value "
				"(%s=...)", arg, s->name);
			return false;
		}
		if (args->num_positional >= max_positional) {
			args_error("unexpected argument '%s'", arg);
			return false;
		}
		args->positional[args->num_positional++] = arg;
		return true;
	}
	if (s->is_flag && eq != NULL) {
		args_error("'%s' is a flag and takes no value",
			s->name);
		return false;
	}
	if (!s->is_flag && eq[1] == '\0') {
		args_error("argument '%s' has an empty value", s->name);
		return false;
	}
	return add_value(args, s, s->is_flag ? "" : eq + 1);
}

struct odj_args *odj_args_parse(TALLOC_CTX *mem_ctx,
				const struct odj_arg_spec *specs,
				int argc,
				const char **argv,
				int max_positional)
{
	struct odj_args *args = talloc_zero(mem_ctx, struct odj_args);
	int i = 0;

	if (args == NULL) {
		return NULL;
	}
	args->positional = talloc_zero_array(args, const char *,
					     max_positional + 1);
	if (args->positional == NULL) {
		TALLOC_FREE(args);
		return NULL;
	}
	while (i < argc) {
		/* "-" is standard input, "/x" a switch only if it's known */
		if (argv[i][0] == '/' && argv[i][1] != '\0' &&
		    strchr(argv[i] + 1, '/') == NULL) {
			int used = parse_djoin(args, specs, argc - i,
					       argv + i);

			if (used < 0) {
				TALLOC_FREE(args);
				return NULL;
			}
			i += used;
			continue;
		}
		if (!parse_net(args, specs, argv[i], max_positional)) {
			TALLOC_FREE(args);
			return NULL;
		}
		i++;
	}
	return args;
}

const char *odj_args_get(const struct odj_args *args, const char *name)
{
	size_t i;

	for (i = 0; i < args->num_values; i++) {
		if (strcmp(args->values[i].name, name) == 0) {
			return args->values[i].value;
		}
	}
	return NULL;
}

bool odj_args_flag(const struct odj_args *args, const char *name)
{
	return odj_args_get(args, name) != NULL;
}

const char *odj_args_positional(const struct odj_args *args, int i)
{
	if (i < 0 || i >= args->num_positional) {
		return NULL;
	}
	return args->positional[i];
}

const char *odj_args_blob_path(const struct odj_cli *cli,
			       const struct odj_args *args)
{
	const char *loadfile = odj_args_get(args, "loadfile");
	const char *positional = odj_args_positional(args, 0);
	int given = (loadfile != NULL) + (positional != NULL) +
		    (cli->stdin_input != 0);

	if (given != 1) {
		odj_cli_error(cli, "give one provisioning file (FILE, "
			      "loadfile=FILE, /LOADFILE FILE, or -i / - for "
			      "stdin)");
		return NULL;
	}
	if (loadfile != NULL) {
		return loadfile;
	}
	return positional != NULL ? positional : "-";
}

bool odj_args_jp2(const struct odj_cli *cli, const struct odj_args *args,
		  struct odj_jp2 *jp2)
{
	const char *psite = odj_args_get(args, "psite");
	const char *dsite = odj_args_get(args, "dsite");

	if (psite != NULL && dsite != NULL) {
		odj_cli_error(cli, "psite and dsite exclude each other");
		return false;
	}
	*jp2 = (struct odj_jp2) {
		.netbios_name = odj_args_get(args, "netbios"),
		.site = psite != NULL ? psite : dsite,
		.site_persistent = psite != NULL,
		.primary_dns = odj_args_get(args, "primarydns"),
	};
	return true;
}

/* "domain=DOMAIN" or "reuse", and the djoin spelling beside it */
static void usage_line(FILE *f, const struct odj_arg_spec *s)
{
	char net[40], djoin[32];

	snprintf(net, sizeof(net), s->is_flag ? "%s" : "%s=VALUE", s->name);
	if (s->djoin == NULL) {
		djoin[0] = '\0';
	} else {
		snprintf(djoin, sizeof(djoin), s->is_flag ? "/%s" : "/%s VALUE",
			 s->djoin);
	}
	fprintf(f, "  %-26s %-22s %s\n", net, djoin, s->help);
}

int odj_args_usage(const struct odj_cli *cli,
		   const struct odj_arg_spec *specs,
		   const char *synopsis)
{
	const struct odj_arg_spec *s = NULL;
	bool djoin = false;

	for (s = specs; s->name != NULL; s++) {
		djoin |= s->djoin != NULL;
	}
	printf("Usage: odj %s %s [OPTIONS]\n", cli->subcommand, synopsis);
	if (djoin) {
		printf("       odj /%s ... (djoin.exe spelling: /KEYWORD VALUE, "
		       "/FLAG, any case)\n", cli->subcommand);
	}
	printf("\nKeywords and flags (Samba's spelling, djoin.exe's):\n");
	for (s = specs; s->name != NULL; s++) {
		usage_line(stdout, s);
	}
	printf("\n");
	odj_cli_print_options(cli, stdout);
	return ODJ_EXIT_OK;
}
