/*
 * odj expire days=N: delete the accounts of blobs never used, pending for
 * at least N days; a dry run unless --apply (or apply).  What was (or
 * would be) deleted is listed; deletions are printed as they happen, so
 * that an interrupted run says what it did, and the same command resumes
 * it.
 */

#include "life.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <tevent.h>
#include <jansson.h>

/* a blob older than this many days is older than Active Directory */
#define EXPIRE_MAX_DAYS 36500

static const struct odj_arg_spec expire_args[] = {
	ODJ_LIFE_ARG_SPECS,
	{ "days", "DAYS", false, "pending for at least N days (0: all)" },
	{ "apply", "APPLY", true, "delete (default: a dry run; = --apply)" },
	{ NULL },
};

struct expire_cli {
	struct odj_cli *cli;
	struct tevent_req *req;
	bool stopping;
};

static bool parse_days(struct odj_cli *cli, const char *s, unsigned int *days)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL) {
		odj_cli_error(cli, "days=N (/DAYS N) is required: how long a "
			      "blob must have been pending (0: any pending "
			      "blob)");
		return false;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '-' || s[0] == '\0' ||
	    v > EXPIRE_MAX_DAYS) {
		odj_cli_error(cli, "days= takes a number of days, 0 to %d, not "
			      "'%s'", EXPIRE_MAX_DAYS, s);
		return false;
	}
	*days = v;
	return true;
}

static void print_result(const struct odj_life_status *s,
			 enum odj_expire_action a, const char *reason)
{
	printf("%s: %s: %s\n", odj_cli_life_name(s),
	       odj_expire_action_name(a), reason);
	fflush(stdout);
}

/* Each deletion as it happens: an interrupted run has said what it did */
static void progress(const struct odj_expire_result *r, void *private_data)
{
	struct expire_cli *e = private_data;

	if (!e->cli->json && r->action == ODJ_EXPIRE_DELETED) {
		print_result(&r->status, r->action, r->reason);
	}
}

static void on_signal(struct tevent_context *ev, struct tevent_signal *se,
		      int signum, int count, void *siginfo,
		      void *private_data)
{
	struct expire_cli *e = private_data;

	odj_expire_stop(e->req);
	if (!e->stopping) {
		odj_cli_warning(e->cli, "%s: deleting no more accounts; run "
				"the same command again to go on",
				strsignal(signum));
	}
	e->stopping = true;
}

static bool catch_signals(TALLOC_CTX *ctx, struct tevent_context *ev,
			  struct expire_cli *e)
{
	struct sigaction sa;

	if (sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
	    tevent_add_signal(ev, ctx, SIGINT, 0, on_signal, e) == NULL) {
		return false;
	}
	return tevent_add_signal(ev, ctx, SIGTERM, 0, on_signal, e) != NULL;
}

struct expire_counts {
	size_t total;
	size_t n[ODJ_EXPIRE_NOT_STARTED + 1];
	size_t errors;			/* unreadable blobs */
};

static json_t *summary_json(const struct expire_counts *c)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "total", (json_int_t)c->total,
			 "deleted", (json_int_t)c->n[ODJ_EXPIRE_DELETED],
			 "would_delete",
			 (json_int_t)c->n[ODJ_EXPIRE_WOULD_DELETE],
			 "kept", (json_int_t)c->n[ODJ_EXPIRE_KEPT],
			 "failed", (json_int_t)c->n[ODJ_EXPIRE_FAILED],
			 "not_started",
			 (json_int_t)c->n[ODJ_EXPIRE_NOT_STARTED],
			 "error", (json_int_t)c->errors);
}

static void output_json(struct odj_cli *cli, const struct odj_life_run *run,
			const struct odj_expire_result *r,
			const struct expire_counts *c,
			const struct odj_expire_options *o, bool interrupted)
{
	json_t *machines = json_array();
	size_t i;

	odj_cli_life_doc(cli, run);
	odj_cli_doc_set(cli, "days", json_integer(o->days));
	odj_cli_doc_set(cli, "apply", json_boolean(o->apply));
	odj_cli_doc_set(cli, "interrupted", json_boolean(interrupted));
	odj_cli_doc_set(cli, "summary", summary_json(c));
	for (i = 0; machines != NULL && i < c->total; i++) {
		json_t *m = odj_cli_life_machine(&r[i].status);

		if (m != NULL) {
			json_object_set_new(m, "action", json_string(
				odj_expire_action_name(r[i].action)));
			json_object_set_new(m, "action_reason",
					    json_string(r[i].reason));
		}
		json_array_append_new(machines, m);
	}
	odj_cli_doc_set(cli, "machines", machines);
}

static void print_summary(const struct expire_counts *c,
			  const struct odj_expire_options *o, const char *dc)
{
	if (!o->apply) {
		printf("Dry run, %zu blobs, asked %s: %zu would be deleted "
		       "(pending for %u days or more), %zu kept, %zu "
		       "unreadable; --apply deletes them\n", c->total, dc,
		       c->n[ODJ_EXPIRE_WOULD_DELETE], o->days,
		       c->n[ODJ_EXPIRE_KEPT] - c->errors, c->errors);
		return;
	}
	printf("%zu blobs, asked %s: %zu deleted, %zu kept, %zu failed, %zu "
	       "not started, %zu unreadable\n", c->total, dc,
	       c->n[ODJ_EXPIRE_DELETED], c->n[ODJ_EXPIRE_KEPT] - c->errors,
	       c->n[ODJ_EXPIRE_FAILED], c->n[ODJ_EXPIRE_NOT_STARTED],
	       c->errors);
}

static int output(struct odj_cli *cli, const struct odj_life_run *run,
		  const struct odj_expire_result *r,
		  const struct odj_expire_options *o, bool interrupted)
{
	const char *dc = run->dc != NULL ? odj_dc_info(run->dc)->dc_name :
					   "no DC";
	struct expire_counts c = { .total = run->num_blobs };
	size_t i;

	for (i = 0; i < c.total; i++) {
		c.n[r[i].action]++;
		if (r[i].status.state == ODJ_LIFE_ERROR) {
			c.errors++;
			odj_cli_error(cli, "%s", r[i].status.reason);
		} else if (!cli->json && r[i].action != ODJ_EXPIRE_DELETED) {
			print_result(&r[i].status, r[i].action, r[i].reason);
		}
	}
	if (cli->json) {
		output_json(cli, run, r, &c, o, interrupted);
	} else {
		print_summary(&c, o, dc);
	}
	if (interrupted) {
		odj_cli_error(cli, "interrupted: %zu accounts not looked at; "
			      "run the same command again",
			      c.n[ODJ_EXPIRE_NOT_STARTED]);
		return ODJ_EXIT_INTERRUPTED;
	}
	if (c.errors > 0 || c.n[ODJ_EXPIRE_FAILED] > 0) {
		odj_cli_error(cli, "%zu unreadable blobs, %zu accounts not "
			      "deleted as they should have been", c.errors,
			      c.n[ODJ_EXPIRE_FAILED]);
		return ODJ_EXIT_PARTIAL;
	}
	return ODJ_EXIT_OK;
}

static int run_expire(struct odj_cli *cli, struct odj_life_run *run,
		      struct odj_expire_options *o)
{
	struct expire_cli e = { .cli = cli };
	struct odj_expire_result *results = NULL;
	char *why = NULL;
	NTSTATUS status;
	size_t i;

	if (run->dc == NULL) {
		results = talloc_zero_array(cli->mem_ctx,
					    struct odj_expire_result,
					    run->num_blobs);
		for (i = 0; results != NULL && i < run->num_blobs; i++) {
			odj_life_classify(results, &run->blobs[i], NULL, NULL,
					  NULL, &results[i].status);
			results[i].reason = results[i].status.reason;
		}
		return results != NULL ? output(cli, run, results, o, false) :
					 ODJ_EXIT_INTERNAL;
	}
	o->progress = progress;
	o->private_data = &e;
	e.req = odj_expire_send(cli->mem_ctx, run->ev, run->dc, run->blobs,
				run->num_blobs, o);
	if (e.req == NULL || !catch_signals(cli->mem_ctx, run->ev, &e) ||
	    !tevent_req_poll(e.req, run->ev)) {
		return ODJ_EXIT_INTERNAL;
	}
	status = odj_expire_recv(e.req, cli->mem_ctx, &results, &why);
	if (!NT_STATUS_IS_OK(status) &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_CANCELLED)) {
		return odj_cli_fail(cli, status, why);
	}
	return output(cli, run, results, o,
		      NT_STATUS_EQUAL(status, NT_STATUS_CANCELLED));
}

int odj_cmd_expire(struct odj_cli *cli)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct odj_life_run run = { .blobs = NULL };
	struct odj_expire_options o = { .days = 0 };
	struct odj_args *args = NULL;
	int ret;

	args = odj_args_parse(ctx, expire_args, cli->argc, cli->argv,
			      cli->argc);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, expire_args, "days=N "
				      ODJ_LIFE_SYNOPSIS " [--apply]");
	}
	if (!parse_days(cli, odj_args_get(args, "days"), &o.days)) {
		return ODJ_EXIT_USAGE;
	}
	o.apply = cli->apply || odj_args_flag(args, "apply");
	ret = odj_cli_life_load(cli, args, &run);
	if (ret == ODJ_EXIT_OK) {
		/* deletions go to a writable DC */
		ret = odj_cli_life_connect(cli, args, false, false, &run);
	}
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	return run_expire(cli, &run, &o);
}
