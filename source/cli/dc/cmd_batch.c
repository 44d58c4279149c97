/*
 * odj provision batch=FILE savedir=DIR: many machines, one LDAP session
 * per DC, requests pipelined (odj_batch_send).  This file reads the
 * arguments, shows progress and turns the results into a summary, a
 * report file and an exit code.
 */

#include "odj_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <tevent.h>
#include <jansson.h>

struct batch_cli {
	struct odj_cli *cli;
	struct tevent_req *req;
	struct odj_progress bar;
	size_t failed;
	int signals;
};

static void print_machine(const struct odj_batch_result *r)
{
	printf("%s: %s", r->entry->name, odj_batch_status_name(r->status));
	if (r->account_dn != NULL) {
		printf(", %s, RID %" PRIu32, r->account_dn, r->rid);
	}
	if (r->blob_path != NULL) {
		printf(", blob %s", r->blob_path);
	}
	if (r->unattend_path != NULL) {
		printf(", unattend %s", r->unattend_path);
	}
	printf("\n");
}

static void progress(const struct odj_batch_result *r, size_t done,
		     size_t total, void *private_data)
{
	struct batch_cli *b = private_data;

	if (r->status == ODJ_BATCH_FAILED && b->cli->json) {
		b->failed++;	/* the machine's entry in the document says why */
	} else if (r->status == ODJ_BATCH_FAILED) {
		b->failed++;
		odj_progress_clear(&b->bar);
		odj_cli_error(b->cli, "%s (line %u): %s", r->entry->name,
			      r->entry->line, r->message != NULL ?
			      r->message : "failed");
	} else if (!b->bar.tty && !b->cli->json) {
		print_machine(r);
	}
	if (r->warnings != NULL) {
		odj_progress_clear(&b->bar);
		odj_cli_print_warnings(b->cli, r->warnings);
	}
	if (b->bar.tty) {
		odj_progress_draw(&b->bar, done, total, b->failed);
	} else {
		fflush(stdout);
	}
}

static void on_signal(struct tevent_context *ev, struct tevent_signal *se,
		      int signum, int count, void *siginfo,
		      void *private_data)
{
	struct batch_cli *b = private_data;
	size_t left = odj_batch_stop(b->req);

	odj_progress_clear(&b->bar);
	b->signals++;
	if (b->cli->json) {
		odj_cli_warning(b->cli, "%s: launching no more machines",
				strsignal(signum));
		return;
	}
	odj_cli_error(b->cli, "%s: launching no more machines; waiting for "
		      "the %zu in flight (each ends with its blob written or "
		      "its new account deleted)", strsignal(signum), left);
}

/* SIGINT, SIGTERM: stop cleanly.  An ignored SIGINT (a background job
 * of a script) stays ignored, as for any well-behaved tool. */
static bool catch_signals(TALLOC_CTX *ctx, struct tevent_context *ev,
			  struct batch_cli *b)
{
	struct sigaction sa;

	if (sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
	    tevent_add_signal(ev, ctx, SIGINT, 0, on_signal, b) == NULL) {
		return false;
	}
	return tevent_add_signal(ev, ctx, SIGTERM, 0, on_signal, b) != NULL;
}

static bool parse_parallel(struct odj_cli *cli, const char *s,
			   unsigned int *n)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL) {
		*n = ODJ_BATCH_DEFAULT_PARALLEL;
		return true;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '-' || v == 0 ||
	    v > ODJ_BATCH_MAX_PARALLEL) {
		odj_cli_error(cli, "parallel= takes 1 to %d",
			      ODJ_BATCH_MAX_PARALLEL);
		return false;
	}
	*n = v;
	return true;
}

static bool check_batch_args(struct odj_cli *cli, const struct odj_args *args)
{
	static const char * const single[] = {
		"machine_name", "savefile", "printblob", NULL
	};
	size_t i;

	if (odj_args_get(args, "domain") == NULL ||
	    odj_args_get(args, "savedir") == NULL) {
		odj_cli_error(cli, "batch= (/BATCH) needs domain= (/DOMAIN) "
			      "and savedir= (/SAVEDIR)");
		return false;
	}
	for (i = 0; single[i] != NULL; i++) {
		if (odj_args_get(args, single[i]) != NULL) {
			odj_cli_error(cli, "%s is for one machine; a batch "
				      "names its machines in the batch file "
				      "and saves to savedir=", single[i]);
			return false;
		}
	}
	if (odj_args_flag(args, "nosearch") &&
	    odj_args_get(args, "dcname") == NULL && cli->server == NULL) {
		odj_cli_error(cli, "nosearch (/NOSEARCH) needs dcname= "
			      "(/DCNAME)");
		return false;
	}
	return true;
}

/* Directories and the report must be usable before the DC changes. */
static int check_targets(struct odj_cli *cli, const struct odj_args *args,
			 const char *first_name)
{
	const char *dirs[] = {
		odj_args_get(args, "savedir"), odj_args_get(args, "unattend")
	};
	const char *report = odj_args_get(args, "report");
	char *why = NULL;
	NTSTATUS status;
	size_t i;

	for (i = 0; i < 2; i++) {
		char *probe = NULL;

		if (dirs[i] == NULL) {
			continue;
		}
		probe = talloc_asprintf(cli->mem_ctx, "%s/%s", dirs[i],
					first_name);
		if (probe == NULL) {
			return ODJ_EXIT_INTERNAL;
		}
		status = odj_file_check_target(cli->mem_ctx, probe, true,
					       &why);
		if (!NT_STATUS_IS_OK(status)) {
			return odj_cli_fail(cli, status, why);
		}
	}
	if (report != NULL) {
		status = odj_file_check_target(cli->mem_ctx, report, true,
					       &why);
		if (!NT_STATUS_IS_OK(status)) {
			return odj_cli_fail(cli, status, why);
		}
	}
	return ODJ_EXIT_OK;
}

/* dcname=dc1,dc2 (or -S): one authenticated connection per DC */
static int connect_dcs(struct odj_cli *cli, const struct odj_args *args,
		       struct tevent_context *ev, struct odj_dc ***_dcs,
		       size_t *num_dcs)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	const char *list = odj_args_get(args, "dcname");
	struct odj_dc_spec spec = {
		.domain = odj_args_get(args, "domain"),
		.site = odj_args_get(args, "psite") != NULL ?
			odj_args_get(args, "psite") :
			odj_args_get(args, "dsite"),
		.krb5_ccache = cli->krb5_ccache,
	};
	struct loadparm_context *lp_ctx = NULL;
	struct cli_credentials *creds = NULL;
	struct odj_dc **dcs = NULL;
	char *names = NULL, *name = NULL, *save = NULL;
	char *why = NULL;
	NTSTATUS status;
	size_t n = 0;

	lp_ctx = odj_cli_loadparm(cli);
	if (lp_ctx == NULL) {
		return ODJ_EXIT_LOCAL;
	}
	creds = odj_cli_credentials(cli, lp_ctx);
	if (creds == NULL) {
		return ODJ_EXIT_CREDENTIALS;
	}
	names = talloc_strdup(ctx, list != NULL ? list :
			      cli->server != NULL ? cli->server : "");
	if (names == NULL) {
		return ODJ_EXIT_INTERNAL;
	}
	name = strtok_r(names, ",", &save);
	do {
		dcs = talloc_realloc(ctx, dcs, struct odj_dc *, n + 1);
		if (dcs == NULL) {
			return ODJ_EXIT_INTERNAL;
		}
		/* no name at all: the first DC the SRV records give */
		spec.dcname = name;
		status = odj_dc_connect(ctx, ev, lp_ctx, creds, &spec,
					&dcs[n], &why);
		if (!NT_STATUS_IS_OK(status)) {
			return odj_cli_fail(cli, status, why);
		}
		odj_cli_dc_choice(cli, dcs[n], name == NULL);
		n++;
	} while (name != NULL && (name = strtok_r(NULL, ",", &save)) != NULL);
	*_dcs = dcs;
	*num_dcs = n;
	return ODJ_EXIT_OK;
}

static void print_summary(const struct odj_batch_summary *s,
			  const char *domain, const struct odj_batch_run *run)
{
	printf("Batch of %zu machines in %s: %zu created, %zu reused, "
	       "%zu skipped, %zu failed, %zu not started; %.1f s, %.1f/s\n",
	       s->total, domain, s->created, s->reused, s->skipped, s->failed,
	       s->pending, run->seconds, run->seconds > 0 ?
	       (s->total - s->pending) / run->seconds : 0.0);
}

static int finish(struct batch_cli *b, const struct odj_args *args,
		  const char *domain, const struct odj_batch_result *results,
		  size_t num, bool interrupted)
{
	struct odj_cli *cli = b->cli;
	const char *report = odj_args_get(args, "report");
	struct odj_batch_run run = {
		.domain = domain,
		.batch_file = odj_args_get(args, "batch"),
		.savedir = odj_args_get(args, "savedir"),
		.interrupted = interrupted,
		.seconds = odj_progress_elapsed(&b->bar),
	};
	struct odj_batch_summary s;
	char *why = NULL;
	NTSTATUS status;
	int ret = ODJ_EXIT_OK;

	odj_progress_clear(&b->bar);
	odj_batch_summarize(results, num, &s);
	if (cli->json) {
		json_t *tree = odj_batch_report_tree(&run, results, num);

		json_object_update(odj_cli_doc(cli), tree);
		json_decref(tree);
	} else {
		print_summary(&s, domain, &run);
	}
	if (report != NULL) {
		status = odj_batch_report_save(cli->mem_ctx, report, &run,
					       results, num, &why);
		if (!NT_STATUS_IS_OK(status)) {
			ret = odj_cli_fail(cli, status, why);
		} else if (!cli->json) {
			printf("Report: %s\n", report);
		}
	}
	if (interrupted) {
		if (!cli->json) {
			printf("Interrupted: run the same command again to "
			       "provision the %zu machines not started\n",
			       s.pending);
		} else {
			/* not ok: the document names why (the schema's rule) */
			odj_cli_error(cli, "interrupted: %zu machines not "
				      "started", s.pending);
		}
		return ODJ_EXIT_INTERRUPTED;
	}
	if (s.failed > 0) {
		if (cli->json) {
			odj_cli_error(cli, "%zu of %zu machines failed",
				      s.failed, s.total);
		}
		return ODJ_EXIT_PARTIAL;
	}
	return ret;
}
int odj_cmd_provision_batch(struct odj_cli *cli, const struct odj_args *args)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct batch_cli b = { .cli = cli };
	struct odj_batch_options o = { .savedir = NULL };
	struct odj_batch_entry *entries = NULL;
	struct odj_batch_result *results = NULL;
	struct tevent_context *ev = NULL;
	struct odj_dc **dcs = NULL;
	size_t num = 0, num_results = 0;
	char *why = NULL;
	NTSTATUS status;
	int ret;

	if (!check_batch_args(cli, args) ||
	    !odj_cli_provision_request(cli, args, &o.defaults) ||
	    !parse_parallel(cli, odj_args_get(args, "parallel"),
			    &o.parallel)) {
		return ODJ_EXIT_USAGE;
	}
	status = odj_batch_load(ctx, odj_args_get(args, "batch"), &entries,
				&num, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	ret = check_targets(cli, args, entries[0].name);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	ev = tevent_context_init(ctx);
	if (ev == NULL) {
		return ODJ_EXIT_INTERNAL;
	}
	ret = connect_dcs(cli, args, ev, &dcs, &o.num_dcs);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	o.dcs = dcs;
	o.savedir = odj_args_get(args, "savedir");
	o.unattend_dir = odj_args_get(args, "unattend");
	/* the RODCs, root CAs, template, policies: read once, before any
	 * account */
	ret = odj_cli_rodc(cli, dcs[0], args, &o.defaults);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	ret = odj_cli_extensions(cli, dcs[0], args, &o.defaults);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	o.progress = progress;
	o.private_data = &b;
	odj_progress_start(&b.bar);

	b.req = odj_batch_send(ctx, ev, &o, entries, num);
	if (b.req == NULL || !catch_signals(ctx, ev, &b)) {
		return ODJ_EXIT_INTERNAL;
	}
	if (!tevent_req_poll(b.req, ev)) {
		return ODJ_EXIT_INTERNAL;
	}
	status = odj_batch_recv(b.req, ctx, &results, &num_results, &why);
	if (!NT_STATUS_IS_OK(status) &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_CANCELLED)) {
		odj_progress_clear(&b.bar);
		return odj_cli_fail(cli, status, why);
	}
	ret = finish(&b, args, odj_dc_info(dcs[0])->dns_domain, results,
		     num_results, NT_STATUS_EQUAL(status, NT_STATUS_CANCELLED));
	odj_cli_rodc_batch(cli, dcs[0], o.defaults.rodc, results, num_results,
			   odj_args_get(args, "report"), o.savedir);
	return ret;
}
