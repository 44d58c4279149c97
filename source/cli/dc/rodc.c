/*
 * provision rodc=NAME[,NAME...] [rodc_group=GROUP]: the RODCs of a
 * branch office, read before any account is made, and what the admin
 * must do afterwards: pre-populate the machines' passwords there (odj
 * rodc-preload on a Samba RODC, repadmin /rodcpwdrepl on Windows).
 */

#include "odj_cli.h"

#include <string.h>
#include <strings.h>
#include <jansson.h>

/* repadmin takes several DNs; stay far below cmd.exe's 8191 characters */
#define REPADMIN_DNS_PER_LINE 20
/* names per "odj rodc-preload NAME..." line */
#define PRELOAD_NAMES_PER_LINE 50

int odj_cli_rodc(struct odj_cli *cli, struct odj_dc *dc,
		 const struct odj_args *args,
		 struct odj_provision_request *r)
{
	const char *rodcs = odj_args_get(args, "rodc");
	const char *group = odj_args_get(args, "rodc_group");
	struct odj_rodc_policy *policy = NULL;
	char *why = NULL;
	NTSTATUS status;

	if (rodcs == NULL && group != NULL) {
		odj_cli_error(cli, "rodc_group= needs rodc= (the RODCs whose "
			      "policy allows the group)");
		return ODJ_EXIT_USAGE;
	}
	if (rodcs == NULL) {
		return ODJ_EXIT_OK;
	}
	status = odj_rodc_policy_prepare(cli->mem_ctx, dc, rodcs, group,
					 &policy, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	r->rodc = policy;
	/* the branch's site, so that the machine finds the RODC */
	if (r->jp2.site == NULL) {
		r->jp2.site = policy->rodcs[0].site;
		r->jp2.site_persistent = false;
		odj_cli_warning(cli, "the blob's site is %s, that of %s, as a "
				"dynamic site (dsite=); give psite= or dsite= "
				"to choose", r->jp2.site,
				policy->rodcs[0].name);
	}
	return ODJ_EXIT_OK;
}

/* @p line (on @p ctx) to a NULL-terminated list */
static bool lines_add(TALLOC_CTX *ctx, const char ***lines, char *line)
{
	size_t n = 0;

	while (*lines != NULL && (*lines)[n] != NULL) {
		n++;
	}
	if (line == NULL) {
		return false;
	}
	*lines = talloc_realloc(ctx, *lines, const char *, n + 2);
	if (*lines == NULL) {
		return false;
	}
	(*lines)[n] = line;
	(*lines)[n + 1] = NULL;
	return true;
}

static bool listed(const char * const *list, const char *s)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (strcasecmp(list[i], s) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * repadmin /rodcpwdrepl RODC HUB DN...: the writable DC that made the
 * accounts enforces the RODC's policy and replicates the passwords
 */
static bool repadmin_lines(TALLOC_CTX *ctx, const struct odj_rodc *rodc,
			   const char *hub, const char * const *dns,
			   size_t n, const char ***lines)
{
	size_t i = 0;

	while (i < n) {
		char *line = talloc_asprintf(ctx, "repadmin /rodcpwdrepl %s "
					     "%s", rodc->netbios_name, hub);
		size_t k;

		for (k = 0; line != NULL && k < REPADMIN_DNS_PER_LINE &&
			    i < n; k++, i++) {
			line = talloc_asprintf_append(line, " \"%s\"",
						      dns[i]);
		}
		if (!lines_add(ctx, lines, line)) {
			return false;
		}
	}
	return true;
}

/* odj rodc-preload NAME...: run on a Samba RODC with its smb.conf */
static bool preload_lines(TALLOC_CTX *ctx, const char * const *names,
			  size_t n, const char ***lines)
{
	size_t i = 0;

	while (i < n) {
		char *line = talloc_strdup(ctx, "odj rodc-preload");
		size_t k;

		for (k = 0; line != NULL && k < PRELOAD_NAMES_PER_LINE &&
			    i < n; k++, i++) {
			line = talloc_asprintf_append(line, " %s", names[i]);
		}
		if (!lines_add(ctx, lines, line)) {
			return false;
		}
	}
	return true;
}

/* What to run for one RODC: print it, and put it in the document */
static void show_rodc(const struct odj_cli *cli, const struct odj_rodc *r,
		      size_t machines, const char * const *lines, FILE *out)
{
	json_t *a = NULL, *o = NULL, *cmds = NULL;
	size_t i;

	if (!cli->json) {
		fprintf(out, "%zu machine%s may be cached on the RODC %s (site "
			"%s); pre-populate %s there%s:\n", machines,
			machines == 1 ? "" : "s", r->name, r->site,
			machines == 1 ? "it" : "them",
			r->windows ? " (a Windows RODC)" :
			", on the RODC, with its smb.conf");
		for (i = 0; lines != NULL && lines[i] != NULL; i++) {
			fprintf(out, "  %s\n", lines[i]);
		}
		return;
	}
	a = json_object_get(odj_cli_doc(cli), "rodc_preload");
	if (a == NULL) {
		odj_cli_doc_set(cli, "rodc_preload", json_array());
		a = json_object_get(odj_cli_doc(cli), "rodc_preload");
	}
	o = json_object();
	cmds = json_array();
	if (a == NULL || o == NULL || cmds == NULL) {
		json_decref(o);
		json_decref(cmds);
		return;
	}
	for (i = 0; lines != NULL && lines[i] != NULL; i++) {
		json_array_append_new(cmds, json_string(lines[i]));
	}
	json_object_set_new(o, "rodc", json_string(r->name));
	json_object_set_new(o, "site", json_string(r->site));
	json_object_set_new(o, "windows", json_boolean(r->windows));
	json_object_set_new(o, "machines", json_integer(machines));
	json_object_set_new(o, "commands", cmds);
	json_array_append_new(a, o);
}

void odj_cli_rodc_single(const struct odj_cli *cli, const struct odj_dc *dc,
			 const struct odj_provision_request *r,
			 const struct odj_provision_result *res, FILE *out)
{
	TALLOC_CTX *ctx = talloc_new(cli->mem_ctx);
	json_t *names = NULL;
	size_t i;

	if (r->rodc == NULL || ctx == NULL) {
		TALLOC_FREE(ctx);
		return;
	}
	names = cli->json ? json_array() : NULL;
	for (i = 0; names != NULL && res->rodcs != NULL &&
		    res->rodcs[i] != NULL; i++) {
		json_array_append_new(names, json_string(res->rodcs[i]));
	}
	if (names != NULL) {
		odj_cli_doc_set(cli, "rodcs", names);
	}
	for (i = 0; i < r->rodc->num_rodcs; i++) {
		const struct odj_rodc *rodc = &r->rodc->rodcs[i];
		const char *item = NULL;
		const char **lines = NULL;
		bool ok;

		if (rodc->windows) {
			item = res->account_dn;
			ok = repadmin_lines(ctx, rodc, odj_dc_info(dc)->dc_name,
					    &item, 1, &lines);
		} else {
			item = r->machine_name;
			ok = preload_lines(ctx, &item, 1, &lines);
		}
		if (ok) {
			show_rodc(cli, rodc, 1, lines, out);
		}
	}
	TALLOC_FREE(ctx);
}

void odj_cli_rodc_batch(const struct odj_cli *cli, const struct odj_dc *dc,
			const struct odj_rodc_policy *policy,
			const struct odj_batch_result *results, size_t num,
			const char *report, const char *savedir)
{
	TALLOC_CTX *ctx = talloc_new(cli->mem_ctx);
	size_t i, j;

	for (i = 0; policy != NULL && ctx != NULL &&
		    i < policy->num_rodcs; i++) {
		const struct odj_rodc *rodc = &policy->rodcs[i];
		const char **dns = talloc_zero_array(ctx, const char *, num);
		const char **lines = NULL;
		char *line = NULL;
		size_t n = 0;

		for (j = 0; dns != NULL && j < num; j++) {
			if (listed(results[j].rodcs, rodc->name)) {
				dns[n++] = results[j].account_dn;
			}
		}
		if (dns == NULL || n == 0) {
			continue;
		}
		if (rodc->windows) {
			repadmin_lines(ctx, rodc, odj_dc_info(dc)->dc_name,
				       dns, n, &lines);
		} else {
			/* a report holds no password, the blobs do */
			line = talloc_asprintf(ctx, "odj rodc-preload %s=%s",
					       report != NULL ? "report" :
					       "savedir", report != NULL ?
					       report : savedir);
			lines_add(ctx, &lines, line);
		}
		show_rodc(cli, rodc, n, lines, stdout);
	}
	TALLOC_FREE(ctx);
}
