/*
 * odj command line: shared declarations.  The CLI parses arguments and
 * maps results to exit codes; all real work is in the library.
 */

#ifndef _ODJ_CLI_H_
#define _ODJ_CLI_H_

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <talloc.h>
#include "odj.h"

/* Exit codes: categories, like adcli's; see EXIT STATUS in odj(8). */
enum odj_exit {
	ODJ_EXIT_OK = 0,
	ODJ_EXIT_INTERNAL = 1,
	ODJ_EXIT_USAGE = 2,
	ODJ_EXIT_INPUT = 3,		/* a blob or input file is bad */
	ODJ_EXIT_LOCAL = 4,		/* local files, config, disk */
	ODJ_EXIT_CREDENTIALS = 5,	/* authentication or rights */
	ODJ_EXIT_DIRECTORY = 6,		/* the DC said no or is unreachable */
	ODJ_EXIT_PARTIAL = 7,		/* a batch: some machines failed */
	ODJ_EXIT_INTERRUPTED = 8,	/* a batch: stopped by a signal */
};

/*
 * Options shared by every subcommand (Samba's common popt spellings).
 * Flags are int: popt stores POPT_ARG_NONE as int.
 */
struct odj_cli {
	TALLOC_CTX *mem_ctx;
	int debuglevel;
	const char *configfile;
	bool no_default_config;		/* no -s: no smb.conf, not the default */
	const char *user;
	const char *password;
	int no_pass;
	int kerberos;
	const char *use_kerberos;
	const char *krb5_ccache;
	const char *realm;
	const char *workgroup;
	const char *server;
	const char *ipaddress;		/* -I: the DC's address */
	const char *netbiosname;	/* -n */
	const char *auth_file;		/* -A */
	int machine_pass;		/* -P */
	int stdin_input;
	int json;
	int show_secrets;
	int force;
	int update_config;
	int update_ca_certificates;
	int apply;			/* expire: delete, not a dry run */
	int version;
	int help;
	const char **options;		/* --option name=value */
	size_t num_options;
	const char *prog;
	const char **full_argv;		/* as given, before passwords are
					 * blanked: for exec of odj-dc */
	struct poptContext_s *popt;
	struct odj_cli_out *out;	/* the --json document (json.c) */
	const char *subcommand;
	const char **argv;		/* the subcommand's own arguments */
	int argc;
};

/*
 * Subcommand arguments in both spellings: Samba's "key=value" / "flag"
 * and djoin.exe's "/KEY value" / "/FLAG" (case-insensitive).
 */
struct odj_arg_spec {
	const char *name;		/* net offlinejoin spelling */
	const char *djoin;		/* djoin.exe spelling, or NULL */
	bool is_flag;
	const char *help;
};

struct odj_args;

/* The run whose arguments odj_args_parse() reads (for its messages) */
void odj_args_set_cli(const struct odj_cli *cli);

/*
 * Parse @p argv against @p specs.  A bare word that matches no spec is
 * a positional argument (e.g. dump's FILE).  Prints a message and returns
 * NULL on a bad argument.
 */
struct odj_args *odj_args_parse(TALLOC_CTX *mem_ctx,
				const struct odj_arg_spec *specs,
				int argc,
				const char **argv,
				int max_positional);

const char *odj_args_get(const struct odj_args *args, const char *name);
bool odj_args_flag(const struct odj_args *args, const char *name);
const char *odj_args_positional(const struct odj_args *args, int i);

/*
 * odj SUBCOMMAND --help: @p synopsis, every keyword and flag of @p specs
 * in both spellings, and the common options.  Returns ODJ_EXIT_OK.
 */
int odj_args_usage(const struct odj_cli *cli,
		   const struct odj_arg_spec *specs,
		   const char *synopsis);

/*
 * The one provisioning file of dump, requestodj and unattend: FILE,
 * loadfile=FILE (/LOADFILE FILE) or -i ("-": stdin).  NULL after saying
 * what is wrong.
 */
const char *odj_args_blob_path(const struct odj_cli *cli,
			       const struct odj_args *args);

/*
 * JOIN_PROVIDER2's arguments: netbios=, psite= or dsite= (not both),
 * primarydns=.  False after saying what is wrong.
 */
bool odj_args_jp2(const struct odj_cli *cli, const struct odj_args *args,
		  struct odj_jp2 *jp2);

/*
 * --json (json.c): one document per run, printed by main().  The values
 * are jansson's (json_t); set and append take what they are given.
 */
struct json_t;
bool odj_cli_out_init(struct odj_cli *cli);
struct json_t *odj_cli_doc(const struct odj_cli *cli);
void odj_cli_doc_set(const struct odj_cli *cli, const char *key,
		     struct json_t *value);
void odj_cli_doc_str(const struct odj_cli *cli, const char *key,
		     const char *s);
void odj_cli_doc_append(const struct odj_cli *cli, const char *key,
			const char *s);
void odj_cli_doc_error(const struct odj_cli *cli, const char *message,
		       const char *status);
void odj_cli_doc_print(const struct odj_cli *cli, int exit_code);

/*
 * A warning for the user: "warning: ..." on stderr, or in the document's
 * "warnings".
 */
void odj_cli_warning(const struct odj_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "odj SUBCOMMAND: message" to stderr (--json: the error). */
void odj_cli_error(const struct odj_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Report a library failure: the message (or the status' friendly text)
 * on stderr, and the exit code for its category.
 */
int odj_cli_fail(const struct odj_cli *cli, NTSTATUS status,
		 const char *why);

/* Exit category of a library status. */
enum odj_exit odj_cli_exit_code(NTSTATUS status);

struct loadparm_context;
struct cli_credentials;

/*
 * Parse the common options of argv into @p cli; cli->argv, cli->argc
 * are the rest (the subcommand and its arguments).  ODJ_EXIT_OK, or the
 * exit code after saying what is wrong.  odj_cli_done() frees what
 * popt holds.
 */
int odj_cli_parse(struct odj_cli *cli, int argc, const char **argv);
void odj_cli_print_options(const struct odj_cli *cli, FILE *f);
void odj_cli_done(struct odj_cli *cli);

/* smb.conf (-s), --option, -d, --realm, --workgroup */
struct loadparm_context *odj_cli_loadparm(struct odj_cli *cli);

/*
 * odj-dc (dc/credentials.c): Samba's credential sources, as Samba reads
 * them: USER, PASSWD, PASSWD_FD, PASSWD_FILE, -A, -U, --password, -P,
 * -N, -k, --use-kerberos, --use-krb5-ccache, and Samba's prompt on a
 * terminal.  NULL after saying what is wrong.
 */
struct cli_credentials *odj_cli_parse_credentials(
	struct odj_cli *cli, struct loadparm_context *lp_ctx);
/* The same, for talking to a DC: someone to authenticate as, and how */
struct cli_credentials *odj_cli_credentials(struct odj_cli *cli,
					    struct loadparm_context *lp_ctx);
bool odj_cli_kerberos_required(const struct odj_cli *cli);
/* A line typed on the terminal after @p prompt, not echoed; NULL: none */
char *odj_cli_read_tty_secret(TALLOC_CTX *mem_ctx, const char *prompt);

/*
 * provision's arguments (both spellings) as a request; batch uses them
 * as the defaults of every machine.  False after saying what is wrong.
 */
bool odj_cli_provision_request(const struct odj_cli *cli,
			       const struct odj_args *args,
			       struct odj_provision_request *r);

/*
 * The progress bar of batch= and rodc-preload (dc/progress.c), drawn on
 * standard error only when it is a terminal (tty)
 */
struct odj_progress {
	struct timespec start;
	bool tty;
	bool shown;
	double last_draw;
};
void odj_progress_start(struct odj_progress *p);
double odj_progress_elapsed(const struct odj_progress *p);
void odj_progress_clear(struct odj_progress *p);
void odj_progress_draw(struct odj_progress *p, size_t done, size_t total,
		       size_t failed);

/* A provisioning's warnings: on stderr, or in the --json document */
void odj_cli_print_warnings(const struct odj_cli *cli,
			    const char * const *warnings);

int odj_cmd_dump(struct odj_cli *cli);

/* In odj: hand a DC-side subcommand to odj-dc (dc_exec.c) */
int odj_cli_exec_dc(struct odj_cli *cli);

/* odj-dc only (source/cli/dc/): odj runs them through odj_cli_exec_dc() */
int odj_cmd_provision(struct odj_cli *cli);
int odj_cmd_composeodj(struct odj_cli *cli);

struct odj_dc;

/*
 * provision's certificate and policy arguments (dc/extensions.c), read from
 * the DC once, as r->extensions (NULL when none are given); ODJ_EXIT_OK or
 * the exit code.
 */
int odj_cli_extensions(struct odj_cli *cli, struct odj_dc *dc,
		   const struct odj_args *args,
		   struct odj_provision_request *r);
/*
 * provision's rodc= and rodc_group= (dc/rodc.c): the RODCs read and
 * checked before any write, as r->rodc (NULL when not given), and the
 * blob's site defaulted to the first RODC's; ODJ_EXIT_OK or the exit code.
 * Then what to pre-populate where: for one machine (on @p out, or in
 * the --json document), and for a batch.
 */
int odj_cli_rodc(struct odj_cli *cli, struct odj_dc *dc,
		 const struct odj_args *args,
		 struct odj_provision_request *r);
void odj_cli_rodc_single(const struct odj_cli *cli, const struct odj_dc *dc,
			 const struct odj_provision_request *r,
			 const struct odj_provision_result *res, FILE *out);
void odj_cli_rodc_batch(const struct odj_cli *cli, const struct odj_dc *dc,
			const struct odj_rodc_policy *policy,
			const struct odj_batch_result *results, size_t num,
			const char *report, const char *savedir);
/*
 * Which DC a provisioning talks to and why: on stderr when the locator
 * chose it, in the --json document ("dc_choices") always
 */
void odj_cli_dc_choice(const struct odj_cli *cli, const struct odj_dc *dc,
		       bool located);
int odj_cmd_requestodj(struct odj_cli *cli);
/* provision batch=FILE: called by odj_cmd_provision with its arguments */
int odj_cmd_provision_batch(struct odj_cli *cli, const struct odj_args *args);
int odj_cmd_unattend(struct odj_cli *cli);
/* odj-dc only: passwords into this RODC's cache (dc/cmd_rodc_preload.c) */
int odj_cmd_rodc_preload(struct odj_cli *cli);
int odj_cmd_recover(struct odj_cli *cli);
/* -s as if given (odj_cli_done() frees it) */
bool odj_cli_set_configfile(struct odj_cli *cli, const char *path);
/* odj_recover() for this system, its outcome as warnings */
int odj_cli_recover_quietly(struct odj_cli *cli);
/* odj-dc only: what became of blobs (dc/cmd_verify.c, cmd_status.c, ...) */
int odj_cmd_verify(struct odj_cli *cli);
int odj_cmd_status(struct odj_cli *cli);
int odj_cmd_expire(struct odj_cli *cli);

#endif /* _ODJ_CLI_H_ */
