/*
 * The Windows Server 2012 extensions of a provisioning: what djoin's
 * /ROOTCACERTS, /CERTTEMPLATE, /POLICYNAMES and /POLICYPATHS put into the
 * package (a CERT_PROVIDER and a POLICY_PROVIDER part), built before the
 * account is created so that any failure leaves nothing on the DC.
 *
 * Also a synchronous search on the DC connection, which the certificate
 * and policy code share.
 */

#include "odj_private.h"
#include "odj_ldap.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ldb.h>
#include <tevent.h>

NTSTATUS odj_search_sync(TALLOC_CTX *mem_ctx,
			 struct odj_dc *dc,
			 struct ldb_dn *base,
			 int scope,
			 const char * const *attrs,
			 const char *filter,
			 struct ldb_result **res,
			 char **why)
{
	struct tevent_context *ev = odj_dc_ev(dc);
	struct tevent_req *req = NULL;
	char *ldb_msg = NULL;
	int ldb_err = 0;
	NTSTATUS status;

	if (base == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	req = odj_ldb_search_send(mem_ctx, ev, odj_dc_ldb(dc), base, scope,
				  attrs, filter);
	if (req == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!tevent_req_poll(req, ev)) {
		TALLOC_FREE(req);
		return NT_STATUS_INTERNAL_ERROR;
	}
	status = odj_ldb_recv(req, mem_ctx, res, &ldb_err, &ldb_msg);
	TALLOC_FREE(req);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why(mem_ctx, why, "LDAP search of %s failed: %s",
			ldb_dn_get_linearized(base),
			ldb_msg != NULL && ldb_msg[0] != '\0' ? ldb_msg :
			ldb_strerror(ldb_err));
		TALLOC_FREE(ldb_msg);
	}
	return status;
}

static NTSTATUS cert_part(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			  const struct odj_extras_request *req,
			  const char *dns_name,
			  struct OP_CERT_PART **_part, char **why)
{
	struct OP_CERT_PART *part = NULL;
	struct odj_cert_template *tmpl = NULL;
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
	if (!NT_STATUS_IS_OK(status) || req->cert_template == NULL) {
		*_part = part;
		return status;
	}

	status = odj_certs_find_template(part, dc, req->cert_template, &tmpl,
					 why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	part->pPfxStores = talloc_zero(part, struct OP_CERT_PFX_STORE);
	if (part->pPfxStores == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	part->cPfxStores = 1;
	status = odj_certs_enroll(part, req->ca, tmpl, dns_name,
				  part->pPfxStores, why);
	TALLOC_FREE(tmpl);
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

	status = odj_local_read(part, path, ODJ_PREG_MAX_SIZE, &bytes, why);
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
			    const struct odj_extras_request *req,
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

static char *machine_dns_name(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			      const struct odj_extras_request *req)
{
	const char *suffix = req->dns_suffix != NULL ? req->dns_suffix :
			     odj_dc_info(dc)->dns_domain;
	char *name = NULL;
	char *p = NULL;

	if (req->machine_name == NULL || suffix == NULL) {
		return NULL;
	}
	name = talloc_asprintf(mem_ctx, "%s.%s", req->machine_name, suffix);
	for (p = name; p != NULL && *p != '\0'; p++) {
		*p = tolower((unsigned char)*p);
	}
	return name;
}

NTSTATUS odj_extras_build(TALLOC_CTX *mem_ctx,
			  struct odj_dc *dc,
			  const struct odj_extras_request *req,
			  struct odj_part **_parts,
			  uint32_t *_num_parts,
			  bool *root_ca_certs,
			  char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	struct OP_CERT_PART *cert = NULL;
	struct OP_POLICY_PART *policy = NULL;
	struct odj_part *parts = NULL;
	uint32_t num_parts = 0;
	bool roots = false;
	NTSTATUS status = NT_STATUS_OK;

	if (dc == NULL || req == NULL || _parts == NULL ||
	    _num_parts == NULL || root_ca_certs == NULL ||
	    (req->cert_template != NULL && req->ca == NULL) ||
	    (req->num_policy_names > 0 && req->policy_names == NULL) ||
	    (req->num_policy_paths > 0 && req->policy_paths == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* djoin: /CERTTEMPLATE implies /ROOTCACERTS */
	roots = req->root_ca_certs || req->cert_template != NULL;
	if (roots) {
		char *dns_name = machine_dns_name(tmp_ctx, dc, req);

		if (req->cert_template != NULL && dns_name == NULL) {
			status = NT_STATUS_INVALID_PARAMETER;
			goto done;
		}
		status = cert_part(tmp_ctx, dc, req, dns_name, &cert, why);
		if (!NT_STATUS_IS_OK(status)) {
			goto done;
		}
		if (!add_part(tmp_ctx, &parts, &num_parts, ODJ_PART_CERT,
			      cert)) {
			status = NT_STATUS_NO_MEMORY;
			goto done;
		}
	}
	if (req->num_policy_names > 0 || req->num_policy_paths > 0) {
		status = policy_part(tmp_ctx, dc, req, &policy, why);
		if (!NT_STATUS_IS_OK(status)) {
			goto done;
		}
		if (!add_part(tmp_ctx, &parts, &num_parts, ODJ_PART_POLICY,
			      policy)) {
			status = NT_STATUS_NO_MEMORY;
			goto done;
		}
	}
	*_parts = talloc_steal(mem_ctx, parts);
	*_num_parts = num_parts;
	*root_ca_certs = roots;
done:
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(tmp_ctx);
	return status;
}
