/*
 * The AD CS issuing backend: what `odj provision certtemplate=T` uses
 * when no local CA is given.  The enterprise CA that offers the template
 * is found in AD before any account exists; each machine then enrolls at
 * it as itself (odj_adcs_enroll(): Kerberos as NAME$ with the password
 * just set, [MS-ICPR] CertServerRequest at packet privacy), so the CA
 * builds subject, SAN and SID extension from the account in AD.  One
 * association per machine: each authenticates as a different account.
 *
 * The PFX store names the policy server as the Active Directory
 * Enrollment Policy is named ([MS-CAESO] 4.4.5.3.2.4, as Samba's
 * certificate auto-enrollment reads it): the URI "LDAP:", and as its ID
 * the objectGUID of the forest root domain's NC in braces, upper case.
 */

#include "dc/dc.h"
#include "dc/ca_adcs.h"

#include <ctype.h>
#include <ldb.h>
#include <tevent.h>

#define AD_POLICY_SERVER_URL "LDAP:"
/* PolicyServerUrlFlags PsfNone: no location, no auto-enrollment claim */
#define AD_POLICY_SERVER_FLAGS 0

struct adcs_backend {
	struct loadparm_context *lp_ctx;
	struct odj_adcs_ca *ca;
	unsigned int wait_seconds;
};

/* The certificates the CA sent after the issued one, else its own. */
static NTSTATUS take_chain(TALLOC_CTX *mem_ctx, const struct adcs_backend *b,
			   struct odj_adcs_response *resp, DATA_BLOB **chain,
			   size_t *num_chain)
{
	DATA_BLOB *c = NULL;

	if (resp->num_chain > 0) {
		*chain = talloc_steal(mem_ctx, resp->chain);
		*num_chain = resp->num_chain;
		return NT_STATUS_OK;
	}
	*chain = NULL;
	*num_chain = 0;
	if (b->ca->ca_cert.length == 0) {
		return NT_STATUS_OK;
	}
	c = talloc_zero_array(mem_ctx, DATA_BLOB, 1);
	if (c == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	c[0] = data_blob_talloc(c, b->ca->ca_cert.data,
				b->ca->ca_cert.length);
	if (c[0].data == NULL) {
		TALLOC_FREE(c);
		return NT_STATUS_NO_MEMORY;
	}
	*chain = c;
	*num_chain = 1;
	return NT_STATUS_OK;
}

static NTSTATUS adcs_issue(struct odj_ca_backend *backend,
			   TALLOC_CTX *mem_ctx,
			   const struct odj_cert_template *tmpl,
			   DATA_BLOB csr,
			   const char *dns_name,
			   const char *sid,
			   const struct odj_ca_machine *machine,
			   DATA_BLOB *cert,
			   DATA_BLOB **chain,
			   size_t *num_chain,
			   char **why)
{
	struct adcs_backend *b = talloc_get_type_abort(backend->private_data,
						       struct adcs_backend);
	struct odj_adcs_response *resp = NULL;
	struct odj_adcs_request r = {
		.ca_host = b->ca->dns_host,
		.ca_name = b->ca->name,
		.template_name = tmpl->name,
		.csr = csr,
		.wait_seconds = b->wait_seconds,
	};
	NTSTATUS status;

	/* dns_name and sid: the CA takes both from the account in AD */
	if (machine == NULL || machine->account == NULL ||
	    machine->password == NULL) {
		odj_why(mem_ctx, why, "enrollment at CA '%s' is made as the "
			"machine account, and none was given", b->ca->name);
		return NT_STATUS_INVALID_PARAMETER;
	}
	r.account = machine->account;
	r.password = machine->password;
	r.realm = machine->realm;
	r.domain = machine->domain;
	status = odj_adcs_enroll(mem_ctx, b->lp_ctx, &r, &resp, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	*cert = resp->cert;
	talloc_steal(mem_ctx, cert->data);
	status = take_chain(mem_ctx, b, resp, chain, num_chain);
	TALLOC_FREE(resp);
	return status;
}

static const struct odj_ca_backend_ops adcs_ops = {
	.name = "AD CS",
	.issue = adcs_issue,
};

/* "{GUID}" of the forest root domain's NC, upper case */
static NTSTATUS forest_policy_id(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
				 char **id, char **why)
{
	static const char * const root_attrs[] = {
		"rootDomainNamingContext", NULL
	};
	static const char * const guid_attrs[] = { "objectGUID", NULL };
	struct ldb_context *ldb = odj_dc_ldb(dc);
	struct ldb_message *msg = NULL;
	const struct ldb_val *v = NULL;
	const char *root = NULL;
	struct GUID guid;
	struct GUID_txt_buf buf;
	DATA_BLOB b;
	NTSTATUS status;
	char *p = NULL;

	status = odj_ldb_search_one(mem_ctx, odj_dc_ev(dc), ldb,
				    ldb_dn_new(mem_ctx, ldb, ""),
				    LDB_SCOPE_BASE, root_attrs,
				    "(objectClass=*)", &msg, why);
	root = NT_STATUS_IS_OK(status) ?
	       ldb_msg_find_attr_as_string(msg, "rootDomainNamingContext",
					   NULL) : NULL;
	if (NT_STATUS_IS_OK(status) && root != NULL) {
		status = odj_ldb_search_one(mem_ctx, odj_dc_ev(dc), ldb,
					    ldb_dn_new(mem_ctx, ldb, root),
					    LDB_SCOPE_BASE, guid_attrs,
					    "(objectClass=*)", &msg, why);
	}
	v = NT_STATUS_IS_OK(status) && root != NULL ?
	    ldb_msg_find_ldb_val(msg, "objectGUID") : NULL;
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	b = v != NULL ? data_blob_const(v->data, v->length) : data_blob_null;
	if (v == NULL || !NT_STATUS_IS_OK(GUID_from_data_blob(&b, &guid))) {
		odj_why(mem_ctx, why, "the DC names no forest root domain "
			"with an objectGUID (rootDomainNamingContext)");
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	*id = talloc_asprintf(mem_ctx, "{%s}", GUID_buf_string(&guid, &buf));
	for (p = *id; p != NULL && *p != '\0'; p++) {
		*p = toupper((unsigned char)*p);
	}
	return *id != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS odj_ca_backend_adcs(TALLOC_CTX *mem_ctx,
			     struct odj_dc *dc,
			     const char *ca_name,
			     const char *template_name,
			     unsigned int wait_seconds,
			     struct odj_ca_backend **_backend,
			     char **why)
{
	struct odj_ca_backend *backend = NULL;
	struct adcs_backend *b = NULL;
	char *policy_id = NULL;
	NTSTATUS status;

	if (dc == NULL || template_name == NULL || _backend == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	backend = talloc_zero(mem_ctx, struct odj_ca_backend);
	b = talloc_zero(backend, struct adcs_backend);
	if (backend == NULL || b == NULL) {
		TALLOC_FREE(backend);
		return NT_STATUS_NO_MEMORY;
	}
	b->lp_ctx = odj_dc_lp_ctx(dc);
	b->wait_seconds = wait_seconds;
	status = odj_adcs_find_ca(b, dc, ca_name, template_name, &b->ca, why);
	if (NT_STATUS_IS_OK(status)) {
		status = forest_policy_id(backend, dc, &policy_id, why);
	}
	if (NT_STATUS_IS_OK(status) && b->lp_ctx == NULL) {
		status = NT_STATUS_INTERNAL_ERROR;
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(backend);
		return status;
	}
	backend->ops = &adcs_ops;
	backend->private_data = b;
	backend->policy_server_url = AD_POLICY_SERVER_URL;
	backend->policy_server_flags = AD_POLICY_SERVER_FLAGS;
	backend->policy_server_id = policy_id;
	*_backend = backend;
	return NT_STATUS_OK;
}
