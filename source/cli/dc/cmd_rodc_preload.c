/*
 * odj rodc-preload {savedir=DIR | report=FILE | NAME...} -s SMBCONF:
 * on a Samba RODC, cache the machines' passwords there (what
 * samba-tool rodc preload does), through the helper odj-rodc-preload
 * (odj_preload_send).  This file reads the arguments, shows progress
 * and turns the results into a summary, a report and an exit code.
 */

#include "odj_cli.h"

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <tevent.h>
#include <param.h>
#include <jansson.h>

#define HELPER "odj-rodc-preload"

static const struct odj_arg_spec preload_args[] = {
	{ "savedir", NULL, false, "the machines of the blobs (*.odj) here" },
	{ "report", NULL, false, "the machines of a provision batch report" },
	{ "dcname", NULL, false, "writable DC to ask (default: the RODC's "
	  "replication partner)" },
	{ "savereport", NULL, false, "write this run's JSON report here" },
	{ NULL },
};

struct preload_cli {
	struct odj_cli *cli;
	struct tevent_req *req;
	struct odj_progress bar;
	size_t failed;
};

/* Beside odj-dc, in the build tree as where it is installed */
static const char *helper_path(TALLOC_CTX *mem_ctx)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		return NULL;
	}
	self[n] = '\0';
	return talloc_asprintf(mem_ctx, "%s/" HELPER, dirname(self));
}

static void progress(const struct odj_preload_machine *m, size_t done,
		     size_t total, void *private_data)
{
	struct preload_cli *p = private_data;
	struct odj_cli *cli = p->cli;
	bool bad = m->status == ODJ_PRELOAD_DENIED ||
		   m->status == ODJ_PRELOAD_FAILED;

	if (bad) {
		p->failed++;
	}
	if (bad && !cli->json) {
		odj_progress_clear(&p->bar);
		odj_cli_error(cli, "%s: %s", m->name, m->message != NULL ?
			      m->message : odj_preload_status_name(m->status));
	} else if (!bad && !p->bar.tty && !cli->json) {
		printf("%s: %s%s%s%s\n", m->name,
		       odj_preload_status_name(m->status),
		       m->status == ODJ_PRELOAD_SKIPPED ?
		       " (already cached)" : "", m->dn != NULL ? ", " : "",
		       m->dn != NULL ? m->dn : "");
		fflush(stdout);
	}
	odj_progress_draw(&p->bar, done, total, p->failed);
}

static void on_signal(struct tevent_context *ev, struct tevent_signal *se,
		      int signum, int count, void *siginfo,
		      void *private_data)
{
	struct preload_cli *p = private_data;

	odj_progress_clear(&p->bar);
	odj_cli_warning(p->cli, "%s: finishing the machine in hand, starting "
			"no other", strsignal(signum));
	odj_preload_stop(p->req);
}

static bool catch_signals(struct tevent_context *ev, struct preload_cli *p)
{
	struct sigaction sa;

	if (sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
	    tevent_add_signal(ev, ev, SIGINT, 0, on_signal, p) == NULL) {
		return false;
	}
	return tevent_add_signal(ev, ev, SIGTERM, 0, on_signal, p) != NULL;
}

/* NAME..., savedir= or report=: exactly one source; names as given */
static int machines_from_args(struct odj_cli *cli,
			      const struct odj_args *args,
			      struct odj_preload_machine **m, size_t *num)
{
	const char *savedir = odj_args_get(args, "savedir");
	const char *report = odj_args_get(args, "report");
	int sources = (savedir != NULL) + (report != NULL) +
		      (odj_args_positional(args, 0) != NULL);
	size_t left_out = 0, i;
	char *why = NULL;
	NTSTATUS status;

	if (sources != 1) {
		odj_cli_error(cli, "name the machines one way: savedir=DIR, "
			      "report=FILE or NAME...");
		return ODJ_EXIT_USAGE;
	}
	if (savedir != NULL) {
		status = odj_preload_from_savedir(cli->mem_ctx, savedir, m,
						  num, &why);
	} else if (report != NULL) {
		status = odj_preload_from_report(cli->mem_ctx, report, m, num,
						 &left_out, &why);
	} else {
		*num = 0;
		while (odj_args_positional(args, *num) != NULL) {
			(*num)++;
		}
		*m = talloc_zero_array(cli->mem_ctx,
				       struct odj_preload_machine, *num);
		if (*m == NULL) {
			return ODJ_EXIT_INTERNAL;
		}
		status = NT_STATUS_OK;
		for (i = 0; NT_STATUS_IS_OK(status) && i < *num; i++) {
			char *name = talloc_strdup(*m,
					odj_args_positional(args, i));
			size_t len = name != NULL ? strlen(name) : 0;

			if (len > 0 && name[len - 1] == '$') {
				name[len - 1] = '\0';
			}
			(*m)[i].name = name;
			status = odj_machine_name_check(cli->mem_ctx, name,
							&why);
		}
	}
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	if (left_out > 0) {
		odj_cli_warning(cli, "%zu machine%s of %s left out: no account "
				"(failed, or not started)", left_out,
				left_out == 1 ? "" : "s", report);
	}
	return ODJ_EXIT_OK;
}

/* A name listed twice would be asked for twice: the second goes */
static size_t dedup(struct odj_preload_machine *m, size_t num)
{
	size_t i, j, n = 0;

	for (i = 0; i < num; i++) {
		for (j = 0; j < n; j++) {
			if (strcasecmp(m[j].name, m[i].name) == 0) {
				break;
			}
		}
		if (j == n) {
			m[n++] = m[i];
		}
	}
	return n;
}

static bool check_args(struct odj_cli *cli)
{
	/* the RODC's own account: the DC then applies its policy */
	if (cli->user != NULL || cli->password != NULL ||
	    cli->auth_file != NULL || cli->kerberos ||
	    cli->use_kerberos != NULL || cli->krb5_ccache != NULL ||
	    cli->machine_pass) {
		odj_cli_error(cli, "rodc-preload takes no credentials: it "
			      "authenticates as the RODC's machine account, "
			      "so that the writable DC applies the RODC's "
			      "password replication policy (an administrator "
			      "would bypass it); run it as root on the RODC");
		return false;
	}
	return true;
}

static void print_summary(const struct odj_preload_run *run,
			  const struct odj_preload_machine *m, size_t num)
{
	struct odj_preload_summary s;

	odj_preload_summarize(m, num, &s);
	printf("Pre-populated %s from %s: %zu cached, %zu already cached, "
	       "%zu denied, %zu failed, %zu not started; %.1f s\n",
	       run->rodc != NULL ? run->rodc : "(?)",
	       run->dc != NULL ? run->dc : "(?)", s.cached, s.skipped,
	       s.denied, s.failed, s.pending, run->seconds);
	if (run->interrupted) {
		printf("Interrupted: run the same command again to do the %zu "
		       "machines not started\n", s.pending);
	}
}

static int finish(struct preload_cli *p, const struct odj_args *args,
		  NTSTATUS status, const char *why,
		  const struct odj_preload_run *run,
		  const struct odj_preload_machine *m, size_t num)
{
	struct odj_cli *cli = p->cli;
	const char *savereport = odj_args_get(args, "savereport");
	struct odj_preload_summary s;
	char *why2 = NULL;
	int ret = ODJ_EXIT_OK;

	odj_progress_clear(&p->bar);
	if (!NT_STATUS_IS_OK(status) &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_CANCELLED)) {
		ret = odj_cli_fail(cli, status, why);
		if (run->rodc == NULL) {
			return ret;	/* it never started */
		}
	}
	if (cli->json) {
		json_t *tree = odj_preload_report_tree(run, m, num);

		json_object_update(odj_cli_doc(cli), tree);
		json_decref(tree);
	} else {
		print_summary(run, m, num);
	}
	if (savereport != NULL) {
		NTSTATUS st = odj_preload_report_save(cli->mem_ctx, savereport,
						      run, m, num, &why2);

		if (!NT_STATUS_IS_OK(st)) {
			return odj_cli_fail(cli, st, why2);
		}
		if (!cli->json) {
			printf("Report: %s\n", savereport);
		}
	}
	if (cli->json) {
		odj_cli_doc_str(cli, "savereport", savereport);
	}
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	odj_preload_summarize(m, num, &s);
	if (run->interrupted) {
		odj_cli_error(cli, "interrupted: %zu machines not started",
			      s.pending);
		return ODJ_EXIT_INTERRUPTED;
	}
	if (s.denied + s.failed > 0) {
		odj_cli_error(cli, "%zu of %zu machines not cached (%zu denied "
			      "by the policy, %zu failed)", s.denied + s.failed,
			      s.total, s.denied, s.failed);
		return ODJ_EXIT_PARTIAL;
	}
	return ODJ_EXIT_OK;
}

int odj_cmd_rodc_preload(struct odj_cli *cli)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct preload_cli p = { .cli = cli };
	struct odj_preload_options o = {
		.debuglevel = cli->debuglevel > 0 ? cli->debuglevel : -1,
	};
	struct odj_preload_machine *m = NULL;
	struct odj_preload_run run = { .rodc = NULL };
	struct loadparm_context *lp_ctx = NULL;
	struct tevent_context *ev = NULL;
	struct odj_args *args = NULL;
	size_t num = 0;
	char *why = NULL;
	NTSTATUS status;
	int ret;

	args = odj_args_parse(ctx, preload_args, cli->argc, cli->argv,
			      cli->argc);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, preload_args, "{savedir=DIR | "
				      "report=FILE | NAME...} [dcname=DC] "
				      "[savereport=FILE] [--force] "
				      "-s <the RODC's smb.conf>");
	}
	if (!check_args(cli)) {
		return ODJ_EXIT_USAGE;
	}
	ret = machines_from_args(cli, args, &m, &num);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	num = dedup(m, num);
	if (odj_args_get(args, "savereport") != NULL) {
		status = odj_file_check_target(ctx, odj_args_get(
						       args, "savereport"),
					       true, &why);
		if (!NT_STATUS_IS_OK(status)) {
			return odj_cli_fail(cli, status, why);
		}
	}
	lp_ctx = odj_cli_loadparm(cli);
	ev = tevent_context_init(ctx);
	if (lp_ctx == NULL || ev == NULL) {
		return lp_ctx == NULL ? ODJ_EXIT_LOCAL : ODJ_EXIT_INTERNAL;
	}
	o.helper = helper_path(ctx);
	o.smbconf = lpcfg_configfile(lp_ctx);
	o.dcname = odj_args_get(args, "dcname");
	o.force = cli->force;
	o.progress = progress;
	o.private_data = &p;
	odj_progress_start(&p.bar);

	p.req = odj_preload_send(ctx, ev, &o, m, num);
	if (p.req == NULL || !catch_signals(ev, &p)) {
		return ODJ_EXIT_INTERNAL;
	}
	if (!tevent_req_poll(p.req, ev)) {
		return ODJ_EXIT_INTERNAL;
	}
	status = odj_preload_recv(p.req, ctx, &run, &why);
	TALLOC_FREE(p.req);
	return finish(&p, args, status, why, &run, m, num);
}
