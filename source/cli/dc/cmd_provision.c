/*
 * odj provision: djoin /PROVISION and "net offlinejoin provision".
 */

#include "odj_cli.h"

#include <string.h>
#include <strings.h>
#include <tevent.h>
#include <param.h>
#include <jansson.h>

static const struct odj_arg_spec provision_args[] = {
	{ "domain", "DOMAIN", false, "domain to join (DNS name)" },
	{ "machine_name", "MACHINE", false, "computer name" },
	{ "machine_account_ou", "MACHINEOU", false, "OU for the account" },
	{ "dcname", "DCNAME", false, "domain controller to use" },
	{ "reuse", "REUSE", true, "reset an existing account" },
	{ "reuse_unsafe", NULL, true,
	  "reuse even where the reuse guard refuses" },
	{ "owner", NULL, false, "domain_admins: hand the account to them" },
	{ "defpwd", "DEFPWD", true, "default password (lower case name)" },
	{ "nosearch", "NOSEARCH", true, "skip the account conflict search" },
	{ "downlevel", "DOWNLEVEL", true, "as djoin (no effect on Samba)" },
	{ "savefile", "SAVEFILE", false, "write the blob to this file" },
	{ "printblob", "PRINTBLOB", true, "print the blob as base64" },
	{ "netbios", "NETBIOS", false, "JOIN_PROVIDER2 NetBIOS name" },
	{ "psite", "PSITE", false, "JOIN_PROVIDER2 persistent site" },
	{ "dsite", "DSITE", false, "JOIN_PROVIDER2 dynamic site" },
	{ "primarydns", "PRIMARYDNS", false, "JOIN_PROVIDER2 DNS domain" },
	/* Windows Server 2012 extensions: CERT and POLICY parts */
	{ "rootcacerts", "ROOTCACERTS", true, "add the enterprise root CAs" },
	{ "certtemplate", "CERTTEMPLATE", false, "issue a machine certificate" },
	{ "ca", NULL, false, "AD CS: the enterprise CA to enroll at" },
	{ "ca_cert", NULL, false, "local CA: its certificate (PEM)" },
	{ "ca_key", NULL, false, "local CA: its key (file or pkcs11: URL)" },
	{ "ca_key_password_file", NULL, false,
	  "local CA: the key's password or the token's PIN" },
	{ "policynames", "POLICYNAMES", false, "GPO display names, ;-separated" },
	{ "policypaths", "POLICYPATHS", false, "Registry.pol files, ;-separated" },
	/* many machines */
	{ "batch", "BATCH", false, "file listing the machines" },
	{ "savedir", "SAVEDIR", false, "directory for the batch's blobs" },
	{ "report", "REPORT", false, "JSON report of a batch" },
	{ "parallel", "PARALLEL", false, "requests in flight (batch)" },
	{ "unattend", "UNATTEND", false, "directory for unattend.xml files" },
	/* branch offices: read-only DCs */
	{ "rodc", NULL, false, "RODCs to allow the password on, ,-separated" },
	{ "rodc_group", NULL, false, "group the RODCs allow, to add it to" },
	{ NULL },
};

static bool check_args(struct odj_cli *cli, const struct odj_args *args,
		       struct odj_provision_request *r)
{
	const char *savefile = odj_args_get(args, "savefile");
	bool printblob = odj_args_flag(args, "printblob");

	if (odj_args_get(args, "domain") == NULL || r->machine_name == NULL) {
		odj_cli_error(cli, "domain= (/DOMAIN) and machine_name= "
			      "(/MACHINE) are required");
		return false;
	}
	if ((savefile == NULL) == !printblob) {
		odj_cli_error(cli, "give exactly one of savefile=FILE "
			      "(/SAVEFILE) and printblob (/PRINTBLOB)");
		return false;
	}
	if (r->nosearch && odj_args_get(args, "dcname") == NULL &&
	    cli->server == NULL) {
		odj_cli_error(cli, "nosearch (/NOSEARCH) needs dcname= "
			      "(/DCNAME)");
		return false;
	}
	return true;
}

bool odj_cli_provision_request(const struct odj_cli *cli,
			       const struct odj_args *args,
			       struct odj_provision_request *r)
{
	const char *owner = odj_args_get(args, "owner");

	r->machine_name = odj_args_get(args, "machine_name");
	r->ou = odj_args_get(args, "machine_account_ou");
	/* reuse_unsafe implies reuse */
	r->reuse_unsafe = odj_args_flag(args, "reuse_unsafe");
	r->reuse = odj_args_flag(args, "reuse") || r->reuse_unsafe;
	r->defpwd = odj_args_flag(args, "defpwd");
	r->nosearch = odj_args_flag(args, "nosearch");
	r->downlevel = odj_args_flag(args, "downlevel");
	if (owner != NULL && strcasecmp(owner, "domain_admins") != 0) {
		odj_cli_error(cli, "owner= takes domain_admins");
		return false;
	}
	r->owner_domain_admins = owner != NULL;
	return odj_args_jp2(cli, args, &r->jp2);
}

/* warnings of a provisioning that succeeded (--json: the document's) */
void odj_cli_print_warnings(const struct odj_cli *cli,
			    const char * const *warnings)
{
	size_t i;

	for (i = 0; warnings != NULL && warnings[i] != NULL; i++) {
		odj_cli_warning(cli, "%s", warnings[i]);
	}
}

/*
 * printblob: the blob on stdout (with --json: in the document), before
 * the account counts as made
 */
static NTSTATUS print_blob(DATA_BLOB ndr, void *private_data, char **why)
{
	struct odj_cli *cli = private_data;
	TALLOC_CTX *ctx = cli->mem_ctx;
	char *b64 = NULL;
	NTSTATUS status;

	status = odj_file_base64(ctx, ndr, &b64);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (cli->json) {
		odj_cli_doc_str(cli, "blob", b64);
		TALLOC_FREE(b64);
		return NT_STATUS_OK;
	}
	printf("%s\n", b64);
	TALLOC_FREE(b64);
	if (fflush(stdout) != 0) {
		*why = talloc_strdup(ctx, "cannot write the blob to standard "
				     "output");
		return NT_STATUS_DISK_FULL;
	}
	return NT_STATUS_OK;
}

/* The account made (or reused), as text or --json */
static void print_result(struct odj_cli *cli, struct odj_dc *dc,
			 const struct odj_provision_request *r,
			 const struct odj_provision_result *res,
			 const char *savefile)
{
	const struct odj_dc_info *info = odj_dc_info(dc);

	if (cli->json) {
		struct GUID_txt_buf buf;

		odj_cli_doc_str(cli, "account", res->sam_account_name);
		odj_cli_doc_str(cli, "dn", res->account_dn);
		odj_cli_doc_str(cli, "sid", odj_sid_string(cli->mem_ctx,
							   res->machine_sid));
		odj_cli_doc_set(cli, "rid", json_integer(res->rid));
		odj_cli_doc_str(cli, "object_guid",
				GUID_buf_string(&res->object_guid, &buf));
		odj_cli_doc_set(cli, "created", json_boolean(res->created));
		odj_cli_doc_str(cli, "domain", info->dns_domain);
		odj_cli_doc_str(cli, "dc", info->dc_name);
		odj_cli_doc_str(cli, "savefile", savefile);
		odj_cli_rodc_single(cli, dc, r, res, stdout);
		return;
	}
	/* with printblob, stdout is the blob: report on stderr */
	fprintf(savefile != NULL ? stdout : stderr,
		"Provisioned %s (%s, RID %u) in %s on %s%s%s\n",
		res->sam_account_name, res->account_dn, res->rid,
		info->dns_domain, info->dc_name,
		savefile != NULL ? "; blob saved to " : "",
		savefile != NULL ? savefile : "");
	odj_cli_rodc_single(cli, dc, r, res,
			    savefile != NULL ? stdout : stderr);
}

int odj_cmd_provision(struct odj_cli *cli)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct odj_provision_request r = { .machine_name = NULL };
	struct odj_provision_result *res = NULL;
	struct odj_dc_spec spec = { .domain = NULL };
	struct loadparm_context *lp_ctx = NULL;
	struct cli_credentials *creds = NULL;
	struct tevent_context *ev = NULL;
	struct odj_args *args = NULL;
	struct odj_dc *dc = NULL;
	const char *savefile = NULL;
	const char *dcname = NULL;
	char *why = NULL;
	NTSTATUS status;
	int ret;

	args = odj_args_parse(ctx, provision_args, cli->argc, cli->argv, 0);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, provision_args, "domain=DOMAIN "
				      "{machine_name=NAME | batch=FILE "
				      "savedir=DIR} [KEYWORD=VALUE ...]");
	}
	if (odj_args_get(args, "batch") != NULL) {
		return odj_cmd_provision_batch(cli, args);
	}
	if (!odj_cli_provision_request(cli, args, &r) ||
	    !check_args(cli, args, &r)) {
		return ODJ_EXIT_USAGE;
	}
	dcname = odj_args_get(args, "dcname");
	if (dcname == NULL) {
		dcname = cli->server;
	}

	savefile = odj_args_get(args, "savefile");
	r.savefile = savefile;
	r.overwrite = cli->force;
	r.deliver = print_blob;
	r.deliver_data = cli;
	/* a bad name or savefile fails before the DC is asked */
	status = odj_provision_check(ctx, &r, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}

	lp_ctx = odj_cli_loadparm(cli);
	if (lp_ctx == NULL) {
		return ODJ_EXIT_LOCAL;
	}
	creds = odj_cli_credentials(cli, lp_ctx);
	if (creds == NULL) {
		return ODJ_EXIT_CREDENTIALS;
	}
	ev = tevent_context_init(ctx);
	if (ev == NULL) {
		return ODJ_EXIT_INTERNAL;
	}

	spec.domain = odj_args_get(args, "domain");
	spec.dcname = dcname;
	spec.site = r.jp2.site;
	spec.krb5_ccache = cli->krb5_ccache;
	status = odj_dc_connect(ctx, ev, lp_ctx, creds, &spec, &dc, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	odj_cli_dc_choice(cli, dc, dcname == NULL);
	ret = odj_cli_rodc(cli, dc, args, &r);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	ret = odj_cli_extensions(cli, dc, args, &r);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	status = odj_provision(ctx, dc, &r, &res, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	odj_cli_print_warnings(cli, res->warnings);
	print_result(cli, dc, &r, res, savefile);
	return ODJ_EXIT_OK;
}
