/*
 * odj verify, status and expire: what the three share (the inputs, the
 * DC, the JSON of one machine).  odj-dc only.
 */

#ifndef _ODJ_CLI_LIFE_H_
#define _ODJ_CLI_LIFE_H_

#include "odj_cli.h"

struct tevent_context;
struct json_t;

/* The keywords of all three, beside each one's own */
#define ODJ_LIFE_ARG_SPECS \
	{ "loadfile", "LOADFILE", false, "a blob (or FILE ... as words)" }, \
	{ "savedir", "SAVEDIR", false, "every *.odj file of a directory" }, \
	{ "report", "REPORT", false, "the blobs a batch report lists" }, \
	{ "domain", "DOMAIN", false, "the domain (default: the blobs')" }, \
	{ "dcname", "DCNAME", false, "the domain controller to ask" }

#define ODJ_LIFE_SYNOPSIS \
	"{loadfile=FILE | savedir=DIR | report=FILE | FILE ...} " \
	"[domain=DOMAIN] [dcname=DC]"

struct odj_life_run {
	struct tevent_context *ev;
	struct odj_life_blob *blobs;
	size_t num_blobs;
	struct odj_dc *dc;		/* NULL: no readable blob, none asked */
};

/*
 * Read the blobs the arguments name (loadfile=, savedir=, report=, and
 * FILE or DIR words); unreadable ones stay in the list, with their
 * error.  ODJ_EXIT_OK, or the exit code after saying what is wrong.
 */
int odj_cli_life_load(struct odj_cli *cli, const struct odj_args *args,
		      struct odj_life_run *run);

/*
 * Connect to a DC of domain= (else the first readable blob's domain):
 * dcname= or -S, else the one the locator finds; read-only DCs only
 * when @p read_only_ok; with gc (@p gc_ok) the global catalog port of
 * dcname=.  No readable blob: run->dc stays NULL and ODJ_EXIT_OK.
 */
int odj_cli_life_connect(struct odj_cli *cli, const struct odj_args *args,
			 bool read_only_ok, bool gc_ok,
			 struct odj_life_run *run);

/* The machine's name, else the blob's path (an unreadable blob) */
const char *odj_cli_life_name(const struct odj_life_status *s);

/* A machine's JSON: name, account, blob, state, reason and the account */
struct json_t *odj_cli_life_machine(const struct odj_life_status *s);

/* Common document fields: domain, dc */
void odj_cli_life_doc(struct odj_cli *cli, const struct odj_life_run *run);

#endif /* _ODJ_CLI_LIFE_H_ */
