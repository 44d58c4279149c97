/*
 * Serialized certificate stores (SST): what CertSaveStore() writes with
 * CERT_STORE_SAVE_AS_STORE, and what OP_CERT_SST_STORE.pSst holds.
 *
 * [MS-OSHARED] 2.3.2.5 describes the layout for Office signatures; Wine's
 * crypt32 (serialize.c) and its tests, which run against Windows, agree:
 *
 *   uint32 version = 0, uint32 "CERT" (0x54524543)
 *   per certificate: properties, each (uint32 id, uint32 encoding = 1,
 *     uint32 length, bytes), then the certificate as element 0x20
 *   end marker: id 0, 8 zero bytes (an element with length 0)
 *
 * All integers are little endian.  Windows writes the properties it has
 * cached for a certificate; for a certificate from the system stores
 * that always includes its SHA-1 hash (property 3), which is what we
 * write, with an optional friendly name (11).
 */

#include "codec/codec.h"

#include <inttypes.h>
#include <charset.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#define SST_VERSION 0
#define SST_MAGIC 0x54524543		/* "CERT" */
#define SST_HEADER_SIZE 8
#define SST_ELEMENT_HEADER_SIZE 12
#define SST_ENCODING_X509 1		/* X509_ASN_ENCODING */
#define SST_MAX_ELEMENTS 0x10000
#define SST_MAX_PROPS 256

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static bool is_context_id(uint32_t id)
{
	return id == ODJ_SST_ELEMENT_CERT || id == ODJ_SST_ELEMENT_CRL ||
	       id == ODJ_SST_ELEMENT_CTL;
}

/* One (id, encoding, length, bytes) at *offset, checked against len. */
static bool read_element(const uint8_t *p, size_t len, size_t *offset,
			 struct odj_sst_property *e)
{
	size_t o = *offset;
	uint32_t n;

	if (len - o < SST_ELEMENT_HEADER_SIZE) {
		return false;
	}
	e->id = odj_le32(p + o);
	e->encoding = odj_le32(p + o + 4);
	n = odj_le32(p + o + 8);
	o += SST_ELEMENT_HEADER_SIZE;
	if (n > len - o) {
		return false;
	}
	e->value = data_blob_const(p + o, n);
	*offset = o + n;
	return true;
}

static bool add_prop(TALLOC_CTX *ctx, struct odj_sst_element *el,
		     const struct odj_sst_property *prop)
{
	struct odj_sst_property *props = NULL;
	uint8_t *copy = NULL;

	props = talloc_realloc(ctx, el->props, struct odj_sst_property,
			       el->num_props + 1);
	if (props == NULL) {
		return false;
	}
	el->props = props;
	copy = talloc_memdup(props, prop->value.data, prop->value.length);
	if (prop->value.length > 0 && copy == NULL) {
		return false;
	}
	props[el->num_props] = *prop;
	props[el->num_props].value = data_blob_const(copy,
						     prop->value.length);
	el->num_props++;
	return true;
}

static bool add_element(struct odj_sst *sst, struct odj_sst_element *el,
			const struct odj_sst_property *ctx_el)
{
	struct odj_sst_element *els = NULL;
	uint8_t *copy = NULL;

	els = talloc_realloc(sst, sst->elements, struct odj_sst_element,
			     sst->num_elements + 1);
	if (els == NULL) {
		return false;
	}
	sst->elements = els;
	copy = talloc_memdup(els, ctx_el->value.data, ctx_el->value.length);
	if (ctx_el->value.length > 0 && copy == NULL) {
		return false;
	}
	el->id = ctx_el->id;
	el->encoding = ctx_el->encoding;
	el->data = data_blob_const(copy, ctx_el->value.length);
	talloc_steal(els, el->props);
	els[sst->num_elements++] = *el;
	*el = (struct odj_sst_element) { .id = 0 };
	return true;
}

static NTSTATUS parse_body(struct odj_sst *sst, DATA_BLOB b,
			   TALLOC_CTX *why_ctx, char **why)
{
	struct odj_sst_element pending = { .id = 0 };
	struct odj_sst_property e;
	size_t offset = SST_HEADER_SIZE;
	size_t start;

	while (offset < b.length) {
		start = offset;
		if (!read_element(b.data, b.length, &offset, &e)) {
			odj_why(why_ctx, why, "SST: element at byte %zu runs "
				"past the end (%zu bytes)", start, b.length);
			return NT_STATUS_BUFFER_TOO_SMALL;
		}
		if (e.id == 0) {
			/* the end marker: 12 zero bytes, nothing after it */
			if (e.encoding != 0 || e.value.length != 0 ||
			    offset != b.length || pending.num_props != 0) {
				odj_why(why_ctx, why, "SST: bad end marker at "
					"byte %zu", start);
				return NT_STATUS_INVALID_PARAMETER;
			}
			return NT_STATUS_OK;
		}
		if (is_context_id(e.id)) {
			if (sst->num_elements >= SST_MAX_ELEMENTS) {
				odj_why(why_ctx, why, "SST: more than %u "
					"certificates", SST_MAX_ELEMENTS);
				return NT_STATUS_ARRAY_BOUNDS_EXCEEDED;
			}
			if (!add_element(sst, &pending, &e)) {
				return NT_STATUS_NO_MEMORY;
			}
			continue;
		}
		if (pending.num_props >= SST_MAX_PROPS) {
			odj_why(why_ctx, why, "SST: more than %u properties "
				"before byte %zu", SST_MAX_PROPS, start);
			return NT_STATUS_ARRAY_BOUNDS_EXCEEDED;
		}
		if (!add_prop(sst, &pending, &e)) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	/* Wine's writer and some tools stop without the end marker */
	if (pending.num_props != 0) {
		odj_why(why_ctx, why, "SST: properties without a certificate "
			"at the end");
		return NT_STATUS_BUFFER_TOO_SMALL;
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_sst_parse(TALLOC_CTX *mem_ctx,
		       DATA_BLOB bytes,
		       struct odj_sst **_sst,
		       char **why)
{
	struct odj_sst *sst = NULL;
	NTSTATUS status;

	if (_sst == NULL || (bytes.length > 0 && bytes.data == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (bytes.length > ODJ_CERT_STORE_MAX_SIZE) {
		odj_why(mem_ctx, why, "SST: %zu bytes is too large",
			bytes.length);
		return NT_STATUS_FILE_TOO_LARGE;
	}
	if (bytes.length < SST_HEADER_SIZE) {
		odj_why(mem_ctx, why, "SST: %zu bytes, shorter than the "
			"header", bytes.length);
		return NT_STATUS_BUFFER_TOO_SMALL;
	}
	if (odj_le32(bytes.data) != SST_VERSION ||
	    odj_le32(bytes.data + 4) != SST_MAGIC) {
		odj_why(mem_ctx, why, "SST: no serialized store header "
			"(version 0, \"CERT\")");
		return NT_STATUS_INVALID_PARAMETER;
	}
	sst = talloc_zero(mem_ctx, struct odj_sst);
	if (sst == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = parse_body(sst, bytes, mem_ctx, why);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(sst);
		return status;
	}
	*_sst = sst;
	return NT_STATUS_OK;
}

static uint8_t *push_element(uint8_t *p, uint32_t id, uint32_t encoding,
			     DATA_BLOB value)
{
	put_le32(p, id);
	put_le32(p + 4, encoding);
	put_le32(p + 8, value.length);
	if (value.length > 0) {
		memcpy(p + SST_ELEMENT_HEADER_SIZE, value.data, value.length);
	}
	return p + SST_ELEMENT_HEADER_SIZE + value.length;
}

NTSTATUS odj_sst_push(TALLOC_CTX *mem_ctx,
		      const struct odj_sst *sst,
		      DATA_BLOB *bytes)
{
	size_t len = SST_HEADER_SIZE + SST_ELEMENT_HEADER_SIZE;
	uint8_t *buf = NULL;
	uint8_t *p = NULL;
	uint32_t i, j;

	if (sst == NULL || bytes == NULL ||
	    (sst->num_elements > 0 && sst->elements == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	for (i = 0; i < sst->num_elements; i++) {
		const struct odj_sst_element *el = &sst->elements[i];

		if (el->num_props > 0 && el->props == NULL) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		len += SST_ELEMENT_HEADER_SIZE + el->data.length;
		for (j = 0; j < el->num_props; j++) {
			len += SST_ELEMENT_HEADER_SIZE +
			       el->props[j].value.length;
		}
		if (len > ODJ_CERT_STORE_MAX_SIZE) {
			return NT_STATUS_FILE_TOO_LARGE;
		}
	}
	buf = talloc_array(mem_ctx, uint8_t, len);
	if (buf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	put_le32(buf, SST_VERSION);
	put_le32(buf + 4, SST_MAGIC);
	p = buf + SST_HEADER_SIZE;
	for (i = 0; i < sst->num_elements; i++) {
		const struct odj_sst_element *el = &sst->elements[i];

		for (j = 0; j < el->num_props; j++) {
			p = push_element(p, el->props[j].id,
					 el->props[j].encoding,
					 el->props[j].value);
		}
		p = push_element(p, el->id, el->encoding, el->data);
	}
	/* end marker: id 0, encoding 0, length 0 */
	push_element(p, 0, 0, data_blob_null);
	*bytes = data_blob_const(buf, len);
	return NT_STATUS_OK;
}

/* CERT_FRIENDLY_NAME_PROP_ID: UTF-16LE with its NUL */
static bool friendly_name_prop(TALLOC_CTX *ctx, const char *name,
			       struct odj_sst_property *prop)
{
	void *utf16 = NULL;
	size_t n = 0;

	if (!convert_string_talloc(ctx, CH_UTF8, CH_UTF16LE, name,
				   strlen(name) + 1, &utf16, &n)) {
		return false;
	}
	*prop = (struct odj_sst_property) {
		.id = ODJ_SST_PROP_FRIENDLY_NAME,
		.encoding = SST_ENCODING_X509,
		.value = data_blob_const(utf16, n),
	};
	return true;
}

NTSTATUS odj_sst_add_cert(struct odj_sst *sst,
			  DATA_BLOB der,
			  const char *friendly_name)
{
	TALLOC_CTX *tmp_ctx = NULL;
	struct odj_sst_element el = { .id = 0 };
	struct odj_sst_property prop;
	struct odj_sst_property cert = {
		.id = ODJ_SST_ELEMENT_CERT,
		.encoding = SST_ENCODING_X509,
		.value = der,
	};
	uint8_t sha1[20];
	bool ok;

	if (sst == NULL || der.data == NULL || der.length == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, der.data, der.length,
			     sha1) != 0) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	tmp_ctx = talloc_new(sst);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	prop = (struct odj_sst_property) {
		.id = ODJ_SST_PROP_SHA1_HASH,
		.encoding = SST_ENCODING_X509,
		.value = data_blob_const(sha1, sizeof(sha1)),
	};
	ok = add_prop(tmp_ctx, &el, &prop);
	if (ok && friendly_name != NULL) {
		ok = friendly_name_prop(tmp_ctx, friendly_name, &prop) &&
		     add_prop(tmp_ctx, &el, &prop);
	}
	ok = ok && add_element(sst, &el, &cert);
	TALLOC_FREE(tmp_ctx);
	return ok ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}
