/*
 * The blob codec: NDR bytes <-> struct odj_provision_data.
 *
 * A provisioning blob is streams inside streams: ODJ_PROVISION_DATA holds
 * ODJ_BLOBs, whose bytes are an ODJ_WIN7BLOB or an OP_PACKAGE stream; the
 * package wraps a part collection stream, whose parts are streams again.
 * Each is an MS-RPCE 2.2.6 type serialization version 1 stream.  Taking
 * them apart one at a time lets errors say which layer is broken, and
 * lets a part we don't know travel through unchanged.
 */

#include "codec/codec.h"

#include <inttypes.h>
#include <stdio.h>

/* MS-RPCE 2.2.6.1 common header + 2.2.6.2 private header */
#define TS1_HEADER_SIZE 16
#define TS1_VERSION 1
#define TS1_LITTLE_ENDIAN 0x10
#define TS1_COMMON_HEADER_LENGTH 8

/* The top-level pointer of every stream: pidl's T_ptr is { T *p; } */
struct stream_ptr {
	void *p;
};

struct part_codec {
	enum odj_part_kind kind;
	const char *guid;
	const char *name;
	ndr_pull_flags_fn_t pull_ptr;
	ndr_push_flags_fn_t push_serialized;
};

/* Part type GUIDs from Microsoft's OP_PACKAGE_PART page */
static const struct part_codec part_codecs[] = {
	{ ODJ_PART_JOIN_PROVIDER, "631c7621-5289-4321-bc9e-80f843f868c3",
	  "JOIN_PROVIDER",
	  (ndr_pull_flags_fn_t)ndr_pull_ODJ_WIN7BLOB_ptr,
	  (ndr_push_flags_fn_t)ndr_push_ODJ_WIN7BLOB_serialized },
	{ ODJ_PART_JOIN_PROVIDER2, "57bfc56b-52f9-480c-adcb-91b3f8a82317",
	  "JOIN_PROVIDER2",
	  (ndr_pull_flags_fn_t)ndr_pull_OP_JOINPROV2_PART_ptr,
	  (ndr_push_flags_fn_t)ndr_push_OP_JOINPROV2_PART_serialized },
	{ ODJ_PART_JOIN_PROVIDER3, "fc0ccf25-7ffa-474a-8611-69ffe269645f",
	  "JOIN_PROVIDER3",
	  (ndr_pull_flags_fn_t)ndr_pull_OP_JOINPROV3_PART_ptr,
	  (ndr_push_flags_fn_t)ndr_push_OP_JOINPROV3_PART_serialized },
	{ ODJ_PART_JOIN_PROVIDER4, "4a08716a-6710-4647-8211-fdbb0b03f60b",
	  "JOIN_PROVIDER4",
	  (ndr_pull_flags_fn_t)ndr_pull_OP_JOINPROV4_PART_ptr,
	  (ndr_push_flags_fn_t)ndr_push_OP_JOINPROV4_PART_serialized },
	{ ODJ_PART_CERT, "9c0971e9-832f-4873-8e87-ef1419d4781e",
	  "CERT_PROVIDER",
	  (ndr_pull_flags_fn_t)ndr_pull_OP_CERT_PART_ptr,
	  (ndr_push_flags_fn_t)ndr_push_OP_CERT_PART_serialized },
	{ ODJ_PART_POLICY, "68fb602a-0c09-48ce-b75f-07b7bd58f7ec",
	  "POLICY_PROVIDER",
	  (ndr_pull_flags_fn_t)ndr_pull_OP_POLICY_PART_ptr,
	  (ndr_push_flags_fn_t)ndr_push_OP_POLICY_PART_serialized },
};

static const struct part_codec *part_codec_by_kind(enum odj_part_kind kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(part_codecs); i++) {
		if (part_codecs[i].kind == kind) {
			return &part_codecs[i];
		}
	}
	return NULL;
}

struct GUID odj_part_kind_guid(enum odj_part_kind kind)
{
	const struct part_codec *c = part_codec_by_kind(kind);
	struct GUID g = { .time_low = 0 };

	if (c != NULL) {
		GUID_from_string(c->guid, &g);
	}
	return g;
}

enum odj_part_kind odj_part_kind_from_guid(const struct GUID *g)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(part_codecs); i++) {
		struct GUID known = odj_part_kind_guid(part_codecs[i].kind);

		if (GUID_equal(g, &known)) {
			return part_codecs[i].kind;
		}
	}
	return ODJ_PART_UNKNOWN;
}

const char *odj_part_kind_name(enum odj_part_kind kind)
{
	const struct part_codec *c = part_codec_by_kind(kind);

	return c != NULL ? c->name : "unknown";
}

static void why_ndr(TALLOC_CTX *ctx, char **why, enum ndr_err_code err,
		    uint32_t offset)
{
	if (err == NDR_ERR_BUFSIZE) {
		odj_why(ctx, why, "truncated at byte %" PRIu32, offset);
		return;
	}
	if (err == NDR_ERR_CHARCNV) {
		odj_why(ctx, why, "invalid UTF-16 string at byte %" PRIu32,
			offset);
		return;
	}
	if (err == NDR_ERR_ALLOC) {
		odj_why(ctx, why, "array size at byte %" PRIu32 " is larger "
			"than the stream can hold", offset);
		return;
	}
	odj_why(ctx, why, "%s at byte %" PRIu32, ndr_map_error2string(err),
		offset);
}

/*
 * Pull one type serialization stream into a stream_ptr.  Pulled data
 * hangs off @p data_ctx, messages off @p why_ctx.  Offsets in messages
 * are from the stream's start.
 */
static NTSTATUS pull_stream_into(TALLOC_CTX *data_ctx,
				 TALLOC_CTX *why_ctx,
				 DATA_BLOB in,
				 ndr_pull_flags_fn_t pull_ptr,
				 struct stream_ptr *out,
				 char **why)
{
	struct ndr_pull *ndr = NULL;
	enum ndr_err_code err;
	uint8_t version = 0, drep = 0;
	uint16_t hdrlen = 0;
	uint32_t filler = 0, content = 0, reserved = 0;
	uint32_t end, i;

	if (in.length < TS1_HEADER_SIZE) {
		odj_why(why_ctx, why, "truncated: %zu bytes, shorter than "
			"the %d byte serialization header", in.length,
			TS1_HEADER_SIZE);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	ndr = ndr_pull_init_blob(&in, data_ctx);
	if (ndr == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* cannot fail: 16 bytes are there */
	ndr_pull_uint8(ndr, NDR_SCALARS, &version);
	ndr_pull_uint8(ndr, NDR_SCALARS, &drep);
	ndr_pull_uint16(ndr, NDR_SCALARS, &hdrlen);
	ndr_pull_uint32(ndr, NDR_SCALARS, &filler);
	ndr_pull_uint32(ndr, NDR_SCALARS, &content);
	ndr_pull_uint32(ndr, NDR_SCALARS, &reserved);

	if (version != TS1_VERSION || hdrlen != TS1_COMMON_HEADER_LENGTH) {
		odj_why(why_ctx, why, "not a type serialization stream "
			"(header %02x %02x %04x, expected 01 10 0008)",
			version, drep, hdrlen);
		TALLOC_FREE(ndr);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	if (drep != TS1_LITTLE_ENDIAN) {
		odj_why(why_ctx, why, "unsupported data representation 0x%02x "
			"(only little-endian 0x10 is used by Windows)", drep);
		TALLOC_FREE(ndr);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	if (content > in.length - TS1_HEADER_SIZE) {
		odj_why(why_ctx, why, "header claims %" PRIu32 " bytes, the "
			"stream has %zu (truncated at byte %zu)", content,
			in.length - TS1_HEADER_SIZE, in.length);
		TALLOC_FREE(ndr);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	end = TS1_HEADER_SIZE + content;
	for (i = end; i < in.length; i++) {
		if (in.data[i] != 0) {
			odj_why(why_ctx, why, "%zu bytes of garbage after the "
				"stream's %" PRIu32 " bytes", in.length - end,
				end);
			TALLOC_FREE(ndr);
			return NT_STATUS_INVALID_NETWORK_RESPONSE;
		}
	}
	ndr->data_size = end;

	err = pull_ptr(ndr, NDR_SCALARS | NDR_BUFFERS, out);
	if (!NDR_ERR_CODE_IS_SUCCESS(err)) {
		why_ndr(why_ctx, why, err, ndr->offset);
		TALLOC_FREE(ndr);
		return ndr_map_error2ntstatus(err);
	}
	if (out->p == NULL) {
		odj_why(why_ctx, why, "stream holds a NULL top-level pointer");
		TALLOC_FREE(ndr);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	/* content is padded to 8 bytes; more left over is an error */
	if (end - ndr->offset >= 8) {
		odj_why(why_ctx, why, "%" PRIu32 " unused bytes at byte %"
			PRIu32, end - ndr->offset, ndr->offset);
		TALLOC_FREE(ndr);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	TALLOC_FREE(ndr);
	return NT_STATUS_OK;
}

/*
 * First a trial pull under a budget (odj_pull_budget_new()), so that a
 * hostile size fails before it is allocated; what the trial pulled is
 * wiped and freed, then the stream is pulled for real.
 */
static NTSTATUS pull_stream(TALLOC_CTX *mem_ctx,
			    DATA_BLOB in,
			    ndr_pull_flags_fn_t pull_ptr,
			    struct stream_ptr *out,
			    char **why)
{
	TALLOC_CTX *budget = odj_pull_budget_new(in.length);
	struct stream_ptr trial = { .p = NULL };
	NTSTATUS status;

	if (budget == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = pull_stream_into(budget, mem_ctx, in, pull_ptr, &trial, why);
	odj_pull_budget_free(budget);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return pull_stream_into(mem_ctx, mem_ctx, in, pull_ptr, out, why);
}

static NTSTATUS push_stream(TALLOC_CTX *mem_ctx,
			    void *ptr,
			    ndr_push_flags_fn_t push_serialized,
			    DATA_BLOB *out,
			    char **why)
{
	struct stream_ptr s = { .p = ptr };
	enum ndr_err_code err;

	err = ndr_push_struct_blob(out, mem_ctx, &s, push_serialized);
	if (!NDR_ERR_CODE_IS_SUCCESS(err)) {
		odj_why(mem_ctx, why, "cannot encode: %s",
			ndr_map_error2string(err));
		return ndr_map_error2ntstatus(err);
	}
	odj_wipe_on_free(out->data);
	return NT_STATUS_OK;
}

static DATA_BLOB op_blob(const struct OP_BLOB *b)
{
	return data_blob_const(b->pBlob, b->cbBlob);
}

static struct OP_BLOB to_op_blob(DATA_BLOB b)
{
	return (struct OP_BLOB) { .cbBlob = b.length, .pBlob = b.data };
}

static void wipe_win7(struct ODJ_WIN7BLOB *w)
{
	if (w != NULL) {
		odj_wipe_on_free(w->lpMachinePassword);
	}
}

/*
 * NDR lets a unique pointer be NULL whatever its size_is() count says.
 * Whoever walks the count would then read through NULL: refuse that.
 */
static bool counted_ok(TALLOC_CTX *ctx, uint32_t count, const void *ptr,
		       const char *name, char **why)
{
	if (count > 0 && ptr == NULL) {
		odj_why(ctx, why, "%s: NULL pointer with a count of %" PRIu32,
			name, count);
		return false;
	}
	return true;
}

static bool cert_ok(TALLOC_CTX *ctx, const struct OP_CERT_PART *c,
		    char **why)
{
	uint32_t i;

	if (!counted_ok(ctx, c->cPfxStores, c->pPfxStores, "pPfxStores",
			why) ||
	    !counted_ok(ctx, c->cSstStores, c->pSstStores, "pSstStores",
			why) ||
	    !counted_ok(ctx, c->Extension.cbBlob, c->Extension.pBlob,
			"Extension", why)) {
		return false;
	}
	for (i = 0; i < c->cPfxStores; i++) {
		const struct OP_CERT_PFX_STORE *pfx = &c->pPfxStores[i];

		if (!counted_ok(ctx, pfx->cbPfx, pfx->pPfx, "pPfx", why)) {
			return false;
		}
	}
	for (i = 0; i < c->cSstStores; i++) {
		const struct OP_CERT_SST_STORE *sst = &c->pSstStores[i];

		if (!counted_ok(ctx, sst->cbSst, sst->pSst, "pSst", why)) {
			return false;
		}
	}
	return true;
}

static bool policy_ok(TALLOC_CTX *ctx, const struct OP_POLICY_PART *p,
		      char **why)
{
	uint32_t i, j;

	if (!counted_ok(ctx, p->cElementLists, p->pElementLists,
			"pElementLists", why) ||
	    !counted_ok(ctx, p->Extension.cbBlob, p->Extension.pBlob,
			"Extension", why)) {
		return false;
	}
	for (i = 0; i < p->cElementLists; i++) {
		const struct OP_POLICY_ELEMENT_LIST *l = &p->pElementLists[i];

		if (!counted_ok(ctx, l->cElements, l->pElements,
				"pElements", why)) {
			return false;
		}
		for (j = 0; j < l->cElements; j++) {
			const struct OP_POLICY_ELEMENT *e = &l->pElements[j];

			if (!counted_ok(ctx, e->cbValueData, e->pValueData,
					"pValueData", why)) {
				return false;
			}
		}
	}
	return true;
}

static NTSTATUS decode_part(TALLOC_CTX *mem_ctx,
			    const struct OP_PACKAGE_PART *in,
			    struct odj_part *out,
			    char **why)
{
	const struct part_codec *codec = NULL;
	struct stream_ptr s = { .p = NULL };
	NTSTATUS status;

	out->type = in->PartType;
	out->flags = in->ulFlags;
	out->kind = odj_part_kind_from_guid(&in->PartType);
	out->extension = op_blob(&in->Extension);
	if (!counted_ok(mem_ctx, in->Part.cbBlob, in->Part.pBlob, "Part",
			why) ||
	    !counted_ok(mem_ctx, in->Extension.cbBlob, in->Extension.pBlob,
			"Extension", why)) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}

	codec = part_codec_by_kind(out->kind);
	if (codec == NULL) {
		out->raw = op_blob(&in->Part);
		return NT_STATUS_OK;
	}
	status = pull_stream(mem_ctx, op_blob(&in->Part), codec->pull_ptr,
			     &s, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	out->u.ptr = s.p;
	if (out->kind == ODJ_PART_JOIN_PROVIDER) {
		wipe_win7(out->u.win7);
	}
	if ((out->kind == ODJ_PART_CERT &&
	     !cert_ok(mem_ctx, out->u.cert, why)) ||
	    (out->kind == ODJ_PART_POLICY &&
	     !policy_ok(mem_ctx, out->u.policy, why))) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	return NT_STATUS_OK;
}

static NTSTATUS decode_collection(TALLOC_CTX *mem_ctx,
				  struct odj_package *pkg,
				  char **why)
{
	struct stream_ptr s = { .p = NULL };
	struct OP_PACKAGE_PART_COLLECTION *c = NULL;
	NTSTATUS status;
	uint32_t i;

	status = pull_stream(mem_ctx, pkg->wrapped,
			     (ndr_pull_flags_fn_t)
			     ndr_pull_OP_PACKAGE_PART_COLLECTION_ptr,
			     &s, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(mem_ctx, why, "part collection");
		return status;
	}
	c = s.p;
	if (!counted_ok(mem_ctx, c->cParts, c->pParts, "pParts", why) ||
	    !counted_ok(mem_ctx, c->Extension.cbBlob, c->Extension.pBlob,
			"Extension", why)) {
		odj_why_prefix(mem_ctx, why, "part collection");
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	pkg->collection_extension = op_blob(&c->Extension);
	pkg->num_parts = c->cParts;
	pkg->parts = talloc_zero_array(mem_ctx, struct odj_part, c->cParts);
	if (c->cParts > 0 && pkg->parts == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < c->cParts; i++) {
		odj_wipe_on_free(c->pParts[i].Part.pBlob);
		status = decode_part(mem_ctx, &c->pParts[i], &pkg->parts[i],
				     why);
		if (!NT_STATUS_IS_OK(status)) {
			enum odj_part_kind k = odj_part_kind_from_guid(
				&c->pParts[i].PartType);

			odj_why_prefix(mem_ctx, why, "part %" PRIu32 " (%s)",
				       i + 1, odj_part_kind_name(k));
			return status;
		}
	}
	return NT_STATUS_OK;
}

static NTSTATUS decode_package(TALLOC_CTX *mem_ctx,
			       DATA_BLOB in,
			       struct odj_package **_pkg,
			       char **why)
{
	struct stream_ptr s = { .p = NULL };
	struct OP_PACKAGE *p = NULL;
	struct odj_package *pkg = NULL;
	NTSTATUS status;

	status = pull_stream(mem_ctx, in,
			     (ndr_pull_flags_fn_t)ndr_pull_OP_PACKAGE_ptr,
			     &s, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	p = s.p;
	if (!counted_ok(mem_ctx, p->EncryptionContext.cbBlob,
			p->EncryptionContext.pBlob, "EncryptionContext",
			why) ||
	    !counted_ok(mem_ctx, p->WrappedPartCollection.cbBlob,
			p->WrappedPartCollection.pBlob,
			"WrappedPartCollection", why) ||
	    !counted_ok(mem_ctx, p->Extension.cbBlob, p->Extension.pBlob,
			"Extension", why)) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	pkg = talloc_zero(mem_ctx, struct odj_package);
	if (pkg == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	pkg->encryption_type = p->EncryptionType;
	pkg->encryption_context = op_blob(&p->EncryptionContext);
	pkg->wrapped = op_blob(&p->WrappedPartCollection);
	odj_wipe_on_free(pkg->wrapped.data);
	pkg->decrypted_size = p->cbDecryptedPartCollection;
	pkg->extension = op_blob(&p->Extension);

	/* djoin never encrypts; an encrypted collection stays opaque */
	if (GUID_all_zero(&pkg->encryption_type)) {
		status = decode_collection(mem_ctx, pkg, why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		pkg->wrapped = data_blob_null;
	}
	*_pkg = pkg;
	return NT_STATUS_OK;
}

static NTSTATUS decode_blob(TALLOC_CTX *mem_ctx,
			    const struct ODJ_BLOB *in,
			    struct odj_blob *out,
			    char **why)
{
	struct stream_ptr s = { .p = NULL };
	DATA_BLOB bytes = data_blob_const(in->pBlob, in->cbBlob);
	NTSTATUS status;

	out->format = in->ulODJFormat;
	odj_wipe_on_free(in->pBlob);
	if (!counted_ok(mem_ctx, in->cbBlob, in->pBlob, "pBlob", why)) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}

	switch (in->ulODJFormat) {
	case ODJ_WIN7_FORMAT:
		status = pull_stream(mem_ctx, bytes,
				     (ndr_pull_flags_fn_t)
				     ndr_pull_ODJ_WIN7BLOB_ptr,
				     &s, why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		out->win7 = s.p;
		wipe_win7(out->win7);
		return NT_STATUS_OK;
	case ODJ_WIN8_FORMAT:
		return decode_package(mem_ctx, bytes, &out->package, why);
	default:
		out->raw = bytes;
		return NT_STATUS_OK;
	}
}

static const char *format_name(uint32_t format)
{
	switch (format) {
	case ODJ_WIN7_FORMAT:
		return "WIN7 blob";
	case ODJ_WIN8_FORMAT:
		return "OP_PACKAGE";
	default:
		return "unknown format";
	}
}

NTSTATUS odj_provision_data_decode(TALLOC_CTX *mem_ctx,
				   DATA_BLOB ndr,
				   struct odj_provision_data **_pd,
				   char **why)
{
	struct odj_provision_data *pd = NULL;
	struct ODJ_PROVISION_DATA *in = NULL;
	struct stream_ptr s = { .p = NULL };
	NTSTATUS status;
	uint32_t i;

	pd = talloc_zero(mem_ctx, struct odj_provision_data);
	if (pd == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = pull_stream(pd, ndr,
			     (ndr_pull_flags_fn_t)ndr_pull_ODJ_PROVISION_DATA_ptr,
			     &s, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(pd, why, "ODJ_PROVISION_DATA");
		goto fail;
	}
	in = s.p;
	if (in->ulVersion != 1) {
		odj_why(pd, why, "ODJ_PROVISION_DATA: version %" PRIu32
			", expected 1", in->ulVersion);
		status = NT_STATUS_REVISION_MISMATCH;
		goto fail;
	}
	if (!counted_ok(pd, in->ulcBlobs, in->pBlobs, "pBlobs", why)) {
		odj_why_prefix(pd, why, "ODJ_PROVISION_DATA");
		status = NT_STATUS_INVALID_NETWORK_RESPONSE;
		goto fail;
	}
	pd->version = in->ulVersion;
	pd->num_blobs = in->ulcBlobs;
	pd->blobs = talloc_zero_array(pd, struct odj_blob, in->ulcBlobs);
	if (in->ulcBlobs > 0 && pd->blobs == NULL) {
		status = NT_STATUS_NO_MEMORY;
		goto fail;
	}
	for (i = 0; i < in->ulcBlobs; i++) {
		status = decode_blob(pd, &in->pBlobs[i], &pd->blobs[i], why);
		if (!NT_STATUS_IS_OK(status)) {
			odj_why_prefix(pd, why, "blob %" PRIu32 " (%s)", i + 1,
				       format_name(in->pBlobs[i].ulODJFormat));
			goto fail;
		}
	}
	*_pd = pd;
	return NT_STATUS_OK;

fail:
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(pd);
	return status;
}

static NTSTATUS encode_collection(TALLOC_CTX *mem_ctx,
				  const struct odj_package *pkg,
				  DATA_BLOB *out,
				  char **why)
{
	struct OP_PACKAGE_PART_COLLECTION c = {
		.cParts = pkg->num_parts,
		.Extension = to_op_blob(pkg->collection_extension),
	};
	NTSTATUS status;
	uint32_t i;

	c.pParts = talloc_zero_array(mem_ctx, struct OP_PACKAGE_PART,
				     pkg->num_parts);
	if (pkg->num_parts > 0 && c.pParts == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < pkg->num_parts; i++) {
		const struct odj_part *part = &pkg->parts[i];
		const struct part_codec *codec = NULL;
		DATA_BLOB bytes = part->raw;

		codec = part_codec_by_kind(part->kind);
		if (codec != NULL) {
			status = push_stream(mem_ctx, part->u.ptr,
					     codec->push_serialized, &bytes,
					     why);
			if (!NT_STATUS_IS_OK(status)) {
				odj_why_prefix(mem_ctx, why,
					       "part %" PRIu32 " (%s)", i + 1,
					       codec->name);
				return status;
			}
		}
		c.pParts[i] = (struct OP_PACKAGE_PART) {
			.PartType = part->type,
			.ulFlags = part->flags,
			.Part = to_op_blob(bytes),
			.Extension = to_op_blob(part->extension),
		};
	}
	return push_stream(mem_ctx, &c,
			   (ndr_push_flags_fn_t)
			   ndr_push_OP_PACKAGE_PART_COLLECTION_serialized,
			   out, why);
}

static NTSTATUS encode_package(TALLOC_CTX *mem_ctx,
			       const struct odj_package *pkg,
			       DATA_BLOB *out,
			       char **why)
{
	struct OP_PACKAGE p = {
		.EncryptionType = pkg->encryption_type,
		.EncryptionContext = to_op_blob(pkg->encryption_context),
		.cbDecryptedPartCollection = pkg->decrypted_size,
		.Extension = to_op_blob(pkg->extension),
	};
	DATA_BLOB wrapped = pkg->wrapped;
	NTSTATUS status;

	if (GUID_all_zero(&pkg->encryption_type)) {
		status = encode_collection(mem_ctx, pkg, &wrapped, why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}
	p.WrappedPartCollection = to_op_blob(wrapped);
	return push_stream(mem_ctx, &p,
			   (ndr_push_flags_fn_t)ndr_push_OP_PACKAGE_serialized,
			   out, why);
}

static NTSTATUS encode_blob(TALLOC_CTX *mem_ctx,
			    const struct odj_blob *in,
			    struct ODJ_BLOB *out,
			    char **why)
{
	DATA_BLOB bytes = in->raw;
	NTSTATUS status = NT_STATUS_OK;

	if (in->format == ODJ_WIN7_FORMAT) {
		if (in->win7 == NULL) {
			odj_why(mem_ctx, why, "WIN7 blob without data");
			return NT_STATUS_INVALID_PARAMETER;
		}
		status = push_stream(mem_ctx, in->win7,
				     (ndr_push_flags_fn_t)
				     ndr_push_ODJ_WIN7BLOB_serialized,
				     &bytes, why);
	} else if (in->format == ODJ_WIN8_FORMAT) {
		if (in->package == NULL) {
			odj_why(mem_ctx, why, "OP_PACKAGE blob without data");
			return NT_STATUS_INVALID_PARAMETER;
		}
		status = encode_package(mem_ctx, in->package, &bytes, why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	*out = (struct ODJ_BLOB) {
		.ulODJFormat = in->format,
		.cbBlob = bytes.length,
		.pBlob = bytes.data,
	};
	return NT_STATUS_OK;
}

NTSTATUS odj_provision_data_encode(TALLOC_CTX *mem_ctx,
				   const struct odj_provision_data *pd,
				   DATA_BLOB *ndr,
				   char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	struct ODJ_PROVISION_DATA out = { .ulVersion = 1 };
	DATA_BLOB bytes = data_blob_null;
	NTSTATUS status;
	uint32_t i;

	if (pd == NULL || pd->num_blobs == 0) {
		odj_why(mem_ctx, why, "no ODJ_BLOB to encode");
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	out.ulcBlobs = pd->num_blobs;
	out.pBlobs = talloc_zero_array(tmp_ctx, struct ODJ_BLOB,
				       pd->num_blobs);
	if (out.pBlobs == NULL) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < pd->num_blobs; i++) {
		status = encode_blob(tmp_ctx, &pd->blobs[i], &out.pBlobs[i],
				     why);
		if (!NT_STATUS_IS_OK(status)) {
			odj_why_prefix(tmp_ctx, why, "blob %" PRIu32 " (%s)",
				       i + 1, format_name(pd->blobs[i].format));
			odj_why_move(mem_ctx, why);
			TALLOC_FREE(tmp_ctx);
			return status;
		}
	}
	status = push_stream(tmp_ctx, &out,
			     (ndr_push_flags_fn_t)
			     ndr_push_ODJ_PROVISION_DATA_serialized,
			     &bytes, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	talloc_steal(mem_ctx, bytes.data);
	TALLOC_FREE(tmp_ctx);
	*ndr = bytes;
	return NT_STATUS_OK;
}

const struct odj_part *odj_provision_data_part(
	const struct odj_provision_data *pd, enum odj_part_kind kind)
{
	uint32_t b, p;

	for (b = 0; pd != NULL && b < pd->num_blobs; b++) {
		const struct odj_package *pkg = pd->blobs[b].package;

		for (p = 0; pkg != NULL && p < pkg->num_parts; p++) {
			if (pkg->parts[p].kind == kind &&
			    pkg->parts[p].u.ptr != NULL) {
				return &pkg->parts[p];
			}
		}
	}
	return NULL;
}

const struct ODJ_WIN7BLOB *odj_provision_data_win7(
	const struct odj_provision_data *pd)
{
	const struct odj_part *part = NULL;
	uint32_t b;

	for (b = 0; pd != NULL && b < pd->num_blobs; b++) {
		if (pd->blobs[b].win7 != NULL) {
			return pd->blobs[b].win7;
		}
	}
	part = odj_provision_data_part(pd, ODJ_PART_JOIN_PROVIDER);
	return part != NULL ? part->u.win7 : NULL;
}

NTSTATUS odj_part_copy(TALLOC_CTX *mem_ctx,
		       const struct odj_part *part,
		       void **copy,
		       char **why)
{
	const struct part_codec *codec = part_codec_by_kind(part->kind);
	struct stream_ptr s = { .p = NULL };
	DATA_BLOB bytes = data_blob_null;
	NTSTATUS status;

	if (codec == NULL || part->u.ptr == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* through NDR: the copy owns every buffer, nothing points back */
	status = push_stream(mem_ctx, part->u.ptr, codec->push_serialized,
			     &bytes, why);
	if (NT_STATUS_IS_OK(status)) {
		status = pull_stream(mem_ctx, bytes, codec->pull_ptr, &s, why);
	}
	TALLOC_FREE(bytes.data);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (part->kind == ODJ_PART_CERT) {
		struct OP_CERT_PART *c = s.p;
		uint32_t i;

		/* a PFX with an empty password is as good as a bare key */
		for (i = 0; i < c->cPfxStores; i++) {
			odj_wipe_on_free(c->pPfxStores[i].pPfx);
		}
	}
	*copy = s.p;
	return NT_STATUS_OK;
}
