/*
 * odj status: which provisioned machines have joined.  One line (or a
 * table row, on a terminal) per blob, a summary, --json for scripts.
 */

#include "life.h"

#include <unistd.h>
#include <jansson.h>

static const struct odj_arg_spec status_args[] = {
	ODJ_LIFE_ARG_SPECS,
	{ "gc", NULL, true, "ask the global catalog (port 3268) of dcname=" },
	{ NULL },
};

struct status_counts {
	size_t total;
	size_t n[ODJ_LIFE_DISABLED + 1];
};

static void count(const struct odj_life_status *r, size_t num,
		  struct status_counts *c)
{
	size_t i;

	*c = (struct status_counts) { .total = num };
	for (i = 0; i < num; i++) {
		c->n[r[i].state]++;
	}
}

static const char *short_time(TALLOC_CTX *mem_ctx, uint64_t t)
{
	char *s = odj_life_time_string(mem_ctx, t);

	if (s == NULL) {
		return "-";
	}
	s[10] = ' ';			/* 2026-12-05 20:26:39Z */
	return s;
}

static void print_row(TALLOC_CTX *mem_ctx, const struct odj_life_status *s,
		      bool table)
{
	const struct odj_life_account *a = &s->account;
	uint64_t logon = a->last_logon > a->last_logon_timestamp ?
			 a->last_logon : a->last_logon_timestamp;

	if (!table) {
		printf("%s: %s: %s\n", odj_cli_life_name(s),
		       odj_life_state_name(s->state), s->reason);
		return;
	}
	printf("%-15s %-9s %-20s %-20s %s\n", odj_cli_life_name(s),
	       odj_life_state_name(s->state),
	       s->found ? short_time(mem_ctx, a->pwd_last_set) : "-",
	       s->found ? short_time(mem_ctx, logon) : "-", s->reason);
}

static void print_summary(const struct status_counts *c, const char *dc)
{
	printf("%zu blobs, asked %s: %zu pending, %zu joined, %zu changed, "
	       "%zu missing, %zu replaced, %zu disabled, %zu unreadable\n",
	       c->total, dc != NULL ? dc : "no DC", c->n[ODJ_LIFE_PENDING],
	       c->n[ODJ_LIFE_JOINED], c->n[ODJ_LIFE_CHANGED],
	       c->n[ODJ_LIFE_MISSING], c->n[ODJ_LIFE_REPLACED],
	       c->n[ODJ_LIFE_DISABLED], c->n[ODJ_LIFE_ERROR]);
}

static json_t *summary_json(const struct status_counts *c)
{
	json_t *j = json_pack("{s:I}", "total", (json_int_t)c->total);
	size_t i;

	for (i = 0; j != NULL && i <= ODJ_LIFE_DISABLED; i++) {
		json_object_set_new(j, odj_life_state_name(i),
				    json_integer(c->n[i]));
	}
	return j;
}

static void output_json(struct odj_cli *cli, const struct odj_life_run *run,
			const struct odj_life_status *r,
			const struct status_counts *c)
{
	json_t *machines = json_array();
	size_t i;

	odj_cli_life_doc(cli, run);
	odj_cli_doc_set(cli, "summary", summary_json(c));
	for (i = 0; machines != NULL && i < c->total; i++) {
		json_array_append_new(machines, odj_cli_life_machine(&r[i]));
	}
	odj_cli_doc_set(cli, "machines", machines);
}

static int output(struct odj_cli *cli, const struct odj_life_run *run,
		  const struct odj_life_status *r)
{
	const char *dc = run->dc != NULL ? odj_dc_info(run->dc)->dc_name :
					   NULL;
	bool table = isatty(STDOUT_FILENO);
	struct status_counts c;
	size_t i;

	count(r, run->num_blobs, &c);
	for (i = 0; i < run->num_blobs; i++) {
		if (r[i].state == ODJ_LIFE_ERROR) {
			odj_cli_error(cli, "%s", r[i].reason);
		}
	}
	if (cli->json) {
		output_json(cli, run, r, &c);
	} else {
		if (table && c.total > c.n[ODJ_LIFE_ERROR]) {
			printf("%-15s %-9s %-20s %-20s %s\n", "MACHINE",
			       "STATE", "PASSWORD SET", "LAST LOGON",
			       "DETAIL");
		}
		for (i = 0; i < run->num_blobs; i++) {
			if (r[i].state != ODJ_LIFE_ERROR) {
				print_row(cli->mem_ctx, &r[i], table);
			}
		}
		print_summary(&c, dc);
	}
	if (c.n[ODJ_LIFE_ERROR] > 0) {
		odj_cli_error(cli, "%zu of %zu blobs could not be looked up",
			      c.n[ODJ_LIFE_ERROR], c.total);
		return ODJ_EXIT_PARTIAL;
	}
	return ODJ_EXIT_OK;
}

int odj_cmd_status(struct odj_cli *cli)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct odj_life_run run = { .blobs = NULL };
	struct odj_life_status *results = NULL;
	struct odj_args *args = NULL;
	char *why = NULL;
	NTSTATUS status;
	size_t i;
	int ret;

	args = odj_args_parse(ctx, status_args, cli->argc, cli->argv,
			      cli->argc);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, status_args, ODJ_LIFE_SYNOPSIS
				      " [gc]");
	}
	ret = odj_cli_life_load(cli, args, &run);
	if (ret == ODJ_EXIT_OK) {
		ret = odj_cli_life_connect(cli, args, true, true, &run);
	}
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	if (run.dc != NULL) {
		status = odj_status(ctx, run.dc, run.blobs, run.num_blobs,
				    &results, &why);
		if (!NT_STATUS_IS_OK(status)) {
			return odj_cli_fail(cli, status, why);
		}
	} else {
		/* nothing readable: each says why */
		results = talloc_zero_array(ctx, struct odj_life_status,
					    run.num_blobs);
		if (results == NULL) {
			return ODJ_EXIT_INTERNAL;
		}
		for (i = 0; i < run.num_blobs; i++) {
			odj_life_classify(ctx, &run.blobs[i], NULL, NULL,
					  NULL, &results[i]);
		}
	}
	return output(cli, &run, results);
}
