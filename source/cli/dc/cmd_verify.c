/*
 * odj verify: is a blob still good before it is shipped?  Per blob
 * "valid", or every check that failed and why; exit 0 only when every
 * blob is valid.
 */

#include "life.h"

#include <string.h>
#include <jansson.h>

static const struct odj_arg_spec verify_args[] = {
	ODJ_LIFE_ARG_SPECS,
	{ "gc", NULL, true, "look up accounts in the global catalog "
	  "(port 3268) of dcname=" },
	{ NULL },
};

static void print_result(const struct odj_verify_result *r, const char *dc)
{
	const char *sep = "";
	size_t i;

	if (r->valid) {
		printf("%s: valid on %s: %s\n", odj_cli_life_name(&r->status),
		       dc, r->detail[ODJ_VERIFY_PASSWORD]);
		return;
	}
	printf("%s: NOT valid on %s: ", odj_cli_life_name(&r->status), dc);
	for (i = 0; i < ODJ_VERIFY_NUM_ITEMS; i++) {
		if (r->check[i] == ODJ_CHECK_FAIL ||
		    (r->check[i] == ODJ_CHECK_UNCHECKED &&
		     strncmp(r->detail[i], "not checked", 11) != 0)) {
			printf("%s%s: %s", sep, odj_verify_item_name(i),
			       r->detail[i]);
			sep = "; ";
		}
	}
	printf("\n");
}

static json_t *machine_json(const struct odj_verify_result *r)
{
	json_t *m = odj_cli_life_machine(&r->status);
	json_t *checks = json_object();
	size_t i;

	if (m == NULL || checks == NULL) {
		json_decref(m);
		json_decref(checks);
		return NULL;
	}
	json_object_set_new(m, "valid", json_boolean(r->valid));
	for (i = 0; i < ODJ_VERIFY_NUM_ITEMS; i++) {
		json_object_set_new(checks, odj_verify_item_name(i), json_pack(
			"{s:s,s:s?}", "result", odj_check_name(r->check[i]),
			"detail", r->detail[i]));
	}
	json_object_set_new(m, "checks", checks);
	return m;
}

static int output(struct odj_cli *cli, const struct odj_life_run *run,
		  const struct odj_verify_result *r)
{
	const char *dc = run->dc != NULL ? odj_dc_info(run->dc)->dc_name :
					   "no DC";
	json_t *machines = json_array();
	size_t i, valid = 0, errors = 0, n = run->num_blobs;

	for (i = 0; i < n; i++) {
		valid += r[i].valid;
		if (r[i].status.state == ODJ_LIFE_ERROR) {
			errors++;
			odj_cli_error(cli, "%s", r[i].status.reason);
		} else if (!cli->json) {
			print_result(&r[i], dc);
		}
		if (cli->json && machines != NULL) {
			json_array_append_new(machines, machine_json(&r[i]));
		}
	}
	if (cli->json) {
		odj_cli_life_doc(cli, run);
		odj_cli_doc_set(cli, "summary", json_pack(
			"{s:I,s:I,s:I,s:I}", "total", (json_int_t)n,
			"valid", (json_int_t)valid, "invalid",
			(json_int_t)(n - valid - errors), "error",
			(json_int_t)errors));
		odj_cli_doc_set(cli, "machines", machines);
	} else {
		json_decref(machines);
		printf("%zu blobs, asked %s: %zu valid, %zu not valid, %zu "
		       "unreadable\n", n, dc, valid, n - valid - errors,
		       errors);
	}
	if (valid < n) {
		odj_cli_error(cli, "%zu of %zu blobs are not valid", n - valid,
			      n);
		return ODJ_EXIT_PARTIAL;
	}
	return ODJ_EXIT_OK;
}

/* No readable blob: each one's error, and no DC asked */
static struct odj_verify_result *unreadable(TALLOC_CTX *mem_ctx,
					    const struct odj_life_run *run)
{
	struct odj_verify_result *r = talloc_zero_array(
		mem_ctx, struct odj_verify_result, run->num_blobs);
	size_t i, j;

	for (i = 0; r != NULL && i < run->num_blobs; i++) {
		odj_life_classify(r, &run->blobs[i], NULL, NULL, NULL,
				  &r[i].status);
		for (j = 0; j < ODJ_VERIFY_NUM_ITEMS; j++) {
			r[i].check[j] = ODJ_CHECK_UNCHECKED;
			r[i].detail[j] = "not checked";
		}
		r[i].detail[ODJ_VERIFY_ACCOUNT] = r[i].status.reason;
	}
	return r;
}

int odj_cmd_verify(struct odj_cli *cli)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct odj_life_run run = { .blobs = NULL };
	struct odj_verify_result *results = NULL;
	struct odj_args *args = NULL;
	char *why = NULL;
	NTSTATUS status;
	int ret;

	args = odj_args_parse(ctx, verify_args, cli->argc, cli->argv,
			      cli->argc);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, verify_args, ODJ_LIFE_SYNOPSIS
				      " [gc]");
	}
	ret = odj_cli_life_load(cli, args, &run);
	if (ret == ODJ_EXIT_OK) {
		ret = odj_cli_life_connect(cli, args, true, true, &run);
	}
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	if (run.dc == NULL) {
		results = unreadable(ctx, &run);
		status = results != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	} else {
		status = odj_verify(ctx, run.dc, run.blobs, run.num_blobs,
				    &results, &why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	return output(cli, &run, results);
}
