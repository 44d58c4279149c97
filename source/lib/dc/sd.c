/*
 * Security descriptors as nTSecurityDescriptor carries them: the owner
 * of one read under the SD flags control, and an owner-only one to
 * write under it.  The marshalling is pidl's, from our own
 * idl/security_descriptor.idl ([MS-DTYP] 2.4.6): Samba's own is private.
 */

#include "dc/dc.h"

#include "gen_ndr/ndr_security_descriptor.h"

/* [MS-DTYP] 2.4.2.2: SID revision 1 */
#define SID_REVISION 1

NTSTATUS odj_sd_owner(TALLOC_CTX *mem_ctx,
		      DATA_BLOB sd,
		      struct ODJ_SID **owner,
		      char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	struct ODJ_SECURITY_DESCRIPTOR *d = NULL;
	struct ODJ_SD_SID *o = NULL;
	struct ODJ_SID *sid = NULL;
	enum ndr_err_code err;

	if (owner == NULL || (sd.data == NULL && sd.length > 0)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	d = talloc_zero(tmp_ctx, struct ODJ_SECURITY_DESCRIPTOR);
	if (d == NULL) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	err = ndr_pull_struct_blob(&sd, d, d, (ndr_pull_flags_fn_t)
				   ndr_pull_ODJ_SECURITY_DESCRIPTOR);
	if (!NDR_ERR_CODE_IS_SUCCESS(err)) {
		odj_why(mem_ctx, why, "not a self-relative security "
			"descriptor (%zu bytes): %s", sd.length,
			ndr_map_error2string(err));
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	if (d->Revision != ODJ_SD_REVISION ||
	    !(d->Control & ODJ_SE_SELF_RELATIVE)) {
		odj_why(mem_ctx, why, "not a self-relative security "
			"descriptor (revision %u, control 0x%04x)",
			d->Revision, d->Control);
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	o = d->OwnerSid;
	if (o == NULL) {
		odj_why(mem_ctx, why, "the security descriptor names no owner");
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NOT_FOUND;
	}
	if (o->Revision != SID_REVISION) {
		odj_why(mem_ctx, why, "the owner SID has revision %u",
			o->Revision);
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_INVALID_SID;
	}
	sid = talloc_zero(mem_ctx, struct ODJ_SID);
	if (sid == NULL) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	sid->Revision = o->Revision;
	sid->SubAuthorityCount = o->SubAuthorityCount;
	memcpy(sid->IdentifierAuthority, o->IdentifierAuthority, 6);
	if (o->SubAuthorityCount > 0) {
		sid->SubAuthority = talloc_memdup(
			sid, o->SubAuthority, 4 * (size_t)o->SubAuthorityCount);
		if (sid->SubAuthority == NULL) {
			TALLOC_FREE(sid);
			TALLOC_FREE(tmp_ctx);
			return NT_STATUS_NO_MEMORY;
		}
	}
	TALLOC_FREE(tmp_ctx);
	*owner = sid;
	return NT_STATUS_OK;
}

NTSTATUS odj_sd_owner_only(TALLOC_CTX *mem_ctx,
			   const struct ODJ_SID *owner,
			   DATA_BLOB *sd)
{
	struct ODJ_SD_SID o = { .Revision = 0 };
	struct ODJ_SECURITY_DESCRIPTOR d = {
		.Revision = ODJ_SD_REVISION,
		.Control = ODJ_SE_SELF_RELATIVE,
		.OwnerSid = &o,
	};
	enum ndr_err_code err;

	if (owner == NULL || sd == NULL || owner->SubAuthorityCount > 15 ||
	    (owner->SubAuthorityCount > 0 && owner->SubAuthority == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	o.Revision = owner->Revision;
	o.SubAuthorityCount = owner->SubAuthorityCount;
	memcpy(o.IdentifierAuthority, owner->IdentifierAuthority, 6);
	o.SubAuthority = owner->SubAuthority;
	err = ndr_push_struct_blob(sd, mem_ctx, &d, (ndr_push_flags_fn_t)
				   ndr_push_ODJ_SECURITY_DESCRIPTOR);
	if (!NDR_ERR_CODE_IS_SUCCESS(err)) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

struct ldb_control **odj_sd_flags_controls(TALLOC_CTX *mem_ctx,
					   uint32_t secinfo,
					   bool critical)
{
	struct ldb_control **ctrls = NULL;
	struct ldb_sd_flags_control *sdf = NULL;

	ctrls = talloc_zero_array(mem_ctx, struct ldb_control *, 2);
	if (ctrls == NULL) {
		return NULL;
	}
	ctrls[0] = talloc_zero(ctrls, struct ldb_control);
	sdf = talloc_zero(ctrls, struct ldb_sd_flags_control);
	if (ctrls[0] == NULL || sdf == NULL) {
		TALLOC_FREE(ctrls);
		return NULL;
	}
	sdf->secinfo_flags = secinfo;
	ctrls[0]->oid = LDB_CONTROL_SD_FLAGS_OID;
	ctrls[0]->critical = critical;
	ctrls[0]->data = sdf;
	return ctrls;
}
