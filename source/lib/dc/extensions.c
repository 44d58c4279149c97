/*
 * The Windows Server 2012 extensions of a provisioning: what djoin's
 * /ROOTCACERTS, /CERTTEMPLATE, /POLICYNAMES and /POLICYPATHS put into the
 * package (a CERT_PROVIDER and a POLICY_PROVIDER part), built before the
 * account is created so that any failure leaves nothing on the DC.
 *
 * In two steps, so that a batch reads the directory and SYSVOL once:
 * odj_extensions_prepare() fetches the root CAs, the template and the
 * policies, and with no CA backend given finds the enterprise CA of AD
 * CS that offers the template; odj_extensions_for_machine() copies those
 * parts and issues the machine's certificate, without the DC, once the
 * account exists (provision.c), for the account's SID: AD CS as the
 * account itself.
 */

#include "dc/dc.h"
#include "dc/ca_adcs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <charset.h>
#include <ldb.h>
#include <tevent.h>

/* The CERT part every machine shares: the root CAs */
static NTSTATUS roots_part(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			   struct OP_CERT_PART **_part, char **why)
{
	struct OP_CERT_PART *part = NULL;
	DATA_BLOB *roots = NULL;
	size_t num_roots = 0;
	NTSTATUS status;

	part = talloc_zero(mem_ctx, struct OP_CERT_PART);
	if (part == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_certs_root_cas(part, dc, &roots, &num_roots, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	part->pSstStores = talloc_zero(part, struct OP_CERT_SST_STORE);
	if (part->pSstStores == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	part->cSstStores = 1;
	status = odj_certs_root_store(part, roots, num_roots,
				      part->pSstStores, why);
	TALLOC_FREE(roots);
	*_part = part;
	return status;
}

static NTSTATUS add_policy_list(struct OP_POLICY_PART *part,
				const struct odj_preg *preg,
				const char *source)
{
	struct OP_POLICY_ELEMENT_LIST *lists = NULL;

	lists = talloc_realloc(part, part->pElementLists,
			       struct OP_POLICY_ELEMENT_LIST,
			       part->cElementLists + 1);
	if (lists == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	part->pElementLists = lists;
	part->cElementLists++;
	return odj_policy_element_list(lists, preg, source,
				       &lists[part->cElementLists - 1]);
}

static NTSTATUS policy_from_gpo(struct OP_POLICY_PART *part,
				struct odj_dc *dc, const char *name,
				TALLOC_CTX *why_ctx, char **why)
{
	struct odj_gpo *gpo = NULL;
	struct odj_preg *preg = NULL;
	struct odj_preg empty = { .num_entries = 0 };
	DATA_BLOB bytes = data_blob_null;
	NTSTATUS status;

	status = odj_policy_find_gpo(part, dc, name, &gpo, why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_policy_fetch_gpo(part, dc, gpo, &bytes, why);
	}
	if (NT_STATUS_IS_OK(status) && bytes.length > 0) {
		status = odj_preg_parse(part, bytes, &preg, why);
		odj_why_prefix(why_ctx, why, "GPO \"%s\" (%s): "
			       "Machine\\Registry.pol", name, gpo->guid);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* the source names the GPO as AD does: its SYSVOL folder */
	return add_policy_list(part, preg != NULL ? preg : &empty,
			       gpo->file_sys_path);
}

static NTSTATUS policy_from_file(struct OP_POLICY_PART *part,
				 const char *path,
				 TALLOC_CTX *why_ctx, char **why)
{
	struct odj_preg *preg = NULL;
	DATA_BLOB bytes = data_blob_null;
	NTSTATUS status;

	status = odj_file_read(part, path, ODJ_PREG_MAX_SIZE,
			       "a Registry.pol file", ODJ_READ_REGULAR, &bytes,
			       why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_preg_parse(part, bytes, &preg, why);
		odj_why_prefix(why_ctx, why, "%s", path);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return add_policy_list(part, preg, path);
}

static NTSTATUS policy_part(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			    const struct odj_extensions_request *req,
			    struct OP_POLICY_PART **_part, char **why)
{
	struct OP_POLICY_PART *part = NULL;
	NTSTATUS status = NT_STATUS_OK;
	size_t i;

	part = talloc_zero(mem_ctx, struct OP_POLICY_PART);
	if (part == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < req->num_policy_names;
	     i++) {
		status = policy_from_gpo(part, dc, req->policy_names[i],
					 mem_ctx, why);
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < req->num_policy_paths;
	     i++) {
		status = policy_from_file(part, req->policy_paths[i],
					  mem_ctx, why);
	}
	*_part = part;
	return status;
}

static bool add_part(TALLOC_CTX *mem_ctx, struct odj_part **parts,
		     uint32_t *num, enum odj_part_kind kind, void *content)
{
	struct odj_part *p = NULL;

	p = talloc_realloc(mem_ctx, *parts, struct odj_part, *num + 1);
	if (p == NULL) {
		return false;
	}
	/* flags 0: Windows marks only the JOIN_PROVIDER part ESSENTIAL */
	p[*num] = (struct odj_part) {
		.type = odj_part_kind_guid(kind),
		.kind = kind,
		.u.ptr = talloc_steal(p, content),
	};
	*parts = p;
	(*num)++;
	return true;
}

struct odj_extensions {
	struct odj_part *parts;		/* shared: CERT (roots), POLICY */
	uint32_t num_parts;
	bool root_ca_certs;
	struct odj_cert_template *tmpl;	/* NULL: no machine certificate */
	struct odj_ca_backend *ca;	/* the caller's, or AD CS (ours) */
	const char *dns_domain;
	const char *realm;		/* what AD CS enrollment logs on to */
	const char *netbios_domain;
};

/* The template and the CA that issues it: AD CS unless the caller's */
static NTSTATUS prepare_issuing(struct odj_extensions *x, struct odj_dc *dc,
				const struct odj_extensions_request *req,
				char **why)
{
	NTSTATUS status;

	status = odj_certs_find_template(x, dc, req->cert_template, &x->tmpl,
					 why);
	if (!NT_STATUS_IS_OK(status) || x->ca != NULL) {
		return status;
	}
	return odj_ca_backend_adcs(x, dc, req->ca_name, x->tmpl->name,
				   ODJ_ADCS_WAIT_SECONDS, &x->ca, why);
}

NTSTATUS odj_extensions_prepare(TALLOC_CTX *mem_ctx,
			    struct odj_dc *dc,
			    const struct odj_extensions_request *req,
			    struct odj_extensions **_extensions,
			    char **why)
{
	struct odj_extensions *x = NULL;
	struct OP_CERT_PART *cert = NULL;
	struct OP_POLICY_PART *policy = NULL;
	NTSTATUS status = NT_STATUS_OK;

	if (dc == NULL || req == NULL || _extensions == NULL ||
	    (req->ca_name != NULL && req->ca != NULL) ||
	    (req->num_policy_names > 0 && req->policy_names == NULL) ||
	    (req->num_policy_paths > 0 && req->policy_paths == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	x = talloc_zero(mem_ctx, struct odj_extensions);
	if (x == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	x->ca = req->ca;
	x->dns_domain = talloc_strdup(x, odj_dc_info(dc)->dns_domain);
	x->realm = strupper_talloc(x, odj_dc_info(dc)->dns_domain);
	x->netbios_domain = talloc_strdup(x, odj_dc_info(dc)->netbios_domain);
	if (x->dns_domain == NULL || x->realm == NULL ||
	    x->netbios_domain == NULL) {
		status = NT_STATUS_NO_MEMORY;
		goto done;
	}
	/* the template and its CA first: "no CA" says more than the rest */
	if (req->cert_template != NULL) {
		status = prepare_issuing(x, dc, req, why);
	}
	/* djoin: /CERTTEMPLATE implies /ROOTCACERTS */
	x->root_ca_certs = req->root_ca_certs || req->cert_template != NULL;
	if (NT_STATUS_IS_OK(status) && x->root_ca_certs) {
		status = roots_part(x, dc, &cert, why);
		if (NT_STATUS_IS_OK(status) &&
		    !add_part(x, &x->parts, &x->num_parts, ODJ_PART_CERT,
			      cert)) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	if (NT_STATUS_IS_OK(status) &&
	    (req->num_policy_names > 0 || req->num_policy_paths > 0)) {
		status = policy_part(x, dc, req, &policy, why);
		if (NT_STATUS_IS_OK(status) &&
		    !add_part(x, &x->parts, &x->num_parts, ODJ_PART_POLICY,
			      policy)) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
done:
	odj_why_move(mem_ctx, why);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(x);
		return status;
	}
	*_extensions = x;
	return NT_STATUS_OK;
}

/* "name.suffix", lower case, as the certificate's subject and SAN */
static char *machine_dns_name(TALLOC_CTX *mem_ctx, const char *machine_name,
			      const char *suffix)
{
	char *name = NULL;
	char *p = NULL;

	if (machine_name == NULL || suffix == NULL) {
		return NULL;
	}
	name = talloc_asprintf(mem_ctx, "%s.%s", machine_name, suffix);
	for (p = name; p != NULL && *p != '\0'; p++) {
		*p = tolower((unsigned char)*p);
	}
	return name;
}

static NTSTATUS enroll_machine(TALLOC_CTX *mem_ctx,
			       const struct odj_extensions *x,
			       struct OP_CERT_PART *cert,
			       const char *machine_name,
			       const char *dns_suffix,
			       const char *sid,
			       const struct odj_ca_machine *machine,
			       char **why)
{
	char *dns_name = machine_dns_name(mem_ctx, machine_name,
					  dns_suffix != NULL ? dns_suffix :
					  x->dns_domain);

	if (dns_name == NULL) {
		odj_why(mem_ctx, why, "a machine certificate needs the "
			"machine's name");
		return NT_STATUS_INVALID_PARAMETER;
	}
	cert->pPfxStores = talloc_zero(cert, struct OP_CERT_PFX_STORE);
	if (cert->pPfxStores == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	cert->cPfxStores = 1;
	return odj_certs_enroll(cert, x->ca, x->tmpl, dns_name, sid, machine,
				cert->pPfxStores, why);
}

NTSTATUS odj_extensions_for_machine(TALLOC_CTX *mem_ctx,
				const struct odj_extensions *x,
				const char *machine_name,
				const char *dns_suffix,
				const char *sid,
				const char *account,
				const char *password,
				struct odj_part **_parts,
				uint32_t *_num_parts,
				bool *root_ca_certs,
				char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	struct odj_part *parts = NULL;
	uint32_t num_parts = 0, i;
	NTSTATUS status = NT_STATUS_OK;
	const struct odj_ca_machine machine = {
		.account = account,
		.password = password,
		.realm = x != NULL ? x->realm : NULL,
		.domain = x != NULL ? x->netbios_domain : NULL,
	};

	if (x == NULL || _parts == NULL || _num_parts == NULL ||
	    root_ca_certs == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < x->num_parts; i++) {
		void *copy = NULL;

		status = odj_part_copy(tmp_ctx, &x->parts[i], &copy, why);
		if (!NT_STATUS_IS_OK(status)) {
			break;
		}
		if (x->parts[i].kind == ODJ_PART_CERT && x->tmpl != NULL) {
			status = enroll_machine(tmp_ctx, x, copy, machine_name,
						dns_suffix, sid, &machine,
						why);
		}
		if (NT_STATUS_IS_OK(status) &&
		    !add_part(tmp_ctx, &parts, &num_parts, x->parts[i].kind,
			      copy)) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	if (NT_STATUS_IS_OK(status)) {
		*_parts = talloc_steal(mem_ctx, parts);
		*_num_parts = num_parts;
		*root_ca_certs = x->root_ca_certs;
	}
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(tmp_ctx);
	return status;
}
