/*
 * odj requestodj: djoin /REQUESTODJ and "net offlinejoin requestodj".
 *
 *   odj requestodj loadfile=FILE [client=winbind|sssd|both] [root=DIR]
 *       [keytab=PATH] [kvno=N] [ad_server=NAME] [trustdir=DIR]
 *       [certdir=DIR] [policyfile=FILE] [nocerts] [nopolicy]
 *       [--update-ca-certificates] -s smb.conf
 *   odj /REQUESTODJ /LOADFILE FILE /WINDOWSPATH %SystemRoot% /LOCALOS
 */

#include "odj_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <param.h>
#include <jansson.h>

static const struct odj_arg_spec requestodj_args[] = {
	{ "loadfile", "LOADFILE", false, "the provisioning file, - for stdin" },
	{ "client", NULL, false, "winbind (Samba's), sssd (as 'realm join' "
	  "makes it) or both (winbind)" },
	{ "root", NULL, false, "join the image mounted at DIR, not this "
	  "system (smb.conf: DIR/etc/samba/smb.conf)" },
	{ "ad_server", NULL, false, "sssd.conf's ad_server (none: DNS "
	  "SRV records and sites)" },
	{ "keytab", NULL, false, "the keytab to write (default: as "
	  "'kerberos method' says)" },
	{ "kvno", NULL, false, "key version number in the keytab (1)" },
	{ "trustdir", NULL, false, "where root CAs go as .crt files "
	  "(" ODJ_CERTS_TRUST_DIR ")" },
	{ "certdir", NULL, false, "where the machine certificate and key go "
	  "(<private dir>/odj)" },
	{ "policyfile", NULL, false, "where the policy settings go as JSON "
	  "(<state dir>/odj-policy.json)" },
	{ "nocerts", NULL, true, "leave the blob's certificates alone" },
	{ "nopolicy", NULL, true, "leave the blob's policy settings alone" },
	{ "windowspath", "WINDOWSPATH", false, "as djoin (ignored)" },
	{ "localos", "LOCALOS", true, "as djoin (ignored)" },
	{ NULL },
};

static bool parse_kvno(struct odj_cli *cli, const char *s, uint32_t *kvno)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL) {
		*kvno = 0;
		return true;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 ||
	    v > UINT32_MAX) {
		odj_cli_error(cli, "kvno=%s: give a number from 1", s);
		return false;
	}
	*kvno = v;
	return true;
}

static bool parse_client(struct odj_cli *cli, const char *s,
			 enum odj_client_kind *kind)
{
	static const struct {
		const char *name;
		enum odj_client_kind kind;
	} kinds[] = {
		{ "winbind", ODJ_CLIENT_WINBIND },
		{ "sssd", ODJ_CLIENT_SSSD },
		{ "both", ODJ_CLIENT_BOTH },
	};
	size_t i;

	if (s == NULL) {
		*kind = ODJ_CLIENT_WINBIND;
		return true;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcasecmp(s, kinds[i].name) == 0) {
			*kind = kinds[i].kind;
			return true;
		}
	}
	odj_cli_error(cli, "client=%s: give winbind, sssd or both", s);
	return false;
}

static const char *client_name(enum odj_client_kind kind)
{
	return kind == ODJ_CLIENT_SSSD ? "sssd" :
	       kind == ODJ_CLIENT_BOTH ? "both" : "winbind";
}

/*
 * In an image root, smb.conf is the image's (unless -s says otherwise):
 * never this system's.  Samba's client needs one; SSSD's does not.
 */
static int root_config(struct odj_cli *cli, const struct odj_request *r)
{
	char *path = NULL;

	if (r->root == NULL || cli->configfile != NULL) {
		return ODJ_EXIT_OK;
	}
	path = talloc_asprintf(cli->mem_ctx, "%s/etc/samba/smb.conf",
			       r->root);
	if (path == NULL) {
		return ODJ_EXIT_INTERNAL;
	}
	if (access(path, F_OK) == 0) {
		return odj_cli_set_configfile(cli, path) ? ODJ_EXIT_OK :
							   ODJ_EXIT_INTERNAL;
	}
	if (r->client != ODJ_CLIENT_SSSD) {
		odj_cli_error(cli, "the image has no %s: client=%s needs "
			      "Samba's (install and configure it in the "
			      "image, or give -s)", path,
			      client_name(r->client));
		return ODJ_EXIT_LOCAL;
	}
	cli->no_default_config = true;
	return ODJ_EXIT_OK;
}

/* The blob, decoded and checked; NULL after printing why not */
static struct odj_join *load_join(struct odj_cli *cli, const char *path,
				  int *ret)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct odj_provision_data *pd = NULL;
	struct odj_join *join = NULL;
	DATA_BLOB ndr = data_blob_null;
	char *why = NULL;
	NTSTATUS status;

	status = odj_file_load(ctx, path, &ndr, &why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_provision_data_decode(ctx, ndr, &pd, &why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_join_from_provision_data(ctx, pd, &join, &why);
	}
	TALLOC_FREE(ndr.data);
	TALLOC_FREE(pd);
	if (!NT_STATUS_IS_OK(status)) {
		*ret = odj_cli_fail(cli, status, why);
		return NULL;
	}
	return join;
}

/* Without --update-config a mismatch is reported, and nothing written */
static int check_config(struct odj_cli *cli, struct loadparm_context *lp_ctx,
			const struct odj_request *r)
{
	struct odj_config_change *changes = NULL;
	const char *file = lpcfg_configfile(lp_ctx);
	size_t i, n = 0;
	char *why = NULL;
	NTSTATUS status;

	status = odj_request_config_check(cli->mem_ctx, lp_ctx, r, &changes,
					  &n, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	if (n == 0 || cli->update_config) {
		return ODJ_EXIT_OK;
	}
	odj_cli_error(cli, "smb.conf does not match the blob; nothing was "
		      "written (--update-config makes these changes):");
	for (i = 0; i < n; i++) {
		if (cli->json) {
			odj_cli_doc_append(cli, "changes_needed", talloc_asprintf(
				cli->mem_ctx, "%s = %s", changes[i].name,
				changes[i].value));
			continue;
		}
		fprintf(stderr, "set '%s = %s' in [global] of %s\n",
			changes[i].name, changes[i].value,
			file != NULL ? file : "smb.conf");
	}
	return ODJ_EXIT_LOCAL;
}

static json_t *jstr_list(const char **list)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && list != NULL && list[i] != NULL; i++) {
		json_array_append_new(a, json_string(list[i]));
	}
	return a;
}

/* --json: the GPOs Samba's extensions applied, or null */
static json_t *json_policy(const struct odj_request_result *res)
{
	json_t *gpos = NULL;
	size_t i;

	if (res->policy_gpos == NULL && res->policy_written == NULL &&
	    res->policy_removed == NULL) {
		return json_null();
	}
	gpos = json_array();
	for (i = 0; gpos != NULL && i < res->num_policy_gpos; i++) {
		const struct odj_policy_gpo *g = &res->policy_gpos[i];

		json_array_append_new(gpos, json_pack(
			"{s:s,s:s,s:s,s:b,s:b,s:I,s:I,s:I,s:I,s:I}",
			"guid", g->guid, "name", g->name, "part", g->where,
			"essential", g->essential, "synthetic", g->synthetic,
			"applied", (json_int_t)g->applied,
			"skipped", (json_int_t)g->skipped,
			"deferred", (json_int_t)g->deferred,
			"ignored", (json_int_t)g->ignored,
			"failed", (json_int_t)g->failed));
	}
	return json_pack("{s:o,s:o,s:o}", "gpos", gpos,
			 "written", jstr_list(res->policy_written),
			 "removed", jstr_list(res->policy_removed));
}

/* --json: the join, as print_result() says it */
static void json_result(const struct odj_cli *cli, const struct odj_join *j,
			const struct odj_request *r,
			const struct odj_request_result *res)
{
	struct GUID_txt_buf buf;
	json_t *changes = json_array();
	size_t i;

	odj_cli_doc_str(cli, "client", client_name(r->client));
	odj_cli_doc_str(cli, "root", res->root);
	odj_cli_doc_str(cli, "recovered", res->recovered);
	odj_cli_doc_str(cli, "netbios_domain", j->netbios_domain);
	odj_cli_doc_str(cli, "dns_domain", j->dns_domain);
	odj_cli_doc_str(cli, "account", j->account_name);
	odj_cli_doc_str(cli, "secrets_tdb", res->secrets_tdb);
	odj_cli_doc_set(cli, "keytab", res->keytab == NULL ? json_null() :
			json_pack("{s:s,s:I,s:I}", "path", res->keytab,
				  "entries",
				  (json_int_t)res->num_keytab_entries, "kvno",
				  (json_int_t)(r->kvno != 0 ? r->kvno : 1)));
	odj_cli_doc_str(cli, "keytab_note", res->keytab_note);
	odj_cli_doc_str(cli, "smb_conf", res->config_file);
	for (i = 0; changes != NULL && i < res->num_changes; i++) {
		json_array_append_new(changes, json_pack(
			"{s:s,s:s}", "name", res->changes[i].name, "value",
			res->changes[i].value));
	}
	odj_cli_doc_set(cli, "smb_conf_changes", changes);
	odj_cli_doc_str(cli, "replaced", res->replaced);
	odj_cli_doc_set(cli, "rid", j->machine_sid != NULL ?
			json_integer(j->rid) : json_null());
	odj_cli_doc_str(cli, "object_guid", j->have_object_guid ?
			GUID_buf_string(&j->object_guid, &buf) : NULL);
	odj_cli_doc_str(cli, "site", j->site);
	odj_cli_doc_set(cli, "site_persistent",
			json_boolean(j->site_persistent));
	odj_cli_doc_str(cli, "site_cache", res->site_cache);
	odj_cli_doc_set(cli, "notes", jstr_list(j->notes));
	odj_cli_doc_set(cli, "root_cas", jstr_list(res->trust_files));
	odj_cli_doc_set(cli, "machine_certificates",
			jstr_list(res->cert_files));
	odj_cli_doc_str(cli, "policy_file", res->policy_file);
	odj_cli_doc_set(cli, "group_policy", json_policy(res));
	odj_cli_doc_set(cli, "ca_certificates_updated",
			json_boolean(res->ca_certificates_updated));
	odj_cli_doc_set(cli, "rotates_at_first_contact",
			json_boolean(res->rotates_at_first_contact));
	odj_cli_doc_str(cli, "sssd_conf", res->sssd_conf);
	odj_cli_doc_str(cli, "krb5_conf", res->krb5_conf);
	odj_cli_doc_str(cli, "first_contact_unit", res->first_contact_unit);
	odj_cli_doc_str(cli, "rotation_note", res->rotation_note);
}

static void print_extensions(const struct odj_request_result *res)
{
	size_t i;

	for (i = 0; res->trust_files != NULL && res->trust_files[i] != NULL;
	     i++) {
		printf("root CA: %s\n", res->trust_files[i]);
	}
	for (i = 0; res->cert_files != NULL && res->cert_files[i] != NULL;
	     i++) {
		printf("machine certificate: %s\n", res->cert_files[i]);
	}
	if (res->policy_file != NULL) {
		printf("policy settings: %s\n", res->policy_file);
	}
	for (i = 0; i < res->num_policy_gpos; i++) {
		const struct odj_policy_gpo *g = &res->policy_gpos[i];

		printf("group policy: GPO %s (%s): %zu applied, %zu skipped, "
		       "%zu left to samba-gpupdate, %zu not for Samba%s\n",
		       g->guid, g->name, g->applied, g->skipped, g->deferred,
		       g->ignored, g->failed > 0 ? ", some failed" : "");
	}
	for (i = 0; res->policy_written != NULL &&
		    res->policy_written[i] != NULL; i++) {
		printf("group policy wrote: %s\n", res->policy_written[i]);
	}
	for (i = 0; res->policy_removed != NULL &&
		    res->policy_removed[i] != NULL; i++) {
		printf("group policy removed: %s\n", res->policy_removed[i]);
	}
	if (res->ca_certificates_updated) {
		printf("update-ca-certificates: done\n");
	}
}

static void print_result(const struct odj_join *j,
			 const struct odj_request *r,
			 const struct odj_request_result *res)
{
	size_t i;

	if (res->recovered != NULL) {
		printf("finished first: %s\n", res->recovered);
	}
	printf("Joined %s (%s) as %s, offline, for %s%s%s\n",
	       j->netbios_domain, j->dns_domain, j->account_name,
	       r->client == ODJ_CLIENT_SSSD ? "SSSD" :
	       r->client == ODJ_CLIENT_BOTH ? "SSSD and Samba" : "Samba",
	       res->root != NULL ? ", in the image " : "",
	       res->root != NULL ? res->root : "");
	if (res->secrets_tdb != NULL) {
		printf("secrets.tdb: %s\n", res->secrets_tdb);
	}
	if (res->sssd_conf != NULL) {
		printf("sssd.conf: %s\n", res->sssd_conf);
		printf("krb5.conf: %s\n", res->krb5_conf);
	}
	if (res->keytab != NULL) {
		printf("keytab: %s (%zu entries, kvno %" PRIu32 ")\n",
		       res->keytab, res->num_keytab_entries,
		       r->kvno != 0 ? r->kvno : 1);
		if (res->keytab_note != NULL) {
			printf("note: %s\n", res->keytab_note);
		}
	} else {
		printf("keytab: %s\n", res->keytab_note);
	}
	for (i = 0; i < res->num_changes; i++) {
		printf("smb.conf: set '%s = %s' in %s\n", res->changes[i].name,
		       res->changes[i].value, res->config_file);
	}
	if (res->replaced != NULL) {
		printf("replaced: %s\n", res->replaced);
	}
	if (j->machine_sid != NULL) {
		printf("account: RID %" PRIu32 "\n", j->rid);
	}
	if (j->have_object_guid) {
		struct GUID_txt_buf buf;

		printf("account GUID: %s\n",
		       GUID_buf_string(&j->object_guid, &buf));
	}
	if (j->site != NULL) {
		printf("site: %s%s\n", j->site, j->site_persistent ?
		       " (persistent; winbindd looks its site up itself)" :
		       "");
	}
	if (res->site_cache != NULL) {
		printf("site %s stored for Samba's DC locator: %s\n",
		       j->site, res->site_cache);
	}
	for (i = 0; j->notes != NULL && j->notes[i] != NULL; i++) {
		printf("note: %s\n", j->notes[i]);
	}
	print_extensions(res);
	if (res->first_contact_unit != NULL) {
		printf("%s (pulled in by sssd) changes the machine password "
		       "at the first contact with a DC\n",
		       res->first_contact_unit);
	} else if (res->rotates_at_first_contact) {
		printf("winbindd changes the machine password at its first "
		       "contact with a DC\n");
	} else if (res->rotation_note != NULL) {
		printf("note: %s\n", res->rotation_note);
	}
	if (res->root != NULL) {
		printf("The image is joined; it uses the join from its "
		       "first boot\n");
	} else if (r->client == ODJ_CLIENT_WINBIND) {
		printf("Restart smbd and winbindd to use the join\n");
	} else {
		printf("Run 'systemctl daemon-reload' and restart sssd%s to "
		       "use the join\n", r->client == ODJ_CLIENT_BOTH ?
		       " (and smbd)" : "");
	}
}

int odj_cmd_requestodj(struct odj_cli *cli)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	struct odj_request r = { .join = NULL };
	struct odj_request_result *res = NULL;
	struct loadparm_context *lp_ctx = NULL;
	struct odj_args *args = NULL;
	const char *path = NULL;
	char *why = NULL;
	NTSTATUS status;
	int ret = ODJ_EXIT_OK;
	size_t i;

	args = odj_args_parse(ctx, requestodj_args, cli->argc, cli->argv, 1);
	if (args == NULL) {
		return ODJ_EXIT_USAGE;
	}
	if (cli->help) {
		return odj_args_usage(cli, requestodj_args, "{FILE | "
				      "loadfile=FILE | -i} [KEYWORD=VALUE ...]");
	}
	path = odj_args_blob_path(cli, args);
	if (path == NULL ||
	    !parse_kvno(cli, odj_args_get(args, "kvno"), &r.kvno)) {
		return ODJ_EXIT_USAGE;
	}
	if (!parse_client(cli, odj_args_get(args, "client"), &r.client)) {
		return ODJ_EXIT_USAGE;
	}
	r.root = odj_args_get(args, "root");
	r.ad_server = odj_args_get(args, "ad_server");
	if (r.ad_server != NULL && r.client == ODJ_CLIENT_WINBIND) {
		odj_cli_error(cli, "ad_server= is for client=sssd or both");
		return ODJ_EXIT_USAGE;
	}
	r.keytab = odj_args_get(args, "keytab");
	r.force = cli->force;
	r.update_config = cli->update_config;
	r.trust_dir = odj_args_get(args, "trustdir");
	r.cert_dir = odj_args_get(args, "certdir");
	r.policy_file = odj_args_get(args, "policyfile");
	r.skip_certs = odj_args_flag(args, "nocerts");
	r.skip_policy = odj_args_flag(args, "nopolicy");
	r.update_ca_certificates = cli->update_ca_certificates;

	/* past RLIMIT_FSIZE, fail with EFBIG (and roll back), not die */
	signal(SIGXFSZ, SIG_IGN);

	r.join = load_join(cli, path, &ret);
	if (r.join == NULL) {
		return ret;
	}
	ret = root_config(cli, &r);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	lp_ctx = odj_cli_loadparm(cli);
	if (lp_ctx == NULL) {
		return ODJ_EXIT_LOCAL;
	}
	ret = check_config(cli, lp_ctx, &r);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	status = odj_request(ctx, lp_ctx, &r, &res, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	for (i = 0; res->warnings != NULL && res->warnings[i] != NULL; i++) {
		odj_cli_warning(cli, "%s", res->warnings[i]);
	}
	if (cli->json) {
		json_result(cli, r.join, &r, res);
		return ODJ_EXIT_OK;
	}
	print_result(r.join, &r, res);
	if (fflush(stdout) != 0) {
		odj_cli_error(cli, "cannot write the report (the join is "
			      "done)");
	}
	return ODJ_EXIT_OK;
}
