/*
 * libFuzzer harness: the owner of a security descriptor as a DC returns
 * nTSecurityDescriptor (odj_sd_owner(), pidl's pull of
 * idl/security_descriptor.idl), which the reuse guard reads from
 * whatever DC it talks to.  An owner found must write as an owner-only
 * descriptor that reads back to the same owner.
 */

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <talloc.h>
#include "odj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct ODJ_SID *owner = NULL;
	struct ODJ_SID *again = NULL;
	DATA_BLOB sd = data_blob_null;
	NTSTATUS status;

	if (ctx == NULL) {
		return 0;
	}
	status = odj_sd_owner(ctx, data_blob_const(data, size), &owner,
			      NULL);
	if (NT_STATUS_IS_OK(status)) {
		if (owner == NULL || owner->SubAuthorityCount > 15 ||
		    !NT_STATUS_IS_OK(odj_sd_owner_only(ctx, owner, &sd)) ||
		    !NT_STATUS_IS_OK(odj_sd_owner(ctx, sd, &again, NULL)) ||
		    !odj_sid_equal(owner, again)) {
			abort();
		}
	}
	talloc_free(ctx);
	return 0;
}
