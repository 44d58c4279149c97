/*
 * odj provision's Windows Server 2012 arguments: rootcacerts
 * (/ROOTCACERTS), certtemplate (/CERTTEMPLATE) with the local CA's
 * ca_cert and ca_key, policynames (/POLICYNAMES) and policypaths
 * (/POLICYPATHS), turned into the request's extra package parts.
 */

#include "odj_cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* "A;B; C" -> {"A", "B", "C"}; an empty item is an error. */
static bool split_list(TALLOC_CTX *ctx, const char *arg,
		       const char ***_list, size_t *_n)
{
	const char **list = NULL;
	size_t n = 0;
	const char *p = arg;

	while (p != NULL) {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		while (len > 0 && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)p[len - 1])) {
			len--;
		}
		if (len == 0) {
			return false;
		}
		list = talloc_realloc(ctx, list, const char *, n + 1);
		if (list == NULL) {
			return false;
		}
		list[n] = talloc_strndup(list, p, len);
		if (list[n] == NULL) {
			return false;
		}
		n++;
		p = end != NULL ? end + 1 : NULL;
	}
	*_list = list;
	*_n = n;
	return true;
}

static bool check_extensions(struct odj_cli *cli, const struct odj_args *args)
{
	const char *tmpl = odj_args_get(args, "certtemplate");
	bool ca_cert = odj_args_get(args, "ca_cert") != NULL;
	bool ca_key = odj_args_get(args, "ca_key") != NULL;

	if ((ca_cert || ca_key) && tmpl == NULL) {
		odj_cli_error(cli, "ca_cert= and ca_key= go with "
			      "certtemplate= (/CERTTEMPLATE)");
		return false;
	}
	if (tmpl != NULL && (!ca_cert || !ca_key)) {
		odj_cli_error(cli, "certtemplate= needs ca_cert= and ca_key=: "
			      "the local CA that issues the certificate");
		return false;
	}
	return true;
}

int odj_cli_extensions(struct odj_cli *cli, struct odj_dc *dc,
		   const struct odj_args *args,
		   struct odj_provision_request *r)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	const char *names = odj_args_get(args, "policynames");
	const char *paths = odj_args_get(args, "policypaths");
	struct odj_extensions_request x = {
		.root_ca_certs = odj_args_flag(args, "rootcacerts"),
		.cert_template = odj_args_get(args, "certtemplate"),
	};
	const char **name_list = NULL;
	const char **path_list = NULL;
	struct odj_extensions *extensions = NULL;
	char *why = NULL;
	NTSTATUS status;

	r->extensions = NULL;
	if (!check_extensions(cli, args)) {
		return ODJ_EXIT_USAGE;
	}
	if (!x.root_ca_certs && x.cert_template == NULL && names == NULL &&
	    paths == NULL) {
		return ODJ_EXIT_OK;
	}
	if ((names != NULL && !split_list(ctx, names, &name_list,
					  &x.num_policy_names)) ||
	    (paths != NULL && !split_list(ctx, paths, &path_list,
					  &x.num_policy_paths))) {
		odj_cli_error(cli, "policynames= and policypaths= take "
			      "non-empty names separated by ';'");
		return ODJ_EXIT_USAGE;
	}
	x.policy_names = name_list;
	x.policy_paths = path_list;
	if (x.cert_template != NULL) {
		status = odj_ca_backend_local(ctx,
					      odj_args_get(args, "ca_cert"),
					      odj_args_get(args, "ca_key"),
					      &x.ca, &why);
		if (!NT_STATUS_IS_OK(status)) {
			return odj_cli_fail(cli, status, why);
		}
	}
	status = odj_extensions_prepare(ctx, dc, &x, &extensions, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	r->extensions = extensions;
	return ODJ_EXIT_OK;
}

void odj_cli_dc_choice(const struct odj_cli *cli, const struct odj_dc *dc,
		       bool located)
{
	if (cli->json) {
		odj_cli_doc_append(cli, "dc_choices", odj_dc_info(dc)->choice);
	} else if (located) {
		fprintf(stderr, "Using DC %s\n", odj_dc_info(dc)->choice);
	}
}
